-- Fewer pages written per command (the lifecycle benchmark's commits wrote ~120 pages each).
-- No query reads the audit by actor; the index only cost a random page per command.
DROP INDEX audit_actor;
-- One writer thread: a stream's head is its last record, found through audit_stream.
DROP TABLE audit_heads;
-- Open cases have no conclusion and, once concluded, no next alert; the NULL entries sat in
-- case-id order, so every conclusion and acceptance moved one on a random page. Every query on
-- these columns compares them, which implies NOT NULL, so the partial indexes still serve.
DROP INDEX cases_concluded;
CREATE INDEX cases_concluded ON cases(concluded_on, region) WHERE concluded_on IS NOT NULL;
DROP INDEX cases_next_alert;
CREATE INDEX cases_next_alert ON cases(next_alert_on) WHERE next_alert_on IS NOT NULL;
