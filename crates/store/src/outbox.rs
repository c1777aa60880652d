//! The notice outbox (C6). A step writes its notices in its own transaction, so a step that
//! rolls back sends nothing and a committed one cannot lose its notice; the delivery worker
//! claims due notices, renders them with the current templates and hands them to a channel.
//! Several servers share the work: PostgreSQL claims with `FOR UPDATE SKIP LOCKED`, SQLite
//! has one writer and one in-process worker.

use crate::args;
use crate::cases::Page;
use crate::tx::{Tx, Val};
use crate::{now_ms, Backend, Result, Store, StoreError};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use yichuang_core::notify::{mask_address, Channel, Event, Fields, Lang};
use yichuang_core::{Actor, ActorKind, CaseStatus, Permission, Role};

/// Edited texts by (event, language): (subject, body).
type TemplateMap = HashMap<(String, String, String), (String, String)>;

/// Where a region's notice texts come from, nearest first: the region itself, the county,
/// city and province above it, then the platform-wide texts ('').
pub fn region_chain(code: &str) -> Vec<String> {
    let mut out = vec![code.to_string()];
    if code.len() > 6 {
        out.push(code[..6].to_string());
    }
    if code.len() >= 6 && code.is_char_boundary(4) {
        out.push(format!("{}00", &code[..4]));
        out.push(format!("{}0000", &code[..2]));
    }
    out.push(String::new());
    out.dedup();
    out
}

/// The edited text for a region's notices of an event and language, if any region on its
/// chain has one.
fn edited<'m>(
    m: &'m TemplateMap,
    region: &str,
    event: &str,
    lang: &str,
) -> Option<&'m (String, String)> {
    region_chain(region)
        .into_iter()
        .find_map(|r| m.get(&(r, event.to_string(), lang.to_string())))
}

/// Admin-edited texts, read again every few seconds (another server may have saved one) and
/// at once after a save here; the built-in ones fill the gaps.
#[derive(Clone, Default)]
pub(crate) struct Templates(Arc<RwLock<Option<ReadTemplates>>>);

/// The texts and when they were read.
type ReadTemplates = (std::time::Instant, Arc<TemplateMap>);

const TEMPLATES_FRESH: std::time::Duration = std::time::Duration::from_secs(5);

impl Templates {
    fn get(&self) -> Option<Arc<TemplateMap>> {
        self.0
            .read()
            .ok()
            .and_then(|g| g.clone())
            .filter(|(at, _)| at.elapsed() < TEMPLATES_FRESH)
            .map(|(_, m)| m)
    }
    fn set(&self, v: Option<Arc<TemplateMap>>) {
        if let Ok(mut g) = self.0.write() {
            *g = v.map(|m| (std::time::Instant::now(), m));
        }
    }
}

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

struct Recipient {
    account_id: i64,
    phone: Option<String>,
    email: Option<String>,
    channels: String,
    lang: String,
}

