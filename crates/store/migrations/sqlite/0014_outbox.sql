-- Notices (C6). How each person wants to hear from us; applicants choose, staff too.
ALTER TABLE accounts ADD COLUMN email TEXT;
ALTER TABLE accounts ADD COLUMN notify_channels TEXT NOT NULL DEFAULT 'inapp,sms';
ALTER TABLE accounts ADD COLUMN notify_lang TEXT NOT NULL DEFAULT 'zh';
-- A new task tells the department's staff of its role: found by key, not by a scan of every
-- applicant's account.
CREATE INDEX accounts_staff_department ON accounts(department, role) WHERE kind = 'staff';
-- Texts an admin has changed from the built-in ones, per region, event and language: a
-- region's text serves its cases and those of the regions below it without their own.
CREATE TABLE notice_templates (
    region TEXT NOT NULL,
    event TEXT NOT NULL,
    lang TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_by BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (region, event, lang)
);
-- The transactional outbox: a notice is written in the transaction of the step that causes
-- it, with the facts its text needs; the delivery worker renders and sends it. idem_key goes
-- to the provider, which drops a second send of the same notice. It is 128 random bits, so it
-- needs no unique index (which, at random positions, would dirty a page per notice).
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
-- Claimed per channel in due order: notices of a channel with no provider (or a paused one)
-- are not walked past by the claims of the others.
CREATE INDEX outbox_due ON outbox(channel, next_at) WHERE status IN ('queued', 'failed');
CREATE INDEX outbox_inbox ON outbox(account_id, id) WHERE channel = 'inapp';
CREATE INDEX outbox_case ON outbox(case_id, id);
-- Wrong guesses at the status page, per client address, for slowing down and blocking.
CREATE TABLE status_tries (
    client TEXT PRIMARY KEY,
    failures BIGINT NOT NULL DEFAULT 0,
    window_start BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL DEFAULT 0
);
