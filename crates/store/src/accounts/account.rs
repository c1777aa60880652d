//! Accounts: applicants (persons, enterprises) and staff.

use crate::args;
use crate::audit::{self, Entry};
use crate::db::tx::Tx;
use crate::{now_ms, Result, Store, StoreError};
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
}
