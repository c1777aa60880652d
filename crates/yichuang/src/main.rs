//! `yichuang`: the one binary. `serve` runs the hall; the other subcommands administer it.

mod bench;

/// mimalloc for Rust and, through `override`, for the bundled SQLite: the single SQLite writer
/// is bound by its own CPU, a tenth of it spent in glibc's malloc and free (measured, see
/// BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use std::sync::Arc;
use yichuang_core::Actor;
use yichuang_server::{AppState, Config};
use yichuang_store::files::DirStore;
use yichuang_store::Store;

#[derive(Parser)]
#[command(
    name = "yichuang",
    version,
    about = "一窗 Yichuang: one-window government service platform"
)]
struct Cli {
    /// Database URL: sqlite://… (default, under --data-dir) or postgres://…
    #[arg(long, global = true, env = "YICHUANG_DATABASE_URL")]
    database_url: Option<String>,
    /// Where the SQLite database and uploaded files live.
    #[arg(
        long,
        global = true,
        env = "YICHUANG_DATA_DIR",
        default_value = "./data"
    )]
    data_dir: String,
    /// A TOML config file (keys: database_url, data_dir, listen, max_upload_mb, public_url,
    /// supervision_every_secs, utc_offset_hours).
    #[arg(long, global = true, env = "YICHUANG_CONFIG")]
    config: Option<String>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the hall: migrate, load the demo on first start, serve HTTP.
    Serve {
        #[arg(long, env = "YICHUANG_LISTEN")]
        listen: Option<String>,
        /// Do not load the demo catalog and accounts.
        #[arg(long)]
        no_demo: bool,
    },
    /// Apply database migrations.
    Migrate,
    /// Catalog files: import (all or nothing) and export.
    Catalog {
        #[command(subcommand)]
        cmd: CatalogCmd,
    },
    /// Working-day calendar: answer date questions, import schedules, mark days.
    Calendar {
        #[command(subcommand)]
        cmd: CalendarCmd,
    },
    /// Load the demo data now (idempotent).
    Demo,
    /// Run one pass of the supervision worker now (warnings and notices that are due) and
    /// print how many were sent. `serve` runs it by itself every `supervision_every_secs`.
    Supervise {
        /// The local date to run for (default: today in the hall's time zone).
        #[arg(long)]
        date: Option<String>,
    },
    /// Create staff, halls and windows.
    Admin {
        #[command(subcommand)]
        cmd: AdminCmd,
    },
    /// Measure throughput and latency on SQLite and PostgreSQL.
    Bench(bench::BenchArgs),
}

#[derive(Subcommand)]
enum CatalogCmd {
    Import { file: String },
    Export { file: Option<String> },
}

#[derive(Subcommand)]
enum CalendarCmd {
    /// Print the date N working days after DATE (DATE itself not counted).
    AddWorkingDays {
        date: String,
        #[arg(allow_negative_numbers = true)]
        n: String,
        #[arg(long)]
        region: Option<String>,
    },
    /// Print yes or no.
    IsWorkingDay {
        date: String,
        #[arg(long)]
        region: Option<String>,
    },
    /// Import a calendar file (all or nothing).
    Import { file: String },
    /// Mark a day: holiday, workday (调休上班) or normal.
    Set {
        date: String,
        kind: String,
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long)]
        region: Option<String>,
    },
}

