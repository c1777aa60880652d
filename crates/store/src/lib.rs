//! Persistence. SQLite is the embedded default, PostgreSQL the scale backend; both run the same
//! SQL through sqlx's `Any` driver (placeholders `$1`, `RETURNING`, `ON CONFLICT` work in both),
//! so there is one code path and one test suite. A command is one transaction: its state change,
//! its events and its audit record commit together or not at all.

pub mod accounts;
pub mod applicants;
pub mod audit;
pub mod bundles;
pub mod calendar;
pub mod cases;
pub mod catalog;
pub mod conclusions;
pub mod error;
pub mod files;
pub mod flows;
pub mod notices;
pub mod outbox;
pub mod supervision;
pub mod suspensions;
pub mod tx;
mod writer;

pub use error::{Result, RuleKind, StoreError};
pub use tx::{Row, Tx, Val};

use futures::future::BoxFuture;
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

const MIGRATIONS_SQLITE: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (
        2,
        include_str!("../migrations/sqlite/0002_sessions_idle.sql"),
    ),
    (3, include_str!("../migrations/sqlite/0003_calendar.sql")),
    (4, include_str!("../migrations/sqlite/0004_deadlines.sql")),
    (5, include_str!("../migrations/sqlite/0005_lights.sql")),
    (
        6,
        include_str!("../migrations/sqlite/0006_open_buckets.sql"),
    ),
    (7, include_str!("../migrations/sqlite/0007_suspensions.sql")),
    (
        8,
        include_str!("../migrations/sqlite/0008_conclusions_notices.sql"),
    ),
    (
        9,
        include_str!("../migrations/sqlite/0009_open_by_county.sql"),
    ),
    (10, include_str!("../migrations/sqlite/0010_workflow.sql")),
    (11, include_str!("../migrations/sqlite/0011_bundles.sql")),
    (12, include_str!("../migrations/sqlite/0012_task_due.sql")),
    (13, include_str!("../migrations/sqlite/0013_transfers.sql")),
    (14, include_str!("../migrations/sqlite/0014_outbox.sql")),
    (
        15,
        include_str!("../migrations/sqlite/0015_bucket_shards.sql"),
    ),
    (
        16,
        include_str!("../migrations/sqlite/0016_lean_writes.sql"),
    ),
    (17, include_str!("../migrations/sqlite/0017_lean_cases.sql")),
    (
        18,
        include_str!("../migrations/sqlite/0018_active_tasks.sql"),
    ),
    (
        19,
        include_str!("../migrations/sqlite/0019_plain_row_ids.sql"),
    ),
];
const MIGRATIONS_POSTGRES: &[(i64, &str)] = &[
    (1, include_str!("../migrations/postgres/0001_init.sql")),
    (
        2,
        include_str!("../migrations/postgres/0002_sessions_idle.sql"),
    ),
    (3, include_str!("../migrations/postgres/0003_calendar.sql")),
    (4, include_str!("../migrations/postgres/0004_deadlines.sql")),
    (5, include_str!("../migrations/postgres/0005_lights.sql")),
    (
        6,
        include_str!("../migrations/postgres/0006_open_buckets.sql"),
    ),
    (
        7,
        include_str!("../migrations/postgres/0007_suspensions.sql"),
    ),
    (
        8,
        include_str!("../migrations/postgres/0008_conclusions_notices.sql"),
    ),
    (
        9,
        include_str!("../migrations/postgres/0009_open_by_county.sql"),
    ),
    (10, include_str!("../migrations/postgres/0010_workflow.sql")),
    (11, include_str!("../migrations/postgres/0011_bundles.sql")),
    (12, include_str!("../migrations/postgres/0012_task_due.sql")),
    (
        13,
        include_str!("../migrations/postgres/0013_transfers.sql"),
    ),
    (14, include_str!("../migrations/postgres/0014_outbox.sql")),
    (
        15,
        include_str!("../migrations/postgres/0015_bucket_shards.sql"),
    ),
    (
        16,
        include_str!("../migrations/postgres/0016_lean_writes.sql"),
    ),
    (
        17,
        include_str!("../migrations/postgres/0017_lean_cases.sql"),
    ),
    (
        18,
        include_str!("../migrations/postgres/0018_active_tasks.sql"),
    ),
];

#[derive(Clone)]
pub struct Store {
    backend: Backend,
    read: AnyPool,
    writer: writer::Writer,
    calendars: calendar::Cache,
    templates: outbox::Templates,
    /// The hall's offset from UTC in hours: where "today" begins (Asia/Shanghai: 8).
    utc_offset_hours: i8,
}

/// The file path in a `sqlite://path?opts` URL.
fn sqlite_path(url: &str) -> String {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    rest.split('?').next().unwrap_or(rest).to_string()
}

/// The local date of a UTC instant in the hall's time zone.
pub fn local_date_of(ms: i64, offset_hours: i8) -> time::Date {
    let off = time::UtcOffset::from_hms(offset_hours, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .map(|t| t.to_offset(off).date())
        .unwrap_or_else(|_| local_today(offset_hours))
}

/// Today in the hall's time zone: "day N" boundaries follow the hall's local day.
pub fn local_today(offset_hours: i8) -> time::Date {
    let off = time::UtcOffset::from_hms(offset_hours, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::now_utc().to_offset(off).date()
}

/// Milliseconds since the Unix epoch, UTC: how every time is stored.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

impl Store {
    /// Connects by URL: `sqlite://path?mode=rwc` or `postgres://...`. Does not migrate.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::invalid(
                "config.database_url",
                format!("unsupported database URL '{url}': use sqlite:// or postgres://"),
                "不支持的数据库地址",
            ));
        };
        // The writer opens (and creates) the SQLite file first; readers share it in WAL mode.
        let sqlite_writer = match backend {
            Backend::Sqlite => Some(writer::Writer::sqlite(&sqlite_path(url))?),
            Backend::Postgres => None,
        };
        let read = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::Executor::execute(
                                conn,
                                "PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(24)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await?
            }
        };
        let writer = sqlite_writer.unwrap_or_else(|| writer::Writer::Pool(read.clone()));
        Ok(Store {
            backend,
            read,
            writer,
            calendars: calendar::Cache::default(),
            templates: outbox::Templates::default(),
            utc_offset_hours: 8,
        })
    }

    /// Sets the hall's time zone (hours from UTC) that "today" and case numbers follow.
    pub fn with_utc_offset(mut self, hours: i8) -> Store {
        self.utc_offset_hours = hours;
        self
    }

    /// Today in the hall's time zone.
    pub fn today(&self) -> time::Date {
        local_today(self.utc_offset_hours)
    }

    pub fn utc_offset_hours(&self) -> i8 {
        self.utc_offset_hours
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool for reads; writes go through [`Store::write`].
    pub fn pool(&self) -> &AnyPool {
        &self.read
    }

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

    /// Runs `f` in one transaction and commits it before returning. On SQLite, concurrent
    /// commands are grouped into one commit, and one failing command rolls back alone (which
    /// may mean running the others again: `f` is cloned for each run, and must do nothing
    /// outside the transaction); on PostgreSQL each runs in its own transaction on the pool.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut dyn Tx) -> BoxFuture<'c, Result<T>> + Clone + Send + 'static,
    {
        self.writer.run(f).await
    }

    pub async fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.read)
            .await?)
    }

    pub async fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        let (k, v) = (key.to_string(), value.to_string());
        self.write(move |c| {
            Box::pin(async move {
                c.exec("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value", args![k, v])
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// Closes the pools and the writer; SQLite checkpoints its WAL.
    pub async fn close(&self) {
        self.read.close().await;
    }
}
