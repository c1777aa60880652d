//! The notice outbox (C6). A step writes its notices in its own transaction, so a step that
//! rolls back sends nothing and a committed one cannot lose its notice; the delivery worker
//! claims due notices, renders them with the current templates and hands them to a channel.
//! Several servers share the work: PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, SQLite
//! has one writer and one in-process worker.

use crate::args;
use crate::common::random_key;
use crate::db::tx::Tx;
use crate::db::tx::Val;
use crate::{now_ms, Result};
use yichuang_core::notify::{mask_address, Channel, Event, Fields};
use yichuang_core::CaseStatus;

/// What the applicant hears about a case change, decided from the audited status change.
fn case_events(before: CaseStatus, after: CaseStatus) -> Vec<Event> {
    use CaseStatus::*;
    if before == after {
        return vec![];
    }
    match after {
        Submitted => vec![Event::Submitted],
        CorrectionRequired => vec![Event::CorrectionRequired],
        Accepted | InStage if matches!(before, Submitted | CorrectionRequired) => {
            vec![Event::Accepted]
        }
        Suspended => vec![Event::Suspended],
        _ if before == Suspended && matches!(after, Accepted | InStage) => vec![Event::Resumed],
        Withdrawn => vec![Event::Withdrawn],
        Approved => vec![Event::Decided],
        // Completion of an approved case is the result document ready at the window.
        Completed if before == Approved => vec![Event::ResultReady, Event::RatingInvitation],
        Completed => vec![Event::Decided, Event::ResultReady, Event::RatingInvitation],
        Denied | Rejected => vec![Event::Decided, Event::RatingInvitation],
        _ => vec![],
    }
}

pub(crate) struct Recipient {
    account_id: i64,
    phone: Option<String>,
    email: Option<String>,
    channels: String,
    lang: String,
}

impl Recipient {
    fn read(r: &crate::db::tx::Row, id_col: &str) -> Result<Recipient> {
        Ok(Recipient {
            account_id: r.i64(id_col)?,
            phone: r.opt_str("phone")?,
            email: r.opt_str("email")?,
            channels: r.str("notify_channels")?,
            lang: r.str("notify_lang")?,
        })
    }
}

/// The outbox rows of one event for one recipient: one per channel they chose and have an
/// address for, each with its own idempotency key. Staff hear in-app through their task inbox
/// and notice list already, so for them only SMS and e-mail are written.
/// `facts`: the notice's [`Fields`] as [`facts_json`] writes them, shared by its rows.
fn notices(rows: &mut Vec<Vec<Val>>, event: Event, case: (i64, &str), to: &Recipient, facts: &str) {
    let (case_id, region) = case;
    let channels = Channel::parse_list(&to.channels).unwrap_or_default();
    let now = now_ms();
    for ch in channels {
        let address = match ch {
            Channel::Sms => to.phone.clone().filter(|p| !p.trim().is_empty()),
            Channel::Email => to.email.clone().filter(|e| e.contains('@')),
            Channel::Inapp if event.for_staff() => None,
            Channel::Inapp => Some(to.account_id.to_string()),
        };
        let Some(address) = address else { continue };
        let key = format!("yc-{}-{}", event.code(), random_key());
        let masked = mask_address(ch, &address);
        rows.push(args![
            event.code(),
            case_id,
            to.account_id,
            ch.code(),
            address,
            masked,
            &to.lang,
            facts,
            key,
            now,
            region
        ]);
    }
}

fn facts_json(fields: &Fields) -> String {
    serde_json::to_string(fields).unwrap_or_else(|_| "{}".into())
}

/// Columns of an outbox row as [`notices`] makes it.
const NOTICE_COLUMNS: usize = 11;

/// Writes the rows in one statement: a step's notices (a conclusion's three events, each by
/// SMS and in the app) cost one statement, not six.
async fn insert_notices(c: &mut dyn Tx, rows: Vec<Vec<Val>>) -> Result<()> {
    static SQL: std::sync::LazyLock<[Vec<String>; 2]> = std::sync::LazyLock::new(|| {
        [false, true].map(|serial| (0..=16).map(|n| notices_sql(n, serial)).collect())
    });
    let serial = c.serial();
    let mut rows = rows.into_iter().peekable();
    // A large department's staff could pass SQLite's limit of bound values in one statement.
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Val>> = rows.by_ref().take(256).collect();
        let n = chunk.len();
        let owned;
        let sql = match SQL[usize::from(serial)].get(n) {
            Some(s) => s.as_str(),
            None => {
                owned = notices_sql(n, serial);
                owned.as_str()
            }
        };
        c.exec(sql, chunk.into_iter().flatten().collect()).await?;
    }
    Ok(())
}

