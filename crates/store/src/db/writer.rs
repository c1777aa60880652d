//! The write path. SQLite allows one writer, so one thread owns a synchronous write connection
//! and groups whatever commands are waiting into one commit; a syncer thread flushes the log
//! while the writer runs the next batch, and answers the commands once their commit is on
//! disk. This is what lets thousands of commands a second be acknowledged only then.
//! One failing command must not take the others with it: commands run without savepoints
//! (a savepoint copies every page its command touches), a failed command that only read needs
//! nothing undone, and when one fails having written, the batch is rolled back and run again
//! with each command in its own savepoint, so it rolls back alone. PostgreSQL runs each
//! command in its own transaction from the pool and groups commits itself.

use crate::db::error::{Result, StoreError};
use crate::db::tx::{LiteTx, OnWriter, SqlxTx, Tx};
use futures::future::BoxFuture;
use sqlx::AnyPool;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

type Done = Box<dyn FnOnce(std::result::Result<(), String>) + Send>;
/// A command; the writer may run it twice (see the module's note), and only the last run's
/// `Done` answers the caller.
type Job = Box<dyn for<'c> FnMut(&'c mut dyn Tx) -> BoxFuture<'c, (bool, Done)> + Send>;

/// Most commands in one commit; bounds the latency one batch adds to the next.
const MAX_BATCH: usize = 512;

#[derive(Clone)]
pub(crate) enum Writer {
    Sqlite(mpsc::Sender<Job>),
    Pool(AnyPool),
}

impl Writer {
    pub(crate) fn sqlite(path: &str) -> Result<Writer> {
        Writer::sqlite_flushing(path, flush_log)
    }

