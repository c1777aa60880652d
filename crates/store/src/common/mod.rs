//! What every capability shares and that belongs to none of them: list paging, the clock
//! and the hall's local day, random keys. Imports no capability.

/// A page of a list, newest first: `cursor` is the last id of the previous page.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub cursor: Option<i64>,
    pub limit: i64,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            cursor: None,
            limit: 50,
        }
    }
}

/// The local date of a UTC instant in the hall's time zone.
pub fn local_date_of(ms: i64, offset_hours: i8) -> time::Date {
    let off = time::UtcOffset::from_hms(offset_hours, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::from_unix_timestamp(ms / 1000)
        .map(|t| t.to_offset(off).date())
        .unwrap_or_else(|_| local_today(offset_hours))
}

/// Today in the hall's time zone: "day N" boundaries follow the hall's local day.
pub fn local_today(offset_hours: i8) -> time::Date {
    let off = time::UtcOffset::from_hms(offset_hours, 0, 0).unwrap_or(time::UtcOffset::UTC);
    time::OffsetDateTime::now_utc().to_offset(off).date()
}

/// Milliseconds since the Unix epoch, UTC: how every time is stored.
pub fn now_ms() -> i64 {
    (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

pub(crate) fn random_key() -> String {
    use rand::Rng;
    let v: u128 = rand::thread_rng().gen();
    format!("{v:032x}")
}
