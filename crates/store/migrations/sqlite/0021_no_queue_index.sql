-- Cases by region alone: cases_region (region), which a status change never touches. Reads by
-- status (the window's queue, the supervision counts) use cases_open (status, region,
-- promised_due); the delivery log's reads by region find the region's cases here, then their
-- notices by case. cases_queue (region, status, submitted_at) served only those reads by
-- region, and every status change of a case removed one of its entries and inserted another
-- (three times in a workflow case's lifecycle).
CREATE INDEX cases_region ON cases(region);
DROP INDEX cases_queue;
