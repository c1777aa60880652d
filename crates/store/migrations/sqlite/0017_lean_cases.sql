-- Fewer pages written per case step (the lifecycle benchmark's commits).
-- A case's workflow snapshot (~400 bytes of JSON) was more than half its row, so a page held
-- ~5 cases and every step of a case in flight dirtied a page of its own; it lives beside the
-- case now, written once at acceptance, and the case row stays small.
CREATE TABLE case_flows (
    case_id INTEGER PRIMARY KEY REFERENCES cases(id),
    stages TEXT NOT NULL
);
INSERT INTO case_flows (case_id, stages) SELECT id, workflow FROM cases WHERE workflow IS NOT NULL;
ALTER TABLE cases DROP COLUMN workflow;
-- In-app notices only ever go to the case's applicant, so a person's inbox is found through
-- their cases (cases_applicant, then outbox_case). The index by account put each notice on a
-- page of its own (one insertion point per person), a fifth of a busy commit's pages.
DROP INDEX outbox_inbox;