impl Recipient {
    fn read(r: &crate::tx::Row, id_col: &str) -> Result<Recipient> {
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

/// The claim of a worker pass on one channel's due notices, along that channel's own index
/// (SQLite: one partial index per channel; PostgreSQL: (channel, next_at)). The channel is
/// written into the statement, a code of ours and never user input: SQLite uses a partial
/// index only for a statement that names what the index is limited to.
pub(crate) fn claim_sql(ch: Channel, lock: &str) -> String {
    format!(
        "UPDATE outbox SET locked_until = $1, attempts = attempts + 1, claim = $4 WHERE id IN \
         (SELECT id FROM outbox WHERE status IN ('queued', 'failed') AND channel = '{}' AND next_at <= $2 AND locked_until <= $2 \
         ORDER BY next_at LIMIT $3{lock}) \
         RETURNING id, event, region, channel, address, address_masked, lang, fields, idem_key, attempts, claim",
        ch.code()
    )
}

/// Texts link to pages by path; the public address goes in front when they are rendered.
fn absolute(url: &mut String, public_url: &str) {
    if url.starts_with('/') {
        *url = format!("{}{}", public_url.trim_end_matches('/'), url);
    }
}

fn random_key() -> String {
    use rand::Rng;
    let v: u128 = rand::thread_rng().gen();
    format!("{v:032x}")
}

/// The facts a case's notice texts use, read in the caller's transaction. The link is a path;
/// the worker puts the public address in front when it renders.
/// A case's notice facts, with where it is and who applied.
struct CaseFacts {
    case_id: i64,
    region: String,
    to: Recipient,
    fields: Fields,
}

async fn case_fields(c: &mut dyn Tx, number: &str) -> Result<Option<CaseFacts>> {
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
async fn corrections(c: &mut dyn Tx, case_id: i64) -> Result<Vec<String>> {
    let Some(r) = c
        .opt(
            "SELECT problems, note FROM correction_notices WHERE case_id = $1 ORDER BY id DESC LIMIT 1",
            args![case_id],
        )
        .await?
    else {
        return Ok(vec![]);
    };
    let item = crate::cases::load(c, case_id).await?.item;
    let problems: Vec<crate::cases::MaterialCheck> =
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

/// A notice the worker has claimed, with its text rendered.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub id: i64,
    pub event: String,
    pub channel: Channel,
    pub address: String,
    pub address_masked: String,
    pub subject: String,
    pub body: String,
    pub idem_key: String,
    pub attempts: i64,
    /// The claiming pass's token; the result is recorded only while it still holds.
    pub claim: String,
}

/// How a send ended, with the provider's answer.
#[derive(Debug, Clone)]
pub enum Delivered {
    Sent(String),
    /// Tried again at `at` (ms). `counted: false` when the send never reached the provider
    /// (its channel was paused by the breaker): the claim's attempt is given back.
    Retry {
        answer: String,
        at: i64,
        counted: bool,
    },
    GivenUp(String),
}

/// One line of the delivery log; addresses masked.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub event: String,
    pub case_number: Option<String>,
    pub channel: String,
    pub recipient: String,
    pub status: String,
    pub attempts: i64,
    pub provider_answer: Option<String>,
    pub subject: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    pub next_at: i64,
}

/// What the status page may do for a client address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryGate {
    Open,
    /// Answer, but only after this many milliseconds.
    Slow(u64),
    /// Refuse until this many milliseconds have passed.
    Blocked(u64),
}

/// Wrong tries counted per address over this window.
const TRY_WINDOW_MS: i64 = 15 * 60_000;
/// After this many wrong tries each answer is slowed…
const SLOW_AFTER: i64 = 5;
/// …and after this many the address is blocked.
const BLOCK_AFTER: i64 = 10;
const BLOCK_MS: i64 = 15 * 60_000;

/// The region codes an admin's notices lie in (a county admin sees the county's).
fn admin_range(actor: &Actor) -> Result<(String, String)> {
    match &actor.kind {
        ActorKind::Staff {
            role: Role::Admin,
            region,
        } => Ok(region.code_range()),
        ActorKind::System => Ok((String::new(), "~".into())),
        _ => admin_in_scope(actor).map(|()| (String::new(), String::new())),
    }
}

/// The region whose texts an admin edits: their own ('' for the platform itself).
fn template_region(actor: &Actor) -> String {
    match &actor.kind {
        ActorKind::Staff { region, .. } => region.as_str().to_string(),
        _ => String::new(),
    }
}

fn admin_in_scope(actor: &Actor) -> Result<()> {
    match &actor.kind {
        ActorKind::Staff {
            role: Role::Admin, ..
        }
        | ActorKind::System => Ok(()),
        _ => Err(StoreError::forbidden(
            "notice.admin_only",
            "Only an administrator manages notices.",
            "只有管理员可以管理通知。",
        )),
    }
}

/// A template as the admin page shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TemplateRow {
    pub event: String,
    pub event_name: String,
    pub lang: String,
    pub subject: String,
    pub body: String,
    /// False while the built-in text is in use.
    pub edited: bool,
}

/// An in-app notice in a person's inbox.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InboxNotice {
    pub id: i64,
    pub event: String,
    pub case_id: Option<i64>,
    pub subject: String,
    pub body: String,
    pub created_at: i64,
    pub read: bool,
}

