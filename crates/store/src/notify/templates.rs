//! Editing notice texts: list, preview against a case, save (checked first).

use crate::args;
use crate::notify::events::case_fields;
use crate::notify::events::corrections;
use crate::notify::scope::admin_in_scope;
use crate::notify::scope::template_region;
use crate::notify::texts::absolute;
use crate::notify::texts::edited;
use crate::notify::texts::TemplateMap;
use crate::{now_ms, Result, Store, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use yichuang_core::notify::{Event, Fields, Lang};
use yichuang_core::{Actor, Permission};

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

impl Store {
    pub(crate) async fn template_map(&self) -> Result<Arc<TemplateMap>> {
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
