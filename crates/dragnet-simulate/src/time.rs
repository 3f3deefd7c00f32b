//! Time as microseconds since the Unix epoch, and the text forms each log writes.

pub const SEC: i64 = 1_000_000;
pub const MIN: i64 = 60 * SEC;
pub const HOUR: i64 = 60 * MIN;
pub const DAY: i64 = 24 * HOUR;

/// Broken-down UTC time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub micros: u32,
    /// 0 = Sunday.
    pub weekday: u32,
}

/// Days since 1970-01-01 -> (year, month, day), proleptic Gregorian.
fn ymd_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

pub fn civil(t: i64) -> Civil {
    let secs = t.div_euclid(SEC);
    let micros = t.rem_euclid(SEC) as u32;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    let (year, month, day) = ymd_from_days(days);
    Civil {
        year,
        month,
        day,
        hour: sod / 3600,
        minute: sod / 60 % 60,
        second: sod % 60,
        micros,
        weekday: (days + 4).rem_euclid(7) as u32,
    }
}

/// Day number since the epoch (UTC).
pub fn day_number(t: i64) -> i64 {
    t.div_euclid(DAY)
}

/// Start of the UTC day holding `t`.
pub fn day_start(t: i64) -> i64 {
    day_number(t) * DAY
}

/// Hours into the UTC day, fractional.
pub fn hour_of_day(t: i64) -> f64 {
    (t - day_start(t)) as f64 / HOUR as f64
}

pub fn is_weekend(t: i64) -> bool {
    matches!(civil(t).weekday, 0 | 6)
}

fn push2(s: &mut String, v: u32) {
    s.push((b'0' + (v / 10 % 10) as u8) as char);
    s.push((b'0' + (v % 10) as u8) as char);
}

fn push_n(s: &mut String, v: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut x = v;
    for i in (0..width).rev() {
        buf[i] = b'0' + (x % 10) as u8;
        x /= 10;
    }
    s.push_str(std::str::from_utf8(&buf[..width]).unwrap_or("0"));
}

fn push_date(s: &mut String, c: &Civil, sep: char) {
    push_n(s, c.year as u64, 4);
    s.push(sep);
    push2(s, c.month);
    s.push(sep);
    push2(s, c.day);
}

fn push_hms(s: &mut String, c: &Civil, sep: char) {
    push2(s, c.hour);
    s.push(sep);
    push2(s, c.minute);
    s.push(sep);
    push2(s, c.second);
}

/// `2026-03-02T07:01:02.123Z` (Winlogbeat `@timestamp`).
pub fn rfc3339_ms(t: i64) -> String {
    let c = civil(t);
    let mut s = String::with_capacity(24);
    push_date(&mut s, &c, '-');
    s.push('T');
    push_hms(&mut s, &c, ':');
    s.push('.');
    push_n(&mut s, u64::from(c.micros / 1000), 3);
    s.push('Z');
    s
}

/// `2026-03-02T07:01:02Z`.
pub fn rfc3339(t: i64) -> String {
    let c = civil(t);
    let mut s = String::with_capacity(20);
    push_date(&mut s, &c, '-');
    s.push('T');
    push_hms(&mut s, &c, ':');
    s.push('Z');
    s
}

/// `2026-03-02 07:01:02.123` (Sysmon `UtcTime`).
pub fn sysmon(t: i64) -> String {
    let c = civil(t);
    let mut s = String::with_capacity(23);
    push_date(&mut s, &c, '-');
    s.push(' ');
    push_hms(&mut s, &c, ':');
    s.push('.');
    push_n(&mut s, u64::from(c.micros / 1000), 3);
    s
}

/// `1772434862.123456` (Zeek `ts`).
pub fn zeek_ts(t: i64) -> String {
    let mut s = String::with_capacity(18);
    push_n(&mut s, t.div_euclid(SEC) as u64, 10);
    s.push('.');
    push_n(&mut s, t.rem_euclid(SEC) as u64, 6);
    s
}

/// `2026-03-02-07-01-02` (Zeek `#open` / `#close`).
pub fn zeek_header(t: i64) -> String {
    let c = civil(t);
    let mut s = String::with_capacity(19);
    push_date(&mut s, &c, '-');
    s.push('-');
    push_hms(&mut s, &c, '-');
    s
}

/// (`2026-03-02`, `07:01:02`) for IIS W3C lines.
pub fn iis_date_time(t: i64) -> (String, String) {
    let c = civil(t);
    let mut d = String::with_capacity(10);
    push_date(&mut d, &c, '-');
    let mut h = String::with_capacity(8);
    push_hms(&mut h, &c, ':');
    (d, h)
}

/// `260302` for `u_ex260302.log`.
pub fn iis_file_day(t: i64) -> String {
    let c = civil(t);
    let mut s = String::with_capacity(6);
    push2(&mut s, (c.year % 100) as u32);
    push2(&mut s, c.month);
    push2(&mut s, c.day);
    s
}

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Mon, 2 Mar 2026 07:01:02 +0000` (RFC 5322 `Date`).
pub fn rfc2822(t: i64) -> String {
    let c = civil(t);
    let mut s = format!(
        "{}, {} {} {} ",
        DAYS[c.weekday as usize],
        c.day,
        MONTHS[(c.month - 1) as usize],
        c.year
    );
    push_hms(&mut s, &c, ':');
    s.push_str(" +0000");
    s
}

/// `Mon Mar  2 07:01:02 2026` (mbox `From ` line).
pub fn asctime(t: i64) -> String {
    let c = civil(t);
    let mut s = format!(
        "{} {} {:>2} ",
        DAYS[c.weekday as usize],
        MONTHS[(c.month - 1) as usize],
        c.day
    );
    push_hms(&mut s, &c, ':');
    s.push(' ');
    push_n(&mut s, c.year as u64, 4);
    s
}

/// `2026-03-02T07:01:02` (M365 unified audit log `CreationTime`).
pub fn m365(t: i64) -> String {
    let c = civil(t);
    let mut s = String::with_capacity(19);
    push_date(&mut s, &c, '-');
    s.push('T');
    push_hms(&mut s, &c, ':');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let t: i64 = "2026-03-02T07:01:02.123456Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_microsecond();
        assert_eq!(rfc3339_ms(t), "2026-03-02T07:01:02.123Z");
        assert_eq!(sysmon(t), "2026-03-02 07:01:02.123");
        assert_eq!(zeek_ts(t), "1772434862.123456");
        assert_eq!(rfc2822(t), "Mon, 2 Mar 2026 07:01:02 +0000");
        assert_eq!(asctime(t), "Mon Mar  2 07:01:02 2026");
        assert_eq!(iis_file_day(t), "260302");
        assert_eq!(zeek_header(t), "2026-03-02-07-01-02");
        assert_eq!(m365(t), "2026-03-02T07:01:02");
        assert!(!is_weekend(t));
        assert!(is_weekend(t + 5 * DAY));
        // A leap day and a year boundary agree with jiff.
        for s in [
            "2028-02-29T23:59:59Z",
            "2026-12-31T00:00:00Z",
            "2000-03-01T12:00:00Z",
        ] {
            let t = s.parse::<jiff::Timestamp>().unwrap().as_microsecond();
            assert_eq!(rfc3339(t), s);
        }
    }
}
