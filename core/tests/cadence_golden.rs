//! Golden tests for the cadence engine: hand-checked due instants for RRULEs in several
//! zones (DST gaps and overlaps, including 30- and 45-minute zones), calendar arithmetic,
//! COUNT/UNTIL/EXDATE, closed-day policies and after-completion chains, plus typed errors.
//!
//! Expected instants are RFC 3339 strings with the zone's offset at that instant, so a reader
//! can check them against the DST policy (DESIGN.md): a local time in a spring-forward gap
//! takes the offset before the gap, an ambiguous one is the first, equal instants collapse.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use chrono_tz::{America, Asia, Australia, Europe, Pacific, Tz};
use proofline_core::cadence::{CadenceError, CompiledCadence, RuleError, expand_rule};
use proofline_core::model::{
    Cadence, ClosedDayPolicy, Holiday, PersonId, RepeatFailureRule, Role, Routine, RoutineId, Site,
    SiteId, Window,
};
use uuid::Uuid;

/// One rule expanded over one window, with the expected due instants.
struct Case {
    name: &'static str,
    rrule: &'static str,
    /// Local DTSTART in `tz`.
    start: &'static str,
    tz: Tz,
    /// Local EXDATEs in `tz`.
    exdates: &'static [&'static str],
    /// Window start (inclusive), RFC 3339.
    from: &'static str,
    /// Window end (exclusive), RFC 3339.
    until: &'static str,
    /// Due instants, RFC 3339 with the zone's offset at each instant.
    expected: &'static [&'static str],
}

fn local(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .unwrap_or_else(|e| panic!("bad local time {text}: {e}"))
}

fn instant(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("bad instant {text}: {e}"))
        .to_utc()
}

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|e| panic!("bad date {text}: {e}"))
}

fn render(instants: &[DateTime<Utc>], tz: Tz) -> Vec<String> {
    instants
        .iter()
        .map(|i| i.with_timezone(&tz).to_rfc3339())
        .collect()
}

fn expand_case(case: &Case) -> Vec<String> {
    let exdates: Vec<NaiveDateTime> = case.exdates.iter().map(|e| local(e)).collect();
    let due = expand_rule(
        case.rrule,
        local(case.start),
        case.tz,
        &exdates,
        instant(case.from),
        instant(case.until),
    )
    .unwrap_or_else(|e| panic!("case {}: {e}", case.name));
    render(&due, case.tz)
}

