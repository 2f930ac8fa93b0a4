//! Conversions at the edge that are not records: instants (`SystemTime` in the bindings:
//! `java.time.Instant` in Kotlin, `Date` in Swift), durations, ids (`Uuid`: `java.util.UUID`
//! and `Foundation.UUID`, see `uniffi.toml`) and local times.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, NaiveDateTime, Utc};
use uuid::Uuid;

use crate::error::ProoflineError;

// Ids cross as UUID strings; `uniffi.toml` maps them to each platform's UUID type.
uniffi::custom_type!(Uuid, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |text| Ok(Uuid::parse_str(&text)?),
});

/// An instant from the app as the core's UTC time. Instants chrono cannot represent (beyond
/// ±262,000 years) are refused rather than clamped.
pub(crate) fn utc(at: SystemTime, what: &str) -> Result<DateTime<Utc>, ProoflineError> {
    let converted = match at.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs())
            .ok()
            .and_then(|secs| DateTime::from_timestamp(secs, after.subsec_nanos())),
        Err(before) => {
            let before = before.duration();
            i64::try_from(before.as_secs()).ok().and_then(|secs| {
                // -(s + n) = -(s + 1) + (1e9 - n) when there is a fraction of a second.
                let nanos = before.subsec_nanos();
                if nanos == 0 {
                    DateTime::from_timestamp(-secs, 0)
                } else {
                    DateTime::from_timestamp(-secs - 1, 1_000_000_000 - nanos)
                }
            })
        }
    };
    converted.ok_or_else(|| {
        ProoflineError::InvalidInput(format!(
            "{what} is not a usable date (it must lie within ±262,000 years of 1970)"
        ))
    })
}

/// The core's UTC time as an instant for the app.
pub(crate) fn instant(at: DateTime<Utc>) -> SystemTime {
    SystemTime::from(at)
}

/// An optional core time as an optional instant.
pub(crate) fn instant_opt(at: Option<DateTime<Utc>>) -> Option<SystemTime> {
    at.map(instant)
}

/// A duration from the app as the core's duration.
pub(crate) fn span(length: Duration, what: &str) -> Result<chrono::Duration, ProoflineError> {
    chrono::Duration::from_std(length)
        .map_err(|_| ProoflineError::InvalidInput(format!("{what} is too long to compute with")))
}

/// A wall-clock time in a site's zone as ISO 8601 without offset (`2026-12-09T07:00:00`),
/// which `java.time.LocalDateTime.parse` and `ISO8601DateFormatter` read.
pub(crate) fn local(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// A count or position from the core (`usize`) as the bindings' `u32`, saturating (no
/// realistic count reaches it).
pub(crate) fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_round_trip_before_and_after_1970() {
        for text in [
            "2026-12-09T12:10:00.123456789Z",
            "1969-07-20T20:17:40.5Z",
            "1970-01-01T00:00:00Z",
            "1969-12-31T23:59:59Z",
        ] {
            let at = DateTime::parse_from_rfc3339(text)
                .unwrap()
                .with_timezone(&Utc);
            assert_eq!(utc(instant(at), "now").unwrap(), at, "{text}");
        }
    }

    #[test]
    fn an_instant_too_far_away_is_refused_not_clamped() {
        let far = UNIX_EPOCH + Duration::from_secs(10_000_000_000_000);
        let error = utc(far, "the due time").unwrap_err();
        assert!(
            matches!(&error, ProoflineError::InvalidInput(m) if m.starts_with("the due time is not a usable date")),
            "{error:?}"
        );
    }

    #[test]
    fn local_times_are_iso_without_offset() {
        let at = NaiveDateTime::parse_from_str("2026-12-09 07:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(local(at), "2026-12-09T07:00:00");
    }
}
