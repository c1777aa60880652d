-- PostgreSQL adds an index on a county's open cases for the dashboard page here; SQLite's
-- planner already walks the primary key newest first, so it needs none.
SELECT 1;
