//! Case deadlines and traffic lights (限时办结, 电子监察), computed from the working-day
//! calendar. Pure: a light is a function of today's date, so it changes by itself.

use crate::calendar::{Calendar, CalendarError};
use serde::{Deserialize, Serialize};
use time::Date;

/// 内控线 by default: two thirds of the promised limit, rounded down.
pub fn default_internal_limit(promised: u32) -> u32 {
    promised * 2 / 3
}

/// Working days before a deadline at which a case turns yellow, by default.
pub fn default_yellow_days(promised: u32) -> i64 {
    if promised <= 5 {
        1
    } else {
        3
    }
}

/// What a concluded (办结) case records: the working days it took and whether it kept each
/// limit. Statistics and the public 办件公示 are counted from these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Conclusion {
    pub concluded_on: Date,
    pub days_used: i64,
    pub within_internal: bool,
    pub within_promised: bool,
    pub within_legal: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadlines {
    /// The local date of acceptance: day 0.
    pub accepted_on: Date,
    pub internal: Date,
    pub promised: Date,
    pub legal: Date,
    /// From this date the case is yellow (until it turns red): stored so that lights can be
    /// counted by a database query.
    pub yellow_from: Date,
}

/// An item's limits in working days, as its catalog entry sets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub internal: u32,
    pub promised: u32,
    pub legal: u32,
    /// Working days before the internal-control line at which a case turns yellow.
    pub yellow_days: u32,
}

impl Limits {
    /// The defaults for a promised limit: internal two thirds, legal the same, default margin.
    pub fn for_promised(promised: u32) -> Limits {
        Limits {
            internal: default_internal_limit(promised),
            promised,
            legal: promised,
            yellow_days: default_yellow_days(promised) as u32,
        }
    }
}

impl Deadlines {
    /// Counts each limit in working days from acceptance, plus `stopped` working days of clock
    /// stops (特别程序), which do not count.
    pub fn compute(
        cal: &Calendar,
        accepted_on: Date,
        limits: &Limits,
        stopped: i64,
    ) -> Result<Deadlines, CalendarError> {
        let at = |n: u32| cal.add_working_days(accepted_on, i64::from(n) + stopped.max(0));
        let internal = at(limits.internal.min(limits.promised))?;
        Ok(Deadlines {
            accepted_on,
            internal,
            promised: at(limits.promised)?,
            legal: at(limits.legal.max(limits.promised))?,
            yellow_from: yellow_from(cal, accepted_on, internal, i64::from(limits.yellow_days)),
        })
    }

    /// How a case concluded on `on` stands against each limit. A deadline's own day is still
    /// in time, as for the lights; `stopped` working days of clock stops are not counted.
    pub fn conclusion(&self, cal: &Calendar, on: Date, stopped: i64) -> Conclusion {
        Conclusion {
            concluded_on: on,
            days_used: (cal.working_days_between(self.accepted_on, on) - stopped.max(0)).max(0),
            within_internal: on <= self.internal,
            within_promised: on <= self.promised,
            within_legal: on <= self.legal,
        }
    }

    /// The date the next supervision line is crossed once lines up to `done` (0 none,
    /// 1 yellow, 2 red, 3 overdue) have been noticed; none after overdue.
    pub fn next_alert(&self, done: u8) -> Option<Date> {
        match done {
            0 => Some(self.yellow_from),
            1 => self.internal.next_day(),
            2 => self.promised.min(self.legal).next_day(),
            _ => None,
        }
    }

