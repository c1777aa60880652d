//! A real, throwaway PostgreSQL server for the tests.
//!
//! The store runs one SQL path on SQLite and PostgreSQL, and only a real
//! PostgreSQL proves the PostgreSQL half, so the tests start one themselves:
//! the first call to [`postgres_url`] in a test process runs `initdb` and
//! `pg_ctl start` on a fresh cluster under `/tmp` (as the `postgres` user
//! through `runuser` when the tests run as root, because PostgreSQL refuses
//! to run as root), and every call creates a new empty database on it. A
//! detached watchdog stops the cluster and deletes it when the test process
//! exits.
//!
//! Environment:
//! - `YICHUANG_TEST_PG_URL`: server URL of an existing PostgreSQL (for
//!   example `postgres://postgres@127.0.0.1:5432/postgres`); databases are
//!   created there instead and no cluster is started. Needs `psql`.
//! - `PG_BIN`: directory holding `initdb`, `pg_ctl` and `psql`. Otherwise the
//!   newest `/usr/lib/postgresql/*/bin`, otherwise `initdb` on `PATH`.
//! - `YICHUANG_REQUIRE_PG=1`: panic instead of returning `None` when no
//!   PostgreSQL is available (`scripts/test.sh` and CI set it).

use std::env;
use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const URL_ENV: &str = "YICHUANG_TEST_PG_URL";
const REQUIRE_ENV: &str = "YICHUANG_REQUIRE_PG";
const BIN_ENV: &str = "PG_BIN";

/// The superuser `initdb` creates, and the OS user that runs the server when
/// the tests run as root.
const PG_USER: &str = "postgres";

/// Stops the cluster and deletes its directory once the test process is gone.
/// `sh -c` runs it with `$1` = parent PID, `$2` = base directory, and the
/// rest = the `pg_ctl` command (prefixed with `runuser -u postgres --` when
/// root). The subshell is backgrounded so `sh` exits at once and the watchdog
/// is reparented; it ignores Ctrl-C/hangup so it outlives an interrupted run.
/// It runs as the invoking user (root can `kill -0` the parent; the
/// `postgres` user could not).
const WATCHDOG: &str = r#"(
  trap '' INT HUP
  parent=$1; base=$2; shift 2
  while kill -0 "$parent" 2>/dev/null; do sleep 1; done
  "$@" -D "$base/data" -m immediate -w stop >/dev/null 2>&1
  rm -rf "$base"
) </dev/null >/dev/null 2>&1 &"#;

struct Server {
    /// `psql` used to run `CREATE DATABASE`.
    psql: PathBuf,
    /// URL of the database `CREATE DATABASE` runs in.
    admin_url: String,
    /// Everything of a database URL before the database name
    /// (`postgres://user@host:port/`).
    url_prefix: String,
    /// Everything after the database name (`?sslmode=...`), often empty.
    url_suffix: String,
    /// Seconds since the epoch when the server was set up, to keep database
    /// names unique across runs on a long-lived external server.
    stamp: u64,
}

enum State {
    Ready(Server),
    /// No PostgreSQL; the reason is reported (or panicked with when
    /// `YICHUANG_REQUIRE_PG=1`).
    Unavailable(String),
}

static STATE: OnceLock<State> = OnceLock::new();
static NEXT_DB: AtomicU64 = AtomicU64::new(0);

/// A connection URL for a fresh, empty database, or `None` when no
/// PostgreSQL is available (the caller skips, loudly). Panics instead of
/// returning `None` when `YICHUANG_REQUIRE_PG=1`. Safe to call from many
/// test threads at once; the first call sets the server up.
pub fn postgres_url() -> Option<String> {
    let server = match STATE.get_or_init(init) {
        State::Ready(server) => server,
        State::Unavailable(reason) => {
            if required() {
                panic!("{REQUIRE_ENV}=1 but PostgreSQL is not available: {reason}");
            }
            return None;
        }
    };
    let n = NEXT_DB.fetch_add(1, Ordering::Relaxed);
    let name = format!("t_{}_{}_{n}", std::process::id(), server.stamp);
    server.create_database(&name);
    Some(format!("{}{name}{}", server.url_prefix, server.url_suffix))
}

