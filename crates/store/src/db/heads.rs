//! The SQLite writer's memory of the audit log's stream heads (see `audit`).

use std::collections::HashMap;

/// What the SQLite writer remembers of each audit stream's last hash, so that appending a
/// record need not look it up (six lookups in a case's lifecycle). Only the writer appends to
/// the log, so what it wrote last is the head, as long as that write was kept: a command's
/// heads count once it ended without being rolled back, a batch's once it committed. Anything
/// rolled back, a schema change, or a commit by another connection forgets them all.
#[derive(Default)]
pub struct Heads {
    saved: HashMap<String, String>,
    batch: HashMap<String, String>,
    command: HashMap<String, String>,
    /// SQLite's `data_version` when the last batch began; it moves when another connection
    /// commits.
    data_version: Option<i64>,
}

/// Streams remembered at most; past it the memory starts again (a case's stream is busy for
/// a few weeks, then quiet).
const HEADS_KEPT: usize = 20_000;

impl Heads {
    pub(crate) fn get(&self, stream: &str) -> Option<&String> {
        self.command
            .get(stream)
            .or_else(|| self.batch.get(stream))
            .or_else(|| self.saved.get(stream))
    }
    pub(crate) fn note(&mut self, stream: String, hash: String) {
        self.command.insert(stream, hash);
    }
    /// A batch begins (inside its write transaction) and the database's `data_version` is
    /// what it is: if another connection committed since, the memory may be stale.
    pub(crate) fn batch_began(&mut self, data_version: Option<i64>) {
        if data_version.is_none() || data_version != self.data_version {
            self.forget();
        }
        self.data_version = data_version;
    }
    /// The running command ended; `kept`: its writes stay in the transaction.
    pub(crate) fn command_ended(&mut self, kept: bool) {
        if kept {
            self.batch.extend(self.command.drain());
        } else {
            self.command.clear();
        }
    }
    /// The batch's transaction ended; `committed`: it is in the database.
    pub(crate) fn batch_ended(&mut self, committed: bool) {
        self.command.clear();
        if committed {
            if self.saved.len() + self.batch.len() > HEADS_KEPT {
                self.saved.clear();
            }
            self.saved.extend(self.batch.drain());
        } else {
            self.forget();
        }
    }
    pub(crate) fn forget(&mut self) {
        self.saved.clear();
        self.batch.clear();
        self.command.clear();
    }
}
