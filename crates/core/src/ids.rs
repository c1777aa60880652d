//! Identity numbers and codes, parsed once at the edge so the rest of the code can trust them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an identity number or code was refused; `field` is filled in by the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must be {0} characters")]
    Length(usize),
    #[error("contains a character that is not allowed")]
    Charset,
    #[error("check character is wrong")]
    Check,
    #[error("birth date is not a real date")]
    BirthDate,
    #[error("region code is malformed")]
    Region,
}

impl IdError {
    pub fn code(&self) -> &'static str {
        match self {
            IdError::Length(_) => "length",
            IdError::Charset => "charset",
            IdError::Check => "check_character",
            IdError::BirthDate => "birth_date",
            IdError::Region => "region",
        }
    }
    pub fn zh(&self) -> String {
        match self {
            IdError::Length(n) => format!("长度应为{n}位"),
            IdError::Charset => "含有不允许的字符".into(),
            IdError::Check => "校验码错误".into(),
            IdError::BirthDate => "出生日期无效".into(),
            IdError::Region => "区划代码格式错误".into(),
        }
    }
}

/// 居民身份证号码 (GB 11643): 18 characters, ISO 7064 MOD 11-2 check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ResidentId(String);

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: &[u8; 11] = b"10X98765432";

impl ResidentId {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let s = raw.trim().to_ascii_uppercase();
        if s.len() != 18 {
            return Err(IdError::Length(18));
        }
        let b = s.as_bytes();
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(IdError::Charset);
        }
        let year: i32 = s[6..10].parse().map_err(|_| IdError::BirthDate)?;
        let month: u8 = s[10..12].parse().map_err(|_| IdError::BirthDate)?;
        let day: u8 = s[12..14].parse().map_err(|_| IdError::BirthDate)?;
        let month = time::Month::try_from(month).map_err(|_| IdError::BirthDate)?;
        if !(1900..=2100).contains(&year) {
            return Err(IdError::BirthDate);
        }
        time::Date::from_calendar_date(year, month, day).map_err(|_| IdError::BirthDate)?;
        if b[17] != Self::check_char(&s[..17]) {
            return Err(IdError::Check);
        }
        Ok(ResidentId(s))
    }

    /// The check character for the first 17 digits.
    pub fn check_char(first17: &str) -> u8 {
        let sum: u32 = first17
            .bytes()
            .zip(ID_WEIGHTS)
            .map(|(c, w)| u32::from(c - b'0') * w)
            .sum();
        ID_CHECK[(sum % 11) as usize]
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `110105********0123`: the common on-screen mask.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

impl TryFrom<String> for ResidentId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}
impl From<ResidentId> for String {
    fn from(v: ResidentId) -> String {
        v.0
    }
}
impl fmt::Display for ResidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// 统一社会信用代码 (GB 32100): 18 characters, MOD 31 check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uscc(String);

const USCC_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

impl Uscc {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let s = raw.trim().to_ascii_uppercase();
        if s.len() != 18 {
            return Err(IdError::Length(18));
        }
        let mut vals = [0u32; 18];
        for (i, c) in s.bytes().enumerate() {
            vals[i] = USCC_CHARS
                .iter()
                .position(|&x| x == c)
                .ok_or(IdError::Charset)? as u32;
        }
        if USCC_CHARS[Self::check_value(&vals[..17]) as usize] != s.as_bytes()[17] {
            return Err(IdError::Check);
        }
        Ok(Uscc(s))
    }

    fn check_value(vals: &[u32]) -> u32 {
        let sum: u32 = vals.iter().zip(USCC_WEIGHTS).map(|(v, w)| v * w).sum();
        (31 - sum % 31) % 31
    }

    /// The check character for 17 leading characters (used to make valid demo codes).
    pub fn check_char(first17: &str) -> Option<char> {
        let vals: Option<Vec<u32>> = first17
            .bytes()
            .map(|c| USCC_CHARS.iter().position(|&x| x == c).map(|p| p as u32))
            .collect();
        let vals = vals?;
        (vals.len() == 17).then(|| USCC_CHARS[Self::check_value(&vals) as usize] as char)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for Uscc {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}
impl From<Uscc> for String {
    fn from(v: Uscc) -> String {
        v.0
    }
}
impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Administrative division code: GB/T 2260 six digits down to county, 9 for a township, 12 for a village.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegionCode(String);

/// The five levels of the service network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionLevel {
    Province = 1,
    City = 2,
    County = 3,
    Township = 4,
    Village = 5,
}

impl RegionLevel {
    pub fn zh(self) -> &'static str {
        match self {
            RegionLevel::Province => "省",
            RegionLevel::City => "市",
            RegionLevel::County => "县",
            RegionLevel::Township => "乡镇",
            RegionLevel::Village => "村",
        }
    }
}

