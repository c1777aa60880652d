//! `yichuang bench`: durable submit+accept pairs and reads, in process, on SQLite (a temporary
//! file; every command answered only once its commit's log is flushed to disk) and, where its
//! binaries are on the machine, a throwaway PostgreSQL with fsync and synchronous_commit on.
//! Prints a table, or JSON records with `--json`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use yichuang_core::{Actor, ActorKind, RegionCode, Role};
use yichuang_server::AppState;
use yichuang_store::accounts::NewAccount;
use yichuang_store::cases::{MaterialCheck, NewSubmission, WindowDecision};
use yichuang_store::files::DirStore;
use yichuang_store::Store;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// Print JSON records instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Submit+accept pairs per backend.
    #[arg(long, default_value_t = 6000)]
    pub pairs: usize,
    /// Commands in flight at once (clients at windows and online).
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Reads per read benchmark.
    #[arg(long, default_value_t = 20000)]
    pub reads: usize,
    /// sqlite, postgres or all.
    #[arg(long, default_value = "all")]
    pub backend: String,
    /// Complete workflow lifecycles (accept, 3-department parallel review, decision).
    #[arg(long, default_value_t = 3000)]
    pub lifecycles: usize,
    /// Open cases generated for the supervision dashboard benchmark (0 skips it).
    #[arg(long, default_value_t = 1_000_000)]
    pub dashboard_cases: i64,
    /// Benchmark this database instead of a temporary one (it is written to).
    #[arg(long)]
    pub database_url: Option<String>,
}

#[derive(serde::Serialize)]
struct Record {
    operation: String,
    backend: String,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    count: usize,
    concurrency: usize,
}

const ITEM: &str = "360822-ZJJ-XK-002";

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn record(
    op: &str,
    backend: &str,
    mut lat: Vec<Duration>,
    elapsed: Duration,
    concurrency: usize,
) -> Record {
    lat.sort();
    Record {
        operation: op.into(),
        backend: backend.into(),
        per_second: lat.len() as f64 / elapsed.as_secs_f64(),
        p50_ms: pct(&lat, 0.50),
        p99_ms: pct(&lat, 0.99),
        count: lat.len(),
        concurrency,
    }
}

pub async fn run(args: &BenchArgs) -> Result<(), String> {
    let mut targets: Vec<(String, String, Option<tempdir::Dir>)> = Vec::new();
    if let Some(url) = &args.database_url {
        let name = if url.starts_with("sqlite") {
            "sqlite"
        } else {
            "postgres"
        };
        targets.push((name.into(), url.clone(), None));
    } else {
        if args.backend == "all" || args.backend == "sqlite" {
            let dir = tempdir::Dir::new()?;
            let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path.display());
            targets.push(("sqlite".into(), url, Some(dir)));
        }
        if args.backend == "all" || args.backend == "postgres" {
            // The cluster's processes under the default policy, whatever this process runs.
            match yichuang_store::db::sched::as_started(yichuang_pgtemp::durable_cluster_url) {
                Ok(url) => targets.push(("postgres".into(), url, None)),
                Err(e) if args.backend == "postgres" => return Err(format!("no PostgreSQL: {e}")),
                Err(e) => eprintln!("skipping PostgreSQL: {e}"),
            }
        }
    }
    let mut records = Vec::new();
    for (name, url, dir) in &targets {
        if !args.json {
            eprintln!("== {name}: preparing {} drafts…", args.pairs);
        }
        records.extend(bench_backend(name, url, dir.as_ref(), args).await?);
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&records).map_err(|e| e.to_string())?
        );
    } else {
        println!(
            "{:<22} {:<9} {:>12} {:>9} {:>9} {:>8} {:>5}",
            "operation", "backend", "per_second", "p50_ms", "p99_ms", "count", "conc"
        );
        for r in &records {
            println!(
                "{:<22} {:<9} {:>12.0} {:>9.3} {:>9.3} {:>8} {:>5}",
                r.operation, r.backend, r.per_second, r.p50_ms, r.p99_ms, r.count, r.concurrency
            );
        }
    }
    Ok(())
}