/// How someone wants to hear from us.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NoticePrefs {
    pub channels: Vec<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub lang: String,
}

impl Store {
    pub(crate) async fn read_tx<T, F>(&self, f: F) -> Result<T>
    where
        F: for<'c> FnOnce(&'c mut dyn Tx) -> futures::future::BoxFuture<'c, Result<T>>,
    {
        let mut conn = self.read.acquire().await?;
        let mut t = crate::tx::SqlxTx { conn: &mut conn };
        f(&mut t).await
    }

    async fn template_map(&self) -> Result<Arc<TemplateMap>> {
        if let Some(m) = self.templates.get() {
            return Ok(m);
        }
        let rows = sqlx::query_as::<_, (String, String, String, String, String)>(
            "SELECT region, event, lang, subject, body FROM notice_templates",
        )
        .fetch_all(self.pool())
        .await?;
        let m: HashMap<_, _> = rows
            .into_iter()
            .map(|(r, e, l, s, b)| ((r, e, l), (s, b)))
            .collect();
        let m = Arc::new(m);
        self.templates.set(Some(m.clone()));
        Ok(m)
    }

    /// Every event's text in both languages, edited or built in.
    /// The texts an admin's region uses: its own where edited, else inherited from above, else
    /// built in. `edited` is true only for the region's own.
    pub async fn notice_templates(&self, actor: &Actor) -> Result<Vec<TemplateRow>> {
        admin_in_scope(actor)?;
        let region = template_region(actor);
        let m = self.template_map().await?;
        let mut out = Vec::new();
        for e in Event::ALL {
            for l in [Lang::Zh, Lang::En] {
                let own =
                    m.contains_key(&(region.clone(), e.code().to_string(), l.code().to_string()));
                let edited = edited(&m, &region, e.code(), l.code());
                let (s, b) = edited
                    .map(|(s, b)| (s.clone(), b.clone()))
                    .unwrap_or_else(|| {
                        let (s, b) = e.default_template(l);
                        (s.to_string(), b.to_string())
                    });
                out.push(TemplateRow {
                    event: e.code().into(),
                    event_name: e.name_zh().into(),
                    lang: l.code().into(),
                    subject: s,
                    body: b,
                    edited: own,
                });
            }
        }
        Ok(out)
    }

    /// Renders a template against a real case (or the sample), without saving it.
    pub async fn preview_template(
        &self,
        actor: &Actor,
        event: &str,
        subject: &str,
        body: &str,
        case_number: Option<&str>,
        public_url: &str,
    ) -> Result<(String, String)> {
        admin_in_scope(actor)?;
        let event = parse_event(event)?;
        let mut fields = match case_number.map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => {
                let n = n.to_string();
                let found = self
                    .read_tx(move |c| {
                        Box::pin(async move {
                            let Some(facts) = case_fields(c, &n).await? else {
                                return Ok(None);
                            };
                            let corrections = corrections(c, facts.case_id).await?;
                            Ok(Some((facts, corrections)))
                        })
                    })
                    .await?;
                let Some((facts, corrections)) = found else {
                    return Err(StoreError::no_case());
                };
                if !actor.may_in(Permission::ReadCases, &facts.region) {
                    return Err(StoreError::no_case());
                }
                let mut f = facts.fields;
                f.corrections = corrections;
                let sample = Fields::sample();
                if f.corrections.is_empty() && event == Event::CorrectionRequired {
                    f.corrections = sample.corrections;
                }
                for (v, s) in [
                    (&mut f.department, sample.department),
                    (&mut f.task, sample.task),
                    (&mut f.result, sample.result),
                    (&mut f.result_en, sample.result_en),
                    (&mut f.reason, sample.reason),
                    (&mut f.date, sample.date),
                ] {
                    if v.is_empty() {
                        *v = s;
                    }
                }
                f
            }
            None => Fields::sample(),
        };
        absolute(&mut fields.url, public_url);
        yichuang_core::notify::render(subject, body, &fields).map_err(template_error)
    }

    /// Saves an admin's text; one that does not render against the sample is refused and
    /// nothing changes.
    pub async fn save_template(
        &self,
        actor: &Actor,
        event: &str,
        lang: &str,
        subject: &str,
        body: &str,
    ) -> Result<()> {
        admin_in_scope(actor)?;
        let event = parse_event(event)?;
        let lang = Lang::parse(lang).ok_or_else(|| {
            StoreError::invalid(
                "notice.lang",
                "lang must be zh or en.",
                "语言应为 zh 或 en。",
            )
        })?;
        yichuang_core::notify::check(subject, body).map_err(template_error)?;
        let (actor2, subject, body) = (actor.clone(), subject.to_string(), body.to_string());
        self.write(move |c| {
            Box::pin(async move {
                c.exec(
                    "INSERT INTO notice_templates (event, lang, subject, body, updated_by, updated_at, region) VALUES ($1,$2,$3,$4,$5,$6,$7) \
                     ON CONFLICT (region, event, lang) DO UPDATE SET subject = excluded.subject, body = excluded.body, updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                    args![event.code(), lang.code(), &subject, &body, actor2.account_id, now_ms(), template_region(&actor2)],
                )
                .await?;
                crate::audit::record(c, &actor2, crate::audit::Entry {
                    action: "notice.template",
                    detail: format!("{} {} {}", template_region(&actor2), event.code(), lang.code()),
                    ..Default::default()
                })
                .await
            })
        })
        .await?;
        self.templates.set(None);
        Ok(())
    }

    /// Claims up to `limit` due notices on the given channels (those with a provider that is
    /// up) for this worker, and renders them. Each claim counts as an attempt.
    ///
    /// A claimed notice stays with its worker for `lease_ms`; a worker killed mid-send leaves
    /// it to be claimed again after that (the provider drops the second copy by its key).
    pub async fn claim_notices(
        &self,
        limit: i64,
        only: &[Channel],
        lease_ms: i64,
        public_url: &str,
    ) -> Result<Vec<Outgoing>> {
        if only.is_empty() {
            return Ok(vec![]);
        }
        let now = now_ms();
        let lock = if self.backend == Backend::Postgres {
            " FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        // One channel at a time: a channel's backlog never slows the others' claims. The token
        // marks this pass's claims for recording.
        let token = random_key();
        let channels: Vec<Channel> = only.to_vec();
        let per = (limit / channels.len() as i64).max(1);
        let rows = self
            .write(move |c| {
                Box::pin(async move {
                    let mut rows = Vec::new();
                    for ch in channels {
                        rows.extend(
                            c.query(
                                &claim_sql(ch, lock),
                                args![now + lease_ms, now, per, &token],
                            )
                            .await?,
                        );
                    }
                    Ok(rows)
                })
            })
            .await?;
        if rows.is_empty() {
            return Ok(vec![]);
        }
        let templates = self.template_map().await?;
        let mut out = Vec::with_capacity(rows.len());
        let mut unknown = Vec::new();
        for r in rows {
            let event = r.str("event")?;
            let lang = r.str("lang")?;
            // A notice of an event this build does not know (a newer server wrote it during
            // a rolling upgrade) waits for that server; put back for a while, uncounted.
            let Some(ev) = Event::parse(&event) else {
                unknown.push(r.i64("id")?);
                continue;
            };
            let mut fields: Fields = serde_json::from_str(&r.str("fields")?).unwrap_or_default();
            absolute(&mut fields.url, public_url);
            let l = Lang::parse(&lang).unwrap_or(Lang::Zh);
            let (subject, body) = match edited(&templates, &r.str("region")?, &event, &lang) {
                Some((s, b)) => yichuang_core::notify::render(s, b, &fields),
                None => Err(yichuang_core::notify::TemplateError::Empty { part: "body" }),
            }
            .or_else(|e| {
                if !matches!(e, yichuang_core::notify::TemplateError::Empty { .. }) {
                    tracing::warn!(event = %ev, lang = %lang, error = %e, "edited notice text failed; the built-in text was sent");
                }
                // Only the built-in text is left when no edited one renders; it always does.
                let (s, b) = ev.default_template(l);
                yichuang_core::notify::render(s, b, &fields)
            })
            .unwrap_or_else(|e| (ev.name_zh().to_string(), e.to_string()));
            out.push(Outgoing {
                id: r.i64("id")?,
                event,
                channel: Channel::parse(&r.str("channel")?).unwrap_or(Channel::Inapp),
                address: r.str("address")?,
                address_masked: r.str("address_masked")?,
                subject,
                body,
                idem_key: r.str("idem_key")?,
                attempts: r.i64("attempts")?,
                claim: r.str("claim")?,
            });
        }
        if !unknown.is_empty() {
            self.write(move |c| {
                Box::pin(async move {
                    for id in unknown {
                        c.exec(
                            "UPDATE outbox SET attempts = attempts - 1, next_at = $1, locked_until = 0, claim = NULL WHERE id = $2",
                            args![now + 600_000, id],
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .await?;
        }
        Ok(out)
    }

    /// Records how each send ended; the rendered text is kept for the log.
    pub async fn record_deliveries(&self, results: Vec<(Outgoing, Delivered)>) -> Result<()> {
        if results.is_empty() {
            return Ok(());
        }
        self.write(move |c| {
            Box::pin(async move {
                let now = now_ms();
                for (n, r) in results {
                    // Providers often repeat the address in their answer: the log shows it masked.
                    let answer_of = |a: &str| {
                        a.replace(&n.address, &n.address_masked)
                            .chars()
                            .take(500)
                            .collect::<String>()
                    };
                    match r {
                        Delivered::Sent(answer) => {
                            c.exec(
                                "UPDATE outbox SET status = 'sent', sent_at = $1, provider_answer = $2, subject = $3, body = $4, locked_until = 0, claim = NULL WHERE id = $5 AND claim = $6",
                                args![now, answer_of(&answer), &n.subject, &n.body, n.id, &n.claim],
                            )
                            .await?;
                        }
                        Delivered::Retry { answer, at, counted } => {
                            c.exec(
                                "UPDATE outbox SET status = 'failed', next_at = $1, provider_answer = $2, subject = $3, body = $4, locked_until = 0, attempts = attempts - $6, claim = NULL WHERE id = $5 AND claim = $7",
                                args![at, answer_of(&answer), &n.subject, &n.body, n.id, i64::from(!counted), &n.claim],
                            )
                            .await?;
                        }
                        Delivered::GivenUp(answer) => {
                            c.exec(
                                "UPDATE outbox SET status = 'given_up', provider_answer = $1, subject = $2, body = $3, locked_until = 0, claim = NULL WHERE id = $4 AND claim = $5",
                                args![answer_of(&answer), &n.subject, &n.body, n.id, &n.claim],
                            )
                            .await?;
                        }
                    }
                }
                Ok(())
            })
        })
        .await
    }

    /// The delivery log, newest first; admins only; addresses masked.
    pub async fn delivery_log(
        &self,
        actor: &Actor,
        status: Option<&str>,
        case_number: Option<&str>,
        page: Page,
    ) -> Result<Vec<DeliveryRow>> {
        let (lo, hi) = admin_range(actor)?;
        let rows = sqlx::query(
            "SELECT o.id, o.event, c.number, o.channel, o.address_masked, o.status, o.attempts, o.provider_answer, o.subject, o.created_at, o.sent_at, o.next_at \
             FROM outbox o JOIN cases c ON c.id = o.case_id \
             WHERE o.id < $1 AND ($2 = '' OR o.status = $2) AND ($3 = '' OR c.number = $3) AND c.region >= $5 AND c.region < $6 ORDER BY o.id DESC LIMIT $4",
        )
        .bind(page.cursor.unwrap_or(i64::MAX))
        .bind(status.unwrap_or(""))
        .bind(case_number.unwrap_or(""))
        .bind(page.limit)
        .bind(lo)
        .bind(hi)
        .fetch_all(self.pool())
        .await?;
        use sqlx::Row as _;
        rows.iter()
            .map(|r| {
                Ok(DeliveryRow {
                    id: r.try_get("id")?,
                    event: r.try_get("event")?,
                    case_number: r.try_get("number")?,
                    channel: r.try_get("channel")?,
                    recipient: r.try_get("address_masked")?,
                    status: r.try_get("status")?,
                    attempts: r.try_get("attempts")?,
                    provider_answer: r.try_get("provider_answer")?,
                    subject: r.try_get("subject")?,
                    created_at: r.try_get("created_at")?,
                    sent_at: r.try_get("sent_at")?,
                    next_at: r.try_get("next_at")?,
                })
            })
            .collect()
    }

    /// Sends a notice again as a new notice with a key of its own (the provider would drop a
    /// resend under the old key). Returns the new notice's id.
    pub async fn resend_notice(&self, actor: &Actor, id: i64) -> Result<i64> {
        let (lo, hi) = admin_range(actor)?;
        let actor = actor.clone();
        self.write(move |c| {
            Box::pin(async move {
                let now = now_ms();
                let new_id = c
                    .opt(
                        "INSERT INTO outbox (event, case_id, account_id, channel, address, address_masked, lang, fields, idem_key, status, next_at, created_at) \
                         SELECT o.event, o.case_id, o.account_id, o.channel, o.address, o.address_masked, o.lang, o.fields, $1, 'queued', $2, $2 \
                         FROM outbox o JOIN cases k ON k.id = o.case_id WHERE o.id = $3 AND k.region >= $4 AND k.region < $5 RETURNING id",
                        args![format!("yc-resend-{}", random_key()), now, id, &lo, &hi],
                    )
                    .await?
                    .ok_or_else(|| StoreError::not_found("notice.not_found", "No such notice.", "没有该通知。"))?
                    .i64("id")?;
                crate::audit::record(c, &actor, crate::audit::Entry {
                    action: "notice.resend",
                    detail: format!("notice {id} as {new_id}"),
                    ..Default::default()
                })
                .await?;
                Ok(new_id)
            })
        })
        .await
    }

    /// A person's in-app notices, newest first.
    pub async fn inbox_notices(&self, actor: &Actor, page: Page) -> Result<Vec<InboxNotice>> {
        use sqlx::Row as _;
        let rows = sqlx::query(
            "SELECT o.id, o.event, o.case_id, o.subject, o.body, o.created_at, o.read_at FROM cases c JOIN outbox o ON o.case_id = c.id \
             WHERE c.applicant_id = $1 AND o.account_id = $1 AND o.channel = 'inapp' AND o.status = 'sent' AND o.id < $2 ORDER BY o.id DESC LIMIT $3",
        )
        .bind(actor.account_id)
        .bind(page.cursor.unwrap_or(i64::MAX))
        .bind(page.limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(InboxNotice {
                    id: r.try_get("id")?,
                    event: r.try_get("event")?,
                    case_id: r.try_get("case_id")?,
                    subject: r
                        .try_get::<Option<String>, _>("subject")?
                        .unwrap_or_default(),
                    body: r.try_get::<Option<String>, _>("body")?.unwrap_or_default(),
                    created_at: r.try_get("created_at")?,
                    read: r.try_get::<Option<i64>, _>("read_at")?.is_some(),
                })
            })
            .collect()
    }

    /// Marks a person's in-app notices read, up to and including `up_to`.
    pub async fn mark_inbox_read(&self, actor: &Actor, up_to: i64) -> Result<u64> {
        let who = actor.account_id;
        self.write(move |c| {
            Box::pin(async move {
                c.exec(
                    "UPDATE outbox SET read_at = $1 WHERE case_id IN (SELECT id FROM cases WHERE applicant_id = $2) \
                     AND account_id = $2 AND channel = 'inapp' AND read_at IS NULL AND id <= $3",
                    args![now_ms(), who, up_to],
                )
                .await
            })
        })
        .await
    }

    pub async fn notice_prefs(&self, actor: &Actor) -> Result<NoticePrefs> {
        let (channels, phone, email, lang): (String, Option<String>, Option<String>, String) =
            sqlx::query_as(
                "SELECT notify_channels, phone, email, notify_lang FROM accounts WHERE id = $1",
            )
            .bind(actor.account_id)
            .fetch_one(self.pool())
            .await?;
        Ok(NoticePrefs {
            channels: Channel::parse_list(&channels)
                .unwrap_or_default()
                .iter()
                .map(|c| c.code().to_string())
                .collect(),
            phone,
            email,
            lang,
        })
    }

    /// Sets how a person hears from us. A channel without an address is refused.
    pub async fn set_notice_prefs(&self, actor: &Actor, p: NoticePrefs) -> Result<NoticePrefs> {
        let channels = Channel::parse_list(&p.channels.join(",")).map_err(|bad| {
            StoreError::invalid(
                "prefs.channel",
                format!("Unknown channel '{bad}': use sms, email or inapp."),
                format!("未知的通知方式“{bad}”：可选 sms、email、inapp。"),
            )
        })?;
        let phone = p
            .phone
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let email = p
            .email
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        if let Some(ph) = &phone {
            if !(ph.len() == 11 && ph.starts_with('1') && ph.chars().all(|c| c.is_ascii_digit())) {
                return Err(StoreError::invalid(
                    "prefs.phone",
                    "A mobile number has 11 digits and starts with 1.",
                    "手机号码应为以1开头的11位数字。",
                ));
            }
        }
        if let Some(em) = &email {
            let ok = em.split_once('@').is_some_and(|(l, d)| {
                !l.is_empty() && d.contains('.') && !d.starts_with('.') && !em.contains(' ')
            });
            if !ok || em.len() > 200 {
                return Err(StoreError::invalid(
                    "prefs.email",
                    "That is not an e-mail address.",
                    "电子邮箱格式不正确。",
                ));
            }
        }
        if channels.contains(&Channel::Sms) && phone.is_none() {
            return Err(StoreError::invalid(
                "prefs.no_phone",
                "SMS needs a mobile number.",
                "选择短信通知须填写手机号码。",
            ));
        }
        if channels.contains(&Channel::Email) && email.is_none() {
            return Err(StoreError::invalid(
                "prefs.no_email",
                "E-mail notices need an e-mail address.",
                "选择邮件通知须填写电子邮箱。",
            ));
        }
        let lang = Lang::parse(&p.lang).ok_or_else(|| {
            StoreError::invalid(
                "prefs.lang",
                "lang must be zh or en.",
                "语言应为 zh 或 en。",
            )
        })?;
        let list = channels
            .iter()
            .map(|c| c.code())
            .collect::<Vec<_>>()
            .join(",");
        let actor2 = actor.clone();
        let (ph, em, l2) = (phone.clone(), email.clone(), lang.code());
        self.write(move |c| {
            Box::pin(async move {
                c.exec(
                    "UPDATE accounts SET notify_channels = $1, phone = $2, email = $3, notify_lang = $4 WHERE id = $5",
                    args![&list, ph, em, l2, actor2.account_id],
                )
                .await?;
                crate::audit::record(c, &actor2, crate::audit::Entry {
                    action: "account.notice_prefs",
                    detail: list,
                    ..Default::default()
                })
                .await
            })
        })
        .await?;
        self.notice_prefs(actor).await
    }

    /// Takes one try for a client before the lookup, counted as wrong until
    /// [`Store::status_right`] says otherwise. Taking it first, in one statement, means a burst
    /// of parallel guesses is counted as it arrives rather than after it has been answered.
    pub async fn status_try(&self, client: &str) -> Result<TryGate> {
        let client = client.to_string();
        self.write(move |c| {
            Box::pin(async move {
                let now = now_ms();
                let r = c
                    .one(
                        "INSERT INTO status_tries (client, failures, window_start, blocked_until) VALUES ($1, 1, $2, 0) \
                         ON CONFLICT (client) DO UPDATE SET \
                           failures = CASE WHEN status_tries.blocked_until > $2 THEN status_tries.failures \
                                           WHEN $2 - status_tries.window_start >= $3 THEN 1 ELSE status_tries.failures + 1 END, \
                           window_start = CASE WHEN status_tries.blocked_until > $2 THEN status_tries.window_start \
                                               WHEN $2 - status_tries.window_start >= $3 THEN $2 ELSE status_tries.window_start END \
                         RETURNING failures, blocked_until",
                        args![&client, now, TRY_WINDOW_MS],
                    )
                    .await?;
                let blocked = r.i64("blocked_until")?;
                if blocked > now {
                    return Ok(TryGate::Blocked((blocked - now) as u64));
                }
                let f = r.i64("failures")?;
                if f > BLOCK_AFTER {
                    c.exec(
                        "UPDATE status_tries SET blocked_until = $1, failures = 0, window_start = $2 WHERE client = $3",
                        args![now + BLOCK_MS, now, &client],
                    )
                    .await?;
                    return Ok(TryGate::Blocked(BLOCK_MS as u64));
                }
                Ok(if f > SLOW_AFTER {
                    TryGate::Slow((f - SLOW_AFTER).min(5) as u64 * 1000)
                } else {
                    TryGate::Open
                })
            })
        })
        .await
    }

    /// The try taken by [`Store::status_try`] found its case: it does not count as wrong.
    pub async fn status_right(&self, client: &str) -> Result<()> {
        let client = client.to_string();
        self.write(move |c| {
            Box::pin(async move {
                c.exec(
                    "UPDATE status_tries SET failures = failures - 1 WHERE client = $1 AND failures > 0",
                    args![&client],
                )
                .await
                .map(|_| ())
            })
        })
        .await
    }

    /// Counts by status of the notices of an admin's region, for the admin page.
    pub async fn delivery_counts(&self, actor: &Actor) -> Result<Vec<(String, i64)>> {
        let (lo, hi) = admin_range(actor)?;
        Ok(sqlx::query_as(
            "SELECT o.status, CAST(COUNT(*) AS BIGINT) FROM outbox o JOIN cases c ON c.id = o.case_id \
             WHERE c.region >= $1 AND c.region < $2 GROUP BY o.status ORDER BY o.status",
        )
        .bind(lo)
        .bind(hi)
        .fetch_all(self.pool())
        .await?)
    }

    /// Counts of all notices by status (the tests and the benchmark).
    pub async fn outbox_counts(&self) -> Result<Vec<(String, i64)>> {
        Ok(sqlx::query_as(
            "SELECT status, CAST(COUNT(*) AS BIGINT) FROM outbox GROUP BY status ORDER BY status",
        )
        .fetch_all(self.pool())
        .await?)
    }
}

fn parse_event(s: &str) -> Result<Event> {
    Event::parse(s).ok_or_else(|| {
        StoreError::invalid(
            "notice.event",
            format!("There is no notice event '{s}'."),
            format!("没有“{s}”这种通知事件。"),
        )
    })
}

fn template_error(e: yichuang_core::notify::TemplateError) -> StoreError {
    StoreError::invalid("template.broken", e.to_string(), e.zh())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_region_takes_its_own_texts_then_those_above_it() {
        assert_eq!(
            region_chain("360822101"),
            vec!["360822101", "360822", "360800", "360000", ""]
        );
        assert_eq!(
            region_chain("360822"),
            vec!["360822", "360800", "360000", ""]
        );
        assert_eq!(region_chain("440000"), vec!["440000", ""]);
        let mut m = TemplateMap::new();
        let key = |r: &str| (r.to_string(), "submitted".to_string(), "zh".to_string());
        m.insert(key("360822"), ("county".into(), "x".into()));
        m.insert(key(""), ("platform".into(), "x".into()));
        assert_eq!(
            edited(&m, "360822101", "submitted", "zh").unwrap().0,
            "county"
        );
        assert_eq!(
            edited(&m, "440000", "submitted", "zh").unwrap().0,
            "platform"
        );
        m.remove(&key(""));
        assert!(edited(&m, "420105", "submitted", "zh").is_none());
    }
}