#[rustfmt::skip]
const RULE_CASES: &[Case] = &[
    // New York springs forward 2026-03-08 02:00 EST -> 03:00 EDT: 02:30 does not exist and takes
    // the offset before the gap (-05:00), i.e. 03:30 EDT.
    Case {
        name: "ny_daily_in_spring_gap",
        rrule: "FREQ=DAILY",
        start: "2026-03-06T02:30:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-03-06T00:00:00-05:00",
        until: "2026-03-11T00:00:00-04:00",
        expected: &[
            "2026-03-06T02:30:00-05:00",
            "2026-03-07T02:30:00-05:00",
            "2026-03-08T03:30:00-04:00",
            "2026-03-09T02:30:00-04:00",
            "2026-03-10T02:30:00-04:00",
        ],
    },
    // New York falls back 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 happens twice; the first (EDT)
    // counts.
    Case {
        name: "ny_daily_in_fall_overlap",
        rrule: "FREQ=DAILY",
        start: "2026-10-30T01:30:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-10-30T00:00:00-04:00",
        until: "2026-11-03T00:00:00-05:00",
        expected: &[
            "2026-10-30T01:30:00-04:00",
            "2026-10-31T01:30:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-02T01:30:00-05:00",
        ],
    },
    // 02:00 on the gap day reads as 03:00 EDT, the same instant as 03:00: one occurrence.
    Case {
        name: "ny_byhour_1_2_3_spring",
        rrule: "FREQ=DAILY;BYHOUR=1,2,3;BYMINUTE=0",
        start: "2026-03-01T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-03-07T00:00:00-05:00",
        until: "2026-03-10T00:00:00-04:00",
        expected: &[
            "2026-03-07T01:00:00-05:00",
            "2026-03-07T02:00:00-05:00",
            "2026-03-07T03:00:00-05:00",
            "2026-03-08T01:00:00-05:00",
            "2026-03-08T03:00:00-04:00",
            "2026-03-09T01:00:00-04:00",
            "2026-03-09T02:00:00-04:00",
            "2026-03-09T03:00:00-04:00",
        ],
    },
    // 01:00 is ambiguous (first: EDT); 02:00 and 03:00 are EST.
    Case {
        name: "ny_byhour_1_2_3_fall",
        rrule: "FREQ=DAILY;BYHOUR=1,2,3;BYMINUTE=0",
        start: "2026-03-01T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-10-31T00:00:00-04:00",
        until: "2026-11-02T12:00:00-05:00",
        expected: &[
            "2026-10-31T01:00:00-04:00",
            "2026-10-31T02:00:00-04:00",
            "2026-10-31T03:00:00-04:00",
            "2026-11-01T01:00:00-04:00",
            "2026-11-01T02:00:00-05:00",
            "2026-11-01T03:00:00-05:00",
            "2026-11-02T01:00:00-05:00",
            "2026-11-02T02:00:00-05:00",
            "2026-11-02T03:00:00-05:00",
        ],
    },
    // Hourly iterates local hours (dateutil): 02:00 -> 03:00 EDT collapses with 03:00.
    Case {
        name: "ny_hourly_spring",
        rrule: "FREQ=HOURLY",
        start: "2026-03-07T22:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-03-08T00:00:00-05:00",
        until: "2026-03-08T05:00:00-04:00",
        expected: &[
            "2026-03-08T00:00:00-05:00",
            "2026-03-08T01:00:00-05:00",
            "2026-03-08T03:00:00-04:00",
            "2026-03-08T04:00:00-04:00",
        ],
    },
    // Local hours 00..03: 01:00 is the EDT one; the repeated 01:00 EST is not a separate local
    // hour.
    Case {
        name: "ny_hourly_fall",
        rrule: "FREQ=HOURLY",
        start: "2026-10-31T22:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-11-01T00:00:00-04:00",
        until: "2026-11-01T04:00:00-05:00",
        expected: &[
            "2026-11-01T00:00:00-04:00",
            "2026-11-01T01:00:00-04:00",
            "2026-11-01T02:00:00-05:00",
            "2026-11-01T03:00:00-05:00",
        ],
    },
    // 02:00/02:30 read as 03:00/03:30 EDT and collapse with the real 03:00/03:30.
    Case {
        name: "ny_every_30_min_spring",
        rrule: "FREQ=MINUTELY;INTERVAL=30",
        start: "2026-03-07T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-03-08T01:00:00-05:00",
        until: "2026-03-08T04:01:00-04:00",
        expected: &[
            "2026-03-08T01:00:00-05:00",
            "2026-03-08T01:30:00-05:00",
            "2026-03-08T03:00:00-04:00",
            "2026-03-08T03:30:00-04:00",
            "2026-03-08T04:00:00-04:00",
        ],
    },
    Case {
        name: "ny_every_30_min_fall",
        rrule: "FREQ=MINUTELY;INTERVAL=30",
        start: "2026-10-31T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-11-01T00:30:00-04:00",
        until: "2026-11-01T03:00:00-05:00",
        expected: &[
            "2026-11-01T00:30:00-04:00",
            "2026-11-01T01:00:00-04:00",
            "2026-11-01T01:30:00-04:00",
            "2026-11-01T02:00:00-05:00",
            "2026-11-01T02:30:00-05:00",
        ],
    },
    // London springs forward 2026-03-29 01:00 GMT -> 02:00 BST.
    Case {
        name: "london_daily_in_spring_gap",
        rrule: "FREQ=DAILY",
        start: "2026-03-27T01:30:00",
        tz: Europe::London,
        exdates: &[],
        from: "2026-03-27T00:00:00+00:00",
        until: "2026-03-31T00:00:00+01:00",
        expected: &[
            "2026-03-27T01:30:00+00:00",
            "2026-03-28T01:30:00+00:00",
            "2026-03-29T02:30:00+01:00",
            "2026-03-30T01:30:00+01:00",
        ],
    },
    // London falls back 2026-10-25 02:00 BST -> 01:00 GMT; 01:30 is the BST one.
    Case {
        name: "london_daily_in_fall_overlap",
        rrule: "FREQ=DAILY",
        start: "2026-10-23T01:30:00",
        tz: Europe::London,
        exdates: &[],
        from: "2026-10-23T00:00:00+01:00",
        until: "2026-10-27T00:00:00+00:00",
        expected: &[
            "2026-10-23T01:30:00+01:00",
            "2026-10-24T01:30:00+01:00",
            "2026-10-25T01:30:00+01:00",
            "2026-10-26T01:30:00+00:00",
        ],
    },
    Case {
        name: "london_byhour_0_1_2_spring",
        rrule: "FREQ=DAILY;BYHOUR=0,1,2;BYMINUTE=0",
        start: "2026-03-01T00:00:00",
        tz: Europe::London,
        exdates: &[],
        from: "2026-03-28T00:00:00+00:00",
        until: "2026-03-30T00:00:00+01:00",
        expected: &[
            "2026-03-28T00:00:00+00:00",
            "2026-03-28T01:00:00+00:00",
            "2026-03-28T02:00:00+00:00",
            "2026-03-29T00:00:00+00:00",
            "2026-03-29T02:00:00+01:00",
        ],
    },
    Case {
        name: "london_byhour_0_1_2_fall",
        rrule: "FREQ=DAILY;BYHOUR=0,1,2;BYMINUTE=0",
        start: "2026-03-01T00:00:00",
        tz: Europe::London,
        exdates: &[],
        from: "2026-10-25T00:00:00+01:00",
        until: "2026-10-26T00:00:00+00:00",
        expected: &[
            "2026-10-25T00:00:00+01:00",
            "2026-10-25T01:00:00+01:00",
            "2026-10-25T02:00:00+00:00",
        ],
    },
    Case {
        name: "london_hourly_spring",
        rrule: "FREQ=HOURLY",
        start: "2026-03-28T20:00:00",
        tz: Europe::London,
        exdates: &[],
        from: "2026-03-29T00:00:00+00:00",
        until: "2026-03-29T04:00:00+01:00",
        expected: &[
            "2026-03-29T00:00:00+00:00",
            "2026-03-29T02:00:00+01:00",
            "2026-03-29T03:00:00+01:00",
        ],
    },
    Case {
        name: "london_hourly_fall",
        rrule: "FREQ=HOURLY",
        start: "2026-10-24T20:00:00",
        tz: Europe::London,
        exdates: &[],
        from: "2026-10-25T00:00:00+01:00",
        until: "2026-10-25T04:00:00+00:00",
        expected: &[
            "2026-10-25T00:00:00+01:00",
            "2026-10-25T01:00:00+01:00",
            "2026-10-25T02:00:00+00:00",
            "2026-10-25T03:00:00+00:00",
        ],
    },
    Case {
        name: "london_every_30_min_spring",
        rrule: "FREQ=MINUTELY;INTERVAL=30",
        start: "2026-03-28T00:00:00",
        tz: Europe::London,
        exdates: &[],
        from: "2026-03-29T00:00:00+00:00",
        until: "2026-03-29T03:00:00+01:00",
        expected: &[
            "2026-03-29T00:00:00+00:00",
            "2026-03-29T00:30:00+00:00",
            "2026-03-29T02:00:00+01:00",
            "2026-03-29T02:30:00+01:00",
        ],
    },
    Case {
        name: "london_every_30_min_fall",
        rrule: "FREQ=MINUTELY;INTERVAL=30",
        start: "2026-10-24T00:00:00",
        tz: Europe::London,
        exdates: &[],
        from: "2026-10-25T00:00:00+01:00",
        until: "2026-10-25T02:30:00+00:00",
        expected: &[
            "2026-10-25T00:00:00+01:00",
            "2026-10-25T00:30:00+01:00",
            "2026-10-25T01:00:00+01:00",
            "2026-10-25T01:30:00+01:00",
            "2026-10-25T02:00:00+00:00",
        ],
    },
    // Lord Howe shifts by 30 minutes: 2026-10-04 02:00 (+10:30) -> 02:30 (+11:00); 02:15 reads as
    // 02:45 +11:00.
    Case {
        name: "lord_howe_daily_in_spring_gap",
        rrule: "FREQ=DAILY",
        start: "2026-10-02T02:15:00",
        tz: Australia::Lord_Howe,
        exdates: &[],
        from: "2026-10-02T00:00:00+10:30",
        until: "2026-10-06T00:00:00+11:00",
        expected: &[
            "2026-10-02T02:15:00+10:30",
            "2026-10-03T02:15:00+10:30",
            "2026-10-04T02:45:00+11:00",
            "2026-10-05T02:15:00+11:00",
        ],
    },
    // Lord Howe falls back 2026-04-05 02:00 (+11:00) -> 01:30 (+10:30); 01:45 is the +11:00 one.
    Case {
        name: "lord_howe_daily_in_fall_overlap",
        rrule: "FREQ=DAILY",
        start: "2026-04-03T01:45:00",
        tz: Australia::Lord_Howe,
        exdates: &[],
        from: "2026-04-03T00:00:00+11:00",
        until: "2026-04-07T00:00:00+10:30",
        expected: &[
            "2026-04-03T01:45:00+11:00",
            "2026-04-04T01:45:00+11:00",
            "2026-04-05T01:45:00+11:00",
            "2026-04-06T01:45:00+10:30",
        ],
    },
    // 02:00 and 02:15 read as 02:30 and 02:45 +11:00 and collapse with the real ones.
    Case {
        name: "lord_howe_byhour_quarters_spring",
        rrule: "FREQ=DAILY;BYHOUR=1,2,3;BYMINUTE=0,15,30,45",
        start: "2026-01-01T00:00:00",
        tz: Australia::Lord_Howe,
        exdates: &[],
        from: "2026-10-04T00:00:00+10:30",
        until: "2026-10-05T00:00:00+11:00",
        expected: &[
            "2026-10-04T01:00:00+10:30",
            "2026-10-04T01:15:00+10:30",
            "2026-10-04T01:30:00+10:30",
            "2026-10-04T01:45:00+10:30",
            "2026-10-04T02:30:00+11:00",
            "2026-10-04T02:45:00+11:00",
            "2026-10-04T03:00:00+11:00",
            "2026-10-04T03:15:00+11:00",
            "2026-10-04T03:30:00+11:00",
            "2026-10-04T03:45:00+11:00",
        ],
    },
    // 01:30 and 01:45 are ambiguous (first: +11:00); 02:00 on is +10:30.
    Case {
        name: "lord_howe_byhour_quarters_fall",
        rrule: "FREQ=DAILY;BYHOUR=1,2;BYMINUTE=0,15,30,45",
        start: "2026-01-01T00:00:00",
        tz: Australia::Lord_Howe,
        exdates: &[],
        from: "2026-04-05T00:00:00+11:00",
        until: "2026-04-06T00:00:00+10:30",
        expected: &[
            "2026-04-05T01:00:00+11:00",
            "2026-04-05T01:15:00+11:00",
            "2026-04-05T01:30:00+11:00",
            "2026-04-05T01:45:00+11:00",
            "2026-04-05T02:00:00+10:30",
            "2026-04-05T02:15:00+10:30",
            "2026-04-05T02:30:00+10:30",
            "2026-04-05T02:45:00+10:30",
        ],
    },
    Case {
        name: "lord_howe_hourly_spring",
        rrule: "FREQ=HOURLY",
        start: "2026-10-03T23:00:00",
        tz: Australia::Lord_Howe,
        exdates: &[],
        from: "2026-10-04T00:00:00+10:30",
        until: "2026-10-04T05:00:00+11:00",
        expected: &[
            "2026-10-04T00:00:00+10:30",
            "2026-10-04T01:00:00+10:30",
            "2026-10-04T02:30:00+11:00",
            "2026-10-04T03:00:00+11:00",
            "2026-10-04T04:00:00+11:00",
        ],
    },
    Case {
        name: "lord_howe_hourly_fall",
        rrule: "FREQ=HOURLY",
        start: "2026-04-04T23:00:00",
        tz: Australia::Lord_Howe,
        exdates: &[],
        from: "2026-04-05T00:00:00+11:00",
        until: "2026-04-05T04:00:00+10:30",
        expected: &[
            "2026-04-05T00:00:00+11:00",
            "2026-04-05T01:00:00+11:00",
            "2026-04-05T02:00:00+10:30",
            "2026-04-05T03:00:00+10:30",
        ],
    },
    Case {
        name: "lord_howe_every_30_min_spring",
        rrule: "FREQ=MINUTELY;INTERVAL=30",
        start: "2026-10-03T00:00:00",
        tz: Australia::Lord_Howe,
        exdates: &[],
        from: "2026-10-04T01:00:00+10:30",
        until: "2026-10-04T03:31:00+11:00",
        expected: &[
            "2026-10-04T01:00:00+10:30",
            "2026-10-04T01:30:00+10:30",
            "2026-10-04T02:30:00+11:00",
            "2026-10-04T03:00:00+11:00",
            "2026-10-04T03:30:00+11:00",
        ],
    },
    Case {
        name: "lord_howe_every_30_min_fall",
        rrule: "FREQ=MINUTELY;INTERVAL=30",
        start: "2026-04-04T00:00:00",
        tz: Australia::Lord_Howe,
        exdates: &[],
        from: "2026-04-05T00:30:00+11:00",
        until: "2026-04-05T03:00:00+10:30",
        expected: &[
            "2026-04-05T00:30:00+11:00",
            "2026-04-05T01:00:00+11:00",
            "2026-04-05T01:30:00+11:00",
            "2026-04-05T02:00:00+10:30",
            "2026-04-05T02:30:00+10:30",
        ],
    },
    // Chatham springs forward 2026-09-27 02:45 (+12:45) -> 03:45 (+13:45); 03:00 reads as 04:00
    // +13:45.
    Case {
        name: "chatham_daily_in_spring_gap",
        rrule: "FREQ=DAILY",
        start: "2026-09-25T03:00:00",
        tz: Pacific::Chatham,
        exdates: &[],
        from: "2026-09-25T00:00:00+12:45",
        until: "2026-09-29T00:00:00+13:45",
        expected: &[
            "2026-09-25T03:00:00+12:45",
            "2026-09-26T03:00:00+12:45",
            "2026-09-27T04:00:00+13:45",
            "2026-09-28T03:00:00+13:45",
        ],
    },
    // Chatham falls back 2026-04-05 03:45 (+13:45) -> 02:45 (+12:45); 03:00 is the +13:45 one.
    Case {
        name: "chatham_daily_in_fall_overlap",
        rrule: "FREQ=DAILY",
        start: "2026-04-03T03:00:00",
        tz: Pacific::Chatham,
        exdates: &[],
        from: "2026-04-03T00:00:00+13:45",
        until: "2026-04-07T00:00:00+12:45",
        expected: &[
            "2026-04-03T03:00:00+13:45",
            "2026-04-04T03:00:00+13:45",
            "2026-04-05T03:00:00+13:45",
            "2026-04-06T03:00:00+12:45",
        ],
    },
    // 03:00 reads as 04:00 +13:45 and collapses with 04:00.
    Case {
        name: "chatham_byhour_2_3_4_spring",
        rrule: "FREQ=DAILY;BYHOUR=2,3,4;BYMINUTE=0",
        start: "2026-01-01T00:00:00",
        tz: Pacific::Chatham,
        exdates: &[],
        from: "2026-09-27T00:00:00+12:45",
        until: "2026-09-28T00:00:00+13:45",
        expected: &[
            "2026-09-27T02:00:00+12:45",
            "2026-09-27T04:00:00+13:45",
        ],
    },
    Case {
        name: "chatham_byhour_2_3_4_fall",
        rrule: "FREQ=DAILY;BYHOUR=2,3,4;BYMINUTE=0",
        start: "2026-01-01T00:00:00",
        tz: Pacific::Chatham,
        exdates: &[],
        from: "2026-04-05T00:00:00+13:45",
        until: "2026-04-06T00:00:00+12:45",
        expected: &[
            "2026-04-05T02:00:00+13:45",
            "2026-04-05T03:00:00+13:45",
            "2026-04-05T04:00:00+12:45",
        ],
    },
    Case {
        name: "chatham_hourly_spring",
        rrule: "FREQ=HOURLY",
        start: "2026-09-26T22:00:00",
        tz: Pacific::Chatham,
        exdates: &[],
        from: "2026-09-27T01:00:00+12:45",
        until: "2026-09-27T06:00:00+13:45",
        expected: &[
            "2026-09-27T01:00:00+12:45",
            "2026-09-27T02:00:00+12:45",
            "2026-09-27T04:00:00+13:45",
            "2026-09-27T05:00:00+13:45",
        ],
    },
    Case {
        name: "chatham_hourly_fall",
        rrule: "FREQ=HOURLY",
        start: "2026-04-04T22:00:00",
        tz: Pacific::Chatham,
        exdates: &[],
        from: "2026-04-05T01:00:00+13:45",
        until: "2026-04-05T05:00:00+12:45",
        expected: &[
            "2026-04-05T01:00:00+13:45",
            "2026-04-05T02:00:00+13:45",
            "2026-04-05T03:00:00+13:45",
            "2026-04-05T04:00:00+12:45",
        ],
    },
    Case {
        name: "chatham_every_30_min_spring",
        rrule: "FREQ=MINUTELY;INTERVAL=30",
        start: "2026-09-26T00:00:00",
        tz: Pacific::Chatham,
        exdates: &[],
        from: "2026-09-27T02:00:00+12:45",
        until: "2026-09-27T04:31:00+13:45",
        expected: &[
            "2026-09-27T02:00:00+12:45",
            "2026-09-27T02:30:00+12:45",
            "2026-09-27T04:00:00+13:45",
            "2026-09-27T04:30:00+13:45",
        ],
    },
    Case {
        name: "chatham_every_30_min_fall",
        rrule: "FREQ=MINUTELY;INTERVAL=30",
        start: "2026-04-04T00:00:00",
        tz: Pacific::Chatham,
        exdates: &[],
        from: "2026-04-05T02:00:00+13:45",
        until: "2026-04-05T04:01:00+12:45",
        expected: &[
            "2026-04-05T02:00:00+13:45",
            "2026-04-05T02:30:00+13:45",
            "2026-04-05T03:00:00+13:45",
            "2026-04-05T03:30:00+13:45",
            "2026-04-05T04:00:00+12:45",
        ],
    },
    // No DST in Kolkata: 02:30 every day, +05:30.
    Case {
        name: "kolkata_daily_0230_on_ny_spring_dates",
        rrule: "FREQ=DAILY",
        start: "2026-03-06T02:30:00",
        tz: Asia::Kolkata,
        exdates: &[],
        from: "2026-03-07T00:00:00+05:30",
        until: "2026-03-10T00:00:00+05:30",
        expected: &[
            "2026-03-07T02:30:00+05:30",
            "2026-03-08T02:30:00+05:30",
            "2026-03-09T02:30:00+05:30",
        ],
    },
    Case {
        name: "kolkata_byhour_1_2_3",
        rrule: "FREQ=DAILY;BYHOUR=1,2,3;BYMINUTE=0",
        start: "2026-01-01T00:00:00",
        tz: Asia::Kolkata,
        exdates: &[],
        from: "2026-11-01T00:00:00+05:30",
        until: "2026-11-02T00:00:00+05:30",
        expected: &[
            "2026-11-01T01:00:00+05:30",
            "2026-11-01T02:00:00+05:30",
            "2026-11-01T03:00:00+05:30",
        ],
    },
    Case {
        name: "kolkata_hourly",
        rrule: "FREQ=HOURLY",
        start: "2026-03-07T22:00:00",
        tz: Asia::Kolkata,
        exdates: &[],
        from: "2026-03-08T00:00:00+05:30",
        until: "2026-03-08T04:00:00+05:30",
        expected: &[
            "2026-03-08T00:00:00+05:30",
            "2026-03-08T01:00:00+05:30",
            "2026-03-08T02:00:00+05:30",
            "2026-03-08T03:00:00+05:30",
        ],
    },
    Case {
        name: "kolkata_every_30_min",
        rrule: "FREQ=MINUTELY;INTERVAL=30",
        start: "2026-10-31T00:00:00",
        tz: Asia::Kolkata,
        exdates: &[],
        from: "2026-11-01T01:00:00+05:30",
        until: "2026-11-01T03:00:00+05:30",
        expected: &[
            "2026-11-01T01:00:00+05:30",
            "2026-11-01T01:30:00+05:30",
            "2026-11-01T02:00:00+05:30",
            "2026-11-01T02:30:00+05:30",
        ],
    },
    // Jan 31, Feb 28, May 31 and Oct 31 2026 fall on weekends.
    Case {
        name: "last_business_day",
        rrule: "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;BYHOUR=17;BYMINUTE=0",
        start: "2026-01-01T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-01T00:00:00-05:00",
        until: "2027-01-01T00:00:00-05:00",
        expected: &[
            "2026-01-30T17:00:00-05:00",
            "2026-02-27T17:00:00-05:00",
            "2026-03-31T17:00:00-04:00",
            "2026-04-30T17:00:00-04:00",
            "2026-05-29T17:00:00-04:00",
            "2026-06-30T17:00:00-04:00",
            "2026-07-31T17:00:00-04:00",
            "2026-08-31T17:00:00-04:00",
            "2026-09-30T17:00:00-04:00",
            "2026-10-30T17:00:00-04:00",
            "2026-11-30T17:00:00-05:00",
            "2026-12-31T17:00:00-05:00",
        ],
    },
    // Feb 1, Mar 1 (Sundays) and Aug 1 (Saturday) 2026 are weekends.
    Case {
        name: "first_weekday_of_month",
        rrule: "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1;BYHOUR=8;BYMINUTE=0",
        start: "2026-01-01T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-01T00:00:00-05:00",
        until: "2026-09-01T00:00:00-04:00",
        expected: &[
            "2026-01-01T08:00:00-05:00",
            "2026-02-02T08:00:00-05:00",
            "2026-03-02T08:00:00-05:00",
            "2026-04-01T08:00:00-04:00",
            "2026-05-01T08:00:00-04:00",
            "2026-06-01T08:00:00-04:00",
            "2026-07-01T08:00:00-04:00",
            "2026-08-03T08:00:00-04:00",
        ],
    },
    Case {
        name: "last_day_of_month_across_leap_feb",
        rrule: "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=18;BYMINUTE=0",
        start: "2027-10-01T00:00:00",
        tz: Europe::London,
        exdates: &[],
        from: "2027-11-01T00:00:00+00:00",
        until: "2028-05-01T00:00:00+01:00",
        expected: &[
            "2027-11-30T18:00:00+00:00",
            "2027-12-31T18:00:00+00:00",
            "2028-01-31T18:00:00+00:00",
            "2028-02-29T18:00:00+00:00",
            "2028-03-31T18:00:00+01:00",
            "2028-04-30T18:00:00+01:00",
        ],
    },
    // Months without a 31st are skipped, not clamped.
    Case {
        name: "monthday_31_skips_short_months",
        rrule: "FREQ=MONTHLY;BYMONTHDAY=31;BYHOUR=8;BYMINUTE=0",
        start: "2026-01-01T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-01T00:00:00-05:00",
        until: "2027-01-01T00:00:00-05:00",
        expected: &[
            "2026-01-31T08:00:00-05:00",
            "2026-03-31T08:00:00-04:00",
            "2026-05-31T08:00:00-04:00",
            "2026-07-31T08:00:00-04:00",
            "2026-08-31T08:00:00-04:00",
            "2026-10-31T08:00:00-04:00",
            "2026-12-31T08:00:00-05:00",
        ],
    },
    Case {
        name: "monthly_default_from_dtstart_on_31st",
        rrule: "FREQ=MONTHLY",
        start: "2026-01-31T08:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-01T00:00:00-05:00",
        until: "2026-09-01T00:00:00-04:00",
        expected: &[
            "2026-01-31T08:00:00-05:00",
            "2026-03-31T08:00:00-04:00",
            "2026-05-31T08:00:00-04:00",
            "2026-07-31T08:00:00-04:00",
            "2026-08-31T08:00:00-04:00",
        ],
    },
    // Only Jan, May, Jul and Oct 2026 have five Fridays.
    Case {
        name: "fifth_friday",
        rrule: "FREQ=MONTHLY;BYDAY=5FR;BYHOUR=12;BYMINUTE=0",
        start: "2026-01-01T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-01T00:00:00-05:00",
        until: "2027-01-01T00:00:00-05:00",
        expected: &[
            "2026-01-30T12:00:00-05:00",
            "2026-05-29T12:00:00-04:00",
            "2026-07-31T12:00:00-04:00",
            "2026-10-30T12:00:00-04:00",
        ],
    },
    // Only Mar, Jun, Aug and Nov 2026 have five Mondays.
    Case {
        name: "fifth_monday",
        rrule: "FREQ=MONTHLY;BYDAY=5MO;BYHOUR=12;BYMINUTE=0",
        start: "2026-01-01T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-01T00:00:00-05:00",
        until: "2027-01-01T00:00:00-05:00",
        expected: &[
            "2026-03-30T12:00:00-04:00",
            "2026-06-29T12:00:00-04:00",
            "2026-08-31T12:00:00-04:00",
            "2026-11-30T12:00:00-05:00",
        ],
    },
    Case {
        name: "last_friday",
        rrule: "FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=16;BYMINUTE=0",
        start: "2026-01-01T00:00:00",
        tz: Europe::London,
        exdates: &[],
        from: "2026-01-01T00:00:00+00:00",
        until: "2026-07-01T00:00:00+01:00",
        expected: &[
            "2026-01-30T16:00:00+00:00",
            "2026-02-27T16:00:00+00:00",
            "2026-03-27T16:00:00+00:00",
            "2026-04-24T16:00:00+01:00",
            "2026-05-29T16:00:00+01:00",
            "2026-06-26T16:00:00+01:00",
        ],
    },
    Case {
        name: "second_monday",
        rrule: "FREQ=MONTHLY;BYDAY=2MO;BYHOUR=9;BYMINUTE=30",
        start: "2026-01-01T00:00:00",
        tz: Asia::Kolkata,
        exdates: &[],
        from: "2026-01-01T00:00:00+05:30",
        until: "2026-07-01T00:00:00+05:30",
        expected: &[
            "2026-01-12T09:30:00+05:30",
            "2026-02-09T09:30:00+05:30",
            "2026-03-09T09:30:00+05:30",
            "2026-04-13T09:30:00+05:30",
            "2026-05-11T09:30:00+05:30",
            "2026-06-08T09:30:00+05:30",
        ],
    },
    Case {
        name: "leap_day_yearly",
        rrule: "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=10;BYMINUTE=0",
        start: "2024-01-01T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2024-01-01T00:00:00-05:00",
        until: "2034-01-01T00:00:00-05:00",
        expected: &[
            "2024-02-29T10:00:00-05:00",
            "2028-02-29T10:00:00-05:00",
            "2032-02-29T10:00:00-05:00",
        ],
    },
    Case {
        name: "last_day_of_february_yearly",
        rrule: "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=-1;BYHOUR=10;BYMINUTE=0",
        start: "2026-01-01T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-01T00:00:00-05:00",
        until: "2031-01-01T00:00:00-05:00",
        expected: &[
            "2026-02-28T10:00:00-05:00",
            "2027-02-28T10:00:00-05:00",
            "2028-02-29T10:00:00-05:00",
            "2029-02-28T10:00:00-05:00",
            "2030-02-28T10:00:00-05:00",
        ],
    },
    // Without BYMONTH the ordinal counts within the year: first Mondays Jan 5 2026, Jan 4 2027,
    // Jan 3 2028, plus 19 weeks.
    Case {
        name: "yearly_20th_monday_of_year",
        rrule: "FREQ=YEARLY;BYDAY=20MO;BYHOUR=9;BYMINUTE=0",
        start: "2026-01-01T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-01T00:00:00-05:00",
        until: "2029-01-01T00:00:00-05:00",
        expected: &[
            "2026-05-18T09:00:00-04:00",
            "2027-05-17T09:00:00-04:00",
            "2028-05-15T09:00:00-04:00",
        ],
    },
    Case {
        name: "yearly_last_friday_of_year",
        rrule: "FREQ=YEARLY;BYDAY=-1FR;BYHOUR=9;BYMINUTE=0",
        start: "2026-01-01T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-01T00:00:00-05:00",
        until: "2029-01-01T00:00:00-05:00",
        expected: &[
            "2026-12-25T09:00:00-05:00",
            "2027-12-31T09:00:00-05:00",
            "2028-12-29T09:00:00-05:00",
        ],
    },
    // With BYMONTH the ordinal counts within the month.
    Case {
        name: "yearly_2nd_monday_of_may",
        rrule: "FREQ=YEARLY;BYMONTH=5;BYDAY=2MO;BYHOUR=9;BYMINUTE=0",
        start: "2026-01-01T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-01T00:00:00-05:00",
        until: "2029-01-01T00:00:00-05:00",
        expected: &[
            "2026-05-11T09:00:00-04:00",
            "2027-05-10T09:00:00-04:00",
            "2028-05-08T09:00:00-04:00",
        ],
    },
    Case {
        name: "yearly_last_monday_of_may",
        rrule: "FREQ=YEARLY;BYMONTH=5;BYDAY=-1MO;BYHOUR=9;BYMINUTE=0",
        start: "2026-01-01T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-01T00:00:00-05:00",
        until: "2029-01-01T00:00:00-05:00",
        expected: &[
            "2026-05-25T09:00:00-04:00",
            "2027-05-31T09:00:00-04:00",
            "2028-05-29T09:00:00-04:00",
        ],
    },
    Case {
        name: "yearly_default_from_dtstart",
        rrule: "FREQ=YEARLY",
        start: "2026-03-15T08:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-01T00:00:00-05:00",
        until: "2030-01-01T00:00:00-05:00",
        expected: &[
            "2026-03-15T08:00:00-04:00",
            "2027-03-15T08:00:00-04:00",
            "2028-03-15T08:00:00-04:00",
            "2029-03-15T08:00:00-04:00",
        ],
    },
    Case {
        name: "yearly_leap_dtstart_defaults",
        rrule: "FREQ=YEARLY",
        start: "2024-02-29T07:00:00",
        tz: Europe::London,
        exdates: &[],
        from: "2024-01-01T00:00:00+00:00",
        until: "2033-01-01T00:00:00+00:00",
        expected: &[
            "2024-02-29T07:00:00+00:00",
            "2028-02-29T07:00:00+00:00",
            "2032-02-29T07:00:00+00:00",
        ],
    },
    // RFC 5545 example: WKST decides which weeks are "every other".
    Case {
        name: "weekly_interval_2_wkst_mo",
        rrule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=MO;COUNT=4",
        start: "1997-08-05T09:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "1997-08-01T00:00:00-04:00",
        until: "1997-10-01T00:00:00-04:00",
        expected: &[
            "1997-08-05T09:00:00-04:00",
            "1997-08-10T09:00:00-04:00",
            "1997-08-19T09:00:00-04:00",
            "1997-08-24T09:00:00-04:00",
        ],
    },
    // Same rule with WKST=SU (RFC 5545 example): different days.
    Case {
        name: "weekly_interval_2_wkst_su",
        rrule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,SU;WKST=SU;COUNT=4",
        start: "1997-08-05T09:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "1997-08-01T00:00:00-04:00",
        until: "1997-10-01T00:00:00-04:00",
        expected: &[
            "1997-08-05T09:00:00-04:00",
            "1997-08-17T09:00:00-04:00",
            "1997-08-19T09:00:00-04:00",
            "1997-08-31T09:00:00-04:00",
        ],
    },
    Case {
        name: "weekly_default_weekday_from_dtstart",
        rrule: "FREQ=WEEKLY",
        start: "2026-01-08T14:00:00",
        tz: Europe::London,
        exdates: &[],
        from: "2026-01-01T00:00:00+00:00",
        until: "2026-02-06T00:00:00+00:00",
        expected: &[
            "2026-01-08T14:00:00+00:00",
            "2026-01-15T14:00:00+00:00",
            "2026-01-22T14:00:00+00:00",
            "2026-01-29T14:00:00+00:00",
            "2026-02-05T14:00:00+00:00",
        ],
    },
    Case {
        name: "monthly_interval_3",
        rrule: "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15;BYHOUR=9;BYMINUTE=0",
        start: "2026-01-15T09:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-01T00:00:00-05:00",
        until: "2027-07-01T00:00:00-04:00",
        expected: &[
            "2026-01-15T09:00:00-05:00",
            "2026-04-15T09:00:00-04:00",
            "2026-07-15T09:00:00-04:00",
            "2026-10-15T09:00:00-04:00",
            "2027-01-15T09:00:00-05:00",
            "2027-04-15T09:00:00-04:00",
        ],
    },
    Case {
        name: "yearly_interval_2",
        rrule: "FREQ=YEARLY;INTERVAL=2",
        start: "2026-06-30T12:00:00",
        tz: Europe::London,
        exdates: &[],
        from: "2026-01-01T00:00:00+00:00",
        until: "2033-01-01T00:00:00+00:00",
        expected: &[
            "2026-06-30T12:00:00+01:00",
            "2028-06-30T12:00:00+01:00",
            "2030-06-30T12:00:00+01:00",
            "2032-06-30T12:00:00+01:00",
        ],
    },
    Case {
        name: "bymonth_list_quarterly",
        rrule: "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYMONTHDAY=1;BYHOUR=6;BYMINUTE=0",
        start: "2026-01-01T00:00:00",
        tz: Pacific::Chatham,
        exdates: &[],
        from: "2026-01-01T00:00:00+13:45",
        until: "2027-01-01T00:00:00+13:45",
        expected: &[
            "2026-01-01T06:00:00+13:45",
            "2026-04-01T06:00:00+13:45",
            "2026-07-01T06:00:00+12:45",
            "2026-10-01T06:00:00+13:45",
        ],
    },
    Case {
        name: "yearly_bymonth_list",
        rrule: "FREQ=YEARLY;BYMONTH=3,9;BYDAY=1TU;BYHOUR=10;BYMINUTE=0",
        start: "2026-01-01T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-01T00:00:00-05:00",
        until: "2028-01-01T00:00:00-05:00",
        expected: &[
            "2026-03-03T10:00:00-05:00",
            "2026-09-01T10:00:00-04:00",
            "2027-03-02T10:00:00-05:00",
            "2027-09-07T10:00:00-04:00",
        ],
    },
    // An EXDATE that matches no occurrence (10:00) changes nothing.
    Case {
        name: "exdate_removes_occurrences",
        rrule: "FREQ=DAILY;BYHOUR=9;BYMINUTE=0",
        start: "2026-03-01T00:00:00",
        tz: America::New_York,
        exdates: &["2026-03-06T09:00:00", "2026-03-09T09:00:00", "2026-03-09T10:00:00"],
        from: "2026-03-05T00:00:00-05:00",
        until: "2026-03-11T00:00:00-04:00",
        expected: &[
            "2026-03-05T09:00:00-05:00",
            "2026-03-07T09:00:00-05:00",
            "2026-03-08T09:00:00-04:00",
            "2026-03-10T09:00:00-04:00",
        ],
    },
    Case {
        name: "exdate_in_spring_gap",
        rrule: "FREQ=DAILY",
        start: "2026-03-06T02:30:00",
        tz: America::New_York,
        exdates: &["2026-03-08T02:30:00"],
        from: "2026-03-06T00:00:00-05:00",
        until: "2026-03-10T00:00:00-04:00",
        expected: &[
            "2026-03-06T02:30:00-05:00",
            "2026-03-07T02:30:00-05:00",
            "2026-03-09T02:30:00-04:00",
        ],
    },
    Case {
        name: "count",
        rrule: "FREQ=DAILY;COUNT=5",
        start: "2026-03-06T02:30:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-01T00:00:00-05:00",
        until: "2027-01-01T00:00:00-05:00",
        expected: &[
            "2026-03-06T02:30:00-05:00",
            "2026-03-07T02:30:00-05:00",
            "2026-03-08T03:30:00-04:00",
            "2026-03-09T02:30:00-04:00",
            "2026-03-10T02:30:00-04:00",
        ],
    },
    // Jan 5, 7, 9 and 12 are counted before the window opens; 6 of the 10 remain.
    Case {
        name: "count_window_after_some",
        rrule: "FREQ=WEEKLY;BYDAY=MO,WE,FR;BYHOUR=9;BYMINUTE=0;COUNT=10",
        start: "2026-01-05T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-14T00:00:00-05:00",
        until: "2027-01-01T00:00:00-05:00",
        expected: &[
            "2026-01-14T09:00:00-05:00",
            "2026-01-16T09:00:00-05:00",
            "2026-01-19T09:00:00-05:00",
            "2026-01-21T09:00:00-05:00",
            "2026-01-23T09:00:00-05:00",
            "2026-01-26T09:00:00-05:00",
        ],
    },
    // COUNT=4 counts Mar 1-4; the EXDATE then removes Mar 2.
    Case {
        name: "count_before_exdate",
        rrule: "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;COUNT=4",
        start: "2026-03-01T00:00:00",
        tz: America::New_York,
        exdates: &["2026-03-02T09:00:00"],
        from: "2026-01-01T00:00:00-05:00",
        until: "2027-01-01T00:00:00-05:00",
        expected: &[
            "2026-03-01T09:00:00-05:00",
            "2026-03-03T09:00:00-05:00",
            "2026-03-04T09:00:00-05:00",
        ],
    },
    // DTSTART (a Wednesday) is not an occurrence and is not counted.
    Case {
        name: "count_skips_nonmatching_dtstart",
        rrule: "FREQ=WEEKLY;BYDAY=MO;COUNT=3",
        start: "2026-01-07T10:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-01T00:00:00-05:00",
        until: "2027-01-01T00:00:00-05:00",
        expected: &[
            "2026-01-12T10:00:00-05:00",
            "2026-01-19T10:00:00-05:00",
            "2026-01-26T10:00:00-05:00",
        ],
    },
    // 13:00Z is 09:00 EDT on Mar 10: inclusive.
    Case {
        name: "until_utc_inclusive",
        rrule: "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;UNTIL=20260310T130000Z",
        start: "2026-03-06T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-03-01T00:00:00-05:00",
        until: "2026-04-01T00:00:00-04:00",
        expected: &[
            "2026-03-06T09:00:00-05:00",
            "2026-03-07T09:00:00-05:00",
            "2026-03-08T09:00:00-04:00",
            "2026-03-09T09:00:00-04:00",
            "2026-03-10T09:00:00-04:00",
        ],
    },
    Case {
        name: "until_local_inclusive",
        rrule: "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;UNTIL=20260310T090000",
        start: "2026-03-06T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-03-01T00:00:00-05:00",
        until: "2026-04-01T00:00:00-04:00",
        expected: &[
            "2026-03-06T09:00:00-05:00",
            "2026-03-07T09:00:00-05:00",
            "2026-03-08T09:00:00-04:00",
            "2026-03-09T09:00:00-04:00",
            "2026-03-10T09:00:00-04:00",
        ],
    },
    // A date-only UNTIL keeps every occurrence on that local date.
    Case {
        name: "until_date_includes_whole_day",
        rrule: "FREQ=DAILY;BYHOUR=9,21;BYMINUTE=0;UNTIL=20260310",
        start: "2026-03-06T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-03-01T00:00:00-05:00",
        until: "2026-04-01T00:00:00-04:00",
        expected: &[
            "2026-03-06T09:00:00-05:00",
            "2026-03-06T21:00:00-05:00",
            "2026-03-07T09:00:00-05:00",
            "2026-03-07T21:00:00-05:00",
            "2026-03-08T09:00:00-04:00",
            "2026-03-08T21:00:00-04:00",
            "2026-03-09T09:00:00-04:00",
            "2026-03-09T21:00:00-04:00",
            "2026-03-10T09:00:00-04:00",
            "2026-03-10T21:00:00-04:00",
        ],
    },
    // The whole local day Apr 6 counts, though most of it is Apr 5 in UTC.
    Case {
        name: "until_date_in_east_zone",
        rrule: "FREQ=DAILY;BYHOUR=0,23;BYMINUTE=30;UNTIL=20260406",
        start: "2026-04-03T00:00:00",
        tz: Pacific::Chatham,
        exdates: &[],
        from: "2026-04-01T00:00:00+13:45",
        until: "2026-05-01T00:00:00+12:45",
        expected: &[
            "2026-04-03T00:30:00+13:45",
            "2026-04-03T23:30:00+13:45",
            "2026-04-04T00:30:00+13:45",
            "2026-04-04T23:30:00+13:45",
            "2026-04-05T00:30:00+13:45",
            "2026-04-05T23:30:00+12:45",
            "2026-04-06T00:30:00+12:45",
            "2026-04-06T23:30:00+12:45",
        ],
    },
    Case {
        name: "dtstart_not_matching_rule",
        rrule: "FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0",
        start: "2026-01-07T10:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-01T00:00:00-05:00",
        until: "2026-02-01T00:00:00-05:00",
        expected: &[
            "2026-01-12T10:00:00-05:00",
            "2026-01-19T10:00:00-05:00",
            "2026-01-26T10:00:00-05:00",
        ],
    },
    Case {
        name: "dtstart_matching_rule_is_first",
        rrule: "FREQ=WEEKLY;BYDAY=WE,FR",
        start: "2026-01-07T10:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-01T00:00:00-05:00",
        until: "2026-01-20T00:00:00-05:00",
        expected: &[
            "2026-01-07T10:00:00-05:00",
            "2026-01-09T10:00:00-05:00",
            "2026-01-14T10:00:00-05:00",
            "2026-01-16T10:00:00-05:00",
        ],
    },
    // Must equal biweekly_started_recently (anchors 542 weeks apart).
    Case {
        name: "biweekly_started_10_years_ago",
        rrule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYHOUR=9;BYMINUTE=0",
        start: "2016-01-04T09:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-06-01T00:00:00-04:00",
        until: "2026-08-01T00:00:00-04:00",
        expected: &[
            "2026-06-08T09:00:00-04:00",
            "2026-06-22T09:00:00-04:00",
            "2026-07-06T09:00:00-04:00",
            "2026-07-20T09:00:00-04:00",
        ],
    },
    Case {
        name: "biweekly_started_recently",
        rrule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;BYHOUR=9;BYMINUTE=0",
        start: "2026-05-25T09:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-06-01T00:00:00-04:00",
        until: "2026-08-01T00:00:00-04:00",
        expected: &[
            "2026-06-08T09:00:00-04:00",
            "2026-06-22T09:00:00-04:00",
            "2026-07-06T09:00:00-04:00",
            "2026-07-20T09:00:00-04:00",
        ],
    },
    // Must equal every_3_days_started_recently (anchors 3804 days apart).
    Case {
        name: "every_3_days_started_10_years_ago",
        rrule: "FREQ=DAILY;INTERVAL=3;BYHOUR=7;BYMINUTE=0",
        start: "2016-01-01T00:00:00",
        tz: Australia::Lord_Howe,
        exdates: &[],
        from: "2026-06-01T00:00:00+10:30",
        until: "2026-06-15T00:00:00+10:30",
        expected: &[
            "2026-06-01T07:00:00+10:30",
            "2026-06-04T07:00:00+10:30",
            "2026-06-07T07:00:00+10:30",
            "2026-06-10T07:00:00+10:30",
            "2026-06-13T07:00:00+10:30",
        ],
    },
    Case {
        name: "every_3_days_started_recently",
        rrule: "FREQ=DAILY;INTERVAL=3;BYHOUR=7;BYMINUTE=0",
        start: "2026-06-01T00:00:00",
        tz: Australia::Lord_Howe,
        exdates: &[],
        from: "2026-06-01T00:00:00+10:30",
        until: "2026-06-15T00:00:00+10:30",
        expected: &[
            "2026-06-01T07:00:00+10:30",
            "2026-06-04T07:00:00+10:30",
            "2026-06-07T07:00:00+10:30",
            "2026-06-10T07:00:00+10:30",
            "2026-06-13T07:00:00+10:30",
        ],
    },
    Case {
        name: "hourly_business_hours_weekdays",
        rrule: "FREQ=HOURLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9,10,11",
        start: "2026-01-01T00:15:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-09T00:00:00-05:00",
        until: "2026-01-13T00:00:00-05:00",
        expected: &[
            "2026-01-09T09:15:00-05:00",
            "2026-01-09T10:15:00-05:00",
            "2026-01-09T11:15:00-05:00",
            "2026-01-12T09:15:00-05:00",
            "2026-01-12T10:15:00-05:00",
            "2026-01-12T11:15:00-05:00",
        ],
    },
    Case {
        name: "every_15_min_in_one_hour",
        rrule: "FREQ=MINUTELY;INTERVAL=15;BYHOUR=11",
        start: "2026-01-01T00:00:00",
        tz: Asia::Kolkata,
        exdates: &[],
        from: "2026-01-02T00:00:00+05:30",
        until: "2026-01-03T00:00:00+05:30",
        expected: &[
            "2026-01-02T11:00:00+05:30",
            "2026-01-02T11:15:00+05:30",
            "2026-01-02T11:30:00+05:30",
            "2026-01-02T11:45:00+05:30",
        ],
    },
    Case {
        name: "window_from_inclusive_until_exclusive",
        rrule: "FREQ=DAILY;BYHOUR=9;BYMINUTE=0",
        start: "2026-01-01T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-05T09:00:00-05:00",
        until: "2026-01-07T09:00:00-05:00",
        expected: &[
            "2026-01-05T09:00:00-05:00",
            "2026-01-06T09:00:00-05:00",
        ],
    },
    // Steps of 5 local hours; the local 06:00 after the gap is only 4 real hours after 01:00.
    Case {
        name: "hourly_interval_5_over_spring_night",
        rrule: "FREQ=HOURLY;INTERVAL=5",
        start: "2026-03-07T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-03-07T00:00:00-05:00",
        until: "2026-03-09T00:00:00-04:00",
        expected: &[
            "2026-03-07T00:00:00-05:00",
            "2026-03-07T05:00:00-05:00",
            "2026-03-07T10:00:00-05:00",
            "2026-03-07T15:00:00-05:00",
            "2026-03-07T20:00:00-05:00",
            "2026-03-08T01:00:00-05:00",
            "2026-03-08T06:00:00-04:00",
            "2026-03-08T11:00:00-04:00",
            "2026-03-08T16:00:00-04:00",
            "2026-03-08T21:00:00-04:00",
        ],
    },
    // Phase (half past even hours) from a 2016 anchor; 02:30 reads as 03:30 EDT.
    Case {
        name: "hourly_interval_2_phase_from_old_anchor",
        rrule: "FREQ=HOURLY;INTERVAL=2",
        start: "2016-03-01T00:30:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-03-08T00:00:00-05:00",
        until: "2026-03-08T07:00:00-04:00",
        expected: &[
            "2026-03-08T00:30:00-05:00",
            "2026-03-08T03:30:00-04:00",
            "2026-03-08T04:30:00-04:00",
            "2026-03-08T06:30:00-04:00",
        ],
    },
    // COUNT across the fall-back night.
    Case {
        name: "hourly_interval_6_count",
        rrule: "FREQ=HOURLY;INTERVAL=6;COUNT=5",
        start: "2026-10-31T12:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-10-01T00:00:00-04:00",
        until: "2026-12-01T00:00:00-05:00",
        expected: &[
            "2026-10-31T12:00:00-04:00",
            "2026-10-31T18:00:00-04:00",
            "2026-11-01T00:00:00-04:00",
            "2026-11-01T06:00:00-05:00",
            "2026-11-01T12:00:00-05:00",
        ],
    },
    // Candidates of the first hour before DTSTART (10:00, 10:30) are not occurrences.
    Case {
        name: "hourly_start_mid_hour_skips_earlier_minutes",
        rrule: "FREQ=HOURLY;BYMINUTE=0,30",
        start: "2026-01-05T10:45:00",
        tz: Europe::London,
        exdates: &[],
        from: "2026-01-05T00:00:00+00:00",
        until: "2026-01-05T12:31:00+00:00",
        expected: &[
            "2026-01-05T11:00:00+00:00",
            "2026-01-05T11:30:00+00:00",
            "2026-01-05T12:00:00+00:00",
            "2026-01-05T12:30:00+00:00",
        ],
    },
    Case {
        name: "hourly_bysetpos_last_of_each_hour",
        rrule: "FREQ=HOURLY;BYHOUR=9,10;BYMINUTE=0,20,40;BYSETPOS=-1",
        start: "2026-01-01T00:00:00",
        tz: Asia::Kolkata,
        exdates: &[],
        from: "2026-01-02T00:00:00+05:30",
        until: "2026-01-03T00:00:00+05:30",
        expected: &[
            "2026-01-02T09:40:00+05:30",
            "2026-01-02T10:40:00+05:30",
        ],
    },
    Case {
        name: "every_45_min_in_two_hours",
        rrule: "FREQ=MINUTELY;INTERVAL=45;BYHOUR=9,10",
        start: "2026-01-01T00:00:00",
        tz: Australia::Lord_Howe,
        exdates: &[],
        from: "2026-01-02T00:00:00+11:00",
        until: "2026-01-03T00:00:00+11:00",
        expected: &[
            "2026-01-02T09:00:00+11:00",
            "2026-01-02T09:45:00+11:00",
            "2026-01-02T10:30:00+11:00",
        ],
    },
    Case {
        name: "every_20_min_phase_and_seconds_from_dtstart",
        rrule: "FREQ=MINUTELY;INTERVAL=20;BYHOUR=8",
        start: "2026-01-01T00:05:30",
        tz: Pacific::Chatham,
        exdates: &[],
        from: "2026-01-02T00:00:00+13:45",
        until: "2026-01-03T00:00:00+13:45",
        expected: &[
            "2026-01-02T08:05:30+13:45",
            "2026-01-02T08:25:30+13:45",
            "2026-01-02T08:45:30+13:45",
        ],
    },
    // A step that does not divide a day keeps its phase across midnight (23:57 -> 00:04).
    Case {
        name: "every_7_min_not_dividing_a_day",
        rrule: "FREQ=MINUTELY;INTERVAL=7;BYHOUR=0",
        start: "2026-01-01T23:50:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-02T00:00:00-05:00",
        until: "2026-01-02T01:00:00-05:00",
        expected: &[
            "2026-01-02T00:04:00-05:00",
            "2026-01-02T00:11:00-05:00",
            "2026-01-02T00:18:00-05:00",
            "2026-01-02T00:25:00-05:00",
            "2026-01-02T00:32:00-05:00",
            "2026-01-02T00:39:00-05:00",
            "2026-01-02T00:46:00-05:00",
            "2026-01-02T00:53:00-05:00",
        ],
    },
    // A BYDAY list is a union (RFC 5545): the first Monday plus every Friday. (python-dateutil
    // intersects the two kinds and yields nothing.)
    Case {
        name: "byday_mixes_ordinal_and_plain_weekdays",
        rrule: "FREQ=MONTHLY;BYDAY=1MO,FR;BYHOUR=9;BYMINUTE=0",
        start: "2026-01-01T00:00:00",
        tz: America::New_York,
        exdates: &[],
        from: "2026-01-01T00:00:00-05:00",
        until: "2026-03-01T00:00:00-05:00",
        expected: &[
            "2026-01-02T09:00:00-05:00",
            "2026-01-05T09:00:00-05:00",
            "2026-01-09T09:00:00-05:00",
            "2026-01-16T09:00:00-05:00",
            "2026-01-23T09:00:00-05:00",
            "2026-01-30T09:00:00-05:00",
            "2026-02-02T09:00:00-05:00",
            "2026-02-06T09:00:00-05:00",
            "2026-02-13T09:00:00-05:00",
            "2026-02-20T09:00:00-05:00",
            "2026-02-27T09:00:00-05:00",
        ],
    },
];