async fn bench_backend(
    name: &str,
    url: &str,
    dir: Option<&tempdir::Dir>,
    args: &BenchArgs,
) -> Result<Vec<Record>, String> {
    let store = Store::connect(url).await.map_err(|e| e.to_string())?;
    store.migrate().await.map_err(|e| e.to_string())?;
    let files = match dir {
        Some(d) => d.path.join("files"),
        None => std::env::temp_dir().join(format!("yichuang-bench-files-{}", std::process::id())),
    };
    let state = AppState {
        store: store.clone(),
        blobs: Arc::new(DirStore::new(&files).map_err(|e| e.to_string())?),
        config: Arc::new(yichuang_server::Config::default()),
    };
    yichuang_server::demo::load(&state).await?;
    let clerk = store
        .account_by_login("clerk.js")
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no demo clerk")?;
    let clerk = Actor {
        account_id: clerk.id,
        kind: ActorKind::Staff {
            role: Role::Clerk,
            region: RegionCode::parse("360822").map_err(|e| e.to_string())?,
        },
        client_addr: "bench".into(),
    };

    // Untimed: applicants and ready drafts.
    let conc = args.concurrency.max(1);
    let applicants = conc;
    let mut actors = Vec::new();
    let tag = std::process::id();
    for i in 0..applicants {
        let body = format!("36082219{:02}0101{:03}", 70 + (i % 30), i % 1000);
        let idn = format!(
            "{body}{}",
            yichuang_core::ResidentId::check_char(&body) as char
        );
        let id = match store
            .applicant_by_id_number(&idn)
            .await
            .map_err(|e| e.to_string())?
        {
            Some(a) => a.id,
            None => store
                .create_account(
                    NewAccount {
                        kind: "person".into(),
                        login: format!("bench{tag}-{i}"),
                        name: format!("压测{i}"),
                        id_number: Some(idn),
                        // Applicants hear by SMS and in-app (the default), so each step
                        // writes its notices as in a real hall.
                        phone: Some(format!("139{:08}", i)),
                        ..Default::default()
                    },
                    &Actor::system(),
                )
                .await
                .map_err(|e| e.to_string())?,
        };
        actors.push(Actor {
            account_id: id,
            kind: ActorKind::Applicant,
            client_addr: "bench".into(),
        });
    }
    let form: BTreeMap<String, String> = [
        ("purpose", "其他"),
        ("road_section", "文峰大道"),
        ("area", "20"),
        ("start_date", "2026-12-01"),
        ("end_date", "2026-12-02"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let per = args.pairs.div_ceil(conc);
    let checks = vec![
        MaterialCheck {
            material_code: "M01".into(),
            verdict: "ok".into(),
            reason: String::new(),
            due_date: None,
        },
        MaterialCheck {
            material_code: "M03".into(),
            verdict: "ok".into(),
            reason: String::new(),
            due_date: None,
        },
    ];
    let work = prepare_drafts(&store, &actors, per, ITEM, &form).await?;
    let (lat, cases, elapsed) = submit_accept(&store, &clerk, &checks, work).await?;
    let mut out = vec![record("submit_accept", name, lat, elapsed, conc)];
    // The same steps for applicants who chose no channel: the difference is what writing
    // the notices (two per step: SMS and in-app) costs.
    set_channels(&store, "").await?;
    let work = prepare_drafts(&store, &actors, per, ITEM, &form).await?;
    let (lat, _, elapsed) = submit_accept(&store, &clerk, &checks, work).await?;
    out.push(record("submit_accept_quiet", name, lat, elapsed, conc));
    set_channels(&store, "inapp,sms").await?;
    out.push(bench_deliveries(name, &store).await?);

    // Reads: case status by number (what the status page and "my cases" do) and the guide.
    let reads = args.reads;
    let cases = Arc::new(cases);
    for op in ["case_status_read", "guide_read"] {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for w in 0..conc {
            let (store, cases) = (store.clone(), cases.clone());
            tasks.push(tokio::spawn(async move {
                let mut lat = Vec::new();
                for i in 0..reads.div_ceil(conc) {
                    let t = Instant::now();
                    if op == "case_status_read" {
                        let (_, number) = &cases[(w * 7919 + i * 31) % cases.len()];
                        store
                            .case_status(number)
                            .await
                            .map_err(|e| e.to_string())?
                            .ok_or("case vanished")?;
                    } else {
                        store.item(ITEM).await.map_err(|e| e.to_string())?;
                        store
                            .department("360822-ZJJ")
                            .await
                            .map_err(|e| e.to_string())?;
                    }
                    lat.push(t.elapsed());
                }
                Ok::<_, String>(lat)
            }));
        }
        let mut lat = Vec::new();
        for t in tasks {
            lat.extend(t.await.map_err(|e| e.to_string())??);
        }
        out.push(record(op, name, lat, started.elapsed(), conc));
    }
    // One reader at a time: the latency a single status page sees on an idle hall.
    let mut lat = Vec::new();
    let started = Instant::now();
    for i in 0..reads.min(5000) {
        let (_, number) = &cases[(i * 31) % cases.len()];
        let t = Instant::now();
        store
            .case_status(number)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("case vanished")?;
        lat.push(t.elapsed());
    }
    out.push(record(
        "case_status_read_1",
        name,
        lat,
        started.elapsed(),
        1,
    ));
    if args.lifecycles > 0 {
        out.extend(bench_lifecycle(name, &store, args, &actors, &clerk, &form).await?);
    }
    if args.dashboard_cases > 0 {
        out.extend(bench_dashboard(name, &store, args).await?);
    }
    store.close().await;
    if dir.is_none() {
        let _ = std::fs::remove_dir_all(&files);
    }
    Ok(out)
}

/// The workflow item of the lifecycle benchmark: the road item with a parallel review by
/// three departments (housing, environment, weather) and a decision.
const FLOW_ITEM: &str = "360822-ZJJ-XK-902";
const FLOW_DEPTS: [&str; 3] = ["360822-ZJJ", "360822-STHJJ", "360822-QXJ"];

/// Complete lifecycles: submit, accept (the parallel review opens), three departments answer
/// (at the same moment, each on its own), the decision concludes the case — six durable
/// commands each, 64 cases in flight.
async fn bench_lifecycle(
    name: &str,
    store: &Store,
    args: &BenchArgs,
    actors: &[Actor],
    clerk: &Actor,
    form: &BTreeMap<String, String>,
) -> Result<Vec<Record>, String> {
    use yichuang_core::workflow::{ParallelPart, ParallelRule, Stage, StageKind};
    use yichuang_store::flows::TaskAction;
    let e = |e: yichuang_store::StoreError| e.to_string();
    let mut item = store.item(ITEM).await.map_err(e)?;
    item.code = FLOW_ITEM.into();
    item.name = "压测：并联审批事项".into();
    let stage = |kind| Stage {
        kind,
        name: String::new(),
        department: None,
        role: "reviewer".into(),
        ab: false,
        limit: 1,
        departments: vec![],
        rule: ParallelRule::AllConsent,
        silence_consents: false,
    };
    item.workflow = vec![
        Stage {
            departments: FLOW_DEPTS
                .iter()
                .map(|d| ParallelPart {
                    department: d.to_string(),
                    limit: 1,
                })
                .collect(),
            ..stage(StageKind::Parallel)
        },
        stage(StageKind::Decision),
    ];
    let file = yichuang_core::catalog::CatalogFile {
        items: vec![item],
        ..Default::default()
    };
    store
        .import_catalog(file, &Actor::system())
        .await
        .map_err(e)?
        .map_err(|errs| format!("bench item: {errs:?}"))?;
    let mut reviewers = Vec::new();
    for d in FLOW_DEPTS {
        let a = store
            .account_by_login(&format!("{}.a", d.to_lowercase()))
            .await
            .map_err(e)?
            .ok_or("no demo reviewer")?;
        reviewers.push(Actor {
            account_id: a.id,
            kind: ActorKind::Staff {
                role: Role::Reviewer,
                region: RegionCode::parse("360822").map_err(|e| e.to_string())?,
            },
            client_addr: "bench".into(),
        });
    }
    let conc = actors.len().max(1);
    let per = args.lifecycles.div_ceil(conc);
    if !args.json {
        eprintln!("== {name}: preparing {} workflow cases…", per * conc);
    }
    let work = prepare_drafts(store, actors, per, FLOW_ITEM, form).await?;
    let checks: Vec<MaterialCheck> = ["M01", "M03"]
        .iter()
        .map(|m| MaterialCheck {
            material_code: m.to_string(),
            verdict: "ok".into(),
            reason: String::new(),
            due_date: None,
        })
        .collect();
    let reviewers = Arc::new(reviewers);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (a, ids) in work {
        let (store, clerk, checks, reviewers) = (
            store.clone(),
            clerk.clone(),
            checks.clone(),
            reviewers.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let e = |e: yichuang_store::StoreError| e.to_string();
            let mut lat = Vec::with_capacity(ids.len());
            for id in ids {
                let t = Instant::now();
                store.submit(&a, id).await.map_err(e)?;
                store
                    .window_decision(&clerk, id, checks.clone(), Some(WindowDecision::Accept))
                    .await
                    .map_err(e)?;
                // The inbox read: the three departments' tasks. Each department answers on
                // its own, as in a hall, so their answers arrive together; whichever
                // completes the stage opens the decision.
                let open = store.case_tasks(id).await.map_err(e)?;
                let answers = open.iter().zip(reviewers.iter()).map(|(task, who)| {
                    let answer = TaskAction::Answer {
                        consent: true,
                        opinion: "无意见".into(),
                        legal_basis: String::new(),
                    };
                    store.task_action(who, task.id, answer)
                });
                let mut next = Vec::new();
                for r in futures::future::join_all(answers).await {
                    next.extend(r.map_err(e)?.opened);
                }
                let decision = *next.first().ok_or("no decision task")?;
                let answer = TaskAction::Answer {
                    consent: true,
                    opinion: "准予".into(),
                    legal_basis: String::new(),
                };
                store
                    .task_action(&reviewers[0], decision, answer)
                    .await
                    .map_err(e)?;
                lat.push(t.elapsed());
            }
            Ok::<_, String>(lat)
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        lat.extend(t.await.map_err(|e| e.to_string())??);
    }
    let elapsed = started.elapsed();
    let done: i64 = concluded_count(store, FLOW_ITEM).await?;
    if done as usize != lat.len() {
        return Err(format!("{done} of {} lifecycles completed", lat.len()));
    }
    Ok(vec![record("lifecycle", name, lat, elapsed, conc)])
}

async fn concluded_count(store: &Store, item: &str) -> Result<i64, String> {
    let stats = store
        .public_performance(&yichuang_store::conclusions::StatsScope {
            region: None,
            from: None,
            to: None,
        })
        .await
        .map_err(|e| e.to_string())?;
    Ok(stats
        .iter()
        .filter(|r| r.item_code == item)
        .map(|r| r.concluded)
        .sum())
}

/// Generates open cases spread over ten counties of one city (synthetic dates, calendar days),
/// then times the supervisor's counts by light and a filtered page of 50, as a supervisor of
/// one county and of the whole city.
async fn bench_dashboard(
    name: &str,
    store: &Store,
    args: &BenchArgs,
) -> Result<Vec<Record>, String> {
    use yichuang_store::supervision::DashboardFilter;
    let n = args.dashboard_cases;
    let today = store.today();
    let applicant: i64 = store
        .account_by_login("clerk.js")
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no clerk")?
        .id;
    if !args.json {
        eprintln!("== {name}: generating {n} open cases for the dashboard…");
    }
    let t = Instant::now();
    let sql = match store.backend() {
        yichuang_store::Backend::Sqlite => format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) \
             INSERT INTO cases (item_code, applicant_id, status, region, department, form, secret, channel, created_at, updated_at, handled_by, \
               accepted_on, internal_due, promised_due, legal_due, yellow_from) \
             SELECT '{ITEM}', {applicant}, 'accepted', printf('3608%02d', 21 + i % 10), CASE WHEN i % 3 = 0 THEN '360822-ZJJ' ELSE '360822-ZRZYJ' END, '{{}}', 'X', 'online', 0, 0, {applicant}, \
               date('{today}', '-' || (i % 60) || ' days'), date('{today}', '-' || (i % 60) || ' days', '+10 days'), \
               date('{today}', '-' || (i % 60) || ' days', '+15 days'), date('{today}', '-' || (i % 60) || ' days', '+28 days'), \
               date('{today}', '-' || (i % 60) || ' days', '+6 days') FROM s"
        ),
        yichuang_store::Backend::Postgres => format!(
            "INSERT INTO cases (item_code, applicant_id, status, region, department, form, secret, channel, created_at, updated_at, handled_by, \
               accepted_on, internal_due, promised_due, legal_due, yellow_from) \
             SELECT '{ITEM}', {applicant}, 'accepted', '3608' || lpad((21 + i % 10)::text, 2, '0'), CASE WHEN i % 3 = 0 THEN '360822-ZJJ' ELSE '360822-ZRZYJ' END, '{{}}', 'X', 'online', 0, 0, {applicant}, \
               to_char(DATE '{today}' - (i % 60), 'YYYY-MM-DD'), to_char(DATE '{today}' - (i % 60) + 10, 'YYYY-MM-DD'), \
               to_char(DATE '{today}' - (i % 60) + 15, 'YYYY-MM-DD'), to_char(DATE '{today}' - (i % 60) + 28, 'YYYY-MM-DD'), \
               to_char(DATE '{today}' - (i % 60) + 6, 'YYYY-MM-DD') FROM generate_series(1, {n}) AS i"
        ),
    };
    store
        .write(move |c| Box::pin(async move { c.exec(&sql, yichuang_store::args![]).await }))
        .await
        .map_err(|e| e.to_string())?;
    store
        .rebuild_open_buckets()
        .await
        .map_err(|e| e.to_string())?;
    let analyze = if store.backend() == yichuang_store::Backend::Postgres {
        "ANALYZE cases"
    } else {
        "ANALYZE"
    };
    store
        .write(move |c| Box::pin(async move { c.batch(analyze).await }))
        .await
        .map_err(|e| e.to_string())?;
    if !args.json {
        eprintln!("   generated in {:.1} s", t.elapsed().as_secs_f64());
    }
    let mut out = Vec::new();
    let today_s = today.to_string();
    for (scope, region) in [("county", "360822"), ("city", "360800")] {
        let sup = Actor {
            account_id: applicant,
            kind: ActorKind::Staff {
                role: Role::Supervisor,
                region: RegionCode::parse(region).map_err(|e| e.to_string())?,
            },
            client_addr: "bench".into(),
        };
        for (op, filter, limit) in [
            ("counts", DashboardFilter::default(), 0),
            (
                "page_red_dept",
                DashboardFilter {
                    light: Some(yichuang_core::deadline::Light::Red),
                    department: Some("360822-ZRZYJ".into()),
                    ..Default::default()
                },
                50,
            ),
        ] {
            let mut lat = Vec::new();
            let started = Instant::now();
            for _ in 0..20 {
                let t = Instant::now();
                let d = store
                    .dashboard(
                        &sup,
                        &filter,
                        &today_s,
                        yichuang_store::Page {
                            cursor: None,
                            limit,
                        },
                    )
                    .await
                    .map_err(|e| e.to_string())?;
                std::hint::black_box(d);
                lat.push(t.elapsed());
            }
            out.push(record(
                &format!("dashboard_{op}_{scope}"),
                name,
                lat,
                started.elapsed(),
                1,
            ));
        }
    }
    out.extend(bench_supervision(name, store, args).await?);
    Ok(out)
}

/// The supervision worker over the generated open cases in its steady state (every line
/// already noticed up to today): an idle pass, then the pass of the next day, which sends
/// every warning and notice that day brings.
async fn bench_supervision(
    name: &str,
    store: &Store,
    args: &BenchArgs,
) -> Result<Vec<Record>, String> {
    let today = store.today();
    store
        .settle_alerts(today)
        .await
        .map_err(|e| e.to_string())?;
    let mut lat = Vec::new();
    let started = Instant::now();
    for _ in 0..20 {
        let t = Instant::now();
        let n = store
            .supervise_tick(today)
            .await
            .map_err(|e| e.to_string())?;
        if n != 0 {
            return Err(format!("an idle pass sent {n} notices"));
        }
        lat.push(t.elapsed());
    }
    let mut out = vec![record(
        "supervision_tick_idle",
        name,
        lat,
        started.elapsed(),
        1,
    )];
    let t0 = Instant::now();
    let sent = store
        .supervise_tick(today + time::Duration::days(1))
        .await
        .map_err(|e| e.to_string())?;
    let took = t0.elapsed();
    if !args.json {
        eprintln!(
            "   next day's pass over {} open cases: {sent} notices in {:.1} s",
            args.dashboard_cases,
            took.as_secs_f64()
        );
    }
    // One latency entry per notice, each the pass's mean: per_second is notices per second.
    let each = took / sent.max(1) as u32;
    out.push(record(
        "supervision_notices",
        name,
        vec![each; sent],
        took,
        1,
    ));
    Ok(out)
}

/// A temporary directory removed on drop (std only; the bench is in the release binary).
mod tempdir {
    pub struct Dir {
        pub path: std::path::PathBuf,
    }
    impl Dir {
        pub fn new() -> Result<Dir, String> {
            let path = std::env::temp_dir().join(format!(
                "yichuang-bench-{}-{}",
                std::process::id(),
                rand::random::<u32>()
            ));
            std::fs::create_dir_all(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(Dir { path })
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

type Work = Vec<(Actor, Vec<i64>)>;

/// Untimed: `per` drafts with their materials for each applicant, the applicants' drafts
/// interleaved as they would arrive at a hall (cases in flight together are neighbours).
async fn prepare_drafts(
    store: &Store,
    actors: &[Actor],
    per: usize,
    item: &str,
    form: &BTreeMap<String, String>,
) -> Result<Work, String> {
    let mut tasks = Vec::new();
    for a in actors.iter().cloned() {
        let (store, form, item) = (store.clone(), form.clone(), item.to_string());
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::with_capacity(per);
            for _ in 0..per {
                let id = store
                    .create_draft(&a, &item, form.clone(), false)
                    .await
                    .map_err(|e| e.to_string())?;
                for m in ["M01", "M03"] {
                    let sub = NewSubmission {
                        material_code: m.into(),
                        hash: "0".repeat(64),
                        file_name: "bench.pdf".into(),
                        content_type: "application/pdf".into(),
                        size: 1000,
                    };
                    store
                        .add_submission(&a, id, sub)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                ids.push(id);
            }
            Ok::<_, String>((a, ids))
        }));
    }
    let mut work = Vec::new();
    for t in tasks {
        work.push(t.await.map_err(|e| e.to_string())??);
    }
    Ok(work)
}

/// Timed: each applicant's worker submits and a clerk accepts, one pair after another.
async fn submit_accept(
    store: &Store,
    clerk: &Actor,
    checks: &[MaterialCheck],
    work: Work,
) -> Result<(Vec<Duration>, Vec<(i64, String)>, Duration), String> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (a, ids) in work {
        let (store, clerk, checks) = (store.clone(), clerk.clone(), checks.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(ids.len());
            let mut numbers = Vec::with_capacity(ids.len());
            for id in ids {
                let t = Instant::now();
                let n = store.submit(&a, id).await.map_err(|e| e.to_string())?;
                store
                    .window_decision(&clerk, id, checks.clone(), Some(WindowDecision::Accept))
                    .await
                    .map_err(|e| e.to_string())?;
                lat.push(t.elapsed());
                numbers.push((id, n));
            }
            Ok::<_, String>((lat, numbers))
        }));
    }
    let mut lat = Vec::new();
    let mut cases = Vec::new();
    for t in tasks {
        let (l, n) = t.await.map_err(|e| e.to_string())??;
        lat.extend(l);
        cases.extend(n);
    }
    Ok((lat, cases, started.elapsed()))
}

