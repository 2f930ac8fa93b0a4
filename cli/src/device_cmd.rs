//! `proofline device`: act as a headless device over `proofline_core::device::Device`.
//!
//! Every subcommand takes `--db DIR` (the device directory) and `--now INSTANT` (RFC 3339;
//! default: the system clock, read here and nowhere else), so a script can replay a day.
//! Times are shown in each site's zone, people and checks by name, with the occurrence id
//! that `complete` and `excuse` take.
//!
//! # Step values (`complete --step KEY=VALUE`)
//!
//! The value is read by the step's kind: a `check` is ticked with `yes`, `y`, `true`, `x`,
//! `done` or `ok`; a `reading` is a number (`7.5`), and its corrective action, when out of
//! range, is a separate `--corrective KEY=TEXT`; a `choice` is one of its options (any
//! case); `text` and `signature` take the text as is. Photo steps take no `--step`: give
//! `--photo FILE` (repeatable); each photo is captured on the device and attached to the
//! first photo step that still needs one.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use clap::{Args, Subcommand};
use proofline_core::agenda::AgendaItem;
use proofline_core::attention::{AttentionItem, AttentionKind};
use proofline_core::completion::{ProblemKind, ProofProblem};
use proofline_core::device::{Device, DeviceError};
use proofline_core::model::{
    OccurrenceId, Org, PersonId, Routine, SiteId, StepAnswer, StepKind, StepResult,
};
use proofline_core::occurrence::Status;
use proofline_core::review::{ComplianceCounts, ComplianceReport, MissedItem};
use proofline_core::routines_file::load_routines_file;
use proofline_core::zone::local_to_instant;
use serde::Serialize;

use crate::error::CliError;
use crate::output::{self, Table, date_heading, local_time};

/// Examples shown by `proofline device --help`.
pub const DEVICE_EXAMPLES: &str = "\
Examples:
  # Set up a device for Maria from a routines file
  proofline device init --db ./maria --routines examples/restaurant.toml --as maria

  # Her checks today, and what needs her attention, at a given instant
  proofline device today --db ./maria --now 2026-12-09T11:05:00Z
  proofline device attention --db ./maria --now 2026-12-09T11:25:00Z

  # Complete a check (the occurrence id is shown by `today`)
  proofline device complete 5d1c…-… --db ./maria --now 2026-12-09T11:10:00Z \\
      --step walk-in=7.5 --corrective walk-in='moved stock, called maintenance' \\
      --step reach-in=4

  # Opening checks with photo proof
  proofline device complete 0b7e…-… --db ./maria --step handwash=yes \\
      --step sanitizer=yes --photo line.jpg

  # Missed checks and compliance over a week; audit the hash chain
  proofline device missed --db ./maria --from 2026-12-01 --days 7
  proofline device report --db ./maria --from 2026-12-01 --days 7
  proofline device verify --db ./maria

  # Or enroll with a sync server (code from `proofline admin code maria`), then sync
  proofline device enroll https://sync.example.com 7KQ2-M9XD-4FHP --db ./maria --name 'Till 2'
  proofline device sync --db ./maria
  proofline device status --db ./maria

Exit status: 0 ok, 1 failure (not allowed, storage, broken chain, server unreachable or
refusing, sync incomplete or events rejected), 2 bad input.";

/// Arguments of `proofline device`.
#[derive(Debug, Args)]
#[command(after_help = DEVICE_EXAMPLES)]
pub struct DeviceArgs {
    #[command(subcommand)]
    command: DeviceCommand,
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Set up a device in --db for a person of a routines file.
    #[command(after_help = DEVICE_EXAMPLES)]
    Init(InitArgs),
    /// The person's checks today (each site's local day).
    #[command(after_help = DEVICE_EXAMPLES)]
    Today(Common),
    /// What needs the person's attention now, most urgent first.
    #[command(after_help = DEVICE_EXAMPLES)]
    Attention(Common),
    /// Missed and late checks of the device's sites in a period.
    #[command(after_help = DEVICE_EXAMPLES)]
    Missed(PeriodArgs),
    /// Compliance of the device's sites in a period, per routine and per person.
    #[command(after_help = DEVICE_EXAMPLES)]
    Report(PeriodArgs),
    /// Complete a check with step values, photos and a note.
    #[command(after_help = DEVICE_EXAMPLES)]
    Complete(CompleteArgs),
    /// Excuse a check with a reason (supervisor, lead or admin).
    #[command(after_help = DEVICE_EXAMPLES)]
    Excuse(ExcuseArgs),
    /// Re-check the device's hash chain; exit 1 if it is broken.
    #[command(after_help = DEVICE_EXAMPLES)]
    Verify(Common),
    /// Enroll a new device with a sync server using a one-time code, then sync.
    #[command(after_help = crate::sync_cmd::ENROLL_EXAMPLES)]
    Enroll(crate::sync_cmd::EnrollArgs),
    /// Sync with the server: upload photos, push events, pull the sites' events.
    #[command(after_help = crate::sync_cmd::SYNC_EXAMPLES)]
    Sync(Common),
    /// Where the device stands with its server: pending, rejected, last sync, clock.
    #[command(after_help = crate::sync_cmd::SYNC_EXAMPLES)]
    Status(Common),
}

