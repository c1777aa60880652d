//! Accounts (applicants and staff), sessions, halls and windows.

use crate::args;
use crate::audit::{self, Entry};
use crate::tx::Tx;
use crate::{now_ms, Result, Store, StoreError};
use sha2::{Digest, Sha256};
use sqlx::Row;
use yichuang_core::{Actor, ActorKind, RegionCode, Role};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Account {
    pub id: i64,
    /// person | enterprise | staff
    pub kind: String,
    pub login: String,
    #[serde(skip)]
    pub password_hash: Option<String>,
    pub name: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub legal_rep: Option<String>,
    pub role: Option<String>,
    pub region: Option<String>,
    pub department: Option<String>,
    pub hall_id: Option<String>,
    pub window_id: Option<String>,
    pub active: bool,
    #[serde(skip)]
    pub failed_logins: i64,
    #[serde(skip)]
    pub locked_until: i64,
}

impl Account {
    pub fn is_staff(&self) -> bool {
        self.kind == "staff"
    }
    pub fn role(&self) -> Option<Role> {
        self.role.as_deref().and_then(Role::parse)
    }
    pub fn actor(&self, client_addr: &str) -> Actor {
        let kind = match (
            self.is_staff(),
            self.role(),
            self.region.as_deref().map(RegionCode::parse),
        ) {
            (true, Some(role), Some(Ok(region))) => ActorKind::Staff { role, region },
            // A staff account without a valid role or region can do nothing staff can.
            (true, _, _) => ActorKind::Applicant,
            _ => ActorKind::Applicant,
        };
        Actor {
            account_id: self.id,
            kind,
            client_addr: client_addr.to_string(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    pub kind: String,
    pub login: String,
    pub password_hash: Option<String>,
    pub name: String,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub legal_rep: Option<String>,
    pub role: Option<String>,
    pub region: Option<String>,
    pub department: Option<String>,
    pub hall_id: Option<String>,
    pub window_id: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Hall {
    pub id: String,
    pub name: String,
    pub name_en: String,
    pub region: String,
    pub address: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Window {
    pub id: String,
    pub hall_id: String,
    pub name: String,
    pub comprehensive: bool,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub account: Account,
    pub csrf: String,
}

const ACCOUNT_COLS: &str = "id, kind, login, password_hash, name, id_number, phone, legal_rep, role, region, department, hall_id, window_id, active, failed_logins, locked_until";

fn row_account(r: &sqlx::any::AnyRow) -> Result<Account> {
    Ok(Account {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        login: r.try_get("login")?,
        password_hash: r.try_get("password_hash")?,
        name: r.try_get("name")?,
        id_number: r.try_get("id_number")?,
        phone: r.try_get("phone")?,
        legal_rep: r.try_get("legal_rep")?,
        role: r.try_get("role")?,
        region: r.try_get("region")?,
        department: r.try_get("department")?,
        hall_id: r.try_get("hall_id")?,
        window_id: r.try_get("window_id")?,
        active: r.try_get::<i64, _>("active")? != 0,
        failed_logins: r.try_get("failed_logins")?,
        locked_until: r.try_get("locked_until")?,
    })
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Inserts an account inside a transaction; a taken login or ID number is a conflict.
pub async fn insert_account(c: &mut dyn Tx, a: &NewAccount) -> Result<i64> {
    let taken: Option<i64> = c.opt_int("SELECT id FROM accounts WHERE login = $1 OR (kind <> 'staff' AND $2 <> 'staff' AND id_number = $3)", args![&a.login, &a.kind, &a.id_number])
    .await?;
    if taken.is_some() {
        return Err(StoreError::conflict(
            "account.exists",
            "An account with this login or ID number already exists.",
            "该账号或证件号码已注册。",
        ));
    }
    let id: i64 = c.int("INSERT INTO accounts (kind, login, password_hash, name, id_number, phone, legal_rep, role, region, department, hall_id, window_id, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) RETURNING id", args![&a.kind, &a.login, &a.password_hash, &a.name, &a.id_number, &a.phone, &a.legal_rep, &a.role, &a.region, &a.department, &a.hall_id, &a.window_id, now_ms()])
    .await?;
    Ok(id)
}

impl Store {
    pub async fn create_account(&self, a: NewAccount, actor: &Actor) -> Result<i64> {
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                let id = insert_account(c, &a).await?;
                let mut actor = actor;
                if actor.account_id == 0 && a.kind != "staff" {
                    actor.account_id = id; // self-registration is the new account's own act
                }
                audit::record(
                    c,
                    &actor,
                    Entry {
                        action: "account.create",
                        detail: format!(
                            "account {id} kind {} role {}",
                            a.kind,
                            a.role.as_deref().unwrap_or("-")
                        ),
                        ..Default::default()
                    },
                )
                .await?;
                Ok(id)
            })
        })
        .await
    }

    pub async fn account(&self, id: i64) -> Result<Option<Account>> {
        let r = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLS} FROM accounts WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(row_account).transpose()
    }

    pub async fn account_by_login(&self, login: &str) -> Result<Option<Account>> {
        let r = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLS} FROM accounts WHERE login = $1"
        ))
        .bind(login)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(row_account).transpose()
    }

    pub async fn applicant_by_id_number(&self, id_number: &str) -> Result<Option<Account>> {
        let r = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLS} FROM accounts WHERE id_number = $1 AND kind <> 'staff'"
        ))
        .bind(id_number)
        .fetch_optional(self.pool())
        .await?;
        r.as_ref().map(row_account).transpose()
    }

    pub async fn staff(&self) -> Result<Vec<Account>> {
        let rows = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLS} FROM accounts WHERE kind = 'staff' ORDER BY region, login"
        ))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(row_account).collect()
    }

    /// Records a login attempt's outcome; five failures lock the account for ten minutes.
    pub async fn login_outcome(&self, id: i64, ok: bool, addr: &str) -> Result<()> {
        let addr = addr.to_string();
        self.write(move |c| {
            Box::pin(async move {
                if ok {
                    c.exec("UPDATE accounts SET failed_logins = 0 WHERE id = $1", args![id])
                        .await?;
                } else {
                    c.exec("UPDATE accounts SET failed_logins = failed_logins + 1, \
                         locked_until = CASE WHEN failed_logins + 1 >= 5 THEN $2 ELSE locked_until END WHERE id = $1", args![id, now_ms() + 10 * 60 * 1000])
                    .await?;
                }
                let actor = Actor { account_id: id, kind: yichuang_core::ActorKind::Applicant, client_addr: addr };
                audit::record(c, &actor, Entry {
                    action: if ok { "login.ok" } else { "login.failed" },
                    ..Default::default()
                })
                .await
            })
        })
        .await
    }

    pub async fn create_session(
        &self,
        account_id: i64,
        token: &str,
        csrf: &str,
        ttl_ms: i64,
    ) -> Result<()> {
        let (th, csrf) = (token_hash(token), csrf.to_string());
        self.write(move |c| {
            Box::pin(async move {
                let now = now_ms();
                c.exec("DELETE FROM sessions WHERE expires_at < $1", args![now])
                    .await?;
                c.exec("INSERT INTO sessions (token_hash, account_id, csrf, created_at, last_seen, expires_at, idle_ms) VALUES ($1,$2,$3,$4,$4,$5,$6)", args![th, account_id, csrf, now, now + ttl_ms, ttl_ms])
                    .await?;
                Ok(())
            })
        })
        .await
    }

    /// The live session for a token. A session ends after its idle time without use; each use
    /// extends it (written at most once a minute, so reads stay reads).
    pub async fn session(&self, token: &str) -> Result<Option<Session>> {
        let th = token_hash(token);
        let r = sqlx::query(
            "SELECT account_id, csrf, expires_at, last_seen, idle_ms FROM sessions WHERE token_hash = $1",
        )
        .bind(&th)
        .fetch_optional(self.pool())
        .await?;
        let Some(r) = r else { return Ok(None) };
        let exp: i64 = r.try_get("expires_at")?;
        let now = now_ms();
        if exp < now {
            return Ok(None);
        }
        let last_seen: i64 = r.try_get("last_seen")?;
        let idle: i64 = r.try_get("idle_ms")?;
        if now - last_seen > 60_000 {
            self.write(move |c| {
                Box::pin(async move {
                    c.exec(
                        "UPDATE sessions SET last_seen = $1, expires_at = $2 WHERE token_hash = $3",
                        args![now, now + idle, th],
                    )
                    .await?;
                    Ok(())
                })
            })
            .await?;
        }
        let Some(account) = self.account(r.try_get("account_id")?).await? else {
            return Ok(None);
        };
        if !account.active {
            return Ok(None);
        }
        Ok(Some(Session {
            account,
            csrf: r.try_get("csrf")?,
        }))
    }

    pub async fn end_session(&self, token: &str) -> Result<()> {
        let th = token_hash(token);
        self.write(move |c| {
            Box::pin(async move {
                c.exec("DELETE FROM sessions WHERE token_hash = $1", args![th])
                    .await?;
                Ok(())
            })
        })
        .await
    }

    pub async fn upsert_hall(&self, h: Hall, actor: &Actor) -> Result<()> {
        if RegionCode::parse(&h.region).is_err() {
            return Err(StoreError::invalid(
                "hall.region",
                "The region code is malformed.",
                "区划代码格式错误。",
            ));
        }
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                let exists: Option<String> = c.opt_text("SELECT code FROM regions WHERE code = $1", args![&h.region])
                    .await?;
                if exists.is_none() {
                    return Err(StoreError::invalid("hall.region", "Unknown region.", "区划不存在。"));
                }
                c.exec("INSERT INTO halls (id, name, name_en, region, address) VALUES ($1,$2,$3,$4,$5) \
                    ON CONFLICT (id) DO UPDATE SET name = excluded.name, name_en = excluded.name_en, region = excluded.region, address = excluded.address", args![&h.id, &h.name, &h.name_en, &h.region, &h.address]).await?;
                audit::record(c, &actor, Entry { action: "hall.upsert", detail: h.id.clone(), ..Default::default() }).await
            })
        })
        .await
    }

    pub async fn upsert_window(&self, w: Window, actor: &Actor) -> Result<()> {
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                let hall: Option<String> = c.opt_text("SELECT id FROM halls WHERE id = $1", args![&w.hall_id])
                    .await?;
                if hall.is_none() {
                    return Err(StoreError::invalid("window.hall", "Unknown hall.", "大厅不存在。"));
                }
                c.exec("INSERT INTO windows (id, hall_id, name, comprehensive) VALUES ($1,$2,$3,$4) \
                    ON CONFLICT (id) DO UPDATE SET hall_id = excluded.hall_id, name = excluded.name, comprehensive = excluded.comprehensive", args![&w.id, &w.hall_id, &w.name, i64::from(w.comprehensive)]).await?;
                audit::record(c, &actor, Entry { action: "window.upsert", detail: w.id.clone(), ..Default::default() }).await
            })
        })
        .await
    }

    pub async fn halls(&self) -> Result<Vec<Hall>> {
        let mut out = Vec::new();
        for r in
            sqlx::query("SELECT id, name, name_en, region, address FROM halls ORDER BY region, id")
                .fetch_all(self.pool())
                .await?
        {
            out.push(Hall {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                name_en: r.try_get("name_en")?,
                region: r.try_get("region")?,
                address: r.try_get("address")?,
            });
        }
        Ok(out)
    }

    pub async fn windows(&self) -> Result<Vec<Window>> {
        let mut out = Vec::new();
        for r in
            sqlx::query("SELECT id, hall_id, name, comprehensive FROM windows ORDER BY hall_id, id")
                .fetch_all(self.pool())
                .await?
        {
            out.push(Window {
                id: r.try_get("id")?,
                hall_id: r.try_get("hall_id")?,
                name: r.try_get("name")?,
                comprehensive: r.try_get::<i64, _>("comprehensive")? != 0,
            });
        }
        Ok(out)
    }
}

