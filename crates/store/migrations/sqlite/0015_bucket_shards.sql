-- Open-case buckets split into 8 shards by case id. On PostgreSQL every acceptance in one
-- county on one day updated the same bucket row and waited on its lock for the previous
-- transaction's commit; counts add the shards up, so nothing reading them changes. Recounted
-- from the cases, as `rebuild_open_buckets` does.
CREATE TABLE open_buckets_sharded (
    region TEXT NOT NULL,
    department TEXT NOT NULL,
    item_code TEXT NOT NULL,
    handled_by BIGINT NOT NULL,
    yellow_from TEXT NOT NULL,
    internal_due TEXT NOT NULL,
    promised_due TEXT NOT NULL,
    legal_due TEXT NOT NULL,
    shard BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (region, department, item_code, handled_by, yellow_from, internal_due, promised_due, legal_due, shard)
);
INSERT INTO open_buckets_sharded (region, department, item_code, handled_by, yellow_from, internal_due, promised_due, legal_due, shard, n)
SELECT region, department, item_code, COALESCE(handled_by, 0), yellow_from, internal_due, promised_due, legal_due, id % 8, COUNT(*)
FROM cases
WHERE status IN ('accepted', 'in_stage') AND yellow_from IS NOT NULL AND internal_due IS NOT NULL AND promised_due IS NOT NULL AND legal_due IS NOT NULL
GROUP BY region, department, item_code, COALESCE(handled_by, 0), yellow_from, internal_due, promised_due, legal_due, id % 8;
DROP TABLE open_buckets;
ALTER TABLE open_buckets_sharded RENAME TO open_buckets;
