//! UTC timestamps: one `i64` of nanoseconds since the Unix epoch, cheap to copy and compare.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A point in time, UTC, with nanosecond precision (1677..2262).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The epoch; also what an event without any recognisable time gets.
    pub const UNKNOWN: Timestamp = Timestamp(0);

    pub fn from_nanos(n: i64) -> Self {
        Timestamp(n)
    }
    pub fn from_secs_f64(s: f64) -> Self {
        Timestamp((s * 1e9) as i64)
    }
    pub fn nanos(self) -> i64 {
        self.0
    }
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000_000)
    }
    pub fn is_unknown(self) -> bool {
        self.0 == 0
    }

    /// From a `jiff` timestamp.
    pub fn from_jiff(t: jiff::Timestamp) -> Self {
        Timestamp(t.as_nanosecond().clamp(i64::MIN as i128, i64::MAX as i128) as i64)
    }

    /// Parse the time formats found in logs: RFC 3339 / ISO 8601 with or without zone (no zone
    /// means UTC), `YYYY-MM-DD HH:MM:SS[.fff]`, and epoch seconds (with fractions) or
    /// milliseconds as text.
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim();
        if s.is_empty() {
            return None;
        }
        if let Ok(t) = s.parse::<jiff::Timestamp>() {
            return Some(Self::from_jiff(t));
        }
        if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
            return dt
                .to_zoned(jiff::tz::TimeZone::UTC)
                .ok()
                .map(|z| Self::from_jiff(z.timestamp()));
        }
        // `2020-10-18 10:56:18.799 +0000`, `... UTC`, `...Z` variants with a space.
        if let Some(rest) = s.strip_suffix(" UTC").or_else(|| s.strip_suffix(" +0000")) {
            return Self::parse(rest);
        }
        if s.bytes().all(|b| b.is_ascii_digit()) {
            let v: i64 = s.parse().ok()?;
            return Some(Self::from_epoch_int(v));
        }
        if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            let v: f64 = s.parse().ok()?;
            return Some(Self::from_epoch_number(v));
        }
        None
    }

    /// Integer epoch seconds, milliseconds or microseconds, told apart by magnitude.
    pub fn from_epoch_int(v: i64) -> Self {
        if v > 100_000_000_000_000 {
            Timestamp(v.saturating_mul(1_000))
        } else if v > 100_000_000_000 {
            Timestamp(v.saturating_mul(1_000_000))
        } else {
            Timestamp(v.saturating_mul(1_000_000_000))
        }
    }

    /// Epoch seconds, or milliseconds when the number is too large to be seconds.
    pub fn from_epoch_number(v: f64) -> Self {
        if v > 1e14 {
            Timestamp((v * 1e3) as i64) // microseconds
        } else if v > 1e11 {
            Timestamp((v * 1e6) as i64) // milliseconds
        } else {
            Self::from_secs_f64(v)
        }
    }

    /// RFC 3339, UTC, with `Z` and as many fractional digits as needed (up to 9).
    pub fn to_rfc3339(self) -> String {
        match jiff::Timestamp::from_nanosecond(self.0 as i128) {
            Ok(t) => t.to_string(),
            Err(_) => "1970-01-01T00:00:00Z".to_string(),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("bad time {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms_to_the_same_instant() {
        let a = Timestamp::parse("2020-10-18T10:56:18.799Z").unwrap();
        let b = Timestamp::parse("2020-10-18 10:56:18.799").unwrap();
        let c = Timestamp::parse("2020-10-18T12:56:18.799+02:00").unwrap();
        let d = Timestamp::parse("1603018578.799").unwrap();
        let e = Timestamp::parse("1603018578799").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert!((a.0 - d.0).abs() < 1_000, "{a:?} {d:?}");
        assert_eq!(a, e);
        assert_eq!(a.to_rfc3339(), "2020-10-18T10:56:18.799Z");
        assert!(Timestamp::parse("yesterday").is_none());
    }

    #[test]
    fn serde_round_trip() {
        let t = Timestamp::parse("2024-01-02T03:04:05.123456789Z").unwrap();
        let j = serde_json::to_string(&t).unwrap();
        assert_eq!(j, "\"2024-01-02T03:04:05.123456789Z\"");
        let back: Timestamp = serde_json::from_str(&j).unwrap();
        assert_eq!(back, t);
    }
}