/// Where an `Idempotency-Key` stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Idempotency {
    /// First use: run the request, then record its answer.
    Fresh,
    /// Same key, same request: give the recorded answer again.
    Replay(u16, String),
    /// Same key, another request.
    Mismatch,
    /// The first request with this key has not finished.
    InFlight,
}

impl Store {
    pub async fn idempotency_begin(
        &self,
        account_id: i64,
        key: &str,
        request_hash: &str,
    ) -> Result<Idempotency> {
        let (key, hash) = (key.to_string(), request_hash.to_string());
        self.write(move |c| {
            Box::pin(async move {
                let inserted = c
                    .exec(
                        "INSERT INTO idempotency (account_id, key, request_hash, status, body, created_at) VALUES ($1,$2,$3,0,'',$4) \
                         ON CONFLICT (account_id, key) DO NOTHING",
                        args![account_id, &key, &hash, now_ms()],
                    )
                    .await?;
                if inserted == 1 {
                    return Ok(Idempotency::Fresh);
                }
                let r = c
                    .one("SELECT request_hash, status, body FROM idempotency WHERE account_id = $1 AND key = $2", args![account_id, &key])
                    .await?;
                Ok(if r.str("request_hash")? != hash {
                    Idempotency::Mismatch
                } else {
                    match r.i64("status")? {
                        0 => Idempotency::InFlight,
                        s => Idempotency::Replay(s as u16, r.str("body")?),
                    }
                })
            })
        })
        .await
    }

    /// Records the answer; `None` forgets the key (the request failed and may be tried again).
    pub async fn idempotency_finish(
        &self,
        account_id: i64,
        key: &str,
        answer: Option<(u16, String)>,
    ) -> Result<()> {
        let key = key.to_string();
        self.write(move |c| {
            Box::pin(async move {
                match answer {
                    Some((status, body)) => c
                        .exec("UPDATE idempotency SET status = $1, body = $2 WHERE account_id = $3 AND key = $4", args![i64::from(status), body, account_id, key])
                        .await?,
                    None => c.exec("DELETE FROM idempotency WHERE account_id = $1 AND key = $2", args![account_id, key]).await?,
                };
                Ok(())
            })
        })
        .await
    }
}
