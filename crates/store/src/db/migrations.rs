//! The schema: one migration tree per backend, applied in order, each once.

use crate::common::now_ms;
use crate::db::backend::Backend;
use crate::db::error::Result;
use crate::{args, Store};

const MIGRATIONS_SQLITE: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_init.sql")),
    (
        2,
        include_str!("../../migrations/sqlite/0002_sessions_idle.sql"),
    ),
    (3, include_str!("../../migrations/sqlite/0003_calendar.sql")),
    (
        4,
        include_str!("../../migrations/sqlite/0004_deadlines.sql"),
    ),
    (5, include_str!("../../migrations/sqlite/0005_lights.sql")),
    (
        6,
        include_str!("../../migrations/sqlite/0006_open_buckets.sql"),
    ),
    (
        7,
        include_str!("../../migrations/sqlite/0007_suspensions.sql"),
    ),
    (
        8,
        include_str!("../../migrations/sqlite/0008_conclusions_notices.sql"),
    ),
    (
        9,
        include_str!("../../migrations/sqlite/0009_open_by_county.sql"),
    ),
    (
        10,
        include_str!("../../migrations/sqlite/0010_workflow.sql"),
    ),
    (11, include_str!("../../migrations/sqlite/0011_bundles.sql")),
    (
        12,
        include_str!("../../migrations/sqlite/0012_task_due.sql"),
    ),
    (
        13,
        include_str!("../../migrations/sqlite/0013_transfers.sql"),
    ),
    (14, include_str!("../../migrations/sqlite/0014_outbox.sql")),
    (
        15,
        include_str!("../../migrations/sqlite/0015_bucket_shards.sql"),
    ),
    (
        16,
        include_str!("../../migrations/sqlite/0016_lean_writes.sql"),
    ),
    (
        17,
        include_str!("../../migrations/sqlite/0017_lean_cases.sql"),
    ),
    (
        18,
        include_str!("../../migrations/sqlite/0018_active_tasks.sql"),
    ),
    (
        19,
        include_str!("../../migrations/sqlite/0019_plain_row_ids.sql"),
    ),
    (
        20,
        include_str!("../../migrations/sqlite/0020_shared_workflows.sql"),
    ),
    (
        21,
        include_str!("../../migrations/sqlite/0021_no_queue_index.sql"),
    ),
    (
        22,
        include_str!("../../migrations/sqlite/0022_due_by_channel.sql"),
    ),
];

const MIGRATIONS_POSTGRES: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_init.sql")),
    (
        2,
        include_str!("../../migrations/postgres/0002_sessions_idle.sql"),
    ),
    (
        3,
        include_str!("../../migrations/postgres/0003_calendar.sql"),
    ),
    (
        4,
        include_str!("../../migrations/postgres/0004_deadlines.sql"),
    ),
    (5, include_str!("../../migrations/postgres/0005_lights.sql")),
    (
        6,
        include_str!("../../migrations/postgres/0006_open_buckets.sql"),
    ),
    (
        7,
        include_str!("../../migrations/postgres/0007_suspensions.sql"),
    ),
    (
        8,
        include_str!("../../migrations/postgres/0008_conclusions_notices.sql"),
    ),
    (
        9,
        include_str!("../../migrations/postgres/0009_open_by_county.sql"),
    ),
    (
        10,
        include_str!("../../migrations/postgres/0010_workflow.sql"),
    ),
    (
        11,
        include_str!("../../migrations/postgres/0011_bundles.sql"),
    ),
    (
        12,
        include_str!("../../migrations/postgres/0012_task_due.sql"),
    ),
    (
        13,
        include_str!("../../migrations/postgres/0013_transfers.sql"),
    ),
    (
        14,
        include_str!("../../migrations/postgres/0014_outbox.sql"),
    ),
    (
        15,
        include_str!("../../migrations/postgres/0015_bucket_shards.sql"),
    ),
    (
        16,
        include_str!("../../migrations/postgres/0016_lean_writes.sql"),
    ),
    (
        17,
        include_str!("../../migrations/postgres/0017_lean_cases.sql"),
    ),
    (
        18,
        include_str!("../../migrations/postgres/0018_active_tasks.sql"),
    ),
    (
        20,
        include_str!("../../migrations/postgres/0020_shared_workflows.sql"),
    ),
];

impl Store {
    /// Applies pending migrations. Safe to call from several processes at once on PostgreSQL.
    pub async fn migrate(&self) -> Result<Vec<i64>> {
        let migrations = match self.backend {
            Backend::Sqlite => MIGRATIONS_SQLITE,
            Backend::Postgres => MIGRATIONS_POSTGRES,
        };
        let backend = self.backend;
        let applied = self.write(move |c| {
            Box::pin(async move {
                if backend == Backend::Postgres {
                    c.exec("SELECT pg_advisory_xact_lock(7234001)", args![]).await?;
                }
                c.exec(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                    args![],
                )
                .await?;
                let done: Vec<i64> = c
                    .query("SELECT version FROM schema_migrations", args![])
                    .await?
                    .iter()
                    .map(|r| r.i64("version"))
                    .collect::<Result<_>>()?;
                let mut applied = Vec::new();
                for (v, sql) in migrations {
                    if done.contains(v) {
                        continue;
                    }
                    c.batch(sql).await?;
                    c.exec(
                        "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                        args![*v, now_ms()],
                    )
                    .await?;
                    applied.push(*v);
                }
                Ok(applied)
            })
        })
        .await?;
        self.ensure_national_calendar().await?;
        Ok(applied)
    }
}

