-- The date a case turns yellow, so that lights can be counted in the database; and the index
-- the supervision dashboard reads open cases by.
ALTER TABLE cases ADD COLUMN yellow_from TEXT;
CREATE INDEX cases_open ON cases(status, region, promised_due);
