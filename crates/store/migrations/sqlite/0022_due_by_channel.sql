-- The notices waiting to be sent, one index per channel. In one index on (channel, next_at)
-- each new in-app notice went into the middle of the tree (after the e-mails, before the
-- texts), and every full page there was split by rebalancing its neighbours; in its own
-- channel's index a notice goes at the end, where SQLite just starts a new page. The workers
-- claim one channel at a time, so a channel's backlog still never slows the others' claims.
-- A new channel needs its own index here. (A binary from before this migration claims with
-- the channel as a parameter, which no index here serves: it would scan the outbox.)
DROP INDEX outbox_due;
CREATE INDEX outbox_due_sms ON outbox(next_at) WHERE channel = 'sms' AND status IN ('queued', 'failed');
CREATE INDEX outbox_due_email ON outbox(next_at) WHERE channel = 'email' AND status IN ('queued', 'failed');
CREATE INDEX outbox_due_inapp ON outbox(next_at) WHERE channel = 'inapp' AND status IN ('queued', 'failed');
