//! The one interface every write command uses: SQL text with `$n` parameters and rows read by
//! column name. SQLite runs it on the writer thread with a synchronous connection (no thread
//! hop per statement); PostgreSQL runs it through sqlx. The SQL is the same for both.

use crate::db::error::{Result, StoreError};
use futures::future::BoxFuture;
use sqlx::{AnyConnection, Row as _};
use std::sync::Arc;

/// A bound parameter. Nulls carry their type because PostgreSQL needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Int(i64),
    Text(String),
    NullInt,
    NullText,
}

impl From<i64> for Val {
    fn from(v: i64) -> Val {
        Val::Int(v)
    }
}
impl From<bool> for Val {
    fn from(v: bool) -> Val {
        Val::Int(i64::from(v))
    }
}
impl From<&str> for Val {
    fn from(v: &str) -> Val {
        Val::Text(v.to_string())
    }
}
impl From<String> for Val {
    fn from(v: String) -> Val {
        Val::Text(v)
    }
}
impl From<&String> for Val {
    fn from(v: &String) -> Val {
        Val::Text(v.clone())
    }
}
impl From<Option<String>> for Val {
    fn from(v: Option<String>) -> Val {
        v.map_or(Val::NullText, Val::Text)
    }
}
impl From<&Option<String>> for Val {
    fn from(v: &Option<String>) -> Val {
        v.clone().map_or(Val::NullText, Val::Text)
    }
}
impl From<Option<&str>> for Val {
    fn from(v: Option<&str>) -> Val {
        v.map_or(Val::NullText, |s| Val::Text(s.to_string()))
    }
}
impl From<Option<i64>> for Val {
    fn from(v: Option<i64>) -> Val {
        v.map_or(Val::NullInt, Val::Int)
    }
}

/// `args![a, b]` makes the parameter list for `$1, $2`.
#[macro_export]
macro_rules! args {
    () => { Vec::<$crate::db::tx::Val>::new() };
    ($($v:expr),+ $(,)?) => { vec![$($crate::db::tx::Val::from($v)),+] };
}

/// A result row; columns are read by name.
#[derive(Debug, Clone)]
pub struct Row {
    names: Arc<[String]>,
    vals: Vec<Val>,
}

/// Column types a [`Row`] can be read as.
pub trait FromVal: Sized {
    fn from_row(r: &Row, col: &str) -> Result<Self>;
}
impl FromVal for i64 {
    fn from_row(r: &Row, col: &str) -> Result<Self> {
        r.i64(col)
    }
}
impl FromVal for String {
    fn from_row(r: &Row, col: &str) -> Result<Self> {
        r.str(col)
    }
}
impl FromVal for Option<i64> {
    fn from_row(r: &Row, col: &str) -> Result<Self> {
        r.opt_i64(col)
    }
}
impl FromVal for Option<String> {
    fn from_row(r: &Row, col: &str) -> Result<Self> {
        r.opt_str(col)
    }
}

impl Row {
    /// Reads a column by name, like sqlx's `Row::try_get`.
    pub fn try_get<T: FromVal, C: AsRef<str>>(&self, col: C) -> Result<T> {
        T::from_row(self, col.as_ref())
    }
    fn get(&self, col: &str) -> Result<&Val> {
        self.names
            .iter()
            .position(|n| n == col)
            .map(|i| &self.vals[i])
            .ok_or_else(|| StoreError::Unavailable(format!("no column {col}")))
    }
    pub fn i64(&self, col: &str) -> Result<i64> {
        self.opt_i64(col)?
            .ok_or_else(|| StoreError::Unavailable(format!("column {col} is null")))
    }
    pub fn opt_i64(&self, col: &str) -> Result<Option<i64>> {
        match self.get(col)? {
            Val::Int(v) => Ok(Some(*v)),
            Val::NullInt | Val::NullText => Ok(None),
            Val::Text(t) => t
                .parse()
                .map(Some)
                .map_err(|_| StoreError::Unavailable(format!("column {col} is not an integer"))),
        }
    }
    pub fn str(&self, col: &str) -> Result<String> {
        self.opt_str(col)?
            .ok_or_else(|| StoreError::Unavailable(format!("column {col} is null")))
    }
    pub fn opt_str(&self, col: &str) -> Result<Option<String>> {
        match self.get(col)? {
            Val::Text(t) => Ok(Some(t.clone())),
            Val::Int(v) => Ok(Some(v.to_string())),
            Val::NullInt | Val::NullText => Ok(None),
        }
    }
}