/// SQLite migrations with no PostgreSQL counterpart, and why: each tunes the embedded
/// writer's own storage (PostgreSQL keeps its own sequences and indexes).
#[cfg(test)]
const SQLITE_ONLY: &[(i64, &str)] = &[
    (
        19,
        "AUTOINCREMENT's sqlite_sequence; PostgreSQL ids are sequences already",
    ),
    (21, "an index SQLite rewrote on every status change"),
    (22, "SQLite's page splits in the due-notice index"),
];

#[cfg(test)]
mod tests {
    use super::{MIGRATIONS_POSTGRES, MIGRATIONS_SQLITE, SQLITE_ONLY};

    /// A schema change made on one backend only is either on the list, with its reason, or
    /// a mistake: the two backends run the same tests on the same tables.
    #[test]
    fn every_sqlite_migration_has_its_postgres_counterpart_or_is_listed() {
        let pg: Vec<i64> = MIGRATIONS_POSTGRES.iter().map(|(v, _)| *v).collect();
        let lite: Vec<i64> = MIGRATIONS_SQLITE.iter().map(|(v, _)| *v).collect();
        let only: Vec<i64> = SQLITE_ONLY.iter().map(|(v, _)| *v).collect();
        for v in &lite {
            assert!(
                pg.contains(v) != only.contains(v),
                "SQLite migration {v}: needs a PostgreSQL counterpart or an entry in SQLITE_ONLY, not both or neither"
            );
        }
        for v in &pg {
            assert!(
                lite.contains(v),
                "PostgreSQL migration {v} has no SQLite one"
            );
        }
        for w in [&lite, &pg] {
            assert!(w.windows(2).all(|p| p[0] < p[1]), "versions out of order");
        }
    }

