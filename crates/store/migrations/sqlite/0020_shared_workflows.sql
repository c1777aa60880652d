-- Cases accepted under the same workflow share its snapshot: one row per distinct set of
-- stages, found by its digest, instead of one per case. Each case's own row was a page written
-- at its own place in every acceptance's commit (7 of a busy commit's 75 pages); the case row
-- now holds only the snapshot's id, written with the acceptance's status. Snapshots taken
-- before keep one row each, under their case's id.
CREATE TABLE workflows (
    id INTEGER PRIMARY KEY,
    digest TEXT NOT NULL UNIQUE,
    stages TEXT NOT NULL
);
INSERT INTO workflows (id, digest, stages) SELECT case_id, 'case-' || case_id, stages FROM case_flows;
ALTER TABLE cases ADD COLUMN workflow_id BIGINT REFERENCES workflows(id);
UPDATE cases SET workflow_id = id WHERE id IN (SELECT case_id FROM case_flows);
DROP TABLE case_flows;