    /// The light on `today` from the stored dates alone (the same as [`light`]).
    pub fn light_on(&self, today: Date) -> Light {
        if today > self.promised || today > self.legal {
            Light::Overdue
        } else if today > self.internal {
            Light::Red
        } else if today >= self.yellow_from {
            Light::Yellow
        } else {
            Light::Green
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Light {
    Green,
    Yellow,
    Red,
    Overdue,
}

impl Light {
    /// The supervision line a light stands for: 0 green, 1 yellow, 2 red, 3 overdue.
    pub fn level(self) -> u8 {
        match self {
            Light::Green => 0,
            Light::Yellow => 1,
            Light::Red => 2,
            Light::Overdue => 3,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Light::Green => "green",
            Light::Yellow => "yellow",
            Light::Red => "red",
            Light::Overdue => "overdue",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Light::Green => "绿灯（正常）",
            Light::Yellow => "黄灯（临近期限）",
            Light::Red => "红灯（超过内控线）",
            Light::Overdue => "超期",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            Light::Green => "Green (on track)",
            Light::Yellow => "Yellow (deadline near)",
            Light::Red => "Red (past the internal-control line)",
            Light::Overdue => "Overdue",
        }
    }
}

/// The first day with at most `yellow_days` working days left before `internal`: the
/// (yellow_days + 1)-th working day counting back from it, never before acceptance.
fn yellow_from(cal: &Calendar, accepted_on: Date, internal: Date, yellow_days: i64) -> Date {
    let mut d = internal;
    let mut seen = 0;
    while d > accepted_on {
        if cal.is_working_day(d) {
            seen += 1;
            if seen == yellow_days + 1 {
                return d;
            }
        }
        match d.previous_day() {
            Some(p) => d = p,
            None => break,
        }
    }
    accepted_on
}

/// The light of a case on `today` (its completion date, once completed).
pub fn light(cal: &Calendar, today: Date, d: &Deadlines, yellow_days: i64) -> Light {
    if today > d.promised || today > d.legal {
        Light::Overdue
    } else if today > d.internal {
        Light::Red
    } else if cal.working_days_between(today, d.internal) <= yellow_days {
        Light::Yellow
    } else {
        Light::Green
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::date;

    fn cal() -> Calendar {
        let file: crate::calendar::CalendarFile =
            toml::from_str(include_str!("../../../calendar/cn-2024-2026.toml")).unwrap();
        Calendar::new(file.days().unwrap().into_iter().map(|(d, k, _)| (d, k))).unwrap()
    }

    #[test]
    fn a_case_accepted_before_national_day() {
        let c = cal();
        // Accepted Tue 2026-09-22: promised 8, internal 5 (2/3 of 8), legal 20.
        let limits = Limits {
            legal: 20,
            ..Limits::for_promised(8)
        };
        let d = Deadlines::compute(&c, date!(2026 - 09 - 22), &limits, 0).unwrap();
        assert_eq!(d.internal, date!(2026 - 09 - 30));
        assert_eq!(
            d.promised,
            date!(2026 - 10 - 10),
            "the make-up Saturday counts"
        );
        assert_eq!(d.legal, date!(2026 - 10 - 27));
        let y = default_yellow_days(8);
        assert_eq!(light(&c, date!(2026 - 09 - 22), &d, y), Light::Green);
        assert_eq!(
            light(&c, date!(2026 - 09 - 25), &d, y),
            Light::Yellow,
            "3 working days before the internal line"
        );
        assert_eq!(light(&c, date!(2026 - 10 - 01), &d, y), Light::Red);
        assert_eq!(
            light(&c, date!(2026 - 10 - 10), &d, y),
            Light::Red,
            "the promised day itself is still in time"
        );
        assert_eq!(light(&c, date!(2026 - 10 - 12), &d, y), Light::Overdue);
        // Five working days of expert review move every deadline by five working days.
        let s = Deadlines::compute(&c, date!(2026 - 09 - 22), &limits, 5).unwrap();
        assert_eq!(s.promised, date!(2026 - 10 - 16));
        // Concluded on the promised day after those five days of review: in time, 8 days used.
        let done = s.conclusion(&c, date!(2026 - 10 - 16), 5);
        assert_eq!(done.days_used, 8);
        assert!(done.within_promised && !done.within_internal && done.within_legal);
        let late = s.conclusion(&c, date!(2026 - 10 - 19), 5);
        assert!(!late.within_promised && late.days_used == 9);
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (0i64..1000).prop_map(|d| date!(2024 - 01 - 01) + time::Duration::days(d))
    }

    proptest! {
        /// A late case never shows green; lights only get worse as days pass.
        #[test]
        fn lights_never_improve_with_time(acc in any_date(), promised in 0u32..30, extra in 0u32..30, later in 0i64..120, gap in 0i64..60) {
            let c = cal();
            let d = Deadlines::compute(&c, acc, &Limits { legal: promised + extra, ..Limits::for_promised(promised) }, 0).unwrap();
            let t1 = acc + time::Duration::days(later);
            let t2 = t1 + time::Duration::days(gap);
            let y = default_yellow_days(promised);
            prop_assert!(light(&c, t1, &d, y) <= light(&c, t2, &d, y));
            if t1 > d.promised {
                prop_assert_eq!(light(&c, t1, &d, y), Light::Overdue);
            }
            prop_assert!(d.internal <= d.promised && d.promised <= d.legal);
        }

        /// The stored-dates light (what the dashboard query counts) is the calendar's light.
        #[test]
        fn stored_dates_give_the_same_light(acc in any_date(), promised in 0u32..30, internal in 0u32..30, later in 0i64..90) {
            let c = cal();
            let d = Deadlines::compute(&c, acc, &Limits { internal, legal: promised + 10, ..Limits::for_promised(promised) }, 0).unwrap();
            let today = acc + time::Duration::days(later);
            prop_assert_eq!(d.light_on(today), light(&c, today, &d, default_yellow_days(promised)));
        }

        /// The worker's next date is exactly the day the light first reaches the next line.
        #[test]
        fn next_alert_is_when_the_light_changes(acc in any_date(), promised in 0u32..30, later in 0i64..90) {
            let c = cal();
            let d = Deadlines::compute(&c, acc, &Limits::for_promised(promised), 0).unwrap();
            let today = acc + time::Duration::days(later);
            let level = d.light_on(today).level();
            for done in 0..3u8 {
                let next = d.next_alert(done).unwrap();
                prop_assert_eq!(today >= next, level > done, "done {} next {} today {}", done, next, today);
            }
            prop_assert_eq!(d.next_alert(3), None);
        }

        /// An item's wider yellow margin turns its cases yellow no later, and never moves a
        /// deadline; the margin counts working days back from the internal-control line.
        #[test]
        fn a_wider_margin_turns_yellow_no_later(acc in any_date(), promised in 1u32..30, a in 0u32..10, b in 0u32..10) {
            let c = cal();
            let (lo, hi) = (a.min(b), a.max(b));
            let narrow = Deadlines::compute(&c, acc, &Limits { yellow_days: lo, ..Limits::for_promised(promised) }, 0).unwrap();
            let wide = Deadlines::compute(&c, acc, &Limits { yellow_days: hi, ..Limits::for_promised(promised) }, 0).unwrap();
            prop_assert!(wide.yellow_from <= narrow.yellow_from);
            prop_assert_eq!((wide.internal, wide.promised, wide.legal), (narrow.internal, narrow.promised, narrow.legal));
            if narrow.yellow_from > acc {
                prop_assert_eq!(c.working_days_between(narrow.yellow_from, narrow.internal), i64::from(lo));
            }
        }

        /// A case concluded on a working day kept its promised limit exactly when it used no
        /// more working days than the limit, with or without clock stops.
        #[test]
        fn days_used_agree_with_the_deadline(acc in any_date(), promised in 0u32..30, stop in 0i64..10, later in 0i64..90) {
            let c = cal();
            let d = Deadlines::compute(&c, acc, &Limits::for_promised(promised), stop).unwrap();
            let on = acc + time::Duration::days(later);
            prop_assume!(c.is_working_day(on));
            let done = d.conclusion(&c, on, stop);
            prop_assert!(done.days_used >= 0);
            if c.working_days_between(acc, on) >= stop {
                prop_assert_eq!(done.within_promised, done.days_used <= i64::from(promised));
            }
        }
    }
}