impl RegionCode {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let s = raw.trim();
        if !matches!(s.len(), 6 | 9 | 12) {
            return Err(IdError::Length(6));
        }
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(IdError::Charset);
        }
        if &s[..2] == "00" || (s.len() > 6 && &s[4..6] == "00") {
            return Err(IdError::Region);
        }
        Ok(RegionCode(s.to_string()))
    }

    pub fn level(&self) -> RegionLevel {
        match self.0.len() {
            12 => RegionLevel::Village,
            9 => RegionLevel::Township,
            _ if self.0.ends_with("0000") => RegionLevel::Province,
            _ if self.0.ends_with("00") => RegionLevel::City,
            _ => RegionLevel::County,
        }
    }

    /// The part of the code that every region below this one shares.
    pub fn prefix(&self) -> &str {
        match self.level() {
            RegionLevel::Province => &self.0[..2],
            RegionLevel::City => &self.0[..4],
            _ => &self.0,
        }
    }

    /// `[low, high)` bounds of every code under this region, for an index range scan
    /// (`code >= low AND code < high`) where `LIKE 'prefix%'` would not use the index.
    pub fn code_range(&self) -> (String, String) {
        let p = self.prefix();
        let next = p
            .parse::<u64>()
            .map(|n| format!("{:0width$}", n + 1, width = p.len()))
            .unwrap_or_else(|_| p.to_string());
        (p.to_string(), next)
    }

    /// True when `other` is this region or lies inside it.
    pub fn contains(&self, other: &RegionCode) -> bool {
        other.0.starts_with(self.prefix()) && other.level() >= self.level()
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
impl TryFrom<String> for RegionCode {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        Self::parse(&s)
    }
}
impl From<RegionCode> for String {
    fn from(v: RegionCode) -> String {
        v.0
    }
}
impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// ISO/IEC 7064 MOD 37,36 check character over `[0-9A-Z]`; used for case numbers and,
/// later, certificate identifiers (GB/T 36904).
pub fn mod37_36_check(s: &str) -> Option<char> {
    const M: u32 = 36;
    let mut p = M;
    for c in s.bytes() {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            b'a'..=b'z' => u32::from(c - b'a') + 10,
            _ => return None,
        };
        let mut s = (p + v) % M;
        if s == 0 {
            s = M;
        }
        p = (s * 2) % (M + 1);
    }
    let v = (M + 1 - p) % M;
    Some(if v < 10 {
        (b'0' + v as u8) as char
    } else {
        (b'A' + (v - 10) as u8) as char
    })
}

/// A mainland mobile number: 11 digits starting with 1.
pub fn valid_phone(p: &str) -> bool {
    p.len() == 11 && p.starts_with('1') && p.bytes().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn resident_id_known_good_and_bad() {
        assert!(ResidentId::parse("11010519491231002X").is_ok());
        assert!(ResidentId::parse("11010519491231002x").is_ok());
        assert_eq!(ResidentId::parse("110105194912310021"), Err(IdError::Check));
        assert_eq!(
            ResidentId::parse("110105194913310021"),
            Err(IdError::BirthDate)
        );
        assert_eq!(
            ResidentId::parse("1101051949123100"),
            Err(IdError::Length(18))
        );
        assert_eq!(
            ResidentId::parse("11010519491231002X").unwrap().masked(),
            "110105********002X"
        );
    }

    #[test]
    fn uscc_known_good_and_bad() {
        assert!(Uscc::parse("91350100M000100Y43").is_ok());
        assert_eq!(Uscc::parse("91350100M000100Y44"), Err(IdError::Check));
        assert_eq!(Uscc::parse("91350100I000100Y43"), Err(IdError::Charset));
    }

    #[test]
    fn region_levels_and_containment() {
        let gd = RegionCode::parse("440000").unwrap();
        let gz = RegionCode::parse("440100").unwrap();
        let yx = RegionCode::parse("440104").unwrap();
        let town = RegionCode::parse("440104001").unwrap();
        let village = RegionCode::parse("440104001201").unwrap();
        assert_eq!(gd.level(), RegionLevel::Province);
        assert_eq!(village.level(), RegionLevel::Village);
        assert!(gd.contains(&village) && gz.contains(&yx) && yx.contains(&town));
        assert!(!yx.contains(&gz) && !town.contains(&yx));
        assert!(!gz.contains(&RegionCode::parse("420105").unwrap()));
        assert_eq!(gz.code_range(), ("4401".to_string(), "4402".to_string()));
        assert_eq!(
            yx.code_range(),
            ("440104".to_string(), "440105".to_string())
        );
    }

    #[test]
    fn mod37_36_is_validating() {
        // Appending the check character must give a string whose check is stable under one change.
        let c = mod37_36_check("330102202611230000001").unwrap();
        let c2 = mod37_36_check("330102202611230000002").unwrap();
        assert_ne!(c, c2);
    }

    proptest! {
        #[test]
        fn any_17_digits_with_their_check_char_are_valid(region in 110000u32..659999, d in 0u32..20000, seq in 0u32..1000) {
            let date = time::Date::from_calendar_date(1950, time::Month::January, 1).unwrap() + time::Duration::days(i64::from(d));
            let s = format!("{region:06}{:04}{:02}{:02}{seq:03}", date.year(), u8::from(date.month()), date.day());
            let full = format!("{s}{}", ResidentId::check_char(&s) as char);
            prop_assert!(ResidentId::parse(&full).is_ok());
            // Any single-digit change in the first 17 is caught.
            let mut bad = full.clone().into_bytes();
            bad[16] = if bad[16] == b'9' { b'0' } else { bad[16] + 1 };
            prop_assert_eq!(ResidentId::parse(std::str::from_utf8(&bad).unwrap()), Err(IdError::Check));
        }

        #[test]
        fn uscc_check_char_round_trips(body in "[0-9A-HJ-NPQRTUWXY]{17}") {
            let c = Uscc::check_char(&body).unwrap();
            let full = format!("{body}{c}");
            prop_assert!(Uscc::parse(&full).is_ok());
        }
    }
}
