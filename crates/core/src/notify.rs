//! Notices (C6): which events notify whom, their texts, how addresses are masked and how
//! failed deliveries back off. Texts are minijinja templates; every event renders from the
//! same set of fields, so a template that renders against the sample fields renders against
//! any real case and a broken one is refused when it is saved, never when it is sent.

use serde::Serialize;
use std::fmt;

/// What happened, as the notice texts know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    Submitted,
    CorrectionRequired,
    Accepted,
    Suspended,
    Resumed,
    Decided,
    Withdrawn,
    ResultReady,
    RatingInvitation,
    TaskOpened,
    Supervision,
}

impl Event {
    pub const ALL: [Event; 11] = [
        Event::Submitted,
        Event::CorrectionRequired,
        Event::Accepted,
        Event::Suspended,
        Event::Resumed,
        Event::Decided,
        Event::Withdrawn,
        Event::ResultReady,
        Event::RatingInvitation,
        Event::TaskOpened,
        Event::Supervision,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Event::Submitted => "submitted",
            Event::CorrectionRequired => "correction_required",
            Event::Accepted => "accepted",
            Event::Suspended => "suspended",
            Event::Resumed => "resumed",
            Event::Decided => "decided",
            Event::Withdrawn => "withdrawn",
            Event::ResultReady => "result_ready",
            Event::RatingInvitation => "rating_invitation",
            Event::TaskOpened => "task_opened",
            Event::Supervision => "supervision",
        }
    }

    pub fn parse(s: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.code() == s)
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            Event::Submitted => "已提交",
            Event::CorrectionRequired => "补正告知",
            Event::Accepted => "已受理",
            Event::Suspended => "特别程序开始",
            Event::Resumed => "特别程序结束",
            Event::Decided => "办理结果",
            Event::Withdrawn => "已撤回",
            Event::ResultReady => "结果可领取",
            Event::RatingInvitation => "好差评邀请",
            Event::TaskOpened => "待办任务",
            Event::Supervision => "督办通知",
        }
    }

    /// Staff events go to staff; the rest to the applicant.
    pub fn for_staff(self) -> bool {
        matches!(self, Event::TaskOpened | Event::Supervision)
    }

    /// The built-in text, used until an admin saves another.
    pub fn default_template(self, lang: Lang) -> (&'static str, &'static str) {
        use Event::*;
        match (self, lang) {
            (Submitted, Lang::Zh) => ("【一窗】申请已提交", "您申请的{{ item }}已提交，办件编号{{ number }}，请等待窗口审核。查询：{{ url }}"),
            (Submitted, Lang::En) => ("Application submitted", "Your application for {{ item_en }} was submitted as case {{ number }}. Track it: {{ url }}"),
            (CorrectionRequired, Lang::Zh) => ("【一窗】请补正材料", "您的办件{{ number }}（{{ item }}）需补正以下材料，请一次补齐：{% for c in corrections %}{{ loop.index }}. {{ c }}；{% endfor %}查询：{{ url }}"),
            (CorrectionRequired, Lang::En) => ("Please correct your materials", "Case {{ number }} ({{ item_en }}) needs these materials corrected, all at once: {% for c in corrections %}{{ loop.index }}. {{ c }}; {% endfor %}Track it: {{ url }}"),
            (Accepted, Lang::Zh) => ("【一窗】已受理", "您的办件{{ number }}（{{ item }}）已受理，承诺{{ date }}前办结。查询：{{ url }}"),
            (Accepted, Lang::En) => ("Case accepted", "Case {{ number }} ({{ item_en }}) was accepted and will be done by {{ date }}. Track it: {{ url }}"),
            (Suspended, Lang::Zh) => ("【一窗】办件进入特别程序", "您的办件{{ number }}进入特别程序（{{ reason }}），期间不计入办理时限。"),
            (Suspended, Lang::En) => ("Case clock stopped", "Case {{ number }} entered a special procedure ({{ reason }}); the time limit is paused."),
            (Resumed, Lang::Zh) => ("【一窗】特别程序结束", "您的办件{{ number }}特别程序已结束，承诺办结日期顺延至{{ date }}。"),
            (Resumed, Lang::En) => ("Case clock restarted", "Case {{ number }} left its special procedure; it will now be done by {{ date }}."),
            (Decided, Lang::Zh) => ("【一窗】办理结果", "您的办件{{ number }}（{{ item }}）已办结：{{ result }}。{% if reason %}理由：{{ reason }}。{% endif %}查询：{{ url }}"),
            (Decided, Lang::En) => ("Decision on your case", "Case {{ number }} ({{ item_en }}) is decided: {{ result_en }}.{% if reason %} Reason: {{ reason }}.{% endif %} Track it: {{ url }}"),
            (Withdrawn, Lang::Zh) => ("【一窗】办件已撤回", "您的办件{{ number }}（{{ item }}）已撤回。"),
            (Withdrawn, Lang::En) => ("Case withdrawn", "Case {{ number }} ({{ item_en }}) was withdrawn."),
            (ResultReady, Lang::Zh) => ("【一窗】办理结果可领取", "您的办件{{ number }}（{{ item }}）的结果文书已制作完成，请凭受理通知书到大厅窗口领取；选择邮寄的将按您留的地址寄出。"),
            (ResultReady, Lang::En) => ("Your result is ready", "The result of case {{ number }} ({{ item_en }}) is ready: collect it at the hall's window with your receipt, or it is posted to you if you chose post."),
            (RatingInvitation, Lang::Zh) => ("【一窗】请您评价", "您的办件{{ number }}已办结，欢迎对本次服务作出评价（好差评）：{{ url }}"),
            (RatingInvitation, Lang::En) => ("Please rate our service", "Case {{ number }} is done. Please rate the service: {{ url }}"),
            (TaskOpened, Lang::Zh) => ("【一窗】新的待办", "{{ department }}有新的待办：办件{{ number }}（{{ item }}），{{ task }}，请于{{ date }}前处理。"),
            (TaskOpened, Lang::En) => ("New task", "{{ department }} has a new task: case {{ number }} ({{ item_en }}), {{ task }}, due {{ date }}."),
            (Supervision, Lang::Zh) => ("【一窗】督办通知", "办件{{ number }}（{{ item }}）收到督办通知：{{ reason }}，请于{{ date }}前回复。"),
            (Supervision, Lang::En) => ("Supervision notice", "Case {{ number }} ({{ item_en }}) has a supervision notice: {{ reason }}. Reply by {{ date }}."),
        }
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// Where a notice goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Sms,
    Email,
    Inapp,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Sms, Channel::Email, Channel::Inapp];
    pub fn code(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
            Channel::Inapp => "inapp",
        }
    }
    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.code() == s)
    }
    /// Parses a stored or submitted choice such as "sms,inapp"; unknown names are an error.
    pub fn parse_list(s: &str) -> Result<Vec<Channel>, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let c = Channel::parse(part).ok_or_else(|| part.to_string())?;
            if !out.contains(&c) {
                out.push(c);
            }
        }
        Ok(out)
    }
}

