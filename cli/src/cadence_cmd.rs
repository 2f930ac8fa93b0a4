//! `proofline cadence expand`: the due instants of a rule in a period.

use chrono::Duration;
use clap::Args;
use proofline_core::cadence::expand_rule;

use crate::error::CliError;
use crate::{input, output};

/// Longest period `cadence expand` lists (about ten years), so a typo cannot fill the disk.
const MAX_PERIOD_DAYS: i64 = 3653;

/// Examples shown by `proofline cadence expand --help`.
pub const EXPAND_EXAMPLES: &str = "\
Examples:
  # Every day at 02:30 in New York, across the spring-forward gap (02:30 -> 03:30 on the 8th)
  proofline cadence expand --rrule 'FREQ=DAILY;BYHOUR=2;BYMINUTE=30' \\
      --start 2026-03-01T02:30:00 --tz America/New_York \\
      --from 2026-03-07T00:00:00-05:00 --until 2026-03-10T00:00:00-04:00

  # Last business day of each month at 16:00, as JSON
  proofline cadence expand \\
      --rrule 'RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;BYHOUR=16;BYMINUTE=0' \\
      --start 2026-01-30T16:00 --tz Europe/London \\
      --from 2026-01-01T00:00:00Z --until 2027-01-01T00:00:00Z --json

  # Opening checks at 07:00, except on Christmas Day
  proofline cadence expand --rrule 'FREQ=DAILY;BYHOUR=7;BYMINUTE=0' --start 2026-01-01T07:00 \\
      --tz America/Chicago --exdate 2026-12-25T07:00 \\
      --from 2026-12-24T00:00:00-06:00 --until 2026-12-27T00:00:00-06:00";

/// Arguments of `proofline cadence expand`.
#[derive(Debug, Args)]
#[command(after_help = EXPAND_EXAMPLES)]
pub struct ExpandArgs {
    /// The RFC 5545 rule, with or without the `RRULE:` prefix.
    #[arg(long, value_name = "RULE")]
    rrule: String,
    /// Local anchor (DTSTART) in the zone, e.g. 2026-03-01T07:00:00 (seconds optional).
    #[arg(long, value_name = "LOCAL")]
    start: String,
    /// IANA time zone of the site, e.g. America/New_York.
    #[arg(long, value_name = "ZONE")]
    tz: String,
    /// Start of the period, inclusive, RFC 3339 (e.g. 2026-03-07T00:00:00Z).
    #[arg(long, value_name = "INSTANT")]
    from: String,
    /// End of the period, exclusive, RFC 3339.
    #[arg(long, value_name = "INSTANT")]
    until: String,
    /// A local time to leave out (EXDATE); repeat for more.
    #[arg(long, value_name = "LOCAL")]
    exdate: Vec<String>,
}

/// Runs `proofline cadence expand`.
pub fn run(args: &ExpandArgs, json: bool) -> Result<(), CliError> {
    let tz = input::zone("--tz", &args.tz)?;
    let start = input::local("--start", &args.start)?;
    let from = input::instant("--from", &args.from)?;
    let until = input::instant("--until", &args.until)?;
    let exdates = args
        .exdate
        .iter()
        .map(|e| input::local("--exdate", e))
        .collect::<Result<Vec<_>, _>>()?;
    if until < from {
        return Err(CliError::flag(
            "--until",
            format!(
                "{} is before --from {}",
                args.until.trim(),
                args.from.trim()
            ),
        ));
    }
    if until - from > Duration::days(MAX_PERIOD_DAYS) {
        return Err(CliError::flag(
            "--until",
            format!("the period is limited to {MAX_PERIOD_DAYS} days"),
        ));
    }
    let due = expand_rule(&args.rrule, start, tz, &exdates, from, until)
        .map_err(|e| CliError::flag("--rrule", e))?;
    let lines: Vec<String> = due.iter().map(|at| output::rfc3339_in(tz, *at)).collect();
    if json {
        return output::print_json(&lines);
    }
    let mut text = String::new();
    for line in &lines {
        text.push_str(line);
        text.push('\n');
    }
    output::print(&text)
}
