-- Open cases counted by everything the dashboard filters on and the dates their light comes
-- from. A county has a few thousand buckets where it has hundreds of thousands of cases, so
-- counting lights reads buckets, not cases. Kept in the same transaction as each case change.
CREATE TABLE open_buckets (
    region TEXT NOT NULL,
    department TEXT NOT NULL,
    item_code TEXT NOT NULL,
    handled_by BIGINT NOT NULL,
    yellow_from TEXT NOT NULL,
    internal_due TEXT NOT NULL,
    promised_due TEXT NOT NULL,
    legal_due TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (region, department, item_code, handled_by, yellow_from, internal_due, promised_due, legal_due)
);
