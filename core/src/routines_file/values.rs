//! Values as written in the routines file: durations (`1h30m`), dates, times of day, local
//! date-times, instants and keys. Each parser returns `None` on text it does not accept.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;

/// Parses a duration such as `15m`, `2h`, `1h30m`, `1d` or `0` into whole minutes.
pub fn parse_duration(text: &str) -> Option<u32> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if text == "0" {
        return Some(0);
    }
    if text.is_empty() {
        return None;
    }
    let mut total: u32 = 0;
    let mut number: Option<u32> = None;
    let mut last_unit = u32::MAX;
    for c in text.chars() {
        if let Some(d) = c.to_digit(10) {
            number = Some(number.unwrap_or(0).checked_mul(10)?.checked_add(d)?);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            'd' => 1440,
            'h' => 60,
            'm' => 1,
            _ => return None,
        };
        // Units must come largest first, each at most once: `1h30m`, not `30m1h`.
        if unit >= last_unit {
            return None;
        }
        last_unit = unit;
        total = total.checked_add(number.take()?.checked_mul(unit)?)?;
    }
    if number.is_some() {
        return None;
    }
    Some(total)
}

/// Writes whole minutes back as a duration: `15m`, `2h`, `1h30m`, `1d`, `0m`.
pub fn format_duration(minutes: u32) -> String {
    if minutes == 0 {
        return "0m".to_string();
    }
    let (days, rest) = (minutes / 1440, minutes % 1440);
    let (hours, mins) = (rest / 60, rest % 60);
    let mut out = String::new();
    if days > 0 {
        out.push_str(&format!("{days}d"));
    }
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if mins > 0 {
        out.push_str(&format!("{mins}m"));
    }
    out
}

/// Parses a naive local date-time: `2026-03-01T07:00`, `2026-03-01T07:00:00` (a space instead
/// of `T` is accepted too).
pub fn parse_local_datetime(text: &str) -> Option<NaiveDateTime> {
    const FORMATS: [&str; 4] = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ];
    let text = text.trim();
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
}

/// A date: `2026-12-25`.
pub(super) fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// A time of day: `09:00` or `09:00:00`.
pub(super) fn parse_time(text: &str) -> Option<NaiveTime> {
    let text = text.trim();
    NaiveTime::parse_from_str(text, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
        .ok()
}

/// RFC 3339 with offset, else a local date-time or date (midnight) in `zone`.
pub(super) fn parse_instant(text: &str, zone: Tz) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    let local = parse_local_datetime(text)
        .or_else(|| parse_date(text).and_then(|d| d.and_hms_opt(0, 0, 0)))?;
    Some(crate::zone::local_to_instant(zone, local))
}

/// Letters, digits, `-` and `_`, at least one.
pub(super) fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