    /// `flush` puts the log (the path it is given) on disk; tests slow it down or fail it.
    fn sqlite_flushing<S>(path: &str, mut flush: S) -> Result<Writer>
    where
        S: FnMut(&mut Option<std::fs::File>, &str) -> std::io::Result<()> + Send + 'static,
    {
        let conn = rusqlite::Connection::open(path)
            .map_err(|e| StoreError::Unavailable(format!("cannot open {path}: {e}")))?;
        // An acknowledged command survives power loss: the log is on disk before any command
        // in it is answered. SQLite's FULL would fsync inside COMMIT, leaving the writer idle
        // for the whole flush; under NORMAL the commit only writes the log, and the syncer
        // thread flushes it while the writer runs the next batch, answering the commands after.
        // Checkpoints still flush the log before copying it back (NORMAL does that itself).
        conn.execute_batch(
            "PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        )
        .map_err(|e| StoreError::Unavailable(format!("sqlite pragmas: {e}")))?;
        // Refuse to run unless the log is what the syncer flushes.
        let (mode, sync): (String, i64) = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .and_then(|m| conn.query_row("PRAGMA synchronous", [], |r| Ok((m, r.get(0)?))))
            .map_err(|e| StoreError::Unavailable(format!("sqlite pragmas: {e}")))?;
        if mode != "wal" || sync != 1 {
            return Err(StoreError::Unavailable(format!(
                "sqlite journal mode {mode}, synchronous {sync}: not WAL and NORMAL"
            )));
        }
        let log = format!("{}-wal", conn.path().unwrap_or(path));
        conn.set_prepared_statement_cache_capacity(256);
        // Each command's savepoint keeps the pages it changes in a sub-journal; on the default
        // temporary file that is two write() calls per page, more than the commit's own writes.
        conn.execute_batch("PRAGMA temp_store=MEMORY;")
            .map_err(|e| StoreError::Unavailable(format!("sqlite pragmas: {e}")))?;
        // Checkpoints (copying the WAL back into the database file, with its own fsync) run
        // mostly on a thread of their own; the writer only finishes one every RESTART_EVERY.
        conn.execute_batch("PRAGMA wal_autocheckpoint=0;")
            .map_err(|e| StoreError::Unavailable(format!("sqlite pragmas: {e}")))?;
        let (alive, watch) = std::sync::mpsc::channel::<()>();
        // Set when a flush of the log fails: from then on nothing is written or copied back.
        let failed = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let ck_failed = failed.clone();
        // One checkpoint at a time: SQLite refuses a second at once rather than waiting, and
        // the checkpointer thread's passes would leave the writer's restarts no gap.
        let turn = std::sync::Arc::new(std::sync::Mutex::new(()));
        let ck_turn = turn.clone();
        let ck_path = path.to_string();
        std::thread::Builder::new()
            .name("yc-sqlite-ckpt".into())
            .spawn(move || checkpoint_loop(&ck_path, watch, ck_turn, &ck_failed))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the checkpointer: {e}")))?;
        let (tx, rx) = mpsc::channel::<Job>(8192);
        let (to_sync, committed) = std::sync::mpsc::channel::<Committed>();
        let sync_failed = failed.clone();
        std::thread::Builder::new()
            .name("yc-sqlite-sync".into())
            .spawn(move || sync_loop(committed, &sync_failed, |f| flush(f, &log)))
            .map_err(|e| StoreError::Unavailable(format!("cannot start the syncer: {e}")))?;
        std::thread::Builder::new()
            .name("yc-sqlite-write".into())
            .spawn(move || {
                crate::db::sched::writer_thread();
                writer_loop(&conn, rx, &turn, &to_sync, &failed);
                drop(alive);
            })
            .map_err(|e| StoreError::Unavailable(format!("cannot start the writer: {e}")))?;
        Ok(Writer::Sqlite(tx))
    }

    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut dyn Tx) -> BoxFuture<'c, Result<T>> + Clone + Send + 'static,
    {
        match self {
            Writer::Pool(pool) => {
                let mut tx = pool.begin().await?;
                let r = {
                    let mut t = SqlxTx { conn: &mut tx };
                    f(&mut t).await
                };
                match r {
                    Ok(v) => {
                        tx.commit().await?;
                        Ok(v)
                    }
                    Err(e) => {
                        let _ = tx.rollback().await;
                        Err(e)
                    }
                }
            }
            Writer::Sqlite(sender) => {
                let (otx, orx) = oneshot::channel::<Result<T>>();
                let reply = Arc::new(Mutex::new(Some(otx)));
                let job: Job = Box::new(move |tx: &mut dyn Tx| {
                    let (f, reply) = (f.clone(), reply.clone());
                    Box::pin(async move {
                        let r = f(tx).await;
                        let ok = r.is_ok();
                        let done: Done = Box::new(move |commit| {
                            let out = match (r, commit) {
                                (Ok(v), Ok(())) => Ok(v),
                                (Ok(_), Err(e)) => Err(StoreError::Unavailable(e)),
                                (Err(e), _) => Err(e),
                            };
                            let otx = reply.lock().unwrap_or_else(|p| p.into_inner()).take();
                            if let Some(otx) = otx {
                                let _ = otx.send(out);
                            }
                        });
                        (ok, done)
                    })
                });
                sender
                    .send(job)
                    .await
                    .map_err(|_| StoreError::Unavailable("writer stopped".into()))?;
                orx.await
                    .map_err(|_| StoreError::Unavailable("writer dropped the command".into()))?
            }
        }
    }
}

/// Runs one of the writer's own fixed statements, parsed once and cached (a savepoint and its
/// release frame every command, so parsing them each time shows up in the throughput).
fn exec(conn: &rusqlite::Connection, sql: &str) -> std::result::Result<(), String> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute([]))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// How often the checkpointer thread copies the log back. Rarely is cheaper: a page the
/// commands keep changing (a table's last page, an index's hot page) is copied once per pass
/// however often it changed, and each pass's writes and fsync share the disk with the writer's
/// commits. Measured on the lifecycle benchmark: every 50 ms 1,100–1,120 lifecycles/s, every
/// 500 ms 1,160–1,210, every second 1,250–1,290.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Every CHECKPOINT_EVERY a passive checkpoint, which never blocks readers or the writer's
/// commits; ends with the writer.
fn checkpoint_loop(
    path: &str,
    writer: std::sync::mpsc::Receiver<()>,
    turn: std::sync::Arc<std::sync::Mutex<()>>,
    failed: &std::sync::atomic::AtomicBool,
) {
    let Ok(conn) = rusqlite::Connection::open(path) else {
        return;
    };
    let _ = conn.execute_batch("PRAGMA busy_timeout=1000;");
    loop {
        match writer.recv_timeout(CHECKPOINT_EVERY) {
            // Pages the kernel dropped after a failed flush could be read back stale.
            Err(std::sync::mpsc::RecvTimeoutError::Timeout)
                if failed.load(std::sync::atomic::Ordering::SeqCst) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                let _turn = turn.lock().unwrap_or_else(|p| p.into_inner());
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    tracing::warn!(error = %e, "checkpoint failed");
                }
            }
            _ => return,
        }
    }
}