#[derive(Subcommand)]
enum AdminCmd {
    /// Add a staff account.
    Staff {
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        /// clerk | reviewer | manager | supervisor | admin
        #[arg(long)]
        role: String,
        #[arg(long)]
        region: String,
        #[arg(long, env = "YICHUANG_NEW_PASSWORD")]
        password: String,
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        hall: Option<String>,
    },
    /// Add or update a region (GB/T 2260 code).
    Region {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "")]
        name_en: String,
        #[arg(long)]
        parent: Option<String>,
    },
    /// Add or update a department.
    Department {
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        region: String,
        #[arg(long)]
        uscc: Option<String>,
    },
    /// Add or update a hall.
    Hall {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        region: String,
        #[arg(long, default_value = "")]
        address: String,
    },
    /// Add or update a window.
    Window {
        #[arg(long)]
        id: String,
        #[arg(long)]
        hall: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    database_url: Option<String>,
    data_dir: Option<String>,
    listen: Option<String>,
    max_upload_mb: Option<usize>,
    public_url: Option<String>,
    /// Seconds between supervision worker passes; 0 turns the worker off in this process.
    supervision_every_secs: Option<u64>,
    /// The hall's time zone as hours from UTC (Asia/Shanghai: 8, the default).
    utc_offset_hours: Option<i8>,
    /// Notice delivery: `[notify]` with `worker = false` to leave delivery to another
    /// process, `[notify.smtp]` and `[notify.sms]` for the providers.
    notify: Option<NotifyFile>,
    /// Behind the hall's reverse proxy (nginx …): take client addresses from the
    /// X-Forwarded-For entry it adds. Leave off when clients connect directly.
    behind_proxy: Option<bool>,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct NotifyFile {
    worker: Option<bool>,
    smtp: Option<yichuang_notify::channels::SmtpConfig>,
    sms: Option<yichuang_notify::channels::SmsConfig>,
    max_attempts: Option<i64>,
    /// Seconds a claimed notice belongs to one worker before another may take it (default 60).
    lease_secs: Option<u64>,
}

struct Settings {
    database_url: String,
    data_dir: String,
    listen: String,
    config: Config,
}

fn settings(cli: &Cli, listen: Option<String>) -> Result<Settings, String> {
    let file: FileConfig = match &cli.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("config {p}: {e}"))?;
            toml::from_str(&text).map_err(|e| format!("config {p}: {e}"))?
        }
        None => FileConfig::default(),
    };
    // Order: defaults < file < environment/flags.
    let data_dir = if cli.data_dir != "./data" {
        cli.data_dir.clone()
    } else {
        file.data_dir.unwrap_or_else(|| cli.data_dir.clone())
    };
    let database_url = cli
        .database_url
        .clone()
        .or(file.database_url)
        .unwrap_or_else(|| format!("sqlite://{data_dir}/yichuang.db?mode=rwc"));
    let listen = listen
        .or(file.listen)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let mut config = Config::default();
    if let Some(mb) = file.max_upload_mb {
        config.max_upload = mb * 1024 * 1024;
    }
    if let Some(h) = file.utc_offset_hours {
        if !(-12..=14).contains(&h) {
            return Err(format!(
                "utc_offset_hours must be between -12 and 14, not {h}"
            ));
        }
        config.utc_offset_hours = h;
    }
    config.supervision_every = match file.supervision_every_secs.unwrap_or(60) {
        0 => None,
        n => Some(std::time::Duration::from_secs(n)),
    };
    config.behind_proxy = file.behind_proxy.unwrap_or(false);
    let notify = file.notify.unwrap_or_default();
    if notify.worker.unwrap_or(true) {
        let mut policy = yichuang_notify::Policy::default();
        if let Some(n) = notify.max_attempts {
            if !(1..=100).contains(&n) {
                return Err(format!("notify.max_attempts must be 1 to 100, not {n}"));
            }
            policy.max_attempts = n;
        }
        if let Some(n) = notify.lease_secs {
            if !(1..=3600).contains(&n) {
                return Err(format!("notify.lease_secs must be 1 to 3600, not {n}"));
            }
            policy.lease = std::time::Duration::from_secs(n);
        }
        config.delivery = Some(yichuang_server::Delivery {
            smtp: notify.smtp,
            sms: notify.sms,
            policy,
        });
    }
    config.public_url = file
        .public_url
        .unwrap_or_else(|| format!("http://{listen}"));
    Ok(Settings {
        database_url,
        data_dir,
        listen,
        config,
    })
}