/// `serial`: for SQLite, whose statement of several rows that could stop half-way (ABORT, the
/// default) first copies every page it touches into a statement journal, to undo its own rows.
/// FAIL leaves them; the command then fails having written, and the writer rolls it back.
/// Nothing but a bug could make these rows fail: no unique key, and every value is given.
fn notices_sql(n: usize, serial: bool) -> String {
    let values: Vec<String> = (0..n)
        .map(|r| {
            let p = |i: usize| format!("${}", r * NOTICE_COLUMNS + i);
            format!(
                "({},{},{},{},{},{},{},{},{},'queued',{},{},{})",
                p(1),
                p(2),
                p(3),
                p(4),
                p(5),
                p(6),
                p(7),
                p(8),
                p(9),
                p(10),
                p(10),
                p(11)
            )
        })
        .collect();
    format!(
        "INSERT {}INTO outbox (event, case_id, account_id, channel, address, address_masked, lang, fields, idem_key, status, next_at, created_at, region) VALUES {}",
        if serial { "OR FAIL " } else { "" },
        values.join(",")
    )
}

/// The facts a case's notice texts use, read in the caller's transaction. The link is a path;
/// the worker puts the public address in front when it renders.
/// A case's notice facts, with where it is and who applied.
pub(crate) struct CaseFacts {
    pub(crate) case_id: i64,
    pub(crate) region: String,
    pub(crate) to: Recipient,
    pub(crate) fields: Fields,
}

pub(crate) async fn case_fields(c: &mut dyn Tx, number: &str) -> Result<Option<CaseFacts>> {
    let Some(r) = c
        .opt(
            "SELECT c.id, c.region, c.number, c.secret, c.promised_due, COALESCE(c.decision_reason, c.reject_reason) AS decision_reason, i.name, i.name_en, \
             a.id AS account_id, a.name AS applicant, a.phone, a.email, a.notify_channels, a.notify_lang \
             FROM cases c JOIN items i ON i.code = c.item_code JOIN accounts a ON a.id = c.applicant_id WHERE c.number = $1",
            args![number],
        )
        .await?
    else {
        return Ok(None);
    };
    let case_id = r.i64("id")?;
    let to = Recipient::read(&r, "account_id")?;
    let mut fields = Fields {
        number: number.to_string(),
        item: r.str("name")?,
        item_en: r.str("name_en")?,
        applicant: r.str("applicant")?,
        date: r.opt_str("promised_due")?.unwrap_or_default(),
        reason: r.opt_str("decision_reason")?.unwrap_or_default(),
        url: format!("/status?n={}&s={}", number, r.str("secret")?),
        ..Fields::default()
    };
    if fields.item_en.is_empty() {
        fields.item_en = fields.item.clone();
    }
    Ok(Some(CaseFacts {
        case_id,
        region: r.str("region")?,
        to,
        fields,
    }))
}

/// Called with every audited case change: writes the applicant's notices for the changes
/// they care about, in the same transaction.
pub(crate) async fn on_case_change(
    c: &mut dyn Tx,
    number: Option<&str>,
    before: CaseStatus,
    after: CaseStatus,
) -> Result<()> {
    let events = case_events(before, after);
    let Some(number) = number else { return Ok(()) };
    if events.is_empty() {
        return Ok(());
    }
    let Some(CaseFacts {
        case_id,
        region,
        to,
        mut fields,
    }) = case_fields(c, number).await?
    else {
        return Ok(());
    };
    let (result, result_en) = match after {
        CaseStatus::Approved | CaseStatus::Completed => ("准予办理", "approved"),
        CaseStatus::Denied => ("不予许可", "denied"),
        CaseStatus::Rejected => ("不予受理", "not accepted"),
        _ => ("", ""),
    };
    fields.result = result.into();
    fields.result_en = result_en.into();
    let mut rows = Vec::new();
    // The events of one change share their facts unless an event adds its own.
    let mut facts = facts_json(&fields);
    for event in events {
        match event {
            Event::CorrectionRequired => {
                fields.corrections = corrections(c, case_id).await?;
                facts = facts_json(&fields);
            }
            Event::Suspended => {
                if let Some(s) = c
                    .opt(
                        "SELECT name, reason FROM suspensions WHERE case_id = $1 ORDER BY id DESC LIMIT 1",
                        args![case_id],
                    )
                    .await?
                {
                    fields.reason = format!("{}：{}", s.str("name")?, s.str("reason")?);
                    facts = facts_json(&fields);
                }
            }
            _ => {}
        }
        notices(&mut rows, event, (case_id, &region), &to, &facts);
    }
    insert_notices(c, rows).await
}

