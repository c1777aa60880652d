-- 办结: what a concluded case records against its limits; statistics and the public 办件公示
-- are counted from these columns.
ALTER TABLE cases ADD COLUMN concluded_on TEXT;
ALTER TABLE cases ADD COLUMN days_used BIGINT;
ALTER TABLE cases ADD COLUMN within_internal BIGINT;
ALTER TABLE cases ADD COLUMN within_promised BIGINT;
ALTER TABLE cases ADD COLUMN within_legal BIGINT;
ALTER TABLE cases ADD COLUMN decided_by BIGINT;
ALTER TABLE cases ADD COLUMN decision_reason TEXT;
CREATE INDEX cases_concluded ON cases(concluded_on, region);
-- The supervision worker: the highest line already noticed (1 yellow, 2 red, 3 overdue) and
-- the date the next line is crossed, so that each tick reads only cases with something due.
ALTER TABLE cases ADD COLUMN alerted BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN next_alert_on TEXT;
CREATE INDEX cases_next_alert ON cases(next_alert_on);
UPDATE cases SET next_alert_on = yellow_from WHERE status IN ('accepted', 'in_stage');
-- Warnings (预警) and supervision notices (督办): automatic ones at most once per case, step
-- and line; manual ones from a supervisor with a comment and a reply-by date.
CREATE TABLE supervision_notices (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    region TEXT NOT NULL,
    kind TEXT NOT NULL,
    line TEXT NOT NULL,
    step TEXT NOT NULL DEFAULT '',
    recipient_id BIGINT,
    issued_by BIGINT,
    comment TEXT NOT NULL,
    reply_by TEXT,
    reply TEXT,
    replied_by BIGINT,
    replied_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX supervision_notices_once ON supervision_notices(case_id, step, line) WHERE kind <> 'manual';
CREATE INDEX supervision_notices_recipient ON supervision_notices(recipient_id, id);
CREATE INDEX supervision_notices_case ON supervision_notices(case_id, id);
CREATE INDEX supervision_notices_region ON supervision_notices(region, id);