    /// Every row of a table, each value as SQLite quotes it, in id order.
    fn rows(db: &rusqlite::Connection, table: &str) -> Vec<Vec<String>> {
        let mut s = db
            .prepare(&format!("SELECT * FROM {table} ORDER BY id"))
            .unwrap();
        let n = s.column_count();
        let out = s
            .query_map([], |r| {
                (0..n)
                    .map(|i| r.get_ref(i).map(|v| format!("{v:?}")))
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        out
    }

    /// Migration 0019 copies the audit log, the outbox and the tasks into tables without
    /// AUTOINCREMENT on a database that has data: every row and id stays, task transfers still
    /// point at their tasks (and the foreign keys hold, checked as the writer runs them), the
    /// indexes are back, and new rows take the next id.
    /// A database migrated up to, not including, `version`, with foreign keys off for the
    /// test's rows (cases' items and applicants are left out: only the rows that refer to a
    /// case matter).
    fn migrated_before(version: i64) -> (tempfile::TempDir, rusqlite::Connection) {
        let dir = tempfile::tempdir().unwrap();
        let db = rusqlite::Connection::open(dir.path().join("m.db")).unwrap();
        for (v, sql) in MIGRATIONS_SQLITE.iter().filter(|(v, _)| *v < version) {
            db.execute_batch(sql).unwrap_or_else(|e| panic!("{v}: {e}"));
        }
        db.execute_batch("PRAGMA foreign_keys=OFF;").unwrap();
        (dir, db)
    }

    /// Runs migration `version` as the writer does: one transaction, foreign keys on.
    fn migrate(db: &rusqlite::Connection, version: i64) {
        db.execute_batch("PRAGMA foreign_keys=ON; BEGIN;").unwrap();
        db.execute_batch(
            MIGRATIONS_SQLITE
                .iter()
                .find(|(v, _)| *v == version)
                .unwrap()
                .1,
        )
        .unwrap();
        db.execute_batch("COMMIT;").unwrap();
    }

    /// A worker's claim on one channel reads that channel's own index of due notices (0022),
    /// not the whole outbox: the statement has to name the channel for SQLite to use it.
    #[test]
    fn each_channel_claims_along_its_own_index() {
        let (_dir, db) = migrated_before(i64::MAX);
        for ch in yichuang_core::notify::Channel::ALL {
            let mut st = db
                .prepare(&format!(
                    "EXPLAIN QUERY PLAN {}",
                    crate::notify::delivery::claim_sql(ch, "")
                ))
                .unwrap();
            // Its parameters left unbound: a plan needs none of their values.
            let mut rows = st.raw_query();
            let mut plan = String::new();
            while let Some(r) = rows.next().unwrap() {
                plan.push_str(&r.get::<_, String>(3).unwrap());
                plan.push_str(" | ");
            }
            assert!(
                plan.contains(&format!("USING INDEX outbox_due_{} ", ch.code())),
                "{}: {plan}",
                ch.code()
            );
        }
    }

    #[test]
    fn plain_row_ids_keep_every_row_of_a_used_database() {
        let (_dir, db) = migrated_before(19);
        db.execute_batch(
            "INSERT INTO cases (id, item_code, applicant_id, status, region, department, secret, created_at, updated_at) \
                 VALUES (7, 'X', 1, 'in_stage', '360822', 'D', 's', 1, 1); \
             INSERT INTO tasks (id, case_id, seq, stage, stage_kind, stage_name, region, department, role, due_on, state, created_at) \
                 VALUES (5, 7, 0, 0, 'parallel', '并联', '360822', 'D', 'reviewer', '2026-12-01', 'done', 1), \
                        (9, 7, 1, 1, 'decision', '决定', '360822', 'E', 'reviewer', '2026-12-02', 'open', 2); \
             INSERT INTO task_transfers (task_id, case_id, region, from_department, to_department, reason, by_id, at) \
                 VALUES (9, 7, '360822', 'D', 'E', '职责', 3, 2); \
             INSERT INTO audit (id, at, stream, actor_id, actor_role, action, client_addr, prev_hash, hash) \
                 VALUES (3, 1, 'case:N', 0, 'system', 'a', 'l', '', 'h3'), (4, 2, 'case:N', 0, 'system', 'b', 'l', 'h3', 'h4'); \
             INSERT INTO outbox (id, event, case_id, account_id, channel, address, address_masked, lang, fields, idem_key, next_at, created_at) \
                 VALUES (2, 'accepted', 7, 1, 'sms', '13800138000', '138****8000', 'zh', '{}', 'k', 1, 1);",
        )
        .unwrap();
        let tables = ["audit", "outbox", "tasks", "task_transfers"];
        let before: Vec<_> = tables.iter().map(|t| rows(&db, t)).collect();

        migrate(&db, 19);

        let after: Vec<_> = tables.iter().map(|t| rows(&db, t)).collect();
        assert_eq!(before, after);
        let broken: i64 = db
            .query_row(
                "SELECT (SELECT COUNT(*) FROM pragma_foreign_key_check('tasks')) \
                      + (SELECT COUNT(*) FROM pragma_foreign_key_check('task_transfers'))",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(broken, 0);
        let schema: String = db
            .query_row(
                "SELECT group_concat(sql, ' ') FROM sqlite_master WHERE tbl_name IN ('audit', 'outbox', 'tasks')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!schema.contains("AUTOINCREMENT"), "{schema}");
        for index in [
            "audit_stream",
            "outbox_due",
            "outbox_case",
            "tasks_silence",
            "tasks_inbox",
            "tasks_due_open",
        ] {
            assert!(
                schema.contains(&format!("INDEX {index} ")),
                "{index} missing"
            );
        }
        db.execute(
            "INSERT INTO tasks (case_id, seq, stage, stage_kind, stage_name, region, department, role, due_on, state, created_at) \
             VALUES (7, 2, 1, 'decision', '决定', '360822', 'E', 'reviewer', '2026-12-03', 'open', 3)",
            [],
        )
        .unwrap();
        assert_eq!(db.last_insert_rowid(), 10);
    }

    /// Migration 0020 moves each case's own workflow snapshot into the shared table: the case
    /// refers to a row with the same stages, cases without a workflow refer to none, and a new
    /// snapshot takes an id after every case's.
    #[test]
    fn shared_workflows_keep_every_case_snapshot() {
        let (_dir, db) = migrated_before(20);
        db.execute_batch(
            "INSERT INTO cases (id, item_code, applicant_id, status, region, department, secret, created_at, updated_at) \
                 VALUES (7, 'X', 1, 'in_stage', '360822', 'D', 's', 1, 1), (8, 'X', 1, 'submitted', '360822', 'D', 's', 1, 1), \
                        (12, 'X', 1, 'approved', '360822', 'D', 's', 1, 1); \
             INSERT INTO case_flows (case_id, stages) VALUES (7, '[{\"kind\":\"decision\"}]'), (12, '[{\"kind\":\"review\"}]');",
        )
        .unwrap();
        migrate(&db, 20);

        let mut s = db
            .prepare("SELECT c.id, w.stages FROM cases c LEFT JOIN workflows w ON w.id = c.workflow_id ORDER BY c.id")
            .unwrap();
        let got: Vec<(i64, Option<String>)> = s
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            got,
            vec![
                (7, Some(r#"[{"kind":"decision"}]"#.to_string())),
                (8, None),
                (12, Some(r#"[{"kind":"review"}]"#.to_string())),
            ]
        );
        let broken: i64 = db
            .query_row(
                "SELECT COUNT(*) FROM pragma_foreign_key_check('cases') WHERE parent = 'workflows'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(broken, 0);
        db.execute(
            "INSERT INTO workflows (digest, stages) VALUES ('d', '[]')",
            [],
        )
        .unwrap();
        assert_eq!(db.last_insert_rowid(), 13);
    }
}
