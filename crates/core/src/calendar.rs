//! The working-day calendar (工作日): weekends, public holidays and make-up working days (调休).
//! All deadline arithmetic is here, pure, so it can be tested against the official schedules.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use time::{Date, Weekday};

/// Largest N accepted by [`Calendar::add_working_days`]: ten years of working days.
pub const MAX_WORKING_DAYS: i64 = 2500;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("N must be between 0 and {MAX_WORKING_DAYS}, not {0}")]
    BadCount(i64),
    #[error("{0} is listed twice")]
    DateTwice(Date),
    #[error("{0} is both a holiday and a make-up working day")]
    HolidayAndWorkday(Date),
    #[error("holiday '{0}' ends before it starts")]
    BadRange(String),
    #[error("'{0}' is not a date (YYYY-MM-DD)")]
    BadDate(String),
}

impl CalendarError {
    pub fn code(&self) -> &'static str {
        match self {
            CalendarError::BadCount(_) => "calendar.bad_count",
            CalendarError::DateTwice(_) => "calendar.date_twice",
            CalendarError::HolidayAndWorkday(_) => "calendar.holiday_and_workday",
            CalendarError::BadRange(_) => "calendar.bad_range",
            CalendarError::BadDate(_) => "calendar.bad_date",
        }
    }
    pub fn zh(&self) -> String {
        match self {
            CalendarError::BadCount(n) => {
                format!("工作日数应在0到{MAX_WORKING_DAYS}之间，不能是{n}")
            }
            CalendarError::DateTwice(d) => format!("{d} 重复出现"),
            CalendarError::HolidayAndWorkday(d) => format!("{d} 既是节假日又是调休上班日"),
            CalendarError::BadRange(n) => format!("节假日“{n}”的结束日期早于开始日期"),
            CalendarError::BadDate(s) => format!("“{s}”不是有效日期（YYYY-MM-DD）"),
        }
    }
}

/// What kind of day a listed date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// A public holiday (or a weekday given off by 调休).
    Holiday,
    /// A weekend day that is worked (调休上班).
    Workday,
}

/// The listed days of one region (or the nation); every other day follows the week.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    days: BTreeMap<Date, DayKind>,
    /// Years whose official schedule is loaded; outside them only weekends count.
    years: BTreeSet<i32>,
}

pub fn parse_date(s: &str) -> Result<Date, CalendarError> {
    Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map_err(|_| CalendarError::BadDate(s.to_string()))
}

impl Calendar {
    /// Builds a calendar from listed days; a date listed twice is refused.
    pub fn new(days: impl IntoIterator<Item = (Date, DayKind)>) -> Result<Calendar, CalendarError> {
        let mut c = Calendar::default();
        for (d, k) in days {
            if let Some(old) = c.days.insert(d, k) {
                return Err(if old == k {
                    CalendarError::DateTwice(d)
                } else {
                    CalendarError::HolidayAndWorkday(d)
                });
            }
            c.years.insert(d.year());
        }
        Ok(c)
    }

    /// A region's calendar: its own days override the national ones.
    pub fn overlay(&self, local: &Calendar) -> Calendar {
        let mut c = self.clone();
        c.days.extend(local.days.iter().map(|(d, k)| (*d, *k)));
        c.years.extend(local.years.iter().copied());
        c
    }

    pub fn is_working_day(&self, d: Date) -> bool {
        match self.days.get(&d) {
            Some(DayKind::Workday) => true,
            Some(DayKind::Holiday) => false,
            None => !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday),
        }
    }

    /// Whether the official schedule of `year` is known; if not, only weekends are skipped.
    pub fn knows_year(&self, year: i32) -> bool {
        self.years.contains(&year)
    }

    /// The date `n` working days after `from` (`from` itself is not counted; `n = 0` gives
    /// `from`). This is how a limit of N working days counted from acceptance ends.
    pub fn add_working_days(&self, from: Date, n: i64) -> Result<Date, CalendarError> {
        if !(0..=MAX_WORKING_DAYS).contains(&n) {
            return Err(CalendarError::BadCount(n));
        }
        let mut d = from;
        let mut left = n;
        while left > 0 {
            d = d.next_day().ok_or(CalendarError::BadCount(n))?;
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        Ok(d)
    }

    /// Working days in `(from, to]`; 0 when `to` is not after `from`.
    pub fn working_days_between(&self, from: Date, to: Date) -> i64 {
        let mut n = 0;
        let mut d = from;
        while d < to {
            match d.next_day() {
                Some(next) => d = next,
                None => break,
            }
            if self.is_working_day(d) {
                n += 1;
            }
        }
        n
    }

    pub fn days(&self) -> impl Iterator<Item = (Date, DayKind)> + '_ {
        self.days.iter().map(|(d, k)| (*d, *k))
    }
}

