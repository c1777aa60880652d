-- Fewer pages written per command. No query reads the audit by actor. audit_heads stays: it is
-- the row lock that keeps a stream's chain from forking between concurrent transactions.
DROP INDEX audit_actor;
-- Open cases have no conclusion and, once concluded, no next alert; every query on these
-- columns compares them, which implies NOT NULL, so the partial indexes still serve.
DROP INDEX cases_concluded;
CREATE INDEX cases_concluded ON cases(concluded_on, region) WHERE concluded_on IS NOT NULL;
DROP INDEX cases_next_alert;
CREATE INDEX cases_next_alert ON cases(next_alert_on) WHERE next_alert_on IS NOT NULL;