/// Flags every device command takes.
#[derive(Debug, Args)]
pub(crate) struct Common {
    /// The device directory.
    #[arg(long, value_name = "DIR")]
    pub(crate) db: PathBuf,
    /// Act at this instant (RFC 3339) [default: now].
    #[arg(long, value_name = "INSTANT")]
    pub(crate) now: Option<String>,
}

#[derive(Debug, Args)]
struct InitArgs {
    #[command(flatten)]
    common: Common,
    /// The routines file (TOML) to import.
    #[arg(long, value_name = "FILE")]
    routines: PathBuf,
    /// The key of the person using the device (e.g. maria).
    #[arg(long = "as", value_name = "PERSON_KEY")]
    person: String,
}

#[derive(Debug, Args)]
struct PeriodArgs {
    #[command(flatten)]
    common: Common,
    /// First day, a local date in each site's zone [default: the date of --now].
    #[arg(long, value_name = "DATE")]
    from: Option<String>,
    /// Number of days (1 to 366).
    #[arg(long, value_name = "N", default_value = "1")]
    days: String,
}

#[derive(Debug, Args)]
struct CompleteArgs {
    /// The occurrence id (shown by `today` and `attention`).
    #[arg(value_name = "OCCURRENCE")]
    occurrence: String,
    #[command(flatten)]
    common: Common,
    /// A step's value, KEY=VALUE (repeatable; see `proofline device --help`).
    #[arg(long = "step", value_name = "KEY=VALUE")]
    steps: Vec<String>,
    /// The corrective action of an out-of-range reading, KEY=TEXT (repeatable).
    #[arg(long = "corrective", value_name = "KEY=TEXT")]
    corrective: Vec<String>,
    /// A photo file to capture and attach (repeatable).
    #[arg(long = "photo", value_name = "FILE")]
    photos: Vec<PathBuf>,
    /// A note on the completion.
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
}

#[derive(Debug, Args)]
struct ExcuseArgs {
    /// The occurrence id.
    #[arg(value_name = "OCCURRENCE")]
    occurrence: String,
    #[command(flatten)]
    common: Common,
    /// Why it is excused.
    #[arg(long, value_name = "TEXT")]
    reason: String,
}

/// Runs `proofline device …`.
pub fn run(args: &DeviceArgs, json: bool) -> Result<(), CliError> {
    match &args.command {
        DeviceCommand::Init(a) => init(a, json),
        DeviceCommand::Today(a) => today(a, json),
        DeviceCommand::Attention(a) => attention(a, json),
        DeviceCommand::Missed(a) => missed(a, json),
        DeviceCommand::Report(a) => report(a, json),
        DeviceCommand::Complete(a) => complete(a, json),
        DeviceCommand::Excuse(a) => excuse(a, json),
        DeviceCommand::Verify(a) => verify(a, json),
        DeviceCommand::Enroll(a) => crate::sync_cmd::enroll(a, json),
        DeviceCommand::Sync(a) => crate::sync_cmd::sync(a, json),
        DeviceCommand::Status(a) => crate::sync_cmd::status(a, json),
    }
}

// ---------------------------------------------------------------------------------------
// Inputs and errors

/// `--now`, or the system clock (the only clock read of the device commands).
pub(crate) fn now(common: &Common) -> Result<DateTime<Utc>, CliError> {
    match &common.now {
        Some(text) => crate::input::instant("--now", text),
        None => Ok(Utc::now()),
    }
}