/// A calendar file: the official schedule of some years, or a region's own days.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarFile {
    /// Empty or absent: the national schedule. Otherwise a GB/T 2260 region code.
    #[serde(default)]
    pub region: String,
    #[serde(default, rename = "holiday")]
    pub holidays: Vec<HolidaySpan>,
    #[serde(default, rename = "workday")]
    pub workdays: Vec<NamedDay>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidaySpan {
    pub name: String,
    pub from: String,
    /// Inclusive; absent for a one-day holiday.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedDay {
    pub date: String,
    pub name: String,
}

impl CalendarFile {
    /// Every listed day with its kind and name; refuses a date twice, a day both holiday and
    /// make-up day, and bad dates or ranges.
    pub fn days(&self) -> Result<Vec<(Date, DayKind, String)>, CalendarError> {
        let mut out = Vec::new();
        for h in &self.holidays {
            let from = parse_date(&h.from)?;
            let to = match &h.to {
                Some(t) => parse_date(t)?,
                None => from,
            };
            if to < from || (to - from).whole_days() > 31 {
                return Err(CalendarError::BadRange(h.name.clone()));
            }
            let mut d = from;
            loop {
                out.push((d, DayKind::Holiday, h.name.clone()));
                if d == to {
                    break;
                }
                d = d
                    .next_day()
                    .ok_or_else(|| CalendarError::BadRange(h.name.clone()))?;
            }
        }
        for w in &self.workdays {
            out.push((parse_date(&w.date)?, DayKind::Workday, w.name.clone()));
        }
        Calendar::new(out.iter().map(|(d, k, _)| (*d, *k)))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn official() -> Calendar {
        let file: CalendarFile =
            toml::from_str(include_str!("../../../calendar/cn-2024-2026.toml")).unwrap();
        Calendar::new(file.days().unwrap().into_iter().map(|(d, k, _)| (d, k))).unwrap()
    }

    #[test]
    fn official_schedules_2024_to_2026() {
        let c = official();
        // Make-up Saturdays and Sundays are working days.
        for d in [
            date!(2024 - 02 - 04),
            date!(2024 - 02 - 18),
            date!(2024 - 04 - 07),
            date!(2024 - 04 - 28),
            date!(2024 - 05 - 11),
            date!(2024 - 09 - 14),
            date!(2024 - 09 - 29),
            date!(2024 - 10 - 12),
            date!(2025 - 01 - 26),
            date!(2025 - 02 - 08),
            date!(2025 - 04 - 27),
            date!(2025 - 09 - 28),
            date!(2025 - 10 - 11),
            date!(2026 - 01 - 04),
            date!(2026 - 02 - 14),
            date!(2026 - 02 - 28),
            date!(2026 - 05 - 09),
            date!(2026 - 09 - 20),
            date!(2026 - 10 - 10),
        ] {
            assert!(c.is_working_day(d), "{d} is a make-up working day");
        }
        // Weekdays inside the breaks are not.
        for d in [
            date!(2024 - 02 - 16),
            date!(2024 - 10 - 07),
            date!(2025 - 02 - 04),
            date!(2025 - 10 - 08),
            date!(2026 - 02 - 23),
            date!(2026 - 10 - 07),
            date!(2026 - 01 - 02),
            date!(2026 - 05 - 05),
        ] {
            assert!(!c.is_working_day(d), "{d} is a holiday");
        }
        // The long breaks, counted as a clerk would.
        assert_eq!(
            c.add_working_days(date!(2025 - 09 - 30), 1).unwrap(),
            date!(2025 - 10 - 09)
        );
        assert_eq!(
            c.add_working_days(date!(2025 - 09 - 26), 1).unwrap(),
            date!(2025 - 09 - 28)
        );
        assert_eq!(
            c.add_working_days(date!(2026 - 02 - 13), 1).unwrap(),
            date!(2026 - 02 - 14)
        );
        assert_eq!(
            c.add_working_days(date!(2026 - 02 - 14), 1).unwrap(),
            date!(2026 - 02 - 24)
        );
        assert_eq!(
            c.add_working_days(date!(2024 - 09 - 27), 2).unwrap(),
            date!(2024 - 09 - 30)
        );
        assert_eq!(
            c.add_working_days(date!(2024 - 09 - 30), 1).unwrap(),
            date!(2024 - 10 - 08)
        );
        // 20 working days from 2026-09-18 cross the make-up Sunday and National Day.
        assert_eq!(
            c.add_working_days(date!(2026 - 09 - 18), 20).unwrap(),
            date!(2026 - 10 - 22)
        );
        assert_eq!(
            c.working_days_between(date!(2026 - 09 - 18), date!(2026 - 10 - 22)),
            20
        );
        assert!(c.knows_year(2026) && !c.knows_year(2027));
    }

    #[test]
    fn bad_files_and_counts_are_refused() {
        let twice: CalendarFile = toml::from_str(
            "[[holiday]]\nname='a'\nfrom='2026-01-01'\n[[holiday]]\nname='b'\nfrom='2026-01-01'\n",
        )
        .unwrap();
        assert_eq!(twice.days().unwrap_err().code(), "calendar.date_twice");
        let both: CalendarFile = toml::from_str(
            "[[holiday]]\nname='a'\nfrom='2026-01-03'\n[[workday]]\nname='b'\ndate='2026-01-03'\n",
        )
        .unwrap();
        assert_eq!(
            both.days().unwrap_err().code(),
            "calendar.holiday_and_workday"
        );
        let c = official();
        assert_eq!(
            c.add_working_days(date!(2026 - 01 - 01), -1)
                .unwrap_err()
                .code(),
            "calendar.bad_count"
        );
        assert!(c
            .add_working_days(date!(2026 - 01 - 01), MAX_WORKING_DAYS + 1)
            .is_err());
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (0i64..1400).prop_map(|d| date!(2023 - 06 - 01) + time::Duration::days(d))
    }

    proptest! {
        #[test]
        fn adding_lands_on_a_working_day(d in any_date(), n in 1i64..400) {
            let c = official();
            prop_assert!(c.is_working_day(c.add_working_days(d, n).unwrap()));
        }

        #[test]
        fn adding_n_then_m_is_adding_n_plus_m(d in any_date(), n in 0i64..200, m in 0i64..200) {
            let c = official();
            let a = c.add_working_days(c.add_working_days(d, n).unwrap(), m).unwrap();
            prop_assert_eq!(a, c.add_working_days(d, n + m).unwrap());
        }

        #[test]
        fn counting_inverts_adding(d in any_date(), n in 0i64..300) {
            let c = official();
            prop_assert_eq!(c.working_days_between(d, c.add_working_days(d, n).unwrap()), n);
        }

        /// A clock stop of K working days moves the deadline by exactly K working days.
        #[test]
        fn a_clock_stop_moves_the_deadline_by_its_length(d in any_date(), n in 1i64..60, k in 0i64..30) {
            let c = official();
            let deadline = c.add_working_days(d, n).unwrap();
            let with_stop = c.add_working_days(d, n + k).unwrap();
            prop_assert_eq!(c.working_days_between(deadline, with_stop), k);
        }

        #[test]
        fn a_local_day_overrides_the_nation(d in any_date()) {
            let nation = official();
            let local = Calendar::new([(d, DayKind::Holiday)]).unwrap();
            prop_assert!(!nation.overlay(&local).is_working_day(d));
            let local = Calendar::new([(d, DayKind::Workday)]).unwrap();
            prop_assert!(nation.overlay(&local).is_working_day(d));
        }
    }
}
