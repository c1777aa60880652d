//! Case numbers: `{region}-{yyyymmdd}-{sequence}-{check}`, e.g. `360822-20261123-000042-7`.
//! Readable over the phone, typed without dashes too, and a mistyped digit is caught.

use crate::ids::mod37_36_check;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CaseNumber(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a case number")]
pub struct BadCaseNumber;

impl CaseNumber {
    pub fn new(region: &str, date: time::Date, seq: u64) -> Self {
        let body = format!(
            "{region}{:04}{:02}{:02}{seq:06}",
            date.year(),
            u8::from(date.month()),
            date.day()
        );
        let check = mod37_36_check(&body).unwrap_or('0');
        CaseNumber(format!(
            "{region}-{:04}{:02}{:02}-{seq:06}-{check}",
            date.year(),
            u8::from(date.month()),
            date.day()
        ))
    }

    /// Accepts the canonical form or the same characters without dashes.
    pub fn parse(raw: &str) -> Result<Self, BadCaseNumber> {
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| *c != '-' && *c != ' ')
            .collect::<String>()
            .to_ascii_uppercase();
        // region (6, 9 or 12) + date 8 + seq ≥ 6 + check 1
        let n = compact.len();
        if !(21..=40).contains(&n) || !compact.is_ascii() {
            return Err(BadCaseNumber);
        }
        let (body, check) = compact.split_at(n - 1);
        if !body.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BadCaseNumber);
        }
        if mod37_36_check(body).map(String::from).as_deref() != Some(check) {
            return Err(BadCaseNumber);
        }
        let region_len = [12usize, 9, 6]
            .into_iter()
            .find(|r| body.len() - r == 14)
            .ok_or(BadCaseNumber)?;
        let (region, rest) = body.split_at(region_len);
        let (date, seq) = rest.split_at(8);
        Ok(CaseNumber(format!("{region}-{date}-{seq}-{check}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CaseNumber {
    type Error = BadCaseNumber;
    fn try_from(s: String) -> Result<Self, BadCaseNumber> {
        Self::parse(&s)
    }
}
impl From<CaseNumber> for String {
    fn from(v: CaseNumber) -> String {
        v.0
    }
}
impl fmt::Display for CaseNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn numbers_round_trip_and_catch_typos(seq in 0u64..999_999, d in 0i64..3000, pos in 0usize..20) {
            let date = time::macros::date!(2024 - 01 - 01) + time::Duration::days(d);
            let n = CaseNumber::new("360822", date, seq);
            prop_assert_eq!(CaseNumber::parse(n.as_str()).unwrap(), n.clone());
            let compact: String = n.as_str().chars().filter(|c| *c != '-').collect();
            prop_assert_eq!(CaseNumber::parse(&compact).unwrap(), n.clone());
            // Change one digit: the check character catches it.
            let mut b = compact.into_bytes();
            b[pos] = if b[pos] == b'9' { b'0' } else { b[pos] + 1 };
            prop_assert!(CaseNumber::parse(std::str::from_utf8(&b).unwrap()).is_err());
        }
    }
}
