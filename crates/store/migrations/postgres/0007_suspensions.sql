-- Special procedures (特别程序, GB/T 39046 A.7): the clock stops from start to end.
CREATE TABLE suspensions (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    reason TEXT NOT NULL,
    resume_to TEXT NOT NULL,
    started_on TEXT NOT NULL,
    ended_on TEXT,
    working_days BIGINT,
    started_by BIGINT NOT NULL,
    ended_by BIGINT,
    started_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX suspensions_case ON suspensions(case_id, id);
ALTER TABLE cases ADD COLUMN stopped_days BIGINT NOT NULL DEFAULT 0;
