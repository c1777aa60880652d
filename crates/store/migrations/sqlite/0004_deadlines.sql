-- Deadlines fixed at acceptance (local dates, working days counted by the calendar).
ALTER TABLE cases ADD COLUMN accepted_on TEXT;
ALTER TABLE cases ADD COLUMN internal_due TEXT;
ALTER TABLE cases ADD COLUMN promised_due TEXT;
ALTER TABLE cases ADD COLUMN legal_due TEXT;
