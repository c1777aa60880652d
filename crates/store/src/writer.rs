//! The write path. SQLite allows one writer, so one task owns the write connection and
//! groups whatever commands are waiting into one durable commit; this is what lets thousands
//! of commands a second be acknowledged only after their commit is on disk.

use crate::{Result, StoreError};
use futures::future::BoxFuture;
use sqlx::{AnyConnection, AnyPool};
use tokio::sync::{mpsc, oneshot};

type Done = Box<dyn FnOnce(std::result::Result<(), String>) + Send>;
type Job = Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, (bool, Done)> + Send>;

/// Most commands in one commit; bounds the latency one slow batch adds to the next.
const MAX_BATCH: usize = 256;

#[derive(Clone)]
pub(crate) enum Writer {
    Sqlite(mpsc::Sender<Job>),
    Pool(AnyPool),
}

impl Writer {
    pub(crate) fn sqlite(conn: AnyConnection) -> Writer {
        let (tx, rx) = mpsc::channel::<Job>(4096);
        tokio::spawn(writer_loop(conn, rx));
        Writer::Sqlite(tx)
    }

    pub(crate) async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<T>> + Send + 'static,
    {
        match self {
            Writer::Pool(pool) => {
                let mut tx = pool.begin().await?;
                match f(&mut tx).await {
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
                let job: Job = Box::new(move |conn: &mut AnyConnection| {
                    Box::pin(async move {
                        let r = f(conn).await;
                        let ok = r.is_ok();
                        let done: Done = Box::new(move |commit| {
                            let out = match (r, commit) {
                                (Ok(v), Ok(())) => Ok(v),
                                (Ok(_), Err(e)) => Err(StoreError::Unavailable(e)),
                                (Err(e), _) => Err(e),
                            };
                            let _ = otx.send(out);
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

async fn exec(conn: &mut AnyConnection, sql: &str) -> std::result::Result<(), String> {
    sqlx::Executor::execute(conn, sql)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

async fn writer_loop(mut conn: AnyConnection, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        if let Err(e) = exec(&mut conn, "BEGIN IMMEDIATE").await {
            tracing::error!(error = %e, "cannot begin a write transaction");
            // Each job still answers: run nothing, report the failure.
            for job in batch {
                drop(job);
            }
            continue;
        }
        let mut dones = Vec::with_capacity(batch.len());
        let mut broken: Option<String> = None;
        for job in batch {
            if let Err(e) = exec(&mut conn, "SAVEPOINT cmd").await {
                broken = Some(e);
            }
            let (ok, done) = job(&mut conn).await;
            let end = if ok {
                exec(&mut conn, "RELEASE cmd").await
            } else {
                match exec(&mut conn, "ROLLBACK TO cmd").await {
                    Ok(()) => exec(&mut conn, "RELEASE cmd").await,
                    Err(e) => Err(e),
                }
            };
            if let Err(e) = end {
                broken = Some(e);
            }
            dones.push(done);
        }
        let result = match broken {
            Some(e) => {
                let _ = exec(&mut conn, "ROLLBACK").await;
                Err(e)
            }
            None => match exec(&mut conn, "COMMIT").await {
                Ok(()) => Ok(()),
                Err(e) => {
                    let _ = exec(&mut conn, "ROLLBACK").await;
                    Err(e)
                }
            },
        };
        for d in dones {
            d(result.clone());
        }
    }
}
