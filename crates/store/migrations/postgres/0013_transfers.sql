-- Every transfer of a task to another department, for the supervisor's list.
CREATE TABLE task_transfers (
    id BIGSERIAL PRIMARY KEY,
    task_id BIGINT NOT NULL REFERENCES tasks(id),
    case_id BIGINT NOT NULL REFERENCES cases(id),
    region TEXT NOT NULL,
    from_department TEXT NOT NULL,
    to_department TEXT NOT NULL,
    reason TEXT NOT NULL,
    by_id BIGINT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX task_transfers_region ON task_transfers(region, id);
