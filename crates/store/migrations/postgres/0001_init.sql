CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL DEFAULT '',
    parent TEXT REFERENCES regions(code),
    level BIGINT NOT NULL
);
CREATE TABLE departments (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL REFERENCES regions(code),
    uscc TEXT,
    phone TEXT
);
CREATE TABLE halls (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL REFERENCES regions(code),
    address TEXT NOT NULL DEFAULT ''
);
CREATE TABLE windows (
    id TEXT PRIMARY KEY,
    hall_id TEXT NOT NULL REFERENCES halls(id),
    name TEXT NOT NULL,
    comprehensive BIGINT NOT NULL DEFAULT 1
);
CREATE TABLE items (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_en TEXT NOT NULL DEFAULT '',
    department TEXT NOT NULL REFERENCES departments(code),
    region TEXT NOT NULL REFERENCES regions(code),
    category TEXT NOT NULL DEFAULT '',
    item_type TEXT NOT NULL,
    case_type TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX items_region ON items(region);
CREATE INDEX items_department ON items(department);
CREATE TABLE accounts (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    login TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    name TEXT NOT NULL,
    id_number TEXT,
    phone TEXT,
    legal_rep TEXT,
    role TEXT,
    region TEXT,
    department TEXT,
    hall_id TEXT,
    window_id TEXT,
    active BIGINT NOT NULL DEFAULT 1,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX accounts_id_number ON accounts(id_number) WHERE kind <> 'staff';
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id),
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE cases (
    id BIGSERIAL PRIMARY KEY,
    number TEXT UNIQUE,
    item_code TEXT NOT NULL REFERENCES items(code),
    applicant_id BIGINT NOT NULL REFERENCES accounts(id),
    status TEXT NOT NULL,
    region TEXT NOT NULL,
    department TEXT NOT NULL,
    form TEXT NOT NULL DEFAULT '{}',
    commitment_signed BIGINT NOT NULL DEFAULT 0,
    secret TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT 'online',
    version BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    submitted_at BIGINT,
    accepted_at BIGINT,
    completed_at BIGINT,
    updated_at BIGINT NOT NULL,
    handled_by BIGINT,
    reject_reason TEXT
);
CREATE INDEX cases_queue ON cases(region, status, submitted_at);
CREATE INDEX cases_applicant ON cases(applicant_id, id);
CREATE TABLE submissions (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    material_code TEXT NOT NULL,
    file_hash TEXT NOT NULL,
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    uploaded_at BIGINT NOT NULL
);
CREATE INDEX submissions_case ON submissions(case_id, material_code);
CREATE TABLE material_checks (
    case_id BIGINT NOT NULL REFERENCES cases(id),
    material_code TEXT NOT NULL,
    verdict TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    due_date TEXT,
    checked_by BIGINT NOT NULL,
    checked_at BIGINT NOT NULL,
    PRIMARY KEY (case_id, material_code)
);
CREATE TABLE correction_notices (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    issued_by BIGINT NOT NULL,
    issued_at BIGINT NOT NULL,
    problems TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    resolved_at BIGINT
);
CREATE INDEX correction_notices_case ON correction_notices(case_id);
CREATE TABLE case_counters (
    region TEXT NOT NULL,
    day TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (region, day)
);
CREATE TABLE audit (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    stream TEXT NOT NULL,
    actor_id BIGINT NOT NULL,
    actor_role TEXT NOT NULL,
    action TEXT NOT NULL,
    case_number TEXT,
    status_before TEXT,
    status_after TEXT,
    client_addr TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_stream ON audit(stream, id);
CREATE INDEX audit_actor ON audit(actor_id, id);
CREATE TABLE audit_heads (
    stream TEXT PRIMARY KEY,
    hash TEXT NOT NULL
);
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
