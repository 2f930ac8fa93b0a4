//! Reading what the user typed: zones, instants, local date-times and dates, each error
//! naming the flag.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use proofline_core::routines_file::parse_local_datetime;

use crate::error::CliError;

/// An IANA time zone.
pub fn zone(flag: &str, text: &str) -> Result<Tz, CliError> {
    text.trim().parse().map_err(|_| {
        CliError::flag(
            flag,
            format!("unknown time zone \"{text}\" (use an IANA name such as America/New_York)"),
        )
    })
}

/// An RFC 3339 instant with offset.
pub fn instant(flag: &str, text: &str) -> Result<DateTime<Utc>, CliError> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| {
            CliError::flag(
                flag,
                format!(
                    "\"{text}\" is not an RFC 3339 instant (e.g. 2026-03-07T00:00:00Z or 2026-03-07T00:00:00-05:00)"
                ),
            )
        })
}

/// A naive local date-time, with or without seconds.
pub fn local(flag: &str, text: &str) -> Result<NaiveDateTime, CliError> {
    parse_local_datetime(text).ok_or_else(|| {
        CliError::flag(
            flag,
            format!(
                "\"{text}\" is not a local date-time (e.g. 2026-03-01T07:00:00 or 2026-03-01T07:00, without offset)"
            ),
        )
    })
}

/// A calendar date.
pub fn date(flag: &str, text: &str) -> Result<NaiveDate, CliError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .map_err(|_| CliError::flag(flag, format!("\"{text}\" is not a date (e.g. 2026-12-01)")))
}

/// A whole number in `min..=max`.
pub fn number(flag: &str, text: &str, min: u32, max: u32) -> Result<u32, CliError> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            CliError::flag(
                flag,
                format!("\"{text}\" is not a whole number from {min} to {max}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_flag() {
        let err = zone("--tz", "Mars/Olympus").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "--tz: unknown time zone \"Mars/Olympus\" (use an IANA name such as America/New_York)"
            )
        );
        assert!(instant("--from", "2026-03-07").is_err());
        assert!(local("--start", "2026-03-01T07:00").is_ok());
        assert!(local("--start", "2026-03-01T07:00:00").is_ok());
        assert!(date("--from", "2026-02-30").is_err());
        assert!(number("--days", "0", 1, 366).is_err());
    }
}
