//! Notice texts: admin-edited ones by region (nearest first) over the built-in ones, cached.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Edited texts by (event, language): (subject, body).
pub(crate) type TemplateMap = HashMap<(String, String, String), (String, String)>;

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
pub(crate) fn edited<'m>(
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
    pub(crate) fn get(&self) -> Option<Arc<TemplateMap>> {
        self.0
            .read()
            .ok()
            .and_then(|g| g.clone())
            .filter(|(at, _)| at.elapsed() < TEMPLATES_FRESH)
            .map(|(_, m)| m)
    }
    pub(crate) fn set(&self, v: Option<Arc<TemplateMap>>) {
        if let Ok(mut g) = self.0.write() {
            *g = v.map(|m| (std::time::Instant::now(), m));
        }
    }
}

/// Texts link to pages by path; the public address goes in front when they are rendered.
pub(crate) fn absolute(url: &mut String, public_url: &str) {
    if url.starts_with('/') {
        *url = format!("{}{}", public_url.trim_end_matches('/'), url);
    }
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
