//! `proofline plan`: validate a routines file and show each site's occurrences in a period,
//! with assignees, windows, escalation timelines and, at `--now`, statuses and attention.
//!
//! Everything is computed by `proofline_core::plan`; this module only chooses the period
//! from the flags and formats the result.

use std::path::PathBuf;

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use clap::Args;
use proofline_core::assignee::{Assignment, AssignmentReason};
use proofline_core::attention::{AttentionItem, AttentionKind};
use proofline_core::escalation::{ChainEndCause, Timeline};
use proofline_core::model::{History, Org, PersonId, SiteId};
use proofline_core::plan::{PlannedOccurrence, SitePlan, plan};
use proofline_core::routines_file::{format_duration, load_routines_file};
use proofline_core::zone::local_to_instant;
use serde::Serialize;

use crate::error::CliError;
use crate::output::{self, Table, date_heading, local_time};

/// Examples shown by `proofline plan --help`.
pub const PLAN_EXAMPLES: &str = "\
Examples:
  # Today's checks at every site of the file
  proofline plan examples/restaurant.toml

  # The first week of December, in each site's zone
  proofline plan examples/restaurant.toml --from 2026-12-01 --days 7

  # Statuses at an instant, then each person's attention feed
  proofline plan examples/clinic.toml --from 2026-12-01 --now 2026-12-01T15:00:00Z

  # The same for scripts
  proofline plan examples/clinic.toml --from 2026-12-01 --json";

/// Arguments of `proofline plan`.
#[derive(Debug, Args)]
#[command(after_help = PLAN_EXAMPLES)]
pub struct PlanArgs {
    /// The routines file (TOML).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// First day of the period, a local date in each site's zone [default: the date of
    /// --now, else today].
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Number of days in the period (1 to 366).
    #[arg(long, value_name = "N", default_value = "1")]
    days: String,
    /// Evaluate statuses and attention feeds at this instant (RFC 3339); without it the
    /// plan is a projection, as if nothing had been done.
    #[arg(long, value_name = "INSTANT")]
    now: Option<String>,
}

/// One site's plan with the period it covers.
struct SitePeriod {
    plan: SitePlan,
    from_date: NaiveDate,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
}

/// Runs `proofline plan`.
pub fn run(args: &PlanArgs, json: bool) -> Result<(), CliError> {
    let from_date = args
        .from
        .as_deref()
        .map(|d| crate::input::date("--from", d))
        .transpose()?;
    let days = crate::input::number("--days", &args.days, 1, 366)?;
    let now = args
        .now
        .as_deref()
        .map(|n| crate::input::instant("--now", n))
        .transpose()?;
    let org = load_routines_file(&args.file).map_err(|e| CliError::BadInput(e.to_string()))?;
    // The only clock read: the default first day when neither --from nor --now is given.
    let reference = now.unwrap_or_else(Utc::now);
    let periods = plan_sites(&org, from_date, days, reference, now)?;
    if json {
        output::print_json(&json_view(&periods, days, now))
    } else {
        output::print(&render(&org, &periods, days, now))
    }
}

/// Plans every site over `days` local days from its first day, one core plan per zone.
fn plan_sites(
    org: &Org,
    from_date: Option<NaiveDate>,
    days: u32,
    reference: DateTime<Utc>,
    now: Option<DateTime<Utc>>,
) -> Result<Vec<SitePeriod>, CliError> {
    let history = History::default();
    let mut zones: Vec<Tz> = Vec::new();
    for site in &org.sites {
        if !zones.contains(&site.time_zone) {
            zones.push(site.time_zone);
        }
    }
    let mut periods: Vec<SitePeriod> = Vec::new();
    for tz in zones {
        let first = from_date.unwrap_or_else(|| reference.with_timezone(&tz).date_naive());
        let last = first
            .checked_add_days(Days::new(u64::from(days)))
            .ok_or_else(|| CliError::flag("--from", format!("{first} is out of range")))?;
        let from = local_to_instant(tz, first.and_time(NaiveTime::MIN));
        let until = local_to_instant(tz, last.and_time(NaiveTime::MIN));
        let plans = plan(org, &history, from, until, now)
            .map_err(|e| CliError::Failed(format!("cannot plan: {e}")))?;
        periods.extend(
            plans
                .into_iter()
                .filter(|p| p.time_zone == tz)
                .map(|plan| SitePeriod {
                    plan,
                    from_date: first,
                    from,
                    until,
                }),
        );
    }
    let order = |site: SiteId| org.sites.iter().position(|s| s.id == site);
    periods.sort_by_key(|p| order(p.plan.site));
    Ok(periods)
}

