-- Reads by status (the window's queue, the supervision counts) find cases through cases_open
-- (status, region, promised_due); the reads by region alone, the delivery log's, walk the
-- notices and look each case up by its id. cases_queue (region, status, submitted_at) served
-- no read any more, and every status change of a case removed one of its entries and inserted
-- another (three times in a workflow case's lifecycle).
DROP INDEX cases_queue;