/// A new cluster with fsync and synchronous_commit on, and one database `bench` on it, for
/// `yichuang bench`. Stopped and removed when this process exits.
pub fn durable_cluster_url() -> Result<String, String> {
    let server = start_cluster(&find_bin()?, true)?;
    server.create_database("bench");
    Ok(format!("{}bench{}", server.url_prefix, server.url_suffix))
}

fn required() -> bool {
    matches!(
        env::var(REQUIRE_ENV).ok().as_deref().map(str::trim),
        Some("1" | "true" | "yes")
    )
}

fn init() -> State {
    let result = match env::var(URL_ENV) {
        Ok(url) if !url.trim().is_empty() => external(url.trim()),
        _ => find_bin().and_then(|bin| start_cluster(&bin, false)),
    };
    match result {
        Ok(server) => State::Ready(server),
        Err(reason) => {
            if !required() {
                eprintln!(
                    "\n********************************************************************\n\
                     *** PostgreSQL tests are SKIPPED: {reason}\n\
                     *** Run `bash scripts/test.sh` (installs PostgreSQL), set {BIN_ENV}, or\n\
                     *** set {URL_ENV}; set {REQUIRE_ENV}=1 to make this an error.\n\
                     ********************************************************************\n"
                );
            }
            State::Unavailable(reason)
        }
    }
}

fn epoch_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------
// An existing server (YICHUANG_TEST_PG_URL)
// ---------------------------------------------------------------------------

fn external(url: &str) -> Result<Server, String> {
    let (url_prefix, url_suffix) =
        split_url(url).ok_or_else(|| format!("{URL_ENV}={url} is not a postgres://... URL"))?;
    // A missing psql is not a reason to skip: the URL was asked for.
    let psql = find_bin()
        .ok()
        .map(|bin| bin.join("psql"))
        .filter(|p| p.is_file())
        .or_else(|| which("psql"))
        .unwrap_or_else(|| {
            panic!("{URL_ENV} is set but `psql` was not found (install postgresql-client)")
        });
    Ok(Server {
        psql,
        admin_url: url.to_owned(),
        url_prefix,
        url_suffix,
        stamp: epoch_secs(),
    })
}

/// Splits `scheme://authority/db?query` into (`scheme://authority/`, `?query`).
fn split_url(url: &str) -> Option<(String, String)> {
    let scheme_end = url.find("://")? + 3;
    let rest = &url[scheme_end..];
    let (before_query, query) = match rest.find('?') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = match before_query.find('/') {
        Some(i) => &before_query[..i],
        None => before_query,
    };
    if authority.is_empty() {
        return None;
    }
    Some((
        format!("{}{authority}/", &url[..scheme_end]),
        query.to_owned(),
    ))
}

// ---------------------------------------------------------------------------
// Finding the server binaries
// ---------------------------------------------------------------------------

fn has_server_bins(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("pg_ctl").is_file()
}

fn find_bin() -> Result<PathBuf, String> {
    if let Some(dir) = env::var_os(BIN_ENV).filter(|v| !v.is_empty()) {
        let dir = PathBuf::from(dir);
        if has_server_bins(&dir) {
            return Ok(dir);
        }
        return Err(format!(
            "{BIN_ENV}={} has no initdb and pg_ctl",
            dir.display()
        ));
    }
    if let Some(dir) = newest_debian_bin() {
        return Ok(dir);
    }
    if let Some(initdb) = which("initdb") {
        // Follow symlinks (e.g. /usr/local/bin/initdb -> .../15/bin/initdb) so
        // pg_ctl and psql come from the same installation.
        if let Some(dir) = fs::canonicalize(&initdb)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            .filter(|d| has_server_bins(d))
        {
            return Ok(dir);
        }
        if let Some(dir) = initdb.parent().filter(|d| has_server_bins(d)) {
            return Ok(dir.to_path_buf());
        }
    }
    Err(
        "no PostgreSQL server binaries (no /usr/lib/postgresql/*/bin/initdb, \
         no initdb on PATH, PG_BIN unset)"
            .to_owned(),
    )
}

