-- 办理流程: each case runs the workflow its item declared at acceptance (a snapshot, so a
-- catalog change never strands a case), one row per task of each stage.
ALTER TABLE cases ADD COLUMN workflow TEXT;
ALTER TABLE cases ADD COLUMN flow_stage BIGINT;
ALTER TABLE cases ADD COLUMN flow_result BIGINT;
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    seq BIGINT NOT NULL,
    stage BIGINT NOT NULL,
    stage_kind TEXT NOT NULL,
    stage_name TEXT NOT NULL,
    region TEXT NOT NULL,
    department TEXT NOT NULL,
    role TEXT NOT NULL,
    ab BIGINT NOT NULL DEFAULT 0,
    silence_consents BIGINT NOT NULL DEFAULT 0,
    due_on TEXT NOT NULL,
    state TEXT NOT NULL,
    claimed_by BIGINT,
    proposed_by BIGINT,
    consent BIGINT,
    by_default BIGINT NOT NULL DEFAULT 0,
    answered_by BIGINT,
    opinion TEXT NOT NULL DEFAULT '',
    legal_basis TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    done_at BIGINT,
    UNIQUE (case_id, seq)
);
-- A department's inbox, and the tasks whose silence will count as consent.
CREATE INDEX tasks_inbox ON tasks(department, state, due_on);
CREATE INDEX tasks_silence ON tasks(due_on) WHERE silence_consents = 1 AND state IN ('open', 'claimed');