/// The fields every notice text can use. Every event fills the same set (empty where it has
/// nothing to say), which is what makes save-time checking complete.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Fields {
    pub number: String,
    pub item: String,
    pub item_en: String,
    pub applicant: String,
    pub department: String,
    pub task: String,
    pub date: String,
    pub reason: String,
    pub result: String,
    pub result_en: String,
    pub corrections: Vec<String>,
    pub url: String,
}

impl Fields {
    /// What a preview without a case, and the save-time check, render against.
    pub fn sample() -> Fields {
        Fields {
            number: "360822-2026-000001".into(),
            item: "道路运输经营许可".into(),
            item_en: "Road transport operating permit".into(),
            applicant: "张三".into(),
            department: "县交通运输局".into(),
            task: "审查".into(),
            date: "2026-12-18".into(),
            reason: "材料需要现场核验".into(),
            result: "准予许可".into(),
            result_en: "approved".into(),
            corrections: vec!["营业执照复印件不清晰".into(), "缺少法定代表人签字".into()],
            url: "https://example.gov.cn/status?n=360822-2026-000001&s=ABCD1234".into(),
        }
    }
}

/// Longest text a template may hold; SMS gateways reject far shorter messages anyway.
pub const MAX_TEMPLATE_CHARS: usize = 4000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the {part} template is empty")]
    Empty { part: &'static str },
    #[error("the {part} template is longer than {MAX_TEMPLATE_CHARS} characters")]
    TooLong { part: &'static str },
    #[error("the {part} template does not work: {message}")]
    Broken { part: &'static str, message: String },
    #[error("the {part} template can come out empty")]
    RendersEmpty { part: &'static str },
}

impl TemplateError {
    pub fn zh(&self) -> String {
        match self {
            TemplateError::Empty { part } => format!("{}模板为空", part_zh(part)),
            TemplateError::TooLong { part } => {
                format!("{}模板超过{MAX_TEMPLATE_CHARS}个字符", part_zh(part))
            }
            TemplateError::Broken { part, message } => {
                format!("{}模板有误：{message}", part_zh(part))
            }
            TemplateError::RendersEmpty { part } => {
                format!("{}模板可能生成空白内容", part_zh(part))
            }
        }
    }
}

fn part_zh(part: &str) -> &'static str {
    if part == "subject" {
        "标题"
    } else {
        "正文"
    }
}

fn env() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    // A misspelt field is an error at save time, not an empty gap in a text sent to thousands.
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    // A template cannot loop its way into holding a worker: rendering has a budget.
    env.set_fuel(Some(20_000));
    env
}

fn render_one(part: &'static str, src: &str, fields: &Fields) -> Result<String, TemplateError> {
    if src.trim().is_empty() {
        return Err(TemplateError::Empty { part });
    }
    if src.chars().count() > MAX_TEMPLATE_CHARS {
        return Err(TemplateError::TooLong { part });
    }
    let broken = |e: minijinja::Error| TemplateError::Broken {
        part,
        message: match e.line() {
            Some(l) => format!("line {l}: {}", e.detail().unwrap_or(&e.kind().to_string())),
            None => e.detail().unwrap_or(&e.kind().to_string()).to_string(),
        },
    };
    let env = env();
    let t = env.template_from_str(src).map_err(broken)?;
    let out = t.render(fields).map_err(broken)?;
    Ok(out.trim().to_string())
}

/// Renders a subject and body. The same call checks a template at save time (with
/// [`Fields::sample`]) and renders it when a notice is written.
pub fn render(
    subject: &str,
    body: &str,
    fields: &Fields,
) -> Result<(String, String), TemplateError> {
    Ok((
        render_one("subject", subject, fields)?,
        render_one("body", body, fields)?,
    ))
}

/// The save-time check: the text renders, to something, against the sample and against a
/// case with nothing optional filled in (no corrections, empty reason, date and result), so
/// that indexing into a list or relying on a field fails here and not when sent.
pub fn check(subject: &str, body: &str) -> Result<(), TemplateError> {
    let sparse = Fields {
        number: "360822-2026-000001".into(),
        item: "道路运输经营许可".into(),
        item_en: "Road transport operating permit".into(),
        url: "https://example.gov.cn/status".into(),
        ..Fields::default()
    };
    for f in [Fields::sample(), sparse] {
        let (s, b) = render(subject, body, &f)?;
        if s.is_empty() {
            return Err(TemplateError::RendersEmpty { part: "subject" });
        }
        if b.is_empty() {
            return Err(TemplateError::RendersEmpty { part: "body" });
        }
    }
    Ok(())
}

/// 138****1234: the first three and last four digits stay.
pub fn mask_phone(p: &str) -> String {
    mask_middle(p, 3, 4)
}

/// 110***********1234.
pub fn mask_id(id: &str) -> String {
    mask_middle(id, 3, 4)
}

/// a***@example.com.
pub fn mask_email(e: &str) -> String {
    match e.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

fn mask_middle(s: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.extend(std::iter::repeat_n('*', chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// The masked form of an address on a channel, for logs and the delivery log.
pub fn mask_address(channel: Channel, address: &str) -> String {
    match channel {
        Channel::Sms => mask_phone(address),
        Channel::Email => mask_email(address),
        Channel::Inapp => address.to_string(),
    }
}

/// How long to wait before attempt `attempt + 1` (attempt counts from 1): doubling from
/// `base_ms`, capped at `cap_ms`, then spread by `jitter` in [0, 1) over half to the whole
/// of that, so a provider's recovery is not met by every notice at once.
pub fn backoff_ms(attempt: u32, base_ms: u64, cap_ms: u64, jitter: f64) -> u64 {
    let exp = base_ms.saturating_mul(1u64 << attempt.saturating_sub(1).min(30));
    let full = exp.min(cap_ms);
    let j = jitter.clamp(0.0, 1.0);
    (full as f64 * (0.5 + 0.5 * j)) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_default_template_renders_against_the_sample() {
        for e in Event::ALL {
            for l in [Lang::Zh, Lang::En] {
                let (s, b) = e.default_template(l);
                let (_, body) = render(s, b, &Fields::sample()).expect("renders");
                assert!(body.contains("360822-2026-000001"), "{e} {l:?}: {body}");
            }
        }
        let (_, body) = render(
            "x",
            Event::CorrectionRequired.default_template(Lang::Zh).1,
            &Fields::sample(),
        )
        .unwrap();
        assert!(
            body.contains("1. 营业执照复印件不清晰") && body.contains("2. 缺少法定代表人签字"),
            "{body}"
        );
    }

    #[test]
    fn broken_templates_are_refused_with_the_part_named() {
        let f = Fields::sample();
        let e = render("ok", "您的办件{{ numbr }}", &f).unwrap_err();
        assert!(
            matches!(e, TemplateError::Broken { part: "body", .. }),
            "{e}"
        );
        let e = render("{% if %}", "x", &f).unwrap_err();
        assert!(
            matches!(
                e,
                TemplateError::Broken {
                    part: "subject",
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.zh().starts_with("标题模板有误"));
        assert_eq!(
            render(" ", "x", &f).unwrap_err(),
            TemplateError::Empty { part: "subject" }
        );
        // What the sample alone would let through: a second correction that a case may lack,
        // a text that is empty when the reason is.
        assert!(matches!(
            check("x", "{{ corrections[1] }}").unwrap_err(),
            TemplateError::Broken { .. }
        ));
        assert_eq!(
            check("x", "{{ reason }}").unwrap_err(),
            TemplateError::RendersEmpty { part: "body" }
        );
        assert!(check(
            "x",
            "{% for i in range(1000) %}{% for j in range(1000) %}x{% endfor %}{% endfor %}"
        )
        .is_err());
        for e in Event::ALL {
            for l in [Lang::Zh, Lang::En] {
                let (s, b) = e.default_template(l);
                check(s, b).unwrap_or_else(|err| panic!("{e} {l:?}: {err}"));
            }
        }
        let long = "字".repeat(MAX_TEMPLATE_CHARS + 1);
        assert_eq!(
            render("x", &long, &f).unwrap_err(),
            TemplateError::TooLong { part: "body" }
        );
    }

    #[test]
    fn masks_keep_only_what_identifies_nobody() {
        assert_eq!(mask_phone("13812341234"), "138****1234");
        assert_eq!(mask_id("110101199003074514"), "110***********4514");
        assert_eq!(mask_email("alice@example.com"), "a***@example.com");
        assert_eq!(mask_email("bad"), "***");
        assert_eq!(mask_phone("123"), "***");
    }

    #[test]
    fn channel_lists_parse_and_refuse_unknown_names() {
        assert_eq!(
            Channel::parse_list("sms, inapp,sms").unwrap(),
            vec![Channel::Sms, Channel::Inapp]
        );
        assert_eq!(Channel::parse_list("fax").unwrap_err(), "fax");
        assert!(Channel::parse_list("").unwrap().is_empty());
    }

    proptest! {
        #[test]
        fn backoff_grows_is_capped_and_stays_within_its_spread(a in 1u32..64, j in 0.0f64..1.0) {
            let (base, cap) = (1_000u64, 600_000u64);
            let d = backoff_ms(a, base, cap, j);
            let full = (base.saturating_mul(1u64 << (a - 1).min(30))).min(cap);
            prop_assert!(d >= full / 2 && d <= full);
            // Without jitter the wait never shrinks from one attempt to the next.
            prop_assert!(backoff_ms(a + 1, base, cap, 1.0) >= backoff_ms(a, base, cap, 1.0));
        }

        #[test]
        fn masked_phones_keep_their_length_and_ends(p in "1[3-9][0-9]{9}") {
            let m = mask_phone(&p);
            prop_assert_eq!(m.chars().count(), 11);
            prop_assert_eq!(&m[..3], &p[..3]);
            prop_assert_eq!(&m[7..], &p[7..]);
            prop_assert_eq!(&m[3..7], "****");
        }
    }
}
