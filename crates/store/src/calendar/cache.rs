//! Calendars by region, kept briefly.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use yichuang_core::calendar::Calendar;

/// Calendars by region, kept briefly: every acceptance needs one, edits are rare. Edits in
/// this process clear it at once; other processes see them within the time to live.
#[derive(Clone, Default)]
pub struct Cache(Arc<Mutex<HashMap<String, Cached>>>);

/// When a calendar was loaded, and the calendar.
type Cached = (Instant, Arc<Calendar>);

const CACHE_TTL: Duration = Duration::from_secs(30);

impl Cache {
    pub(crate) fn get(&self, key: &str) -> Option<Arc<Calendar>> {
        let map = self.0.lock().ok()?;
        map.get(key)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, c)| c.clone())
    }
    pub(crate) fn put(&self, key: String, cal: Arc<Calendar>) {
        if let Ok(mut map) = self.0.lock() {
            map.insert(key, (Instant::now(), cal));
        }
    }
    pub(crate) fn clear(&self) {
        if let Ok(mut map) = self.0.lock() {
            map.clear();
        }
    }
}