/// How often the writer finishes a checkpoint itself. The log can only start again from its
/// beginning when a write transaction begins with every frame copied back, which never happens
/// by itself under a steady stream of commits: the log then grows without end (over a gigabyte
/// in the lifecycle benchmark) and every commit pays to extend the file. The checkpointer
/// thread has copied most frames by then, so this copies only the last few; the next batch
/// starts the log again unless a reader is still in it. Once a second bounds the log to about
/// a second of commits (~100 MB at the benchmark's peak).
const RESTART_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// When the checkpointer thread is mid-pass (a second of frames can take a while to copy) or
/// a reader kept the writer from copying everything, it tries again this much later: it never
/// waits for the thread, and a long reader does not make it checkpoint after every commit.
const RESTART_RETRY: std::time::Duration = std::time::Duration::from_millis(100);

/// A batch's answers and its commit's result, on the way to the syncer.
type Committed = (Vec<Done>, std::result::Result<(), String>);

/// Flushes the log to disk (its data; the first time also the directory entry of a log SQLite
/// has just created). `file` is the log, opened on first use: the writer's connection keeps
/// it from being deleted, and checkpoints restart it in place.
fn flush_log(file: &mut Option<std::fs::File>, log: &str) -> std::io::Result<()> {
    if file.is_none() {
        let f = std::fs::OpenOptions::new().write(true).open(log)?;
        let dir = std::path::Path::new(log)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        std::fs::File::open(dir)?.sync_all()?;
        *file = Some(f);
    }
    file.as_ref().map_or(Ok(()), |f| f.sync_data())
}

/// Answers committed batches once the log holding them is on disk. Every batch waiting when a
/// flush begins was committed before it, so one flush answers them all. A failed flush may
/// have lost what it was flushing (the kernel can drop the pages): those commands are told
/// so and the writer takes no more, as PostgreSQL stops rather than run on after one.
fn sync_loop<S>(
    committed: std::sync::mpsc::Receiver<Committed>,
    failed: &std::sync::atomic::AtomicBool,
    mut flush: S,
) where
    S: FnMut(&mut Option<std::fs::File>) -> std::io::Result<()>,
{
    let mut file = None;
    while let Ok(first) = committed.recv() {
        let mut waiting = vec![first];
        waiting.extend(committed.try_iter());
        let flushed = if failed.load(std::sync::atomic::Ordering::SeqCst) {
            // After a failed flush a second one may well succeed, the lost pages forgotten:
            // nothing committed after them is answered as if it were on disk.
            Err("the log could not be written to disk earlier; writes have stopped".into())
        } else if waiting.iter().any(|(_, r)| r.is_ok()) {
            flush(&mut file).map_err(|e| {
                tracing::error!(error = %e, "cannot flush the SQLite log; writes stop");
                failed.store(true, std::sync::atomic::Ordering::SeqCst);
                format!("the log could not be written to disk: {e}")
            })
        } else {
            Ok(())
        };
        for (dones, result) in waiting {
            let result = result.and(flushed.clone());
            for d in dones {
                d(result.clone());
            }
        }
    }
}

fn writer_loop(
    conn: &rusqlite::Connection,
    mut rx: mpsc::Receiver<Job>,
    turn: &std::sync::Mutex<()>,
    to_sync: &std::sync::mpsc::Sender<Committed>,
    failed: &std::sync::atomic::AtomicBool,
) {
    let mut next_restart = std::time::Instant::now() + RESTART_EVERY;
    let mut prepared = crate::db::tx::Prepared::default();
    let mut heads = crate::db::heads::Heads::default();
    while let Some(first) = rx.blocking_recv() {
        if failed.load(std::sync::atomic::Ordering::SeqCst) {
            // Dropping the command answers its caller with "unavailable".
            continue;
        }
        let mut batch: Vec<Job> = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let (dones, result) = match run_batch(conn, &mut prepared, &mut heads, &mut batch, false) {
            Some(ran) => ran,
            None => run_batch(conn, &mut prepared, &mut heads, &mut batch, true)
                .unwrap_or_else(|| (Vec::new(), Err("the batch could not run".into()))),
        };
        // The syncer answers once the commit is on disk; a job whose last run left no answer
        // (the transaction could not begin) answers "unavailable" when dropped.
        if to_sync.send((dones, result)).is_err() {
            tracing::error!("the syncer stopped; writes stop");
            return;
        }
        drop(batch);
        let now = std::time::Instant::now();
        if now >= next_restart {
            next_restart = now + finish_checkpoint(conn, turn);
        }
    }
}