pub trait Tx: Send {
    /// Runs a statement; returns the rows it changed.
    fn exec<'a>(&'a mut self, sql: &'a str, args: Vec<Val>) -> BoxFuture<'a, Result<u64>>;
    fn query<'a>(&'a mut self, sql: &'a str, args: Vec<Val>) -> BoxFuture<'a, Result<Vec<Row>>>;
    /// Runs several statements without parameters (migrations).
    fn batch<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<()>>;
    /// True when no other command can run at the same time (the SQLite writer thread), so a
    /// read-then-write needs no lock.
    fn serial(&self) -> bool {
        false
    }
    /// The writer's memory of the audit log's stream heads, where one writer appends to it.
    fn audit_heads(&mut self) -> Option<&mut crate::db::heads::Heads> {
        None
    }
}

impl dyn Tx + '_ {
    pub async fn opt(&mut self, sql: &str, args: Vec<Val>) -> Result<Option<Row>> {
        Ok(self.query(sql, args).await?.into_iter().next())
    }
    pub async fn one(&mut self, sql: &str, args: Vec<Val>) -> Result<Row> {
        self.opt(sql, args)
            .await?
            .ok_or_else(|| StoreError::Unavailable("expected a row".into()))
    }
    pub async fn opt_int(&mut self, sql: &str, args: Vec<Val>) -> Result<Option<i64>> {
        match self.opt(sql, args).await? {
            Some(r) => {
                let name = r.names.first().cloned().unwrap_or_default();
                r.opt_i64(&name)
            }
            None => Ok(None),
        }
    }
    pub async fn opt_text(&mut self, sql: &str, args: Vec<Val>) -> Result<Option<String>> {
        match self.opt(sql, args).await? {
            Some(r) => {
                let name = r.names.first().cloned().unwrap_or_default();
                r.opt_str(&name)
            }
            None => Ok(None),
        }
    }
    /// The first column of the first row, as an integer.
    pub async fn int(&mut self, sql: &str, args: Vec<Val>) -> Result<i64> {
        let r = self.one(sql, args).await?;
        let name = r.names.first().cloned().unwrap_or_default();
        r.i64(&name)
    }
}

/// SQLite through rusqlite, on the writer thread.
pub(crate) struct LiteTx<'c, 'conn> {
    /// The connection and its statements belong to the writer thread, and are used only
    /// there; the wrapper lets them through the command futures, which must be `Send`, and
    /// would panic if they were ever touched from another thread.
    pub(crate) on_writer: send_wrapper::SendWrapper<OnWriter<'c, 'conn>>,
    pub(crate) heads: &'c mut crate::db::heads::Heads,
    /// Whether the command ran anything but a read: a failed command that only read needs
    /// nothing undone, so the writer can run commands without a savepoint each.
    pub(crate) wrote: bool,
}

pub(crate) struct OnWriter<'c, 'conn> {
    pub(crate) conn: &'conn rusqlite::Connection,
    pub(crate) prepared: &'c mut Prepared<'conn>,
}

/// The writer's statements, each prepared once, with what it learns once about each: which
/// argument each SQLite parameter takes, the result's column names, whether it only reads.
/// Looking those up per run (a walk of the parameter list per parameter, a string per column
/// per query) cost several microseconds a statement, and the writer runs forty-odd statements
/// per case lifecycle. They borrow the writer's connection and live on its thread: rusqlite's
/// own statement cache hashed each text twice, moved the statement in and out of a list and
/// cleared its bindings every run (keeping them here saved 2 % of the writer's instructions).
/// Kept by a cheap hash of the text (`sql_hash`); statements whose hashes collide share a
/// bucket and are told apart by their full text.
#[derive(Default)]
pub(crate) struct Prepared<'conn> {
    by_hash: std::collections::HashMap<u64, Vec<Ready<'conn>>>,
    count: usize,
}

