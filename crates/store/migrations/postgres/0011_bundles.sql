-- 一件事一次办: bundles of items in the catalog, and an applicant's bundle application, whose
-- parts are ordinary cases (one per item) that share its form, materials and acceptance.
CREATE TABLE bundles (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    region TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE bundle_apps (
    id BIGSERIAL PRIMARY KEY,
    bundle_code TEXT NOT NULL REFERENCES bundles(code),
    applicant_id BIGINT NOT NULL REFERENCES accounts(id),
    region TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    submitted_at BIGINT,
    accepted_at BIGINT
);
CREATE INDEX bundle_apps_applicant ON bundle_apps(applicant_id, id);
ALTER TABLE cases ADD COLUMN bundle_app BIGINT;
CREATE INDEX cases_bundle ON cases(bundle_app);
