-- The supervision dashboard's page of a county's open cases, newest first (PostgreSQL reads
-- it from here; SQLite's planner already walks the primary key).
CREATE INDEX cases_open_county ON cases(substr(region, 1, 6), id) WHERE status IN ('accepted', 'in_stage');
