-- Sessions slide: each use within the idle time extends them by it (等保: idle timeout).
ALTER TABLE sessions ADD COLUMN idle_ms BIGINT NOT NULL DEFAULT 600000;
CREATE TABLE idempotency (
    account_id BIGINT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL DEFAULT 0,
    body TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, key)
);