pub(crate) fn open(common: &Common) -> Result<Device, CliError> {
    Device::open(&common.db).map_err(|e| match e {
        DeviceError::NotFound(_) => CliError::flag(
            "--db",
            format!(
                "no device is set up in {} (run `proofline device init` or `proofline device enroll` first)",
                common.db.display()
            ),
        ),
        other => device_error(other),
    })
}

/// Maps the device's error: the person's input (exit 2) or a failure (exit 1).
pub(crate) fn device_error(e: DeviceError) -> CliError {
    match e {
        DeviceError::ProofIncomplete(problems) => CliError::BadInput(proof_text(&problems, None)),
        DeviceError::InvalidInput(m) | DeviceError::NotFound(m) => CliError::BadInput(m),
        DeviceError::NotAllowed(m)
        | DeviceError::Storage(m)
        | DeviceError::Offline(m)
        | DeviceError::Unauthorized(m) => CliError::Failed(m),
    }
}

/// Every unmet requirement, each with the flag that fixes it.
fn proof_text(problems: &[ProofProblem], routine: Option<&Routine>) -> String {
    let is_photo = |key: &str| {
        routine.is_some_and(|r| {
            r.steps
                .iter()
                .any(|s| s.key == key && matches!(s.kind, StepKind::Photo { .. }))
        })
    };
    let parts: Vec<String> = problems
        .iter()
        .map(|p| {
            let hint = match &p.problem {
                ProblemKind::OutOfRange { .. } => format!(" (--corrective {}=TEXT)", p.step),
                ProblemKind::TooFewPhotos { .. } => " (--photo FILE)".to_string(),
                ProblemKind::Unanswered if is_photo(&p.step) => " (--photo FILE)".to_string(),
                ProblemKind::Unanswered => format!(" (--step {}=…)", p.step),
                _ => String::new(),
            };
            format!("{p}{hint}.")
        })
        .collect();
    format!("the check cannot be completed: {}", parts.join(" "))
}

fn occurrence_arg(text: &str) -> Result<OccurrenceId, CliError> {
    serde_json::from_value::<OccurrenceId>(serde_json::Value::String(text.trim().to_string()))
        .map_err(|_| {
            CliError::BadInput(format!(
                "OCCURRENCE: \"{text}\" is not an occurrence id (copy it from `proofline device today`)"
            ))
        })
}

/// The zone of the device's first site (for headings).
pub(crate) fn home_zone(device: &Device, org: &Org) -> Tz {
    device
        .identity()
        .sites
        .first()
        .and_then(|s| org.site(*s))
        .map_or(chrono_tz::UTC, |s| s.time_zone)
}

/// "Wed 9 Dec 2026 06:10 EST".
pub(crate) fn heading_time(tz: Tz, now: DateTime<Utc>) -> String {
    let local = now.with_timezone(&tz);
    format!(
        "{} {}",
        date_heading(local.date_naive()),
        local.format("%H:%M %Z")
    )
}

fn status_text(status: Status) -> String {
    status.as_str().replace('_', " ")
}

// ---------------------------------------------------------------------------------------
// init

#[derive(Serialize)]
struct JsonInit<'a> {
    dir: &'a Path,
    device: String,
    person: PersonId,
    person_name: String,
    sites: Vec<SiteId>,
    routines: usize,
}

fn init(args: &InitArgs, json: bool) -> Result<(), CliError> {
    let now = now(&args.common)?;
    let org = load_routines_file(&args.routines).map_err(|e| CliError::BadInput(e.to_string()))?;
    let key = args.person.trim();
    let Some(person) = org.people.iter().find(|p| p.key == key) else {
        let keys: Vec<&str> = org.people.iter().map(|p| p.key.as_str()).collect();
        return Err(CliError::flag(
            "--as",
            format!(
                "no person \"{key}\" in {} (people: {})",
                args.routines.display(),
                keys.join(", ")
            ),
        ));
    };
    let device = Device::create(&args.common.db, &org, person.id, now).map_err(device_error)?;
    let identity = device.identity();
    let device_org = device.org();
    if json {
        return output::print_json(&JsonInit {
            dir: &args.common.db,
            device: identity.device.to_string(),
            person: person.id,
            person_name: person.name.clone(),
            sites: identity.sites.clone(),
            routines: device_org.routines.len(),
        });
    }
    let sites: Vec<String> = identity
        .sites
        .iter()
        .filter_map(|s| device_org.site(*s))
        .map(|s| match person.role_at(s.id) {
            Some(role) => format!("{role} at {}", s.name),
            None => s.name.clone(),
        })
        .collect();
    output::print(&format!(
        "Set up a device for {} ({}) in {}: {} routines, {} people.\nDevice {}\n",
        person.name,
        sites.join(", "),
        args.common.db.display(),
        device_org.routines.len(),
        device_org.people.len(),
        identity.device
    ))
}

