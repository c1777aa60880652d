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
