//! Parsing RFC 5545 RRULE text into a checked [`RRule`].
//!
//! Every problem is reported as a [`RuleError`] naming the part at fault and why, so the
//! person who typed the rule can fix it. Nothing here panics on input.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use thiserror::Error;

/// What is wrong with a rule's text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RuleError {
    /// The rule has no FREQ.
    #[error("the rule has no FREQ (e.g. FREQ=DAILY)")]
    MissingFreq,
    /// A part is not of the form NAME=VALUE.
    #[error("'{0}' is not of the form NAME=VALUE")]
    Malformed(String),
    /// A part appears twice.
    #[error("{0} appears more than once")]
    Repeated(String),
    /// A part name we do not know or do not support.
    #[error("{name} is not supported{hint}")]
    Unsupported {
        /// The part name.
        name: String,
        /// Extra explanation, starting with a separator.
        hint: String,
    },
    /// A value is invalid for its part.
    #[error("{part}: {reason}")]
    InvalidValue {
        /// The part name (e.g. BYMONTHDAY).
        part: &'static str,
        /// What is wrong, in words.
        reason: String,
    },
}

/// FREQ values supported by the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Frequency {
    /// Every year.
    Yearly,
    /// Every month.
    Monthly,
    /// Every week.
    Weekly,
    /// Every day.
    Daily,
    /// Every hour.
    Hourly,
    /// Every minute.
    Minutely,
}

impl Frequency {
    fn as_str(self) -> &'static str {
        match self {
            Frequency::Yearly => "YEARLY",
            Frequency::Monthly => "MONTHLY",
            Frequency::Weekly => "WEEKLY",
            Frequency::Daily => "DAILY",
            Frequency::Hourly => "HOURLY",
            Frequency::Minutely => "MINUTELY",
        }
    }
}

/// A BYDAY entry: a weekday (0 = Monday) with an optional ordinal (`-1FR`, `2MO`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WeekdayNum {
    /// 0 for "every such weekday", else 1..=53 or -53..=-1.
    pub ordinal: i8,
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
}

/// UNTIL: an instant, a local date-time in the site's zone, or a whole local date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// `UNTIL=20261231T235959Z`.
    Utc(DateTime<Utc>),
    /// `UNTIL=20261231T235959` (local, in the site's zone).
    Local(NaiveDateTime),
    /// `UNTIL=20261231`: every occurrence on that local date still counts.
    Date(NaiveDate),
}

/// A parsed, validated recurrence rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RRule {
    /// FREQ.
    pub freq: Frequency,
    /// INTERVAL (≥ 1).
    pub interval: u32,
    /// COUNT.
    pub count: Option<u32>,
    /// UNTIL (inclusive).
    pub until: Option<Until>,
    /// BYMONTH, 1..=12.
    pub by_month: Vec<u8>,
    /// BYMONTHDAY, ±1..=31.
    pub by_month_day: Vec<i8>,
    /// BYDAY.
    pub by_day: Vec<WeekdayNum>,
    /// BYHOUR, 0..=23.
    pub by_hour: Vec<u8>,
    /// BYMINUTE, 0..=59.
    pub by_minute: Vec<u8>,
    /// BYSECOND, 0..=59.
    pub by_second: Vec<u8>,
    /// BYSETPOS, ±1..=366.
    pub by_set_pos: Vec<i32>,
    /// WKST, 0 = Monday (the default).
    pub wkst: u8,
}

const WEEKDAYS: [&str; 7] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];

impl std::str::FromStr for RRule {
    type Err = RuleError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse(text)
    }
}

