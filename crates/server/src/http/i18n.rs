//! Chinese first, English second: the language of a request.

use axum::http::HeaderMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    /// The `lang` cookie wins (set by the page switch); then Accept-Language; then Chinese.
    pub fn from_headers(h: &HeaderMap) -> Lang {
        if let Some(c) = cookie(h, "lang") {
            return if c == "en" { Lang::En } else { Lang::Zh };
        }
        let al = h
            .get("accept-language")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if al.trim_start().to_ascii_lowercase().starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }
    /// Picks the text for this language.
    pub fn t<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => {
                if en.is_empty() {
                    zh
                } else {
                    en
                }
            }
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

/// A cookie's value from the request's headers.
pub fn cookie(h: &HeaderMap, name: &str) -> Option<String> {
    h.get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}
