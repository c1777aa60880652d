//! The database underneath every capability: which backend, the one write path (the `Tx`
//! interface, the SQLite writer thread and its scheduling), the migrations, the error type.
//! Imports no capability.

pub mod backend;
pub mod error;
pub mod heads;
pub mod migrations;
pub mod sched;
pub mod store;
pub mod tx;
pub(crate) mod writer;