impl Prepared<'_> {
    fn clear(&mut self) {
        self.by_hash.clear();
        self.count = 0;
    }
}

/// A statement's hash: its length and five 8-byte samples spread over it, mixed. Statements
/// that begin alike differ further on; the rest is settled by comparing the text.
fn sql_hash(sql: &str) -> u64 {
    let b = sql.as_bytes();
    let n = b.len();
    let word = |i: usize| -> u64 {
        let i = i.min(n.saturating_sub(8));
        let end = (i + 8).min(n);
        let mut w = [0u8; 8];
        w[..end - i].copy_from_slice(&b[i..end]);
        u64::from_le_bytes(w)
    };
    let mut h = n as u64;
    for i in [0, n / 4, n / 2, 3 * n / 4, n] {
        h = (h ^ word(i))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }
    h
}

struct Ready<'conn> {
    sql: Box<str>,
    stmt: rusqlite::Statement<'conn>,
    /// For SQLite's parameter i (from 1), the index of its value in the arguments.
    params: Vec<usize>,
    names: Arc<[String]>,
    readonly: bool,
}

fn lite_err(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("sqlite: {e}"))
}

impl<'conn> Ready<'conn> {
    /// `$n` parameters are bound by their number, as sqlx does, whatever order they appear in.
    fn of(sql: &str, stmt: rusqlite::Statement<'conn>) -> Result<Ready<'conn>> {
        let params = (1..=stmt.parameter_count())
            .map(|i| {
                stmt.parameter_name(i)
                    .and_then(|p| p.strip_prefix('$'))
                    .and_then(|p| p.parse::<usize>().ok())
                    .filter(|n| *n >= 1)
                    .map(|n| n - 1)
                    .ok_or_else(|| StoreError::Unavailable(format!("parameter {i} is not $n")))
            })
            .collect::<Result<_>>()?;
        let names = stmt.column_names().into_iter().map(String::from).collect();
        Ok(Ready {
            sql: sql.into(),
            readonly: stmt.readonly(),
            stmt,
            params,
            names,
        })
    }
}

fn bind(stmt: &mut rusqlite::Statement<'_>, params: &[usize], args: &[Val]) -> Result<()> {
    for (i, n) in params.iter().enumerate() {
        let v = args
            .get(*n)
            .ok_or_else(|| StoreError::Unavailable(format!("no value for ${}", n + 1)))?;
        let i = i + 1;
        let r = match v {
            Val::Int(x) => stmt.raw_bind_parameter(i, x),
            Val::Text(t) => stmt.raw_bind_parameter(i, t),
            Val::NullInt | Val::NullText => stmt.raw_bind_parameter(i, rusqlite::types::Null),
        };
        r.map_err(lite_err)?;
    }
    Ok(())
}

static ID: std::sync::LazyLock<Arc<[String]>> =
    std::sync::LazyLock::new(|| Arc::new(["id".to_string()]));

/// `INSERT INTO t (…) VALUES (…) RETURNING id`, one row into a table whose `id` is its row id,
/// without the RETURNING: SQLite runs every RETURNING through a temporary table (it doubled the
/// cost of an insert), and the row id it just assigned is the same answer.
fn one_row_insert(sql: &str) -> Option<&str> {
    let insert = sql.strip_suffix(" RETURNING id")?;
    (insert.starts_with("INSERT INTO ")
        && insert.contains(" VALUES (")
        && !insert.contains("(id,")
        && !insert.contains("SELECT")
        && !insert.contains("ON CONFLICT"))
    .then_some(insert)
}

/// Text as stored, almost always valid UTF-8: checked in one pass (the lossy conversion walks
/// it in chunks, a visible cost on the writer), replaced only when invalid.
fn text(t: &[u8]) -> String {
    match std::str::from_utf8(t) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(t).into_owned(),
    }
}

