//! The SQLite group-commit writer: a failing or panicking command rolls back alone.

use yichuang_store::{args, Store, StoreError};

async fn store() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::connect(&format!("sqlite://{}/w.db?mode=rwc", dir.path().display()))
        .await
        .unwrap();
    s.migrate().await.unwrap();
    (s, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_command_rolls_back_alone_in_its_batch() {
    let (s, _d) = store().await;
    let mut tasks = Vec::new();
    for i in 0..200i64 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.write(move |c| {
                Box::pin(async move {
                    c.exec(
                        "INSERT INTO meta (key, value) VALUES ($1, 'x')",
                        args![format!("k{i}")],
                    )
                    .await?;
                    if i % 5 == 0 {
                        return Err(StoreError::invalid("test.fail", "fail", "失败"));
                    }
                    Ok(i)
                })
            })
            .await
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        let r = t.await.unwrap();
        assert_eq!(r.is_ok(), i % 5 != 0, "command {i}: {r:?}");
    }
    for i in 0..200 {
        let present = s.meta(&format!("k{i}")).await.unwrap().is_some();
        assert_eq!(present, i % 5 != 0, "k{i}");
    }
}

/// Commands run without savepoints; one that fails having written makes the writer roll the
/// batch back and run it again, each command guarded. The others' changes land exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_run_again_after_a_failure_change_things_once() {
    let (s, _d) = store().await;
    s.set_meta("n", "0").await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..300i64 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.write(move |c| {
                Box::pin(async move {
                    c.exec(
                        "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'n'",
                        args![],
                    )
                    .await?;
                    if i % 7 == 0 {
                        return Err(StoreError::invalid("test.fail", "fail", "失败"));
                    }
                    Ok(())
                })
            })
            .await
        }));
    }
    let mut ok = 0;
    for t in tasks {
        ok += usize::from(t.await.unwrap().is_ok());
    }
    assert_eq!(ok, 300 - 300usize.div_ceil(7));
    assert_eq!(s.meta("n").await.unwrap(), Some(ok.to_string()));
}

/// A command refused after only reading (most refusals: the case is not in that state), or
/// after an optimistic-lock UPDATE that matched nothing, needs nothing undone, so it never
/// makes the others in its batch run twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_that_only_read_runs_nobody_twice() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let (s, _d) = store().await;
    let runs: Arc<Vec<AtomicUsize>> = Arc::new((0..300).map(|_| AtomicUsize::new(0)).collect());
    let mut tasks = Vec::new();
    for i in 0..300usize {
        let (s, runs) = (s.clone(), runs.clone());
        tasks.push(tokio::spawn(async move {
            s.write(move |c| {
                Box::pin(async move {
                    runs[i].fetch_add(1, Ordering::SeqCst);
                    if i % 4 == 0 {
                        c.opt_text("SELECT value FROM meta WHERE key = 'absent'", args![])
                            .await?;
                        c.exec("UPDATE meta SET value = 'y' WHERE key = 'absent'", args![])
                            .await?;
                        return Err(StoreError::invalid("test.refused", "refused", "不予办理"));
                    }
                    c.exec(
                        "INSERT INTO meta (key, value) VALUES ($1, 'x')",
                        args![format!("k{i}")],
                    )
                    .await?;
                    Ok(())
                })
            })
            .await
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        let r = t.await.unwrap();
        assert_eq!(r.is_ok(), i % 4 != 0, "command {i}: {r:?}");
        assert_eq!(runs[i].load(Ordering::SeqCst), 1, "command {i} ran twice");
        assert_eq!(
            s.meta(&format!("k{i}")).await.unwrap().is_some(),
            i % 4 != 0
        );
    }
}

/// A command that ends the transaction under the others (as an I/O error or a full disk does)
/// must not leave the rest running outside it: whatever a caller is told, the database agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_transaction_answers_no_one_falsely() {
    let (s, _d) = store().await;
    for round in 0..5 {
        let mut tasks = Vec::new();
        for i in 0..60i64 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                let key = format!("r{round}-k{i}");
                let r = s
                    .write(move |c| {
                        Box::pin(async move {
                            c.exec("INSERT INTO meta (key, value) VALUES ($1, 'x')", args![key])
                                .await?;
                            if i == 20 {
                                c.batch("ROLLBACK").await?;
                            }
                            Ok(())
                        })
                    })
                    .await;
                (format!("r{round}-k{i}"), r.is_ok())
            }));
        }
        for t in tasks {
            let (key, ok) = t.await.unwrap();
            let present = s.meta(&key).await.unwrap().is_some();
            assert_eq!(ok, present, "{key}: answered ok={ok}, stored={present}");
        }
    }
    s.set_meta("after", "1").await.unwrap();
    assert_eq!(s.meta("after").await.unwrap().as_deref(), Some("1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_command_does_not_stop_the_writer() {
    let (s, _d) = store().await;
    let r = s
        .write(|c| {
            Box::pin(async move {
                c.exec(
                    "INSERT INTO meta (key, value) VALUES ('boom', 'x')",
                    args![],
                )
                .await?;
                if std::hint::black_box(true) {
                    panic!("a bug in a command");
                }
                Ok(())
            })
        })
        .await;
    assert!(matches!(r, Err(StoreError::Unavailable(_))), "{r:?}");
    assert!(s.meta("boom").await.unwrap().is_none());
    s.set_meta("after", "1").await.unwrap();
    assert_eq!(s.meta("after").await.unwrap().as_deref(), Some("1"));
}

/// Under a steady stream of commits, with readers reading all along, the write-ahead log must
/// start again from its beginning now and then instead of growing with everything ever written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_stays_small_under_steady_writes() {
    let (s, d) = store().await;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (s, stop) = (s.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                s.meta("w0-0").await.unwrap();
            }
        })
    };
    // 64 clients writing 4 KB rows for six seconds.
    let body = "x".repeat(4096);
    let until = std::time::Instant::now() + std::time::Duration::from_secs(6);
    let mut tasks = Vec::new();
    for w in 0..64 {
        let (s, body) = (s.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while std::time::Instant::now() < until {
                s.set_meta(&format!("w{w}-{n}"), &body).await.unwrap();
                n += 1;
            }
            n
        }));
    }
    let mut rows = 0;
    for t in tasks {
        rows += t.await.unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    reader.await.unwrap();
    let written = rows * 4096;
    let wal = std::fs::metadata(d.path().join("w.db-wal")).unwrap().len();
    eprintln!("log {} MB for {} MB written", wal >> 20, written >> 20);
    // A 4 KB row takes two pages, so a log that never starts again holds at least twice what
    // was written; one started again every second holds about the last second's frames.
    assert!(
        wal < written,
        "the log grew to {} MB for {} MB written",
        wal >> 20,
        written >> 20
    );
}