/// Runs the batch in one transaction and commits it; the `Done`s answer the commands with the
/// commit's result. `guarded`: each command in its own savepoint. Unguarded, a command that
/// fails having written (or panics) ends the pass with everything rolled back: `None`, run
/// the batch again guarded.
fn run_batch<'conn>(
    conn: &'conn rusqlite::Connection,
    prepared: &mut crate::db::tx::Prepared<'conn>,
    heads: &mut crate::db::heads::Heads,
    batch: &mut [Job],
    guarded: bool,
) -> Option<(Vec<Done>, std::result::Result<(), String>)> {
    if let Err(e) = exec(conn, "BEGIN IMMEDIATE") {
        tracing::error!(error = %e, "cannot begin a write transaction");
        return Some((Vec::new(), Err(e)));
    }
    heads.batch_began(
        conn.prepare_cached("PRAGMA data_version")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .ok(),
    );
    let mut dones = Vec::with_capacity(batch.len());
    let mut broken: Option<String> = None;
    for job in batch.iter_mut() {
        if guarded {
            if let Err(e) = exec(conn, "SAVEPOINT cmd") {
                broken = Some(e);
                break;
            }
        }
        // The SQLite Tx never waits, so each command's future completes in one poll.
        // A command that panics is rolled back alone and its caller told "unavailable";
        // the writer, and every other command, carries on.
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut tx = LiteTx {
                on_writer: send_wrapper::SendWrapper::new(OnWriter {
                    conn,
                    prepared: &mut *prepared,
                }),
                heads: &mut *heads,
                wrote: false,
            };
            let r = futures::executor::block_on(job(&mut tx));
            (r, tx.wrote)
        }));
        let ((ok, done), wrote) = match ran {
            Ok(r) => r,
            Err(_) => {
                tracing::error!("a write command panicked; rolled back");
                let noop: Done = Box::new(|_| {});
                ((false, noop), true)
            }
        };
        if guarded {
            let end = if ok {
                exec(conn, "RELEASE cmd")
            } else {
                exec(conn, "ROLLBACK TO cmd").and_then(|()| exec(conn, "RELEASE cmd"))
            };
            heads.command_ended(ok && end.is_ok());
            if let Err(e) = end {
                broken = Some(e);
            }
        } else if !ok && wrote {
            if !conn.is_autocommit() {
                let _ = exec(conn, "ROLLBACK");
            }
            heads.batch_ended(false);
            return None;
        } else {
            heads.command_ended(ok);
        }
        dones.push(done);
        if broken.is_some() || conn.is_autocommit() {
            // The transaction is gone (an I/O error, a full disk): nothing in it will commit.
            // A savepoint now would start a transaction of its own and commit the rest apart
            // from the commands already run; instead they all fail, and the commands not run
            // are answered "unavailable" when dropped.
            if !guarded {
                heads.batch_ended(false);
                return None;
            }
            broken.get_or_insert_with(|| "the write transaction was lost".into());
            break;
        }
    }
    let result = match broken {
        Some(e) => {
            let _ = exec(conn, "ROLLBACK");
            Err(e)
        }
        None => exec(conn, "COMMIT").inspect_err(|_| {
            let _ = exec(conn, "ROLLBACK");
        }),
    };
    heads.batch_ended(result.is_ok());
    Some((dones, result))
}