/// Parses a rule such as `FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1`; an `RRULE:` prefix
/// is accepted. Names are case-insensitive.
pub fn parse(text: &str) -> Result<RRule, RuleError> {
    let body = text.trim();
    let body = match body.get(..6) {
        Some(prefix) if prefix.eq_ignore_ascii_case("RRULE:") => &body[6..],
        _ => body,
    };
    let mut rule = RRule {
        freq: Frequency::Daily,
        interval: 1,
        count: None,
        until: None,
        by_month: Vec::new(),
        by_month_day: Vec::new(),
        by_day: Vec::new(),
        by_hour: Vec::new(),
        by_minute: Vec::new(),
        by_second: Vec::new(),
        by_set_pos: Vec::new(),
        wkst: 0,
    };
    let mut seen: Vec<String> = Vec::new();
    let mut freq = None;
    for part in body.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, value) = part
            .split_once('=')
            .ok_or_else(|| RuleError::Malformed(part.to_string()))?;
        let name = name.trim().to_ascii_uppercase();
        let value = value.trim();
        if seen.contains(&name) {
            return Err(RuleError::Repeated(name));
        }
        seen.push(name.clone());
        match name.as_str() {
            "FREQ" => freq = Some(parse_freq(value)?),
            "INTERVAL" => {
                rule.interval = parse_int::<u32>("INTERVAL", value)?;
                if rule.interval == 0 {
                    return Err(invalid("INTERVAL", "must be at least 1"));
                }
            }
            "COUNT" => {
                let count = parse_int::<u32>("COUNT", value)?;
                if count == 0 {
                    return Err(invalid("COUNT", "must be at least 1"));
                }
                rule.count = Some(count);
            }
            "UNTIL" => rule.until = Some(parse_until(value)?),
            "BYMONTH" => rule.by_month = parse_list("BYMONTH", value, 1, 12, false)?,
            "BYMONTHDAY" => {
                rule.by_month_day = parse_list("BYMONTHDAY", value, -31, 31, true)?;
            }
            "BYDAY" => rule.by_day = parse_by_day(value)?,
            "BYHOUR" => rule.by_hour = parse_list("BYHOUR", value, 0, 23, false)?,
            "BYMINUTE" => rule.by_minute = parse_list("BYMINUTE", value, 0, 59, false)?,
            "BYSECOND" => rule.by_second = parse_list("BYSECOND", value, 0, 59, false)?,
            "BYSETPOS" => rule.by_set_pos = parse_list("BYSETPOS", value, -366, 366, true)?,
            "WKST" => rule.wkst = parse_weekday("WKST", value)?,
            "BYYEARDAY" | "BYWEEKNO" | "RDATE" => {
                return Err(RuleError::Unsupported {
                    name,
                    hint: "; use BYMONTH, BYMONTHDAY or BYDAY instead".to_string(),
                });
            }
            _ => {
                return Err(RuleError::Unsupported {
                    name,
                    hint: String::new(),
                });
            }
        }
    }
    rule.freq = freq.ok_or(RuleError::MissingFreq)?;
    if rule.count.is_some() && rule.until.is_some() {
        return Err(invalid("UNTIL", "a rule may have COUNT or UNTIL, not both"));
    }
    let ordinals_allowed = matches!(rule.freq, Frequency::Monthly | Frequency::Yearly);
    if !ordinals_allowed && let Some(bad) = rule.by_day.iter().find(|d| d.ordinal != 0) {
        return Err(invalid(
            "BYDAY",
            format!(
                "an ordinal such as {}{} needs FREQ=MONTHLY or FREQ=YEARLY, not {}",
                bad.ordinal,
                WEEKDAYS[usize::from(bad.weekday)],
                rule.freq.as_str()
            ),
        ));
    }
    if rule.freq == Frequency::Weekly && !rule.by_month_day.is_empty() {
        return Err(invalid(
            "BYMONTHDAY",
            "cannot be combined with FREQ=WEEKLY (RFC 5545)",
        ));
    }
    Ok(rule)
}

fn invalid(part: &'static str, reason: impl Into<String>) -> RuleError {
    RuleError::InvalidValue {
        part,
        reason: reason.into(),
    }
}

fn parse_freq(value: &str) -> Result<Frequency, RuleError> {
    match value.to_ascii_uppercase().as_str() {
        "YEARLY" => Ok(Frequency::Yearly),
        "MONTHLY" => Ok(Frequency::Monthly),
        "WEEKLY" => Ok(Frequency::Weekly),
        "DAILY" => Ok(Frequency::Daily),
        "HOURLY" => Ok(Frequency::Hourly),
        "MINUTELY" => Ok(Frequency::Minutely),
        "SECONDLY" => Err(invalid(
            "FREQ",
            "SECONDLY is not supported; the finest cadence is MINUTELY",
        )),
        other => Err(invalid(
            "FREQ",
            format!("'{other}' is not one of YEARLY, MONTHLY, WEEKLY, DAILY, HOURLY, MINUTELY"),
        )),
    }
}