impl<'conn> OnWriter<'_, 'conn> {
    /// The statement, prepared once, with its arguments bound.
    fn bound(&mut self, sql: &str, args: &[Val]) -> Result<&mut Ready<'conn>> {
        // Statements built with values in their text would grow this without end.
        if self.prepared.count >= 1024 {
            self.prepared.clear();
        }
        let bucket = self.prepared.by_hash.entry(sql_hash(sql)).or_default();
        let i = match bucket.iter().position(|s| &*s.sql == sql) {
            Some(i) => i,
            None => {
                let stmt = self.conn.prepare(sql).map_err(lite_err)?;
                bucket.push(Ready::of(sql, stmt)?);
                self.prepared.count += 1;
                bucket.len() - 1
            }
        };
        let ready = &mut bucket[i];
        bind(&mut ready.stmt, &ready.params, args)?;
        Ok(ready)
    }
    /// Whether a statement that ran left anything written: one that may write did if it
    /// changed rows, failed (taken as written, to be safe) or is not a plain INSERT, UPDATE
    /// or DELETE (schema changes count no rows). An optimistic-lock UPDATE that matched
    /// nothing, before its command refuses, has written nothing.
    fn wrote(&self, sql: &str, readonly: bool, changes_before: u64, failed: bool) -> bool {
        if readonly {
            return false;
        }
        let head = sql.trim_start();
        let dml = ["INSERT", "UPDATE", "DELETE"]
            .iter()
            .any(|k| head.starts_with(k));
        failed || !dml || self.conn.total_changes() != changes_before
    }
    /// Runs a statement: the rows it changed, and whether it wrote anything.
    fn exec(&mut self, sql: &str, args: &[Val]) -> (Result<u64>, bool) {
        let before = self.conn.total_changes();
        let ready = match self.bound(sql, args) {
            Ok(r) => r,
            Err(e) => return (Err(e), false),
        };
        let r = ready.stmt.raw_execute().map(|n| n as u64).map_err(lite_err);
        let readonly = ready.readonly;
        let wrote = self.wrote(sql, readonly, before, r.is_err());
        (r, wrote)
    }
    /// Runs a statement: the rows it returned, and whether it wrote anything.
    fn query(&mut self, sql: &str, args: &[Val]) -> (Result<Vec<Row>>, bool) {
        if let Some(insert) = one_row_insert(sql) {
            let (r, wrote) = self.exec(insert, args);
            let rows = r.map(|n| match n {
                1 => vec![Row {
                    names: ID.clone(),
                    vals: vec![Val::Int(self.conn.last_insert_rowid())],
                }],
                _ => vec![],
            });
            return (rows, wrote);
        }
        let before = self.conn.total_changes();
        let ready = match self.bound(sql, args) {
            Ok(r) => r,
            Err(e) => return (Err(e), false),
        };
        let r = read_rows(&mut ready.stmt, &ready.names);
        let readonly = ready.readonly;
        let wrote = self.wrote(sql, readonly, before, r.is_err());
        (r, wrote)
    }
}

fn read_rows(stmt: &mut rusqlite::Statement<'_>, names: &Arc<[String]>) -> Result<Vec<Row>> {
    let n = names.len();
    let mut rows = stmt.raw_query();
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(lite_err)? {
        let mut vals = Vec::with_capacity(n);
        for i in 0..n {
            use rusqlite::types::ValueRef;
            vals.push(match r.get_ref(i).map_err(lite_err)? {
                ValueRef::Null => Val::NullText,
                ValueRef::Integer(x) => Val::Int(x),
                ValueRef::Real(x) => Val::Text(x.to_string()),
                ValueRef::Text(t) => Val::Text(text(t)),
                ValueRef::Blob(b) => Val::Text(String::from_utf8_lossy(b).into_owned()),
            });
        }
        out.push(Row {
            names: names.clone(),
            vals,
        });
    }
    Ok(out)
}

