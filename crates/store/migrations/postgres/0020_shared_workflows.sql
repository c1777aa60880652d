-- Cases accepted under the same workflow share its snapshot: one row per distinct set of
-- stages, found by its digest, instead of one per case (a row, and an index entry, written at
-- its own place by every acceptance). The case row holds the snapshot's id, written with the
-- acceptance's status. Snapshots taken before keep one row each, under their case's id.
CREATE TABLE workflows (
    id BIGSERIAL PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    stages TEXT NOT NULL
);
INSERT INTO workflows (id, digest, stages) SELECT case_id, 'case-' || case_id, stages FROM case_flows;
SELECT setval(pg_get_serial_sequence('workflows', 'id'), COALESCE((SELECT MAX(id) FROM workflows), 0) + 1, false);
ALTER TABLE cases ADD COLUMN workflow_id BIGINT REFERENCES workflows(id);
UPDATE cases SET workflow_id = id WHERE id IN (SELECT case_id FROM case_flows);
DROP TABLE case_flows;