// ---------------------------------------------------------------------------------------
// today

fn today(args: &Common, json: bool) -> Result<(), CliError> {
    let now = now(args)?;
    let device = open(args)?;
    let items = device.today(now).map_err(device_error)?;
    if json {
        return output::print_json(&items);
    }
    let org = device.org();
    let me = org.person_name(device.identity().person);
    let mut out = format!(
        "Today for {me} · {}\n",
        heading_time(home_zone(&device, &org), now)
    );
    if items.is_empty() {
        out.push_str("\n  No checks for you today.\n");
        return output::print(&out);
    }
    let mut site: Option<&str> = None;
    let mut table = Table::default();
    for item in &items {
        if site != Some(item.site_name.as_str()) {
            table.line(String::new());
            table.line(item.site_name.clone());
            table.row(
                ["DUE", "CHECK", "STATUS", "WINDOW", "OCCURRENCE"]
                    .map(String::from)
                    .to_vec(),
            );
            site = Some(item.site_name.as_str());
        }
        table.row(today_row(item, now));
        if let Some(note) = &item.assignment_note {
            table.row(vec![String::new(), note.clone()]);
        }
    }
    out.push_str(&table.render(2));
    output::print(&out)
}

fn today_row(item: &AgendaItem, now: DateTime<Utc>) -> Vec<String> {
    let tz = item.time_zone;
    let today = now.with_timezone(&tz).date_naive();
    let o = &item.occurrence;
    let status = match &item.resolution {
        Some(r) if matches!(item.status, Status::DoneOnTime | Status::DoneLate) => format!(
            "{} ({}, {})",
            status_text(item.status),
            local_time(tz, r.at, today),
            r.by_name
        ),
        Some(r) => format!("{} by {}", status_text(item.status), r.by_name),
        None => status_text(item.status),
    };
    vec![
        local_time(tz, o.due, today),
        item.routine_title.clone(),
        status,
        format!(
            "{}–{}",
            local_time(tz, o.opens, today),
            local_time(tz, o.closes, today)
        ),
        o.id.to_string(),
    ]
}

// ---------------------------------------------------------------------------------------
// attention

fn attention(args: &Common, json: bool) -> Result<(), CliError> {
    let now = now(args)?;
    let device = open(args)?;
    let items = device.attention(now).map_err(device_error)?;
    if json {
        return output::print_json(&items);
    }
    let org = device.org();
    let me = org.person_name(device.identity().person);
    let mut out = format!(
        "Attention for {me} · {}\n\n",
        heading_time(home_zone(&device, &org), now)
    );
    if items.is_empty() {
        out.push_str("  All checks on track.\n");
        return output::print(&out);
    }
    let mut table = Table::default();
    for item in &items {
        table.row(vec![kind_text(item).to_string(), item.message.clone()]);
        if let Some(id) = item.occurrence {
            let mut detail = format!("occurrence {id}");
            if let Some(e) = &item.escalation {
                detail.push_str(&format!(" · escalation {}", e.id));
            }
            table.row(vec![String::new(), detail]);
        }
    }
    out.push_str(&table.render(2));
    output::print(&out)
}

fn kind_text(item: &AttentionItem) -> &'static str {
    match item.kind {
        AttentionKind::Overdue => "overdue",
        AttentionKind::DueNow => "due now",
        AttentionKind::Escalation => "escalation",
        AttentionKind::RepeatFailure => "repeat failure",
    }
}

// ---------------------------------------------------------------------------------------
// missed and report

/// One site's period: local days `[first, first + days)` in its zone.
struct SitePeriod {
    site: SiteId,
    first: NaiveDate,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
}