impl Tx for LiteTx<'_, '_> {
    fn exec<'a>(&'a mut self, sql: &'a str, args: Vec<Val>) -> BoxFuture<'a, Result<u64>> {
        let (r, wrote) = self.on_writer.exec(sql, &args);
        self.wrote |= wrote;
        Box::pin(std::future::ready(r))
    }
    fn query<'a>(&'a mut self, sql: &'a str, args: Vec<Val>) -> BoxFuture<'a, Result<Vec<Row>>> {
        let (r, wrote) = self.on_writer.query(sql, &args);
        self.wrote |= wrote;
        Box::pin(std::future::ready(r))
    }
    fn batch<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<()>> {
        // Schema changes (migrations) can change a statement's columns, or the audit log.
        let w = &mut *self.on_writer;
        w.prepared.clear();
        self.heads.forget();
        self.wrote = true;
        let r = w.conn.execute_batch(sql).map_err(lite_err);
        Box::pin(std::future::ready(r))
    }
    fn serial(&self) -> bool {
        true
    }
    fn audit_heads(&mut self) -> Option<&mut crate::db::heads::Heads> {
        Some(self.heads)
    }
}

/// PostgreSQL (or anything sqlx's Any driver speaks) inside a sqlx transaction.
pub(crate) struct SqlxTx<'c> {
    pub(crate) conn: &'c mut AnyConnection,
}

fn sqlx_query<'q>(
    sql: &'q str,
    args: Vec<Val>,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    let mut q = sqlx::query(sql);
    for a in args {
        q = match a {
            Val::Int(x) => q.bind(x),
            Val::Text(t) => q.bind(t),
            Val::NullInt => q.bind(None::<i64>),
            Val::NullText => q.bind(None::<String>),
        };
    }
    q
}

impl Tx for SqlxTx<'_> {
    fn exec<'a>(&'a mut self, sql: &'a str, args: Vec<Val>) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            Ok(sqlx_query(sql, args)
                .execute(&mut *self.conn)
                .await?
                .rows_affected())
        })
    }
    fn query<'a>(&'a mut self, sql: &'a str, args: Vec<Val>) -> BoxFuture<'a, Result<Vec<Row>>> {
        Box::pin(async move {
            let rows = sqlx_query(sql, args).fetch_all(&mut *self.conn).await?;
            let mut out = Vec::with_capacity(rows.len());
            let mut names: Option<Arc<[String]>> = None;
            for r in &rows {
                use sqlx::Column;
                let names = names
                    .get_or_insert_with(|| {
                        r.columns().iter().map(|c| c.name().to_string()).collect()
                    })
                    .clone();
                let mut vals = Vec::with_capacity(names.len());
                for i in 0..names.len() {
                    vals.push(match r.try_get::<Option<i64>, _>(i) {
                        Ok(Some(x)) => Val::Int(x),
                        Ok(None) => Val::NullInt,
                        Err(_) => r
                            .try_get::<Option<String>, _>(i)?
                            .map_or(Val::NullText, Val::Text),
                    });
                }
                out.push(Row { names, vals });
            }
            Ok(out)
        })
    }
    fn batch<'a>(&'a mut self, sql: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::Executor::execute(&mut *self.conn, sql).await?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::one_row_insert;

    #[test]
    fn only_a_one_row_insert_returning_its_row_id_is_run_without_returning() {
        assert_eq!(
            one_row_insert("INSERT INTO tasks (case_id, seq) VALUES ($1,$2) RETURNING id"),
            Some("INSERT INTO tasks (case_id, seq) VALUES ($1,$2)")
        );
        for kept in [
            // Zero or many rows.
            "INSERT INTO outbox (event) SELECT event FROM outbox WHERE id = $1 RETURNING id",
            // An upsert's row may be an old one.
            "INSERT INTO t (k) VALUES ($1) ON CONFLICT (k) DO UPDATE SET n = n + 1 RETURNING id",
            // The caller chose the id; it need not be the row id.
            "INSERT INTO halls (id, name) VALUES ($1, $2) RETURNING id",
            // Other columns.
            "INSERT INTO t (k) VALUES ($1) RETURNING id, k",
            "UPDATE t SET k = $1 RETURNING id",
        ] {
            assert_eq!(one_row_insert(kept), None, "{kept}");
        }
    }
}
