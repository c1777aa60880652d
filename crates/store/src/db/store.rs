//! Opening a store and the ways in: the read pool, the one write path, the hall's day.

use crate::common::local_today;
use crate::db::backend::{sqlite_path, Backend};
use crate::db::error::{Result, StoreError};
use crate::db::tx::Tx;
use crate::db::writer;
use crate::{args, Store};
use futures::future::BoxFuture;
use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;
use std::time::Duration;

impl Store {
    /// Connects by URL: `sqlite://path?mode=rwc` or `postgres://...`. Does not migrate.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let Some(backend) = Backend::of_url(url) else {
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
            calendars: crate::calendar::cache::Cache::default(),
            templates: crate::notify::texts::Templates::default(),
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

    pub(crate) async fn read_tx<T, F>(&self, f: F) -> Result<T>
    where
        F: for<'c> FnOnce(&'c mut dyn Tx) -> futures::future::BoxFuture<'c, Result<T>>,
    {
        let mut conn = self.read.acquire().await?;
        let mut t = crate::db::tx::SqlxTx { conn: &mut conn };
        f(&mut t).await
    }
}