/// The problems of the case's latest correction notice, each with the material's name.
pub(crate) async fn corrections(c: &mut dyn Tx, case_id: i64) -> Result<Vec<String>> {
    let Some(r) = c
        .opt(
            "SELECT problems, note FROM correction_notices WHERE case_id = $1 ORDER BY id DESC LIMIT 1",
            args![case_id],
        )
        .await?
    else {
        return Ok(vec![]);
    };
    let item = crate::cases::row::load(c, case_id).await?.item;
    let problems: Vec<crate::cases::types::MaterialCheck> =
        serde_json::from_str(&r.str("problems")?).unwrap_or_default();
    let mut out: Vec<String> = problems
        .iter()
        .filter(|p| matches!(p.verdict.as_str(), "missing" | "wrong"))
        .map(|p| {
            let name = item
                .material(&p.material_code)
                .map_or_else(|| p.material_code.clone(), |m| m.name.clone());
            if p.reason.trim().is_empty() {
                name
            } else {
                format!("{name}（{}）", p.reason.trim())
            }
        })
        .collect();
    let note = r.str("note")?;
    if !note.trim().is_empty() {
        out.push(note.trim().to_string());
    }
    Ok(out)
}

/// A task a step opened, for [`on_tasks_opened`].
pub(crate) struct Opened<'a> {
    pub department: &'a str,
    pub role: &'a str,
    pub task: String,
    pub due: time::Date,
}

/// New tasks (a parallel stage opens several at once): each department's staff of the task's
/// role who chose SMS or e-mail hear of it. (One read per task: a read of all the tasks' staff
/// at once, with lists of departments and roles, cost SQLite more than the reads it saved.)
pub(crate) async fn on_tasks_opened(
    c: &mut dyn Tx,
    case_id: i64,
    opened: &[Opened<'_>],
) -> Result<()> {
    let mut rows = Vec::new();
    let mut case = None;
    for o in opened {
        let staff = c
            .query(
                "SELECT id, phone, email, notify_channels, notify_lang FROM accounts \
                 WHERE kind = 'staff' AND department = $1 AND role = $2 AND active = 1 AND (phone IS NOT NULL OR email IS NOT NULL)",
                args![o.department, o.role],
            )
            .await?;
        if staff.is_empty() {
            continue;
        }
        if case.is_none() {
            case = staff_fields(c, case_id).await?;
        }
        let Some((region, base)) = &case else {
            return Ok(());
        };
        let mut fields = base.clone();
        fields.department = department_name(c, o.department).await?;
        fields.task = o.task.clone();
        fields.date = o.due.to_string();
        let facts = facts_json(&fields);
        for r in &staff {
            let to = Recipient::read(r, "id")?;
            notices(&mut rows, Event::TaskOpened, (case_id, region), &to, &facts);
        }
    }
    insert_notices(c, rows).await
}

/// A supervision notice or warning to one member of staff.
pub(crate) async fn on_supervision(
    c: &mut dyn Tx,
    case_id: i64,
    recipient: Option<i64>,
    comment: &str,
    reply_by: Option<&str>,
) -> Result<()> {
    let Some(recipient) = recipient else {
        return Ok(());
    };
    let Some(r) = c
        .opt(
            "SELECT id, phone, email, notify_channels, notify_lang, department FROM accounts WHERE id = $1 AND (phone IS NOT NULL OR email IS NOT NULL)",
            args![recipient],
        )
        .await?
    else {
        return Ok(());
    };
    let to = Recipient::read(&r, "id")?;
    let Some((region, mut fields)) = staff_fields(c, case_id).await? else {
        return Ok(());
    };
    if let Some(d) = r.opt_str("department")? {
        fields.department = department_name(c, &d).await?;
    }
    fields.reason = comment.to_string();
    fields.date = reply_by.unwrap_or_default().to_string();
    let mut rows = Vec::new();
    notices(
        &mut rows,
        Event::Supervision,
        (case_id, &region),
        &to,
        &facts_json(&fields),
    );
    insert_notices(c, rows).await
}

/// A case's facts for staff notices, with its region.
async fn staff_fields(c: &mut dyn Tx, case_id: i64) -> Result<Option<(String, Fields)>> {
    let Some(r) = c
        .opt(
            "SELECT c.id, c.region, c.number, i.name, i.name_en, a.name AS applicant FROM cases c JOIN items i ON i.code = c.item_code \
             JOIN accounts a ON a.id = c.applicant_id WHERE c.id = $1",
            args![case_id],
        )
        .await?
    else {
        return Ok(None);
    };
    let number = r.opt_str("number")?.unwrap_or_default();
    Ok(Some((
        r.str("region")?,
        Fields {
            url: format!("/cases/{case_id}"),
            number,
            item: r.str("name")?,
            item_en: r.str("name_en")?,
            applicant: r.str("applicant")?,
            ..Fields::default()
        },
    )))
}

async fn department_name(c: &mut dyn Tx, code: &str) -> Result<String> {
    Ok(
        c.opt("SELECT name FROM departments WHERE code = $1", args![code])
            .await?
            .map(|r| r.str("name"))
            .transpose()?
            .unwrap_or_else(|| code.to_string()),
    )
}