fn periods(
    device: &Device,
    org: &Org,
    args: &PeriodArgs,
    now: DateTime<Utc>,
) -> Result<(u32, Vec<SitePeriod>), CliError> {
    let from_date = args
        .from
        .as_deref()
        .map(|d| crate::input::date("--from", d))
        .transpose()?;
    let days = crate::input::number("--days", &args.days, 1, 366)?;
    let mut out = Vec::new();
    for site in device.identity().sites {
        let Some(s) = org.site(site) else { continue };
        let tz = s.time_zone;
        let first = from_date.unwrap_or_else(|| now.with_timezone(&tz).date_naive());
        let last = first
            .checked_add_days(Days::new(u64::from(days)))
            .ok_or_else(|| CliError::flag("--from", format!("{first} is out of range")))?;
        out.push(SitePeriod {
            site,
            first,
            from: local_to_instant(tz, first.and_time(NaiveTime::MIN)),
            until: local_to_instant(tz, last.and_time(NaiveTime::MIN)),
        });
    }
    Ok((days, out))
}

fn period_heading(
    what: &str,
    site_name: &str,
    tz: Tz,
    first: NaiveDate,
    days: u32,
    now: DateTime<Utc>,
) -> String {
    let span = if days == 1 {
        "1 day".to_string()
    } else {
        format!("{days} days")
    };
    format!(
        "{what} · {site_name} · from {} · {span} · as of {}\n",
        date_heading(first),
        heading_time(tz, now)
    )
}

#[derive(Serialize)]
struct JsonMissed<'a> {
    site: SiteId,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    items: &'a [MissedItem],
}

fn missed(args: &PeriodArgs, json: bool) -> Result<(), CliError> {
    let now = now(&args.common)?;
    let device = open(&args.common)?;
    let org = device.org();
    let (days, periods) = periods(&device, &org, args, now)?;
    let mut found = Vec::new();
    for p in &periods {
        let items = device
            .missed(p.site, p.from, p.until, now)
            .map_err(device_error)?;
        found.push((p, items));
    }
    if json {
        let view: Vec<JsonMissed<'_>> = found
            .iter()
            .map(|(p, items)| JsonMissed {
                site: p.site,
                from: p.from,
                until: p.until,
                items,
            })
            .collect();
        return output::print_json(&view);
    }
    let mut out = String::new();
    for (i, (p, items)) in found.iter().enumerate() {
        let Some(site) = org.site(p.site) else {
            continue;
        };
        let tz = site.time_zone;
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&period_heading(
            "Missed and late checks",
            &site.name,
            tz,
            p.first,
            days,
            now,
        ));
        out.push('\n');
        if items.is_empty() {
            out.push_str("  None: every check was done on time, excused or is still open.\n");
            continue;
        }
        let mut table = Table::default();
        table.row(
            ["DUE", "CHECK", "STATUS", "ASSIGNEE", "OCCURRENCE"]
                .map(String::from)
                .to_vec(),
        );
        for m in items.iter() {
            let status = match (&m.late_by_text, &m.done_by_name) {
                (Some(late), Some(by)) => format!("done {late} late by {by}"),
                _ => status_text(m.status),
            };
            table.row(vec![
                m.local_due.format("%a %-d %b %H:%M").to_string(),
                m.routine_title.clone(),
                status,
                m.assignee_name.clone(),
                m.occurrence.id.to_string(),
            ]);
        }
        out.push_str(&table.render(2));
    }
    output::print(&out)
}

fn report(args: &PeriodArgs, json: bool) -> Result<(), CliError> {
    let now = now(&args.common)?;
    let device = open(&args.common)?;
    let org = device.org();
    let (days, periods) = periods(&device, &org, args, now)?;
    let mut reports = Vec::new();
    for p in &periods {
        reports.push((
            p,
            device
                .compliance(p.site, p.from, p.until, now)
                .map_err(device_error)?,
        ));
    }
    if json {
        let view: Vec<&ComplianceReport> = reports.iter().map(|(_, r)| r).collect();
        return output::print_json(&view);
    }
    let mut out = String::new();
    for (i, (p, r)) in reports.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&period_heading(
            "Compliance",
            &r.site_name,
            r.time_zone,
            p.first,
            days,
            now,
        ));
        out.push_str(&format!("  {}\n\n", totals_text(&r.totals)));
        let mut table = Table::default();
        table.row(
            [
                "ROUTINE",
                "ON TIME",
                "LATE",
                "MISSED",
                "EXCUSED",
                "OPEN",
                "ON-TIME %",
            ]
            .map(String::from)
            .to_vec(),
        );
        for routine in &r.routines {
            table.row(counts_row(&routine.routine_title, &routine.counts));
        }
        table.line(String::new());
        table.row(
            [
                "PERSON",
                "ON TIME",
                "LATE",
                "MISSED",
                "EXCUSED",
                "OPEN",
                "ON-TIME %",
            ]
            .map(String::from)
            .to_vec(),
        );
        for person in &r.people {
            table.row(counts_row(&person.name, &person.counts));
        }
        out.push_str(&table.render(2));
    }
    output::print(&out)
}