async fn open(s: &Settings) -> Result<AppState, String> {
    std::fs::create_dir_all(&s.data_dir)
        .map_err(|e| format!("cannot create {}: {e}", s.data_dir))?;
    let store = Store::connect(&s.database_url)
        .await
        .map_err(|e| e.to_string())?
        .with_utc_offset(s.config.utc_offset_hours);
    store
        .migrate()
        .await
        .map_err(|e| format!("migration failed: {e}"))?;
    let blobs = DirStore::new(format!("{}/files", s.data_dir)).map_err(|e| e.to_string())?;
    Ok(AppState {
        store,
        blobs: Arc::new(blobs),
        config: Arc::new(s.config.clone()),
    })
}

async fn calendar(st: &AppState, cmd: &CalendarCmd) -> Result<(), String> {
    use yichuang_core::calendar::{parse_date, CalendarError, CalendarFile, DayKind};
    let region_ok = |r: &Option<String>| {
        let st = st.clone();
        let r = r.clone();
        async move {
            if let Some(code) = &r {
                let known = st.store.known().await.map_err(|e| e.to_string())?;
                if !known.regions.contains(code) {
                    return Err(format!("region: unknown region {code}"));
                }
            }
            Ok::<_, String>(r)
        }
    };
    match cmd {
        CalendarCmd::AddWorkingDays { date, n, region } => {
            let d = parse_date(date).map_err(|e| e.to_string())?;
            let n: i64 = n
                .trim()
                .parse()
                .map_err(|_| CalendarError::BadCount(-1).to_string())?;
            let region = region_ok(region).await?;
            let cal = st
                .store
                .calendar(region.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            let r = cal.add_working_days(d, n).map_err(|e| e.to_string())?;
            println!("{r}");
            if !(d.year()..=r.year()).all(|y| cal.knows_year(y)) {
                eprintln!("note: no official holiday schedule is loaded for part of this range; only weekends were skipped there");
            }
        }
        CalendarCmd::IsWorkingDay { date, region } => {
            let d = parse_date(date).map_err(|e| e.to_string())?;
            let region = region_ok(region).await?;
            let cal = st
                .store
                .calendar(region.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            println!("{}", if cal.is_working_day(d) { "yes" } else { "no" });
        }
        CalendarCmd::Import { file } => {
            let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
            let cal: CalendarFile = toml::from_str(&text).map_err(|e| format!("{file}: {e}"))?;
            region_ok(&Some(cal.region.clone()).filter(|r| !r.is_empty()))
                .await
                .map_err(|e| format!("{file}: {e}"))?;
            let n = st
                .store
                .import_calendar(cal, &Actor::system())
                .await
                .map_err(|e| format!("{file}: {e}"))?;
            println!("Imported {n} days from {file}.");
        }
        CalendarCmd::Set {
            date,
            kind,
            name,
            region,
        } => {
            let d = parse_date(date).map_err(|e| e.to_string())?;
            let kind = match kind.as_str() {
                "holiday" => Some(DayKind::Holiday),
                "workday" => Some(DayKind::Workday),
                "normal" => None,
                other => {
                    return Err(format!(
                        "kind must be holiday, workday or normal, not {other}"
                    ))
                }
            };
            let region = region_ok(region).await?;
            st.store
                .set_calendar_day(
                    region.as_deref().unwrap_or(""),
                    d,
                    kind,
                    name,
                    &Actor::system(),
                )
                .await
                .map_err(|e| e.to_string())?;
            println!("Saved {d}.");
        }
    }
    Ok(())
}

/// Regions and departments go through catalog validation, like a file with one entry.
async fn import_one(
    st: &AppState,
    file: yichuang_core::catalog::CatalogFile,
) -> Result<(), String> {
    match st
        .store
        .import_catalog(file, &Actor::system())
        .await
        .map_err(|e| e.to_string())?
    {
        Ok(_) => Ok(()),
        Err(errs) => Err(errs
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("\n")),
    }
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    // The long-running commands that write to SQLite put the writer first, before any other
    // thread starts: they all inherit it. (PostgreSQL has no writer thread to favour.)
    let sqlite_writer = match &cli.cmd {
        Cmd::Serve { listen, .. } => settings(&cli, listen.clone()).is_ok_and(|s| {
            yichuang_store::Backend::of_url(&s.database_url)
                == Some(yichuang_store::Backend::Sqlite)
        }),
        Cmd::Bench(args) => args.backend != "postgres",
        _ => false,
    };
    if sqlite_writer {
        yichuang_store::db::sched::yield_to_writer();
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(run(cli)) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match &cli.cmd {
        Cmd::Serve { listen, no_demo } => {
            let s = settings(&cli, listen.clone())?;
            let st = open(&s).await?;
            if !no_demo && yichuang_server::demo::load(&st).await? {
                println!("Loaded the demo catalog and accounts.");
            }
            let listener = tokio::net::TcpListener::bind(&s.listen)
                .await
                .map_err(|e| format!("cannot listen on {}: {e}", s.listen))?;
            let addr = listener.local_addr().map_err(|e| e.to_string())?;
            println!(
                "一窗 Yichuang is running on {} ({})",
                addr,
                st.store.backend().name()
            );
            println!("Open http://{addr}/ in a browser.");
            if !no_demo {
                println!(
                    "Demo logins (password {}):",
                    yichuang_server::demo::PASSWORD
                );
                for (login, role, place) in yichuang_server::demo::LOGINS {
                    println!("  {login:<14} {role:<24} {place}");
                }
                println!(
                    "  {:<14} applicant 个人 张三",
                    yichuang_server::demo::demo_person_id()
                );
                println!(
                    "  {:<14} applicant 企业 吉水县示范建设有限公司",
                    yichuang_server::demo::demo_enterprise_uscc()
                );
            }
            let store = st.store.clone();
            yichuang_server::serve(st, listener, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| e.to_string())?;
            store.close().await;
            Ok(())
        }
        Cmd::Migrate => {
            let s = settings(&cli, None)?;
            open(&s).await?;
            println!("Database is up to date.");
            Ok(())
        }
        Cmd::Supervise { date } => {
            let s = settings(&cli, None)?;
            let st = open(&s).await?;
            let day = match date {
                Some(d) => yichuang_core::calendar::parse_date(d).map_err(|e| e.to_string())?,
                None => st.store.today(),
            };
            let k = st.store.flow_tick(day).await.map_err(|e| e.to_string())?;
            let n = st
                .store
                .supervise_tick(day)
                .await
                .map_err(|e| e.to_string())?;
            let m = st.store.step_tick(day).await.map_err(|e| e.to_string())?;
            println!("{k} default consents recorded, {n} supervision notices sent for cases and {m} for steps past their own limit, for {day}.");
            Ok(())
        }
        Cmd::Demo => {
            let s = settings(&cli, None)?;
            let st = open(&s).await?;
            let loaded = yichuang_server::demo::load(&st).await?;
            println!(
                "{}",
                if loaded {
                    "Demo data loaded."
                } else {
                    "Demo data was already loaded."
                }
            );
            Ok(())
        }
        Cmd::Catalog { cmd } => {
            let s = settings(&cli, None)?;
            let st = open(&s).await?;
            match cmd {
                CatalogCmd::Import { file } => {
                    let text = std::fs::read_to_string(file).map_err(|e| format!("{file}: {e}"))?;
                    let cat: yichuang_core::catalog::CatalogFile =
                        toml::from_str(&text).map_err(|e| format!("{file}: {e}"))?;
                    match st
                        .store
                        .import_catalog(cat, &Actor::system())
                        .await
                        .map_err(|e| e.to_string())?
                    {
                        Ok(r) => {
                            println!(
                                "Imported {} regions, {} departments, {} items from {file}.",
                                r.regions, r.departments, r.items
                            );
                            Ok(())
                        }
                        Err(errs) => {
                            for e in &errs {
                                eprintln!("{file}: {e}");
                            }
                            Err(format!("{} problem(s); nothing was imported", errs.len()))
                        }
                    }
                }
                CatalogCmd::Export { file } => {
                    let cat = st.store.export_catalog().await.map_err(|e| e.to_string())?;
                    let text = toml::to_string(&cat).map_err(|e| e.to_string())?;
                    match file {
                        Some(f) => std::fs::write(f, text).map_err(|e| format!("{f}: {e}"))?,
                        None => print!("{text}"),
                    }
                    Ok(())
                }
            }
        }
        Cmd::Admin { cmd } => {
            let s = settings(&cli, None)?;
            let st = open(&s).await?;
            let actor = Actor::system();
            match cmd {
                AdminCmd::Staff {
                    login,
                    name,
                    role,
                    region,
                    password,
                    department,
                    hall,
                } => {
                    let b = yichuang_server::admin::api::StaffBody {
                        login: login.clone(),
                        name: name.clone(),
                        password: password.clone(),
                        role: role.clone(),
                        region: region.clone(),
                        department: department.clone(),
                        hall_id: hall.clone(),
                        window_id: None,
                    };
                    let id = yichuang_server::admin::api::create_staff(
                        &st,
                        b,
                        &actor,
                        yichuang_server::http::i18n::Lang::En,
                    )
                    .await
                    .map_err(|e| e.message)?;
                    println!("Created staff account {login} (id {id}).");
                }
                AdminCmd::Region {
                    code,
                    name,
                    name_en,
                    parent,
                } => {
                    let r = yichuang_core::catalog::Region {
                        code: code.clone(),
                        name: name.clone(),
                        name_en: name_en.clone(),
                        parent: parent.clone(),
                    };
                    import_one(
                        &st,
                        yichuang_core::catalog::CatalogFile {
                            regions: vec![r],
                            ..Default::default()
                        },
                    )
                    .await?;
                    println!("Saved region {code}.");
                }
                AdminCmd::Department {
                    code,
                    name,
                    region,
                    uscc,
                } => {
                    let d = yichuang_core::catalog::Department {
                        code: code.clone(),
                        name: name.clone(),
                        name_en: String::new(),
                        region: region.clone(),
                        uscc: uscc.clone(),
                        phone: None,
                    };
                    import_one(
                        &st,
                        yichuang_core::catalog::CatalogFile {
                            departments: vec![d],
                            ..Default::default()
                        },
                    )
                    .await?;
                    println!("Saved department {code}.");
                }
                AdminCmd::Hall {
                    id,
                    name,
                    region,
                    address,
                } => {
                    let h = yichuang_store::accounts::Hall {
                        id: id.clone(),
                        name: name.clone(),
                        name_en: String::new(),
                        region: region.clone(),
                        address: address.clone(),
                    };
                    st.store
                        .upsert_hall(h, &actor)
                        .await
                        .map_err(|e| e.to_string())?;
                    println!("Saved hall {id}.");
                }
                AdminCmd::Window { id, hall, name } => {
                    let w = yichuang_store::accounts::Window {
                        id: id.clone(),
                        hall_id: hall.clone(),
                        name: name.clone(),
                        comprehensive: true,
                    };
                    st.store
                        .upsert_window(w, &actor)
                        .await
                        .map_err(|e| e.to_string())?;
                    println!("Saved window {id}.");
                }
            }
            Ok(())
        }
        Cmd::Calendar { cmd } => {
            let s = settings(&cli, None)?;
            let st = open(&s).await?;
            calendar(&st, cmd).await
        }
        Cmd::Bench(args) => bench::run(args).await,
    }
}
