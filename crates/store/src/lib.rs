//! Persistence. SQLite is the embedded default, PostgreSQL the scale backend; both run the same
//! SQL through sqlx's `Any` driver (placeholders `$1`, `RETURNING`, `ON CONFLICT` work in both),
//! so there is one code path and one test suite. A command is one transaction: its state change,
//! its events and its audit record commit together or not at all.
//!
//! One folder per capability, named as in the product's glossary:
//! - [`db`]: the connection, the write path (`Tx`, the SQLite writer), migrations, errors;
//! - [`common`]: paging, the clock and the hall's day (imports no capability);
//! - [`audit`], [`accounts`], [`catalog`], [`calendar`], [`files`];
//! - [`cases`]: the case row and everything that writes it (drafts, submission, the window,
//!   special procedures, conclusions' records, the open-case buckets), the applicant's one view;
//! - [`flows`]: workflow tasks; [`conclusions`]: decisions (办结) and on-time statistics;
//! - [`supervision`]: the dashboard and supervision notices (督办);
//! - [`notify`]: notices to people (the outbox): texts, events, delivery, inbox, preferences,
//!   the public status page's brake;
//! - [`bundles`]: 一件事; [`demo`]: what only the demo loader and the tests use.

pub mod accounts;
pub mod audit;
pub mod bundles;
pub mod calendar;
pub mod cases;
pub mod catalog;
pub mod common;
pub mod conclusions;
pub mod db;
pub mod demo;
pub mod files;
pub mod flows;
pub mod notify;
pub mod supervision;

pub use common::{local_date_of, local_today, now_ms, Page};
pub use db::backend::Backend;
pub use db::error::{Result, RuleKind, StoreError};
pub use db::tx::{Row, Tx, Val};

use sqlx::AnyPool;

#[derive(Clone)]
pub struct Store {
    backend: Backend,
    read: AnyPool,
    writer: db::writer::Writer,
    calendars: calendar::cache::Cache,
    templates: notify::texts::Templates,
    /// The hall's offset from UTC in hours: where "today" begins (Asia/Shanghai: 8).
    utc_offset_hours: i8,
}