/// Finishes a checkpoint unless the checkpointer thread is copying; returns when to try next.
fn finish_checkpoint(
    conn: &rusqlite::Connection,
    turn: &std::sync::Mutex<()>,
) -> std::time::Duration {
    let _turn = match turn.try_lock() {
        Ok(t) => t,
        Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => return RESTART_RETRY,
    };
    // (busy, frames in the log, frames copied back)
    let ck = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    });
    match ck {
        // All copied: the next batch starts the log again.
        Ok((0, log, copied)) if log == copied => RESTART_EVERY,
        // A reader still needs old frames.
        Ok(_) => RESTART_RETRY,
        Err(e) => {
            tracing::warn!(error = %e, "checkpoint failed");
            RESTART_EVERY
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Writer;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    async fn insert(w: &Writer, key: &str) -> crate::db::error::Result<()> {
        let key = key.to_string();
        w.run(move |c| {
            Box::pin(async move {
                c.batch("CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY)")
                    .await?;
                c.exec("INSERT INTO t (k) VALUES ($1)", crate::args![key])
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// The scheduling policy of this process's threads of one name (at most 15 characters, the
    /// kernel's limit): (policy, nice) each.
    fn policies(name: &str) -> Vec<(u32, i64)> {
        let mut out = Vec::new();
        for t in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
            let comm = std::fs::read_to_string(t.path().join("comm")).unwrap_or_default();
            if comm.trim_end() != name {
                continue;
            }
            let stat = std::fs::read_to_string(t.path().join("stat")).unwrap();
            out.extend(crate::db::sched::policy_and_nice(&stat));
        }
        out
    }

    /// Opened by a thread that yields to the writer (as the binary's are), the writer runs
    /// under the default policy and its syncer defers to it with the rest.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_writer_runs_first() {
        if std::env::var("YICHUANG_SCHED").is_ok() {
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let (writers, syncers, w) = std::thread::spawn(move || {
            // Only from the default policy at nice 0 does anything change.
            if crate::db::sched::current() != Some((0, 0)) {
                return (vec![], vec![], None);
            }
            crate::db::sched::yield_to_writer();
            let w = Writer::sqlite(path.to_str().unwrap()).unwrap();
            std::thread::sleep(Duration::from_millis(100));
            (
                policies("yc-sqlite-write"),
                policies("yc-sqlite-sync"),
                Some(w),
            )
        })
        .join()
        .unwrap();
        if w.is_none() {
            return;
        }
        // Other tests' writers, opened from default threads, are all SCHED_OTHER too.
        assert!(
            !writers.is_empty() && writers.iter().all(|p| *p == (0, 0)),
            "{writers:?}"
        );
        assert!(
            syncers.contains(&(3, 0)),
            "no syncer in SCHED_BATCH: {syncers:?}"
        );
    }

    /// The commit is written before the flush; the caller hears only after the flush ends.
    #[tokio::test]
    async fn a_command_is_answered_only_after_its_log_is_flushed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let flushed: Arc<Mutex<Vec<Instant>>> = Arc::default();
        let seen = flushed.clone();
        let w = Writer::sqlite_flushing(path.to_str().unwrap(), move |f, log| {
            std::thread::sleep(Duration::from_millis(300));
            super::flush_log(f, log)?;
            seen.lock().unwrap().push(Instant::now());
            Ok(())
        })
        .unwrap();
        insert(&w, "a").await.unwrap();
        let answered = Instant::now();
        let flushes = flushed.lock().unwrap().clone();
        assert!(
            flushes.first().is_some_and(|f| *f <= answered),
            "answered before any flush ended: {flushes:?}"
        );
    }

    /// A failed flush tells the commands it held, and the writer takes no more.
    #[tokio::test]
    async fn a_failed_flush_fails_its_commands_and_stops_writes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        // Only the first flush fails, slowly; a later one would succeed, as on Linux it may.
        let mut flushes = 0;
        let w = Writer::sqlite_flushing(path.to_str().unwrap(), move |f, log| {
            flushes += 1;
            if flushes == 1 {
                std::thread::sleep(Duration::from_millis(400));
                return Err(std::io::Error::other("disk gone"));
            }
            super::flush_log(f, log)
        })
        .unwrap();
        let w = Arc::new(w);
        let first = tokio::spawn({
            let w = w.clone();
            async move { insert(&w, "a").await }
        });
        // Committed while the failing flush runs: its log comes after the lost pages.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let during = insert(&w, "b").await;
        let first = first.await.unwrap();
        assert!(
            matches!(&first, Err(crate::db::error::StoreError::Unavailable(m)) if m.contains("disk gone")),
            "{first:?}"
        );
        assert!(
            matches!(during, Err(crate::db::error::StoreError::Unavailable(_))),
            "{during:?}"
        );
        let then = insert(&w, "c").await;
        assert!(
            matches!(then, Err(crate::db::error::StoreError::Unavailable(_))),
            "{then:?}"
        );
        let db = rusqlite::Connection::open(&path).unwrap();
        let c: i64 = db
            .query_row("SELECT COUNT(*) FROM t WHERE k = 'c'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(c, 0, "nothing is written after a failed flush");
    }
}