/// The benchmark's applicants' notice channels (they are the accounts with a `bench` login).
async fn set_channels(store: &Store, channels: &str) -> Result<(), String> {
    sqlx::query("UPDATE accounts SET notify_channels = $1 WHERE login LIKE 'bench%'")
        .bind(channels)
        .execute(store.pool())
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Notices delivered per second: everything the steps above queued, sent by one worker to a
/// local SMS gateway stand-in (answers at once) and the in-app inbox, every result recorded
/// durably. Latency is per notice from claim to recorded.
async fn bench_deliveries(name: &str, store: &Store) -> Result<Record, String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = axum::Router::new().route(
        "/sms/send",
        axum::routing::post(|| async { r#"{"code":"OK"}"# }),
    );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let policy = yichuang_notify::Policy {
        batch: 256,
        concurrency: 32,
        idle: Duration::from_millis(1),
        ..Default::default()
    };
    let delivery = yichuang_server::Delivery {
        smtp: None,
        sms: Some(yichuang_notify::channels::SmsConfig {
            url: format!("http://{addr}/sms/send"),
            app_key: "bench".into(),
            secret: "bench-shared-secret-0123".into(),
            sign_name: "压测".into(),
            timeout_secs: 5,
        }),
        policy,
    };
    let worker = delivery.deliverer(store.clone(), "http://127.0.0.1")?;
    let mut lat = Vec::new();
    let mut sent = 0usize;
    let started = Instant::now();
    loop {
        let t = Instant::now();
        let p = worker.pass().await.map_err(|e| e.to_string())?;
        if p.total() == 0 {
            break;
        }
        if p.failed + p.given_up > 0 {
            return Err(format!(
                "{} notices failed against the stand-in",
                p.failed + p.given_up
            ));
        }
        sent += p.sent;
        let each = t.elapsed();
        lat.extend(std::iter::repeat_n(each, p.sent));
    }
    let elapsed = started.elapsed();
    server.abort();
    if sent == 0 {
        return Err("no notices were queued".into());
    }
    Ok(record("deliveries", name, lat, elapsed, 32))
}