// ---------------------------------------------------------------------------------------
// Human output

fn render(org: &Org, periods: &[SitePeriod], days: u32, now: Option<DateTime<Utc>>) -> String {
    let mut out = String::new();
    for (i, period) in periods.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        render_site(&mut out, org, period, days, now);
    }
    if periods.is_empty() {
        out.push_str("No sites in this file.\n");
    }
    out
}

fn render_site(
    out: &mut String,
    org: &Org,
    period: &SitePeriod,
    days: u32,
    now: Option<DateTime<Utc>>,
) {
    let p = &period.plan;
    let tz = p.time_zone;
    let span = if days == 1 {
        "1 day".to_string()
    } else {
        format!("{days} days")
    };
    out.push_str(&format!(
        "{} ({}) · {} · from {} · {}\n",
        p.site_name,
        p.site_key,
        tz.name(),
        date_heading(period.from_date),
        span
    ));
    if let Some(now) = now {
        let local = now.with_timezone(&tz);
        out.push_str(&format!(
            "Status at {} {}\n",
            date_heading(local.date_naive()),
            local.format("%H:%M %Z")
        ));
    }
    out.push('\n');

    if p.occurrences.is_empty() {
        out.push_str("  No checks due in this period.\n");
    } else {
        let mut table = Table::default();
        let mut header = vec![
            "DUE".to_string(),
            "ROUTINE".to_string(),
            "ASSIGNEE".to_string(),
            "WINDOW".to_string(),
        ];
        if now.is_some() {
            header.push("STATUS".to_string());
        }
        table.row(header);
        let mut current: Option<NaiveDate> = None;
        for planned in &p.occurrences {
            let date = planned.local_due.date();
            if current != Some(date) {
                table.line(date_heading(date));
                current = Some(date);
            }
            let mut cells = vec![
                planned.local_due.format("%H:%M").to_string(),
                planned.routine_title.clone(),
                assignee_text(org, planned),
                format!(
                    "{}–{}",
                    local_time(tz, planned.occurrence.opens, date),
                    local_time(tz, planned.occurrence.closes, date)
                ),
            ];
            if let Some(status) = planned.status {
                cells.push(status.as_str().to_string());
            }
            table.row(cells);
            table.row(vec![
                String::new(),
                format!("escalation: {}", timeline_text(org, tz, planned, now)),
            ]);
        }
        out.push_str(&table.render(2));
    }

    if now.is_some() {
        out.push_str("\nAttention\n");
        let mut table = Table::default();
        for (_, name, items) in &p.attention {
            render_attention(&mut table, name, items);
        }
        if p.attention.is_empty() {
            table.line("  Nobody belongs to this site.".to_string());
        }
        out.push_str(&table.render(2));
    }
}

/// "Sam Reed (covering for Maria Lopez)" and the like.
fn assignee_text(org: &Org, planned: &PlannedOccurrence) -> String {
    let Assignment { person, reason } = planned.assignment;
    let name = if planned.assignee_name.is_empty() {
        org.person_name(person)
    } else {
        planned.assignee_name.clone()
    };
    match reason {
        AssignmentReason::Owner => name,
        AssignmentReason::Backup { covering_for } => {
            format!("{name} (covering for {})", org.person_name(covering_for))
        }
        AssignmentReason::RoleFallback { role, covering_for } => format!(
            "{name} ({role}, covering for {})",
            org.person_name(covering_for)
        ),
        AssignmentReason::OwnerUnavailable => format!("{name} (away, nobody to cover)"),
    }
}