/// The writer remembers each audit stream's last hash instead of reading it. A command that
/// appended to a stream and was then rolled back must not leave its hash as the head: the
/// next record would point at a record that does not exist, and the chain would read as
/// tampered with. Neither may a record appended by another connection be skipped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_chain_stays_whole_through_rolled_back_commands() {
    use yichuang_store::audit::{record, Entry};
    let (s, d) = store().await;
    let append = |i: i64, fail: bool| {
        let s = s.clone();
        async move {
            s.write(move |c| {
                Box::pin(async move {
                    let actor = yichuang_core::Actor::system();
                    let e = Entry {
                        action: "test.step",
                        case_number: Some("N-1"),
                        detail: format!("step {i}"),
                        ..Default::default()
                    };
                    record(c, &actor, e).await?;
                    if fail {
                        return Err(StoreError::invalid("test.fail", "fail", "失败"));
                    }
                    Ok(())
                })
            })
            .await
        }
    };
    let mut tasks = Vec::new();
    for i in 0..300i64 {
        tasks.push(tokio::spawn(append(i, i % 5 == 0)));
    }
    let mut ok = 0;
    for t in tasks {
        ok += usize::from(t.await.unwrap().is_ok());
    }
    assert_eq!(ok, 240);
    assert_eq!(s.audit_for_case("N-1").await.unwrap().len(), 240);
    assert!(s.verify_case_chain("N-1").await.unwrap(), "chain broken");

    // Another connection appends (as a repair tool might); the writer's next record follows it.
    let db = rusqlite::Connection::open(d.path().join("w.db")).unwrap();
    db.execute(
        "INSERT INTO audit (at, stream, actor_id, actor_role, action, client_addr, prev_hash, hash) \
         SELECT 1, stream, 0, 'system', 'test.outside', 'local', hash, 'outside' FROM audit \
         WHERE stream = 'case:N-1' ORDER BY id DESC LIMIT 1",
        [],
    )
    .unwrap();
    append(1000, false).await.unwrap();
    let last = s.audit_for_case("N-1").await.unwrap().pop().unwrap();
    let prev: String = db
        .query_row(
            "SELECT prev_hash FROM audit WHERE id = ?1",
            [last.id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(prev, "outside");
}
