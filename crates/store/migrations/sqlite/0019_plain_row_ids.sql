-- The audit log, the outbox and the tasks number their rows as every other table does: the
-- next id after the largest. AUTOINCREMENT only adds that an id is never reused after its row
-- is deleted, and rows of these tables are never deleted; it cost every insert a scan and an
-- update of sqlite_sequence (about 3 µs a statement, twelve statements in a case's lifecycle).
-- Each table is copied into one without it, ids and all. Task transfers refer to tasks: they
-- are set aside while the tasks table is replaced, so no reference is ever left dangling.

CREATE TABLE audit_new (
    id INTEGER PRIMARY KEY,
    at BIGINT NOT NULL,
    stream TEXT NOT NULL,
    actor_id BIGINT NOT NULL,
    actor_role TEXT NOT NULL,
    action TEXT NOT NULL,
    case_number TEXT,
    status_before TEXT,
    status_after TEXT,
    client_addr TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_new SELECT * FROM audit;
DROP TABLE audit;
ALTER TABLE audit_new RENAME TO audit;
CREATE INDEX audit_stream ON audit(stream, id);

CREATE TABLE outbox_new (
    id INTEGER PRIMARY KEY,
    event TEXT NOT NULL,
    -- The case's region: whose texts render the notice.
    region TEXT NOT NULL DEFAULT '',
    case_id BIGINT,
    account_id BIGINT,
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    address_masked TEXT NOT NULL,
    lang TEXT NOT NULL,
    fields TEXT NOT NULL,
    subject TEXT,
    body TEXT,
    idem_key TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'queued',
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0,
    -- The worker pass that holds the notice: its result is recorded only by that pass, so a
    -- worker whose lease ran out cannot overwrite what another recorded since.
    claim TEXT,
    provider_answer TEXT,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    read_at BIGINT
);
INSERT INTO outbox_new SELECT * FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(channel, next_at) WHERE status IN ('queued', 'failed');
CREATE INDEX outbox_case ON outbox(case_id, id);

CREATE TEMP TABLE transfers_kept AS SELECT * FROM task_transfers;
DELETE FROM task_transfers;
CREATE TABLE tasks_new (
    id INTEGER PRIMARY KEY,
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
INSERT INTO tasks_new SELECT * FROM tasks;
DROP TABLE tasks;
ALTER TABLE tasks_new RENAME TO tasks;
CREATE INDEX tasks_silence ON tasks(due_on) WHERE silence_consents = 1 AND state IN ('open', 'claimed');
CREATE INDEX tasks_inbox ON tasks(department, due_on, id) WHERE done_at IS NULL;
CREATE INDEX tasks_due_open ON tasks(due_on) WHERE done_at IS NULL;
INSERT INTO task_transfers SELECT * FROM transfers_kept;
DROP TABLE transfers_kept;