/// "+15m Maria Lopez · +30m Sam Reed · +1h Dana Kim", with what has happened at `now`.
fn timeline_text(
    org: &Org,
    tz: Tz,
    planned: &PlannedOccurrence,
    now: Option<DateTime<Utc>>,
) -> String {
    let timeline: &Timeline = &planned.timeline;
    if timeline.levels.is_empty() {
        return "none".to_string();
    }
    let due = planned.occurrence.due;
    let date = planned.local_due.date();
    let mut parts = Vec::new();
    for level in &timeline.levels {
        let after = u32::try_from((level.fires_at - due).num_minutes()).unwrap_or(0);
        let names: Vec<String> = level
            .recipients
            .iter()
            .map(|p| org.person_name(*p))
            .collect();
        let who = if names.is_empty() {
            "nobody".to_string()
        } else {
            names.join(", ")
        };
        let mut part = format!("+{} {}", format_duration(after), who);
        if now.is_some() {
            match (&level.acknowledgement, level.fired) {
                (Some(ack), _) => part.push_str(&format!(
                    " (acknowledged by {} at {})",
                    org.person_name(ack.by),
                    local_time(tz, ack.at, date)
                )),
                (None, true) => part.push_str(" (fired)"),
                (None, false) => {}
            }
        }
        parts.push(part);
    }
    let mut text = parts.join(" · ");
    if let (Some(_), Some(end)) = (now, &timeline.ended) {
        let by = org.person_name(end.by);
        let at = local_time(tz, end.at, date);
        match &end.cause {
            ChainEndCause::Completed => {
                text.push_str(&format!(" — ended: completed by {by} at {at}"));
            }
            ChainEndCause::Excused { reason } => {
                text.push_str(&format!(" — ended: excused by {by} at {at} ({reason})"));
            }
        }
    }
    text
}

fn kind_text(kind: AttentionKind) -> &'static str {
    match kind {
        AttentionKind::Overdue => "overdue",
        AttentionKind::DueNow => "due now",
        AttentionKind::Escalation => "escalation",
        AttentionKind::RepeatFailure => "repeat failure",
    }
}

fn render_attention(table: &mut Table, name: &str, items: &[AttentionItem]) {
    if items.is_empty() {
        table.row(vec![name.to_string(), "All checks on track".to_string()]);
        return;
    }
    for (i, item) in items.iter().enumerate() {
        let who = if i == 0 {
            name.to_string()
        } else {
            String::new()
        };
        table.row(vec![
            who,
            kind_text(item.kind).to_string(),
            item.message.clone(),
        ]);
    }
}

// ---------------------------------------------------------------------------------------
// JSON output

#[derive(Serialize)]
struct JsonPlan<'a> {
    now: Option<DateTime<Utc>>,
    days: u32,
    sites: Vec<JsonSite<'a>>,
}

#[derive(Serialize)]
struct JsonSite<'a> {
    site: SiteId,
    site_key: &'a str,
    site_name: &'a str,
    time_zone: &'a str,
    from_date: NaiveDate,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    occurrences: &'a [PlannedOccurrence],
    /// Only with `now`.
    attention: Option<Vec<JsonAttention<'a>>>,
}

#[derive(Serialize)]
struct JsonAttention<'a> {
    person: PersonId,
    name: &'a str,
    items: &'a [AttentionItem],
}

fn json_view(periods: &[SitePeriod], days: u32, now: Option<DateTime<Utc>>) -> JsonPlan<'_> {
    JsonPlan {
        now,
        days,
        sites: periods
            .iter()
            .map(|period| {
                let p = &period.plan;
                JsonSite {
                    site: p.site,
                    site_key: &p.site_key,
                    site_name: &p.site_name,
                    time_zone: p.time_zone.name(),
                    from_date: period.from_date,
                    from: period.from,
                    until: period.until,
                    occurrences: &p.occurrences,
                    attention: now.map(|_| {
                        p.attention
                            .iter()
                            .map(|(person, name, items)| JsonAttention {
                                person: *person,
                                name,
                                items,
                            })
                            .collect()
                    }),
                }
            })
            .collect(),
    }
}
