//! How a person wants to hear from us.

use crate::args;
use crate::{Result, Store, StoreError};
use yichuang_core::notify::{Channel, Lang};
use yichuang_core::Actor;

/// How someone wants to hear from us.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct NoticePrefs {
    pub channels: Vec<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub lang: String,
}

impl Store {
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
}