fn parse_int<T: std::str::FromStr>(part: &'static str, value: &str) -> Result<T, RuleError> {
    value
        .parse::<T>()
        .map_err(|_| invalid(part, format!("'{value}' is not a whole number in range")))
}

fn parse_list<T>(
    part: &'static str,
    value: &str,
    min: i32,
    max: i32,
    signed_no_zero: bool,
) -> Result<Vec<T>, RuleError>
where
    T: TryFrom<i32> + Ord + Copy,
{
    let mut out = Vec::new();
    for item in value.split(',') {
        let item = item.trim();
        let n: i32 = item
            .parse()
            .map_err(|_| invalid(part, format!("'{item}' is not a whole number")))?;
        let in_range = n >= min && n <= max && !(signed_no_zero && n == 0);
        if !in_range {
            let range = if signed_no_zero {
                format!("1..{max} or -{max}..-1")
            } else {
                format!("{min}..{max}")
            };
            return Err(invalid(part, format!("{n} is out of range ({range})")));
        }
        let v = T::try_from(n).map_err(|_| invalid(part, format!("{n} is out of range")))?;
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out.sort_unstable();
    Ok(out)
}

fn parse_weekday(part: &'static str, value: &str) -> Result<u8, RuleError> {
    let upper = value.to_ascii_uppercase();
    WEEKDAYS
        .iter()
        .position(|w| *w == upper)
        .map(|i| i as u8)
        .ok_or_else(|| {
            invalid(
                part,
                format!("'{value}' is not a weekday (MO, TU, WE, TH, FR, SA, SU)"),
            )
        })
}

fn parse_by_day(value: &str) -> Result<Vec<WeekdayNum>, RuleError> {
    let mut out: Vec<WeekdayNum> = Vec::new();
    for item in value.split(',') {
        let item = item.trim();
        if item.len() < 2 || !item.is_char_boundary(item.len() - 2) {
            return Err(invalid(
                "BYDAY",
                format!("'{item}' is not a weekday such as MO, 2MO or -1FR"),
            ));
        }
        let (num, day) = item.split_at(item.len() - 2);
        let weekday = parse_weekday("BYDAY", day)?;
        let ordinal = if num.is_empty() {
            0
        } else {
            let n: i32 = num.trim_start_matches('+').parse().map_err(|_| {
                invalid(
                    "BYDAY",
                    format!("'{item}' is not a weekday such as MO, 2MO or -1FR"),
                )
            })?;
            if n == 0 || !(-53..=53).contains(&n) {
                return Err(invalid(
                    "BYDAY",
                    format!("ordinal {n} in '{item}' is out of range (1..53 or -53..-1)"),
                ));
            }
            n as i8
        };
        let entry = WeekdayNum { ordinal, weekday };
        if !out.contains(&entry) {
            out.push(entry);
        }
    }
    Ok(out)
}

fn parse_until(value: &str) -> Result<Until, RuleError> {
    let bad = || {
        invalid(
            "UNTIL",
            format!("'{value}' is not a date (20261231) or date-time (20261231T235959[Z])"),
        )
    };
    if let Some(stripped) = value.strip_suffix(['Z', 'z']) {
        let naive = NaiveDateTime::parse_from_str(stripped, "%Y%m%dT%H%M%S").map_err(|_| bad())?;
        return Ok(Until::Utc(naive.and_utc()));
    }
    if value.len() == 8 {
        return NaiveDate::parse_from_str(value, "%Y%m%d")
            .map(Until::Date)
            .map_err(|_| bad());
    }
    NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S")
        .map(Until::Local)
        .map_err(|_| bad())
}

impl std::fmt::Display for RRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn list<T: std::fmt::Display>(v: &[T]) -> String {
            v.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(",")
        }
        write!(f, "FREQ={}", self.freq.as_str())?;
        if self.interval != 1 {
            write!(f, ";INTERVAL={}", self.interval)?;
        }
        if let Some(c) = self.count {
            write!(f, ";COUNT={c}")?;
        }
        match self.until {
            Some(Until::Utc(t)) => write!(f, ";UNTIL={}", t.format("%Y%m%dT%H%M%SZ"))?,
            Some(Until::Local(t)) => write!(f, ";UNTIL={}", t.format("%Y%m%dT%H%M%S"))?,
            Some(Until::Date(d)) => write!(f, ";UNTIL={}", d.format("%Y%m%d"))?,
            None => {}
        }
        if !self.by_month.is_empty() {
            write!(f, ";BYMONTH={}", list(&self.by_month))?;
        }
        if !self.by_month_day.is_empty() {
            write!(f, ";BYMONTHDAY={}", list(&self.by_month_day))?;
        }
        if !self.by_day.is_empty() {
            let days: Vec<String> = self
                .by_day
                .iter()
                .map(|d| {
                    let name = WEEKDAYS[usize::from(d.weekday)];
                    if d.ordinal == 0 {
                        name.to_string()
                    } else {
                        format!("{}{name}", d.ordinal)
                    }
                })
                .collect();
            write!(f, ";BYDAY={}", days.join(","))?;
        }
        if !self.by_hour.is_empty() {
            write!(f, ";BYHOUR={}", list(&self.by_hour))?;
        }
        if !self.by_minute.is_empty() {
            write!(f, ";BYMINUTE={}", list(&self.by_minute))?;
        }
        if !self.by_second.is_empty() {
            write!(f, ";BYSECOND={}", list(&self.by_second))?;
        }
        if !self.by_set_pos.is_empty() {
            write!(f, ";BYSETPOS={}", list(&self.by_set_pos))?;
        }
        if self.wkst != 0 {
            write!(f, ";WKST={}", WEEKDAYS[usize::from(self.wkst)])?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_last_business_day_with_prefix() {
        let r = parse("RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1").expect("valid");
        assert_eq!(r.freq, Frequency::Monthly);
        assert_eq!(r.by_day.len(), 5);
        assert_eq!(r.by_set_pos, vec![-1]);
        assert_eq!(
            r.to_string(),
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"
        );
    }

    #[test]
    fn broken_rules_say_what_is_wrong() {
        let cases = [
            ("BYHOUR=7", "the rule has no FREQ (e.g. FREQ=DAILY)"),
            (
                "FREQ=DAYLY",
                "FREQ: 'DAYLY' is not one of YEARLY, MONTHLY, WEEKLY, DAILY, HOURLY, MINUTELY",
            ),
            (
                "FREQ=MONTHLY;BYMONTHDAY=32",
                "BYMONTHDAY: 32 is out of range (1..31 or -31..-1)",
            ),
            (
                "FREQ=MONTHLY;BYMONTHDAY=0",
                "BYMONTHDAY: 0 is out of range (1..31 or -31..-1)",
            ),
            (
                "FREQ=WEEKLY;BYDAY=-1FR",
                "BYDAY: an ordinal such as -1FR needs FREQ=MONTHLY or FREQ=YEARLY, not WEEKLY",
            ),
            (
                "FREQ=DAILY;BYDAY=XX",
                "BYDAY: 'XX' is not a weekday (MO, TU, WE, TH, FR, SA, SU)",
            ),
            ("FREQ=DAILY;INTERVAL=0", "INTERVAL: must be at least 1"),
            (
                "FREQ=DAILY;COUNT=3;UNTIL=20260101",
                "UNTIL: a rule may have COUNT or UNTIL, not both",
            ),
            ("FREQ=DAILY;FREQ=WEEKLY", "FREQ appears more than once"),
            (
                "FREQ=DAILY;BYWEEKNO=3",
                "BYWEEKNO is not supported; use BYMONTH, BYMONTHDAY or BYDAY instead",
            ),
            (
                "FREQ=DAILY;BYHOUR",
                "'BYHOUR' is not of the form NAME=VALUE",
            ),
            (
                "FREQ=DAILY;UNTIL=2026-12-31",
                "UNTIL: '2026-12-31' is not a date (20261231) or date-time (20261231T235959[Z])",
            ),
            (
                "FREQ=DAILY;BYDAY=é",
                "BYDAY: 'é' is not a weekday (MO, TU, WE, TH, FR, SA, SU)",
            ),
        ];
        for (rule, message) in cases {
            let err = parse(rule).expect_err(rule);
            assert_eq!(err.to_string(), message, "rule {rule}");
        }
    }
}