fn percent(p: Option<f64>) -> String {
    p.map_or_else(|| "–".to_string(), |p| format!("{p:.0}%"))
}

/// "On time 75% · 3 on time, 0 late, 1 missed, 0 excused, 2 still open (6 checks)".
fn totals_text(c: &ComplianceCounts) -> String {
    format!(
        "On time {} · {} on time, {} late, {} missed, {} excused, {} still open ({} checks)",
        percent(c.on_time_percent),
        c.on_time,
        c.late,
        c.missed,
        c.excused,
        c.still_open,
        c.total
    )
}

fn counts_row(name: &str, c: &ComplianceCounts) -> Vec<String> {
    vec![
        name.to_string(),
        c.on_time.to_string(),
        c.late.to_string(),
        c.missed.to_string(),
        c.excused.to_string(),
        c.still_open.to_string(),
        percent(c.on_time_percent),
    ]
}

// ---------------------------------------------------------------------------------------
// complete

/// Splits `KEY=VALUE`, naming the flag on error.
fn key_value<'a>(flag: &str, text: &'a str) -> Result<(&'a str, &'a str), CliError> {
    match text.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim(), v)),
        _ => Err(CliError::flag(
            flag,
            format!("\"{text}\" is not KEY=VALUE (e.g. {flag} walk-in=3.5)"),
        )),
    }
}