#[test]
fn rule_cases_match_golden_instants() {
    assert!(RULE_CASES.len() >= 45);
    let mut failures = Vec::new();
    for case in RULE_CASES {
        let got = expand_case(case);
        if got != case.expected {
            failures.push(format!(
                "case {} ({}):\n  expected {:?}\n  got      {:?}",
                case.name, case.rrule, case.expected, got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rule_case_names_are_unique() {
    let mut names: Vec<&str> = RULE_CASES.iter().map(|c| c.name).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len());
}

// ---------------------------------------------------------------------------------------------
// Closed days: a site closed on Sundays and on holidays, through a Routine + Site.
// ---------------------------------------------------------------------------------------------

/// Memorial Day (Mon 2026-05-25) and the Independence Day observance (Fri 2026-07-03).
const HOLIDAYS: &[&str] = &["2026-05-25", "2026-07-03"];

fn site(tz: Tz, closed_weekdays: &[Weekday], holidays: &[&str]) -> Site {
    Site {
        id: SiteId(Uuid::from_u128(1)),
        key: "golden".into(),
        name: "Golden Site".into(),
        time_zone: tz,
        closed_weekdays: closed_weekdays.to_vec(),
        holidays: holidays
            .iter()
            .map(|d| Holiday {
                date: date(d),
                name: format!("Holiday {d}"),
            })
            .collect(),
    }
}

fn routine(cadence: Cadence, policy: ClosedDayPolicy) -> Routine {
    Routine {
        id: RoutineId(Uuid::from_u128(2)),
        key: "golden".into(),
        version: 1,
        site: SiteId(Uuid::from_u128(1)),
        title: "Golden routine".into(),
        instructions: String::new(),
        steps: Vec::new(),
        cadence,
        closed_days: policy,
        window: Window::default(),
        owner: PersonId(Uuid::from_u128(3)),
        backup: None,
        fallback_role: Role::Supervisor,
        escalation: Vec::new(),
        repeat_failure: RepeatFailureRule::default(),
    }
}

fn rule_cadence(rrule: &str, start: &str) -> Cadence {
    Cadence::Rule {
        rrule: rrule.to_string(),
        start: local(start),
        exdates: Vec::new(),
    }
}

fn no_completions(_: DateTime<Utc>) -> Option<DateTime<Utc>> {
    None
}

/// One rule with a closed-day policy at a site closed on Sundays and on [`HOLIDAYS`].
struct ClosedCase {
    name: &'static str,
    rrule: &'static str,
    start: &'static str,
    tz: Tz,
    policy: ClosedDayPolicy,
    from: &'static str,
    until: &'static str,
    expected: &'static [&'static str],
}

fn compile_closed(case: &ClosedCase) -> (CompiledCadence, Tz) {
    let site = site(case.tz, &[Weekday::Sun], HOLIDAYS);
    let routine = routine(rule_cadence(case.rrule, case.start), case.policy);
    let compiled =
        CompiledCadence::new(&routine, &site).unwrap_or_else(|e| panic!("case {}: {e}", case.name));
    (compiled, case.tz)
}

fn expand_closed(case: &ClosedCase, from: DateTime<Utc>, until: DateTime<Utc>) -> Vec<String> {
    let (compiled, tz) = compile_closed(case);
    render(&compiled.due_times(from, until, from, &no_completions), tz)
}

use ClosedDayPolicy::{MoveEarlier, MoveLater, RunAnyway, Skip};

#[rustfmt::skip]
const CLOSED_CASES: &[ClosedCase] = &[
    // Fri 22, Sat 23, Sun 24 (closed), Mon 25 (holiday), Tue 26, Wed 27.
    ClosedCase {
        name: "skip_drops_sunday_and_holiday",
        rrule: "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", start: "2026-05-01T00:00:00",
        tz: America::New_York, policy: Skip,
        from: "2026-05-22T00:00:00-04:00", until: "2026-05-28T00:00:00-04:00",
        expected: &[
            "2026-05-22T09:00:00-04:00", "2026-05-23T09:00:00-04:00",
            "2026-05-26T09:00:00-04:00", "2026-05-27T09:00:00-04:00",
        ],
    },
    ClosedCase {
        name: "run_anyway_keeps_every_day",
        rrule: "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", start: "2026-05-01T00:00:00",
        tz: America::New_York, policy: RunAnyway,
        from: "2026-05-22T00:00:00-04:00", until: "2026-05-28T00:00:00-04:00",
        expected: &[
            "2026-05-22T09:00:00-04:00", "2026-05-23T09:00:00-04:00",
            "2026-05-24T09:00:00-04:00", "2026-05-25T09:00:00-04:00",
            "2026-05-26T09:00:00-04:00", "2026-05-27T09:00:00-04:00",
        ],
    },
    ClosedCase {
        name: "move_earlier_sunday_to_saturday",
        rrule: "FREQ=WEEKLY;BYDAY=SU;BYHOUR=10;BYMINUTE=0", start: "2026-05-01T00:00:00",
        tz: America::New_York, policy: MoveEarlier,
        from: "2026-05-01T00:00:00-04:00", until: "2026-06-01T00:00:00-04:00",
        expected: &[
            "2026-05-02T10:00:00-04:00", "2026-05-09T10:00:00-04:00",
            "2026-05-16T10:00:00-04:00", "2026-05-23T10:00:00-04:00",
            "2026-05-30T10:00:00-04:00",
        ],
    },
    // Mon 25 is a holiday and Sun 24 is closed: back two days to Sat 23.
    ClosedCase {
        name: "move_earlier_holiday_monday_past_closed_sunday",
        rrule: "FREQ=WEEKLY;BYDAY=MO;BYHOUR=10;BYMINUTE=0", start: "2026-05-01T00:00:00",
        tz: America::New_York, policy: MoveEarlier,
        from: "2026-05-18T00:00:00-04:00", until: "2026-06-02T00:00:00-04:00",
        expected: &[
            "2026-05-18T10:00:00-04:00", "2026-05-23T10:00:00-04:00",
            "2026-06-01T10:00:00-04:00",
        ],
    },
    // Sun 24 → Mon 25 is a holiday → Tue 26.
    ClosedCase {
        name: "move_later_sunday_to_monday_or_past_holiday",
        rrule: "FREQ=WEEKLY;BYDAY=SU;BYHOUR=10;BYMINUTE=0", start: "2026-05-01T00:00:00",
        tz: America::New_York, policy: MoveLater,
        from: "2026-05-01T00:00:00-04:00", until: "2026-06-02T00:00:00-04:00",
        expected: &[
            "2026-05-04T10:00:00-04:00", "2026-05-11T10:00:00-04:00",
            "2026-05-18T10:00:00-04:00", "2026-05-26T10:00:00-04:00",
            "2026-06-01T10:00:00-04:00",
        ],
    },
    // Fri Jul 3 is a holiday: earlier → Thu Jul 2; later → Sat Jul 4 (open).
    ClosedCase {
        name: "move_earlier_friday_holiday",
        rrule: "FREQ=WEEKLY;BYDAY=FR;BYHOUR=16;BYMINUTE=30", start: "2026-06-01T00:00:00",
        tz: America::New_York, policy: MoveEarlier,
        from: "2026-06-26T00:00:00-04:00", until: "2026-07-11T00:00:00-04:00",
        expected: &[
            "2026-06-26T16:30:00-04:00", "2026-07-02T16:30:00-04:00",
            "2026-07-10T16:30:00-04:00",
        ],
    },
    ClosedCase {
        name: "move_later_friday_holiday",
        rrule: "FREQ=WEEKLY;BYDAY=FR;BYHOUR=16;BYMINUTE=30", start: "2026-06-01T00:00:00",
        tz: America::New_York, policy: MoveLater,
        from: "2026-06-26T00:00:00-04:00", until: "2026-07-11T00:00:00-04:00",
        expected: &[
            "2026-06-26T16:30:00-04:00", "2026-07-04T16:30:00-04:00",
            "2026-07-10T16:30:00-04:00",
        ],
    },
    // Sunday's 09:00 moves onto Saturday's own 09:00 (one occurrence); Monday the 25th
    // (holiday) moves back over the closed Sunday onto Saturday too.
    ClosedCase {
        name: "move_earlier_onto_existing_occurrence_collapses",
        rrule: "FREQ=DAILY;BYHOUR=9;BYMINUTE=0", start: "2026-05-01T00:00:00",
        tz: America::New_York, policy: MoveEarlier,
        from: "2026-05-22T00:00:00-04:00", until: "2026-05-28T00:00:00-04:00",
        expected: &[
            "2026-05-22T09:00:00-04:00", "2026-05-23T09:00:00-04:00",
            "2026-05-26T09:00:00-04:00", "2026-05-27T09:00:00-04:00",
        ],
    },
    ClosedCase {
        name: "move_later_onto_existing_occurrence_collapses",
        rrule: "FREQ=WEEKLY;BYDAY=SA,SU,MO,TU;BYHOUR=9;BYMINUTE=0", start: "2026-05-01T00:00:00",
        tz: America::New_York, policy: MoveLater,
        from: "2026-05-22T00:00:00-04:00", until: "2026-05-28T00:00:00-04:00",
        expected: &["2026-05-23T09:00:00-04:00", "2026-05-26T09:00:00-04:00"],
    },
    // Different local times on the target day do not collapse.
    ClosedCase {
        name: "move_later_keeps_distinct_times",
        rrule: "FREQ=WEEKLY;BYDAY=SU,MO;BYHOUR=9;BYMINUTE=0", start: "2026-05-01T00:00:00",
        tz: America::New_York, policy: MoveLater,
        from: "2026-05-10T00:00:00-04:00", until: "2026-05-12T00:00:00-04:00",
        expected: &["2026-05-11T09:00:00-04:00"],
    },
    // Moves keep the local time: Sun Mar 8 02:30 (the gap) moves to Mon Mar 9 02:30 EDT,
    // Sat Mar 7 02:30 stays EST.
    ClosedCase {
        name: "move_later_out_of_dst_gap_keeps_local_time",
        rrule: "FREQ=DAILY", start: "2026-03-05T02:30:00",
        tz: America::New_York, policy: MoveLater,
        from: "2026-03-06T00:00:00-05:00", until: "2026-03-10T00:00:00-04:00",
        expected: &[
            "2026-03-06T02:30:00-05:00", "2026-03-07T02:30:00-05:00",
            "2026-03-09T02:30:00-04:00",
        ],
    },
    // Sun Oct 25 01:30 (ambiguous in London) moves to Sat Oct 24 01:30, which is BST;
    // Sun Nov 1 01:30 moves to Sat Oct 31 01:30 GMT, still before the window ends.
    ClosedCase {
        name: "move_earlier_into_dst_night_keeps_local_time",
        rrule: "FREQ=WEEKLY;BYDAY=SU;BYHOUR=1;BYMINUTE=30", start: "2026-10-01T00:00:00",
        tz: Europe::London, policy: MoveEarlier,
        from: "2026-10-17T00:00:00+01:00", until: "2026-11-01T00:00:00+00:00",
        expected: &[
            "2026-10-17T01:30:00+01:00", "2026-10-24T01:30:00+01:00",
            "2026-10-31T01:30:00+00:00",
        ],
    },
    // Sun Feb 1 23:00 EST moves to Mon Feb 2 23:00 EST = Feb 3 04:00 UTC: inside a window
    // that starts on Feb 3 UTC although the rule's own occurrence lies before it.
    ClosedCase {
        name: "move_later_into_window_from_before_it",
        rrule: "FREQ=WEEKLY;BYDAY=SU;BYHOUR=23;BYMINUTE=0", start: "2026-01-01T00:00:00",
        tz: America::New_York, policy: MoveLater,
        from: "2026-02-03T00:00:00+00:00", until: "2026-02-04T00:00:00+00:00",
        expected: &["2026-02-02T23:00:00-05:00"],
    },
    // Sun Jun 14 10:00 moves to Sat Jun 13 10:00 +12:45 = Jun 12 21:15 UTC: inside a window
    // that ends on Jun 12 UTC although the rule's own occurrence lies after it.
    ClosedCase {
        name: "move_earlier_into_window_from_after_it",
        rrule: "FREQ=WEEKLY;BYDAY=SU;BYHOUR=10;BYMINUTE=0", start: "2026-01-01T00:00:00",
        tz: Pacific::Chatham, policy: MoveEarlier,
        from: "2026-06-12T00:00:00+00:00", until: "2026-06-12T22:00:00+00:00",
        expected: &["2026-06-13T10:00:00+12:45"],
    },
    ClosedCase {
        name: "skip_with_count_counts_skipped",
        rrule: "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;COUNT=4", start: "2026-05-22T00:00:00",
        tz: America::New_York, policy: Skip,
        from: "2026-05-01T00:00:00-04:00", until: "2026-06-01T00:00:00-04:00",
        expected: &["2026-05-22T09:00:00-04:00", "2026-05-23T09:00:00-04:00"],
    },
];

#[test]
fn closed_day_cases_match_golden_instants() {
    let mut failures = Vec::new();
    for case in CLOSED_CASES {
        let got = expand_closed(case, instant(case.from), instant(case.until));
        if got != case.expected {
            failures.push(format!(
                "case {} ({}, {:?}):\n  expected {:?}\n  got      {:?}",
                case.name, case.rrule, case.policy, case.expected, got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Splitting a window anywhere must neither lose nor duplicate an occurrence, moved or not:
/// `[a, b) ++ [b, c) == [a, c)` for every hour `b` in `[a, c]`.
#[test]
fn closed_day_moves_survive_every_window_split() {
    for case in CLOSED_CASES {
        let (compiled, _) = compile_closed(case);
        let (a, c) = (instant(case.from), instant(case.until));
        let (a, c) = (a - chrono::Duration::days(3), c + chrono::Duration::days(3));
        let whole = compiled.due_times(a, c, a, &no_completions);
        let mut b = a;
        while b <= c {
            let mut split = compiled.due_times(a, b, a, &no_completions);
            split.extend(compiled.due_times(b, c, a, &no_completions));
            assert_eq!(split, whole, "case {} split at {b}", case.name);
            b += chrono::Duration::minutes(30);
        }
    }
}

/// The same split check for every policy in every zone, over closed Sunday nights.
#[test]
fn window_splits_agree_in_every_zone_and_policy() {
    let zones = [
        America::New_York,
        Europe::London,
        Australia::Lord_Howe,
        Pacific::Chatham,
        Asia::Kolkata,
    ];
    let rules = [
        "FREQ=WEEKLY;BYDAY=SU;BYHOUR=0,1,2,3,12,22,23;BYMINUTE=30",
        "FREQ=WEEKLY;BYDAY=MO;BYHOUR=0,23;BYMINUTE=15",
    ];
    for tz in zones {
        let site = site(tz, &[Weekday::Sun], &["2026-03-09", "2026-10-05"]);
        for rrule in rules {
            for policy in [Skip, MoveEarlier, MoveLater, RunAnyway] {
                let routine = routine(rule_cadence(rrule, "2026-01-01T00:00:00"), policy);
                let compiled = CompiledCadence::new(&routine, &site).expect("valid rule");
                for (from, until) in [
                    ("2026-03-01T00:00:00Z", "2026-03-16T00:00:00Z"),
                    ("2026-09-24T00:00:00Z", "2026-10-14T00:00:00Z"),
                ] {
                    let (a, c) = (instant(from), instant(until));
                    let whole = compiled.due_times(a, c, a, &no_completions);
                    let mut b = a;
                    while b <= c {
                        let mut split = compiled.due_times(a, b, a, &no_completions);
                        split.extend(compiled.due_times(b, c, a, &no_completions));
                        assert_eq!(split, whole, "{tz} {rrule} {policy:?} split at {b}");
                        b += chrono::Duration::minutes(15);
                    }
                }
            }
        }
    }
}

#[test]
fn a_move_never_looks_further_than_31_days() {
    let every_day = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    let site = site(America::New_York, &every_day, &[]);
    let (from, until) = (
        instant("2026-05-01T00:00:00-04:00"),
        instant("2026-05-15T00:00:00-04:00"),
    );
    let rrule = "FREQ=WEEKLY;BYDAY=WE;BYHOUR=9;BYMINUTE=0";
    for (policy, expected) in [
        (Skip, vec![]),
        (
            MoveEarlier,
            vec!["2026-05-06T09:00:00-04:00", "2026-05-13T09:00:00-04:00"],
        ),
        (
            MoveLater,
            vec!["2026-05-06T09:00:00-04:00", "2026-05-13T09:00:00-04:00"],
        ),
    ] {
        let routine = routine(rule_cadence(rrule, "2026-01-01T00:00:00"), policy);
        let compiled = CompiledCadence::new(&routine, &site).expect("valid rule");
        let got = render(
            &compiled.due_times(from, until, from, &no_completions),
            site.time_zone,
        );
        assert_eq!(got, expected, "{policy:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// after_completion
// ---------------------------------------------------------------------------------------------

/// An after-completion cadence with the completions recorded so far.
struct AfterCase {
    name: &'static str,
    days: u32,
    at: &'static str,
    start: &'static str,
    tz: Tz,
    closed_weekdays: &'static [Weekday],
    policy: ClosedDayPolicy,
    /// (due, earliest valid completion), RFC 3339.
    completions: &'static [(&'static str, &'static str)],
    now: &'static str,
    from: &'static str,
    until: &'static str,
    expected: &'static [&'static str],
}

#[rustfmt::skip]
const AFTER_CASES: &[AfterCase] = &[
    // Mar 2 done on time → Mar 9 (now EDT); done early → Mar 16; done a day late (Mar 17)
    // → Mar 24, still upcoming at `now`: the chain stops there.
    AfterCase {
        name: "weekly_on_time_early_late_then_open",
        days: 7, at: "09:00:00", start: "2026-03-02T09:00:00", tz: America::New_York,
        closed_weekdays: &[], policy: Skip,
        completions: &[
            ("2026-03-02T09:00:00-05:00", "2026-03-02T09:10:00-05:00"),
            ("2026-03-09T09:00:00-04:00", "2026-03-09T08:40:00-04:00"),
            ("2026-03-16T09:00:00-04:00", "2026-03-17T10:00:00-04:00"),
        ],
        now: "2026-03-20T12:00:00-04:00",
        from: "2026-03-01T00:00:00-05:00", until: "2026-06-01T00:00:00-04:00",
        expected: &[
            "2026-03-02T09:00:00-05:00", "2026-03-09T09:00:00-04:00",
            "2026-03-16T09:00:00-04:00", "2026-03-24T09:00:00-04:00",
        ],
    },
    // Jun 4 is missed (window closed by `now`, no completion): the next ones are due 3 days
    // after each missed date; Jun 13 is still ahead, so the chain stops.
    AfterCase {
        name: "missed_occurrences_keep_counting_from_their_dates",
        days: 3, at: "07:00:00", start: "2026-06-01T07:00:00", tz: Asia::Kolkata,
        closed_weekdays: &[], policy: Skip,
        completions: &[("2026-06-01T07:00:00+05:30", "2026-06-01T07:20:00+05:30")],
        now: "2026-06-10T12:00:00+05:30",
        from: "2026-06-01T00:00:00+05:30", until: "2026-07-01T00:00:00+05:30",
        expected: &[
            "2026-06-01T07:00:00+05:30", "2026-06-04T07:00:00+05:30",
            "2026-06-07T07:00:00+05:30", "2026-06-10T07:00:00+05:30",
            "2026-06-13T07:00:00+05:30",
        ],
    },
    // Due but not yet missed at `now` (closes 120 min after due): the chain stops at it.
    AfterCase {
        name: "chain_stops_at_open_occurrence",
        days: 2, at: "07:00:00", start: "2026-06-01T07:00:00", tz: Asia::Kolkata,
        closed_weekdays: &[], policy: Skip,
        completions: &[],
        now: "2026-06-01T08:59:59+05:30",
        from: "2026-06-01T00:00:00+05:30", until: "2026-07-01T00:00:00+05:30",
        expected: &["2026-06-01T07:00:00+05:30"],
    },
    AfterCase {
        name: "missed_exactly_when_window_closes",
        days: 2, at: "07:00:00", start: "2026-06-01T07:00:00", tz: Asia::Kolkata,
        closed_weekdays: &[], policy: Skip,
        completions: &[],
        now: "2026-06-01T09:00:00+05:30",
        from: "2026-06-01T00:00:00+05:30", until: "2026-07-01T00:00:00+05:30",
        expected: &["2026-06-01T07:00:00+05:30", "2026-06-03T07:00:00+05:30"],
    },
    // The first is due at `start` (08:00); later ones at `at` (07:00). An early completion
    // (06:50) counts from its own local date.
    AfterCase {
        name: "next_due_at_configured_time_not_start_time",
        days: 1, at: "07:00:00", start: "2026-03-02T08:00:00", tz: America::New_York,
        closed_weekdays: &[], policy: Skip,
        completions: &[
            ("2026-03-02T08:00:00-05:00", "2026-03-02T08:05:00-05:00"),
            ("2026-03-03T07:00:00-05:00", "2026-03-03T06:50:00-05:00"),
        ],
        now: "2026-03-04T08:00:00-05:00",
        from: "2026-03-01T00:00:00-05:00", until: "2026-04-01T00:00:00-04:00",
        expected: &[
            "2026-03-02T08:00:00-05:00", "2026-03-03T07:00:00-05:00",
            "2026-03-04T07:00:00-05:00",
        ],
    },
    // Completed at 20:30 EST on Mar 2, which is already Mar 3 in UTC: the LOCAL date counts.
    AfterCase {
        name: "completion_local_date_not_utc_date",
        days: 1, at: "20:00:00", start: "2026-03-02T20:00:00", tz: America::New_York,
        closed_weekdays: &[], policy: Skip,
        completions: &[("2026-03-02T20:00:00-05:00", "2026-03-03T01:30:00+00:00")],
        now: "2026-03-03T12:00:00-05:00",
        from: "2026-03-01T00:00:00-05:00", until: "2026-04-01T00:00:00-04:00",
        expected: &["2026-03-02T20:00:00-05:00", "2026-03-03T20:00:00-05:00"],
    },
    // Done late, on the next local day: the next one counts from the completion's date.
    AfterCase {
        name: "late_completion_on_next_day",
        days: 2, at: "06:00:00", start: "2026-04-03T06:00:00", tz: Pacific::Chatham,
        closed_weekdays: &[], policy: Skip,
        completions: &[("2026-04-03T06:00:00+13:45", "2026-04-04T05:00:00+13:45")],
        now: "2026-04-05T12:00:00+12:45",
        from: "2026-04-01T00:00:00+13:45", until: "2026-05-01T00:00:00+12:45",
        expected: &["2026-04-03T06:00:00+13:45", "2026-04-06T06:00:00+12:45"],
    },
    // Due in the spring-forward gap: 02:30 → 03:30 EDT; the next counts from that date.
    AfterCase {
        name: "due_in_dst_gap",
        days: 1, at: "02:30:00", start: "2026-03-07T02:30:00", tz: America::New_York,
        closed_weekdays: &[], policy: Skip,
        completions: &[
            ("2026-03-07T02:30:00-05:00", "2026-03-07T02:40:00-05:00"),
            ("2026-03-08T03:30:00-04:00", "2026-03-08T03:35:00-04:00"),
        ],
        now: "2026-03-09T02:00:00-04:00",
        from: "2026-03-01T00:00:00-05:00", until: "2026-04-01T00:00:00-04:00",
        expected: &[
            "2026-03-07T02:30:00-05:00", "2026-03-08T03:30:00-04:00",
            "2026-03-09T02:30:00-04:00",
        ],
    },
    // Closed Sunday + holiday Monday: skip would end the chain, so it moves later instead.
    AfterCase {
        name: "closed_days_move_the_chain_later",
        days: 1, at: "10:00:00", start: "2026-05-23T10:00:00", tz: America::New_York,
        closed_weekdays: &[Weekday::Sun], policy: Skip,
        completions: &[
            ("2026-05-23T10:00:00-04:00", "2026-05-23T10:05:00-04:00"),
            ("2026-05-26T10:00:00-04:00", "2026-05-26T10:30:00-04:00"),
        ],
        now: "2026-05-27T11:00:00-04:00",
        from: "2026-05-01T00:00:00-04:00", until: "2026-06-01T00:00:00-04:00",
        expected: &[
            "2026-05-23T10:00:00-04:00", "2026-05-26T10:00:00-04:00",
            "2026-05-27T10:00:00-04:00",
        ],
    },
    // Moving earlier may not land on or before the previous occurrence: Sun May 24 would move
    // back onto Sat May 23 (already due and done), so it stays, like an impossible move.
    // Before the fix the chain never got past Saturday.
    AfterCase {
        name: "move_earlier_never_lands_on_the_previous_occurrence",
        days: 1, at: "10:00:00", start: "2026-05-22T10:00:00", tz: America::New_York,
        closed_weekdays: &[Weekday::Sun], policy: MoveEarlier,
        completions: &[
            ("2026-05-22T10:00:00-04:00", "2026-05-22T10:05:00-04:00"),
            ("2026-05-23T10:00:00-04:00", "2026-05-23T10:05:00-04:00"),
        ],
        now: "2026-05-24T11:00:00-04:00",
        from: "2026-05-01T00:00:00-04:00", until: "2026-06-01T00:00:00-04:00",
        expected: &[
            "2026-05-22T10:00:00-04:00", "2026-05-23T10:00:00-04:00",
            "2026-05-24T10:00:00-04:00",
        ],
    },
    // A completion just before midnight, for an occurrence due just after it, would point
    // the next one (1 day after the completion's date) back at the same occurrence: it
    // moves on a day instead, keeping `at`.
    AfterCase {
        name: "early_completion_on_previous_day_never_repeats",
        days: 1, at: "00:10:00", start: "2026-06-02T00:10:00", tz: Europe::London,
        closed_weekdays: &[], policy: Skip,
        completions: &[("2026-06-02T00:10:00+01:00", "2026-06-01T23:55:00+01:00")],
        now: "2026-06-03T00:20:00+01:00",
        from: "2026-06-01T00:00:00+01:00", until: "2026-07-01T00:00:00+01:00",
        expected: &["2026-06-02T00:10:00+01:00", "2026-06-03T00:10:00+01:00"],
    },
    // The window starts after the first occurrences: the chain is still followed from start.
    AfterCase {
        name: "window_after_the_start_of_the_chain",
        days: 3, at: "07:00:00", start: "2026-06-01T07:00:00", tz: Asia::Kolkata,
        closed_weekdays: &[], policy: Skip,
        completions: &[("2026-06-01T07:00:00+05:30", "2026-06-02T07:00:00+05:30")],
        now: "2026-06-20T12:00:00+05:30",
        from: "2026-06-08T07:00:00+05:30", until: "2026-06-15T00:00:00+05:30",
        expected: &["2026-06-08T07:00:00+05:30", "2026-06-11T07:00:00+05:30", "2026-06-14T07:00:00+05:30"],
    },
];

#[test]
fn after_completion_cases_match_golden_instants() {
    let mut failures = Vec::new();
    for case in AFTER_CASES {
        let site = site(case.tz, case.closed_weekdays, HOLIDAYS);
        let at = NaiveTime::parse_from_str(case.at, "%H:%M:%S").expect("valid time");
        let cadence = Cadence::AfterCompletion {
            days: case.days,
            at,
            start: local(case.start),
        };
        let compiled = CompiledCadence::new(&routine(cadence, case.policy), &site)
            .unwrap_or_else(|e| panic!("case {}: {e}", case.name));
        let completions: Vec<(DateTime<Utc>, DateTime<Utc>)> = case
            .completions
            .iter()
            .map(|(due, done)| (instant(due), instant(done)))
            .collect();
        let completed_at = |due: DateTime<Utc>| {
            completions
                .iter()
                .find(|(d, _)| *d == due)
                .map(|(_, done)| *done)
        };
        let got = render(
            &compiled.due_times(
                instant(case.from),
                instant(case.until),
                instant(case.now),
                &completed_at,
            ),
            case.tz,
        );
        if got != case.expected {
            failures.push(format!(
                "case {}:\n  expected {:?}\n  got      {:?}",
                case.name, case.expected, got
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// Bad input: typed errors, never a panic.
// ---------------------------------------------------------------------------------------------

#[test]
fn broken_rules_give_typed_errors() {
    let start = local("2026-01-01T09:00:00");
    let (from, until) = (
        instant("2026-01-01T00:00:00Z"),
        instant("2027-01-01T00:00:00Z"),
    );
    let expand = |rule: &str| expand_rule(rule, start, America::New_York, &[], from, until);
    assert_eq!(
        expand("BYHOUR=7"),
        Err(CadenceError::Rule(RuleError::MissingFreq))
    );
    assert!(matches!(
        expand("FREQ=DAYLY"),
        Err(CadenceError::Rule(RuleError::InvalidValue {
            part: "FREQ",
            ..
        }))
    ));
    assert!(matches!(
        expand("FREQ=MONTHLY;BYMONTHDAY=32"),
        Err(CadenceError::Rule(RuleError::InvalidValue {
            part: "BYMONTHDAY",
            ..
        }))
    ));
    assert!(matches!(
        expand("FREQ=WEEKLY;BYDAY=-1FR"),
        Err(CadenceError::Rule(RuleError::InvalidValue {
            part: "BYDAY",
            ..
        }))
    ));
    assert!(matches!(
        expand("FREQ=DAILY;COUNT=3;UNTIL=20260301"),
        Err(CadenceError::Rule(RuleError::InvalidValue {
            part: "UNTIL",
            ..
        }))
    ));
    assert!(matches!(
        expand("FREQ=DAILY;BYWEEKNO=3"),
        Err(CadenceError::Rule(RuleError::Unsupported { .. }))
    ));
    assert_eq!(
        expand("FREQ=DAILY;BYHOUR"),
        Err(CadenceError::Rule(RuleError::Malformed("BYHOUR".into())))
    );
    assert_eq!(
        expand("FREQ=DAILY;FREQ=WEEKLY"),
        Err(CadenceError::Rule(RuleError::Repeated("FREQ".into())))
    );

    // The same errors come out of a routine's cadence.
    let site = site(America::New_York, &[], &[]);
    let broken = routine(
        rule_cadence("FREQ=HOURLY;INTERVAL=0", "2026-01-01T00:00:00"),
        Skip,
    );
    assert!(matches!(
        CompiledCadence::new(&broken, &site),
        Err(CadenceError::Rule(RuleError::InvalidValue {
            part: "INTERVAL",
            ..
        }))
    ));
    let zero_days = Cadence::AfterCompletion {
        days: 0,
        at: NaiveTime::MIN,
        start: local("2026-01-01T09:00:00"),
    };
    assert!(matches!(
        CompiledCadence::new(&routine(zero_days, Skip), &site),
        Err(CadenceError::ZeroDays)
    ));
}

#[test]
fn odd_input_never_panics() {
    let start = local("2026-01-31T09:00:00");
    let (from, until) = (
        instant("2026-01-01T00:00:00Z"),
        instant("2036-01-01T00:00:00Z"),
    );
    for text in [
        "",
        ";;;",
        "=",
        "FREQ=",
        "RRULE:",
        "FREQ=DAILY;BYSETPOS=0",
        "FREQ=DAILY;BYDAY=0MO",
        "FREQ=MONTHLY;BYDAY=99MO",
        "FREQ=MONTHLY;BYDAY=+",
        "FREQ=DAILY;INTERVAL=-1",
        "FREQ=DAILY;INTERVAL=99999999999",
        "FREQ=DAILY;COUNT=4294967296",
        "FREQ=DAILY;UNTIL=20261399",
        "FREQ=DAILY;UNTIL=20260101T250000Z",
        "FREQ=DAILY;WKST=XX",
        "FREQ=DAILY;BYHOUR=24",
        "FREQ=DAILY;BYMINUTE=1,,2",
        "FREQ=DAILY;BYSECOND=60",
        "FREQ=SECONDLY",
        "FREQ=DAILY;X-NAME=1",
        "freq=daily;byday=mo",
        "FREQ=MINUTELY;BYMONTHDAY=-31;BYSETPOS=366,-366",
        // Valid but never occurring: expansion must end (empty), not spin.
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=MONTHLY;BYMONTH=4,6,9,11;BYMONTHDAY=31",
        "FREQ=YEARLY;BYDAY=53MO;BYMONTH=1",
        "FREQ=MONTHLY;BYDAY=-5TU;BYMONTH=2",
    ] {
        match expand_rule(text, start, Pacific::Chatham, &[], from, until) {
            Ok(due) => assert!(due.windows(2).all(|w| w[0] < w[1]), "{text}"),
            Err(e) => assert!(!e.to_string().is_empty(), "{text}"),
        }
    }
    for never in [
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        "FREQ=MONTHLY;BYMONTH=4,6,9,11;BYMONTHDAY=31",
    ] {
        assert_eq!(
            expand_rule(never, start, Pacific::Chatham, &[], from, until),
            Ok(vec![])
        );
    }
}

/// A window of millennia costs no more than the occurrences in it, and a window of decades
/// gives the same instants as its years expanded one by one.
#[test]
fn very_wide_windows_are_exact() {
    let tz = America::New_York;
    let (dawn, dusk) = (
        instant("0001-01-01T00:00:00Z"),
        instant("9999-12-31T00:00:00Z"),
    );
    let start = local("2026-03-06T02:30:00");
    let count = expand_rule("FREQ=DAILY;COUNT=3", start, tz, &[], dawn, dusk).expect("valid");
    assert_eq!(
        render(&count, tz),
        [
            "2026-03-06T02:30:00-05:00",
            "2026-03-07T02:30:00-05:00",
            "2026-03-08T03:30:00-04:00",
        ]
    );
    // The second Sunday of March at 02:30 is inside New York's gap every year.
    let rule = "FREQ=YEARLY;BYMONTH=3;BYDAY=2SU;BYHOUR=2;BYMINUTE=30;UNTIL=20291231";
    let until = expand_rule(rule, start, tz, &[], dawn, dusk).expect("valid");
    assert_eq!(
        render(&until, tz),
        [
            "2026-03-08T03:30:00-04:00",
            "2027-03-14T03:30:00-04:00",
            "2028-03-12T03:30:00-04:00",
            "2029-03-11T03:30:00-04:00",
        ]
    );

    let daily = "FREQ=DAILY;BYHOUR=2;BYMINUTE=30";
    let start = local("2026-01-01T00:00:00");
    let whole = expand_rule(
        daily,
        start,
        tz,
        &[],
        instant("2026-01-01T00:00:00Z"),
        instant("2056-01-01T00:00:00Z"),
    )
    .expect("valid");
    let mut by_year = Vec::new();
    for year in 2026..2056 {
        let from = instant(&format!("{year}-01-01T00:00:00Z"));
        let until = instant(&format!("{}-01-01T00:00:00Z", year + 1));
        by_year.extend(expand_rule(daily, start, tz, &[], from, until).expect("valid"));
    }
    assert_eq!(whole, by_year);
    assert_eq!(whole.len(), 10_957);
    let gap_days = render(&whole, tz)
        .iter()
        .filter(|t| t.ends_with("T03:30:00-04:00"))
        .count();
    assert_eq!(gap_days, 30, "one spring-forward day a year");
}