/// The highest-versioned `/usr/lib/postgresql/<version>/bin` with initdb and
/// pg_ctl.
fn newest_debian_bin() -> Option<PathBuf> {
    let entries = fs::read_dir("/usr/lib/postgresql").ok()?;
    let mut found: Vec<(Vec<u32>, PathBuf)> = entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let version = name
                .split('.')
                .map(|part| part.parse::<u32>().ok())
                .collect::<Option<Vec<u32>>>()?;
            let bin = entry.path().join("bin");
            has_server_bins(&bin).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// `name` on `PATH`, as root also in the sbin directories.
fn which(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = env::var_os("PATH")
        .map(|path| env::split_paths(&path).collect())
        .unwrap_or_default();
    for extra in ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        dirs.push(PathBuf::from(extra));
    }
    dirs.into_iter()
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

// ---------------------------------------------------------------------------
// Starting our own cluster
// ---------------------------------------------------------------------------

/// Effective UID 0? From /proc/self/status (no libc), else `id -u`.
fn is_root() -> bool {
    if let Ok(status) = fs::read_to_string("/proc/self/status") {
        if let Some(line) = status.lines().find(|l| l.starts_with("Uid:")) {
            // Uid: real effective saved fs
            return line.split_whitespace().nth(2) == Some("0");
        }
    }
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn user_exists(user: &str) -> bool {
    Command::new("id")
        .arg("-u")
        .arg(user)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn ensure_pg_user() -> Result<(), String> {
    if user_exists(PG_USER) {
        return Ok(());
    }
    let useradd = which("useradd").unwrap_or_else(|| PathBuf::from("useradd"));
    let result = Command::new(useradd)
        .args(["--system", "--no-create-home", PG_USER])
        .output();
    // Another test process may have created it in the meantime.
    if user_exists(PG_USER) {
        return Ok(());
    }
    Err(format!(
        "running as root, PostgreSQL refuses to run as root, and creating the \
         `{PG_USER}` user failed: {}",
        describe(&result)
    ))
}

/// Runs initdb/pg_ctl directly, or as `postgres` through runuser when root.
struct Runner {
    runuser: Option<PathBuf>,
}

impl Runner {
    fn command(&self, program: &Path) -> Command {
        let mut cmd = match &self.runuser {
            Some(runuser) => {
                let mut cmd = Command::new(runuser);
                cmd.args(["-u", PG_USER, "--"]).arg(program);
                cmd
            }
            None => Command::new(program),
        };
        cmd.stdin(Stdio::null());
        cmd
    }
}

/// "exit status 1: <stderr>" / "could not run: <io error>".
fn describe(result: &std::io::Result<Output>) -> String {
    match result {
        Ok(out) => format!(
            "{}\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => format!("could not run: {e}"),
    }
}

fn succeeded(result: &std::io::Result<Output>) -> bool {
    matches!(result, Ok(out) if out.status.success())
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("cannot bind a port on 127.0.0.1: {e}"))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|e| format!("cannot read the bound port: {e}"))
}

/// A new, empty, mode-755 directory `/tmp/yichuang-pg-<pid>-<nanos>`.
fn make_base_dir() -> Result<PathBuf, String> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let pid = std::process::id();
    let mut last_err = None;
    for attempt in 0..100u32 {
        // Short path: the Unix socket path inside must stay under ~100 bytes.
        let dir = PathBuf::from(format!("/tmp/yichuang-pg-{pid}-{nanos}-{attempt}"));
        match fs::create_dir(&dir) {
            Ok(()) => {
                fs::set_permissions(&dir, fs::Permissions::from_mode(0o755))
                    .map_err(|e| format!("cannot chmod {}: {e}", dir.display()))?;
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_err = Some(e),
            Err(e) => return Err(format!("cannot create {}: {e}", dir.display())),
        }
    }
    Err(format!(
        "cannot create a directory under /tmp: {}",
        last_err.map(|e| e.to_string()).unwrap_or_default()
    ))
}

fn tail_of_file(path: &Path) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

fn start_cluster(bin: &Path, durable: bool) -> Result<Server, String> {
    let runner = if is_root() {
        ensure_pg_user()?;
        let runuser = which("runuser").ok_or_else(|| {
            "running as root, PostgreSQL refuses to run as root, and `runuser` \
             (util-linux) was not found"
                .to_owned()
        })?;
        Runner {
            runuser: Some(runuser),
        }
    } else {
        Runner { runuser: None }
    };
    let initdb = bin.join("initdb");
    let pg_ctl = bin.join("pg_ctl");
    let psql = bin.join("psql");
    let psql = if psql.is_file() {
        psql
    } else {
        which("psql").ok_or_else(|| format!("no psql in {} or on PATH", bin.display()))?
    };

    let base = make_base_dir()?;
    let data = base.join("data");
    let sock = base.join("sock");
    let log = base.join("postgres.log");
    fs::create_dir(&sock).map_err(|e| format!("cannot create {}: {e}", sock.display()))?;
    fs::set_permissions(&sock, fs::Permissions::from_mode(0o755))
        .map_err(|e| format!("cannot chmod {}: {e}", sock.display()))?;

    // The watchdog goes first, so the directory is removed even if a later
    // step fails.
    let mut watchdog = Command::new("sh");
    watchdog
        .arg("-c")
        .arg(WATCHDOG)
        .arg("yichuang-pg-watchdog")
        .arg(std::process::id().to_string())
        .arg(&base);
    if let Some(runuser) = &runner.runuser {
        watchdog.arg(runuser).args(["-u", PG_USER, "--"]);
    }
    let started = watchdog
        .arg(&pg_ctl)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !matches!(started, Ok(status) if status.success()) {
        return Err(format!("cannot start the cleanup watchdog: {started:?}"));
    }

    if runner.runuser.is_some() {
        let result = Command::new("chown")
            .args(["-R", PG_USER])
            .arg(&base)
            .output();
        if !succeeded(&result) {
            return Err(format!(
                "chown -R {PG_USER} {} failed: {}",
                base.display(),
                describe(&result)
            ));
        }
    }

    let result = runner
        .command(&initdb)
        .arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", PG_USER, "--no-sync", "-E", "UTF8"])
        .arg("--locale=C")
        .current_dir(&base)
        .output();
    if !succeeded(&result) {
        return Err(format!(
            "{} failed: {}",
            initdb.display(),
            describe(&result)
        ));
    }

    // The port is free when picked but may be taken before the server binds
    // it; retry with a new one when that happens.
    let mut attempts = 0;
    let port = loop {
        attempts += 1;
        let port = free_port()?;
        // Tests trade durability for speed; benchmarks measure the real thing.
        let fsync = if durable { "on" } else { "off" };
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync={fsync} \
             -c synchronous_commit=on -c max_connections=200 -c shared_buffers=128MB",
            sock.display()
        );
        // -w waits until the server accepts connections (or fails).
        let result = runner
            .command(&pg_ctl)
            .arg("-D")
            .arg(data.as_path())
            .arg("-o")
            .arg(options)
            .args(["-w", "-t", "120", "-l"])
            .arg(log.as_path())
            .arg("start")
            .current_dir(base.as_path())
            .output();
        if succeeded(&result) {
            break port;
        }
        let log_tail = tail_of_file(&log);
        if attempts < 5 && log_tail.contains("Address already in use") {
            continue;
        }
        return Err(format!(
            "{} start failed: {}\n--- {} ---\n{log_tail}",
            pg_ctl.display(),
            describe(&result),
            log.display()
        ));
    };

    Ok(Server {
        psql,
        admin_url: format!("postgres://{PG_USER}@127.0.0.1:{port}/postgres"),
        url_prefix: format!("postgres://{PG_USER}@127.0.0.1:{port}/"),
        url_suffix: String::new(),
        stamp: epoch_secs(),
    })
}

// ---------------------------------------------------------------------------
// Databases
// ---------------------------------------------------------------------------

impl Server {
    fn create_database(&self, name: &str) {
        let sql = format!("CREATE DATABASE \"{name}\"");
        let mut last = String::new();
        for attempt in 1..=5u64 {
            // psql is a client; with trust auth it runs fine as root.
            let result = Command::new(&self.psql)
                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
                .arg(&self.admin_url)
                .arg("-c")
                .arg(&sql)
                .stdin(Stdio::null())
                .output();
            match &result {
                Ok(out) if out.status.success() => return,
                // Transient errors (e.g. "template1 is being accessed by other
                // users" on a shared server) are retried; failing to run psql
                // at all is not.
                Ok(_) => last = describe(&result),
                Err(e) => panic!("could not run {}: {e}", self.psql.display()),
            }
            if attempt < 5 {
                std::thread::sleep(Duration::from_millis(100 * attempt));
            }
        }
        panic!("{sql} failed on {}: {last}", self.admin_url);
    }
}