/// Reads `--step` and `--corrective` against the routine's steps.
fn step_results(
    org: &Org,
    routine: proofline_core::model::RoutineId,
    args: &CompleteArgs,
) -> Result<Vec<StepResult>, CliError> {
    let Some(routine) = org.routine(routine) else {
        return Err(CliError::Failed(format!(
            "the routine {routine} of this check is not defined on this device"
        )));
    };
    let keys = || {
        routine
            .steps
            .iter()
            .map(|s| s.key.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut results: Vec<StepResult> = Vec::new();
    for text in &args.steps {
        let (key, value) = key_value("--step", text)?;
        let Some(step) = routine.steps.iter().find(|s| s.key == key) else {
            return Err(CliError::flag(
                "--step",
                format!(
                    "{} has no step \"{key}\" (steps: {})",
                    routine.title,
                    keys()
                ),
            ));
        };
        let bad = |what: &str| {
            CliError::flag(
                "--step",
                format!("{key} ({}): \"{value}\" is not {what}", step.title),
            )
        };
        let answer = match &step.kind {
            StepKind::Check => match value.trim().to_ascii_lowercase().as_str() {
                "yes" | "y" | "true" | "x" | "done" | "ok" => StepAnswer::Checked,
                _ => return Err(bad("a tick (yes, true, x); leave the step out if not done")),
            },
            StepKind::Reading { .. } => {
                let value: f64 = value
                    .trim()
                    .parse()
                    .ok()
                    .filter(|v: &f64| v.is_finite())
                    .ok_or_else(|| bad("a number (e.g. 3.5)"))?;
                StepAnswer::Reading {
                    value,
                    corrective_action: None,
                }
            }
            StepKind::Photo { .. } => {
                return Err(CliError::flag(
                    "--step",
                    format!("{key} ({}) is a photo step: give --photo FILE", step.title),
                ));
            }
            StepKind::Choice { options } => {
                let chosen = options
                    .iter()
                    .find(|o| o.eq_ignore_ascii_case(value.trim()))
                    .ok_or_else(|| bad(&format!("one of: {}", options.join(", "))))?;
                StepAnswer::Choice {
                    option: chosen.clone(),
                }
            }
            StepKind::Text => StepAnswer::Text {
                text: value.to_string(),
            },
            StepKind::Signature => StepAnswer::Signature {
                data: value.to_string(),
            },
        };
        results.push(StepResult {
            step: key.to_string(),
            answer,
        });
    }
    for text in &args.corrective {
        let (key, action) = key_value("--corrective", text)?;
        let target = results.iter_mut().find_map(|r| match &mut r.answer {
            StepAnswer::Reading {
                corrective_action, ..
            } if r.step == key => Some(corrective_action),
            _ => None,
        });
        match target {
            Some(slot) => *slot = Some(action.to_string()),
            None => {
                return Err(CliError::flag(
                    "--corrective",
                    format!(
                        "{key}: give the reading too (--step {key}=VALUE); readings of {}: {}",
                        routine.title,
                        routine
                            .steps
                            .iter()
                            .filter(|s| matches!(s.kind, StepKind::Reading { .. }))
                            .map(|s| s.key.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
    }
    Ok(results)
}

#[derive(Serialize)]
struct JsonCompleted {
    completion: proofline_core::model::Completion,
    status: Status,
}

fn complete(args: &CompleteArgs, json: bool) -> Result<(), CliError> {
    let now = now(&args.common)?;
    let id = occurrence_arg(&args.occurrence)?;
    let device = open(&args.common)?;
    let org = device.org();
    let detail = device.occurrence(id, now).map_err(device_error)?;
    let results = step_results(&org, detail.occurrence.routine, args)?;
    let mut photos = Vec::new();
    for file in &args.photos {
        let bytes = std::fs::read(file).map_err(|e| {
            CliError::flag("--photo", format!("cannot read {}: {e}", file.display()))
        })?;
        let photo = device.capture_photo(&bytes, now).map_err(|e| match e {
            DeviceError::InvalidInput(m) => {
                CliError::flag("--photo", format!("{}: {m}", file.display()))
            }
            other => device_error(other),
        })?;
        photos.push(photo.sha256);
    }
    let completion = device
        .complete(id, results, photos, args.note.clone(), now)
        .map_err(|e| match e {
            DeviceError::ProofIncomplete(problems) => CliError::BadInput(proof_text(
                &problems,
                org.routine(detail.occurrence.routine),
            )),
            other => device_error(other),
        })?;
    let status = device
        .occurrence(id, now)
        .map(|d| d.status)
        .map_err(device_error)?;
    if json {
        return output::print_json(&JsonCompleted { completion, status });
    }
    let tz = detail.time_zone;
    let today = now.with_timezone(&tz).date_naive();
    output::print(&format!(
        "Completed {} ({}), due {}: {} at {} by {}.\nEvent {}\n",
        detail.routine_title,
        detail.site_name,
        local_time(tz, detail.occurrence.due, today),
        status_text(status),
        local_time(tz, completion.at, today),
        org.person_name(completion.by),
        completion.id
    ))
}

// ---------------------------------------------------------------------------------------
// excuse

fn excuse(args: &ExcuseArgs, json: bool) -> Result<(), CliError> {
    let now = now(&args.common)?;
    let id = occurrence_arg(&args.occurrence)?;
    let device = open(&args.common)?;
    let excuse = device
        .excuse(id, args.reason.clone(), now)
        .map_err(device_error)?;
    if json {
        return output::print_json(&excuse);
    }
    let org = device.org();
    let routine = org.routine(excuse.routine);
    let site = routine.and_then(|r| org.site(r.site));
    let tz = site.map_or(chrono_tz::UTC, |s| s.time_zone);
    let today = now.with_timezone(&tz).date_naive();
    output::print(&format!(
        "Excused {} ({}), due {}: {}.\nEvent {}\n",
        routine.map_or("the check", |r| r.title.as_str()),
        site.map_or("", |s| s.name.as_str()),
        local_time(tz, excuse.due, today),
        excuse.reason,
        excuse.id
    ))
}

// ---------------------------------------------------------------------------------------
// verify

fn verify(args: &Common, json: bool) -> Result<(), CliError> {
    let device = open(args)?;
    let report = device.verify_chain().map_err(device_error)?;
    if json {
        output::print_json(&report)?;
    } else if report.is_intact() {
        output::print(&format!(
            "Chain intact: {} events of device {}, {} imported definitions.\n",
            report.local_events, report.device, report.import_events
        ))?;
    }
    match &report.first_broken {
        None => Ok(()),
        Some(broken) => Err(CliError::Failed(format!(
            "the hash chain of device {} is broken at {broken}",
            report.device
        ))),
    }
}
