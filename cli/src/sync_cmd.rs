//! `proofline device enroll | sync | status`: a headless device that syncs with a
//! `proofline-server` (see `docs/sync.md`).
//!
//! `enroll` exchanges a one-time code for the device's identity and token and runs a first
//! sync; `sync` uploads photo proof, pushes pending events and pulls the sites' events;
//! `status` shows what is pending or rejected and how the last sync went. `sync` exits 1
//! when the sync did not complete or the server rejected an event (the report is printed
//! first).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use clap::Args;
use proofline_core::device::{Device, EnrollOptions, SyncReport, SyncStatus};
use proofline_core::store::{OutboxEntry, SyncState};
use serde::Serialize;

use crate::device_cmd::{Common, device_error, heading_time, home_zone, now, open};
use crate::error::CliError;
use crate::output::{self, Table};

/// Examples shown by `proofline device enroll --help`.
pub const ENROLL_EXAMPLES: &str = "\
Examples:
  # Enroll with the code a supervisor issued (`proofline admin code maria`)
  proofline device enroll https://sync.example.com 7KQ2-M9XD-4FHP --db ./maria

  # Name the device for the admins' device list
  proofline device enroll http://127.0.0.1:8787 7KQ2-M9XD-4FHP --db ./till-2 --name 'Till 2'

The device gets its identity, person and sites from the server, then pulls the routines.
If that first sync cannot finish, the device is still enrolled: run `proofline device sync`.

Exit status: 0 enrolled, 1 the server is unreachable or refused the code, 2 bad input
(a device already in --db, a malformed address or --now).";

/// Examples shown by `proofline device sync --help` and `status --help`.
pub const SYNC_EXAMPLES: &str = "\
Examples:
  # Upload photos, push what was done offline, pull everyone else's work
  proofline device sync --db ./maria

  # Pending and rejected events, photos waiting, last sync and clock offset
  proofline device status --db ./maria
  proofline device status --db ./maria --json

Exit status: 0 ok, 1 the sync did not complete (server unreachable: nothing is lost, run it
again) or the server rejected events (see `status`), or the token was revoked (enroll again
with a new code), 2 bad input (no device in --db, not enrolled).";

/// Arguments of `proofline device enroll`.
#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// The sync server's address (e.g. https://sync.example.com).
    #[arg(value_name = "URL")]
    url: String,
    /// The one-time enrollment code (case and dashes do not matter).
    #[arg(value_name = "CODE")]
    code: String,
    /// The device directory to create.
    #[arg(long, value_name = "DIR")]
    db: PathBuf,
    /// A name for the device, shown to admins (e.g. 'Till 2').
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Act at this instant (RFC 3339) [default: now].
    #[arg(long, value_name = "INSTANT")]
    now: Option<String>,
}

// ---------------------------------------------------------------------------------------
// enroll

#[derive(Serialize)]
struct JsonEnroll {
    dir: PathBuf,
    device: String,
    person: String,
    person_name: Option<String>,
    sites: Vec<String>,
    routines: usize,
    status: SyncStatus,
}

pub(crate) fn enroll(args: &EnrollArgs, json: bool) -> Result<(), CliError> {
    let now = now(&Common {
        db: args.db.clone(),
        now: args.now.clone(),
    })?;
    let options = EnrollOptions {
        platform: Some("cli".to_string()),
        device_name: args
            .name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string),
    };
    let device =
        Device::enroll(&args.db, &args.url, &args.code, options, now).map_err(device_error)?;
    let identity = device.identity();
    let org = device.org();
    let status = device.sync_status().map_err(device_error)?;
    let me = org.person(identity.person);
    let sites: Vec<String> = identity
        .sites
        .iter()
        .map(|s| {
            let name = org
                .site(*s)
                .map_or_else(|| s.to_string(), |x| x.name.clone());
            match me.and_then(|p| p.role_at(*s)) {
                Some(role) => format!("{role} at {name}"),
                None => name,
            }
        })
        .collect();
    if json {
        return output::print_json(&JsonEnroll {
            dir: args.db.clone(),
            device: identity.device.to_string(),
            person: identity.person.to_string(),
            person_name: me.map(|p| p.name.clone()),
            sites,
            routines: org.routines.len(),
            status,
        });
    }
    let who = me.map_or_else(|| identity.person.to_string(), |p| p.name.clone());
    let mut out = format!(
        "Enrolled {who} with {} in {}.\n",
        status.server.as_deref().unwrap_or(&args.url),
        args.db.display()
    );
    let mut table = Table::default();
    table.row(vec!["device".into(), identity.device.to_string()]);
    if !sites.is_empty() {
        table.row(vec!["sites".into(), sites.join(", ")]);
    }
    table.row(vec![
        "pulled".into(),
        format!(
            "{} routines, {} people",
            org.routines.len(),
            org.people.len()
        ),
    ]);
    out.push_str(&table.render(2));
    if let Some(error) = &status.last_error {
        out.push_str(&format!(
            "The first sync did not finish: {error}\nRun `proofline device sync --db {}` to complete it.\n",
            args.db.display()
        ));
    }
    output::print(&out)
}

// ---------------------------------------------------------------------------------------
// sync

pub(crate) fn sync(args: &Common, json: bool) -> Result<(), CliError> {
    let now = now(args)?;
    let device = open(args)?;
    let report = device.sync(now).map_err(device_error)?;
    if json {
        output::print_json(&report)?;
    } else {
        let server = device
            .sync_status()
            .ok()
            .and_then(|s| s.server)
            .unwrap_or_default();
        let tz = home_zone(&device, &device.org());
        output::print(&report_text(&report, &server, tz, now))?;
    }
    outcome(&report)
}

/// Exit 1 when the sync did not complete or events were rejected.
fn outcome(report: &SyncReport) -> Result<(), CliError> {
    if !report.complete {
        let first = report
            .errors
            .first()
            .map_or("see the problems above", String::as_str);
        return Err(CliError::Failed(format!(
            "the sync did not complete: {first}"
        )));
    }
    if !report.rejected.is_empty() {
        return Err(CliError::Failed(format!(
            "the server rejected {} (listed above; `proofline device status` shows them again)",
            plural(report.rejected.len(), "event")
        )));
    }
    Ok(())
}

fn report_text(report: &SyncReport, server: &str, tz: Tz, now: DateTime<Utc>) -> String {
    let mut out = format!("Sync with {server} · {}\n", heading_time(tz, now));
    let mut table = Table::default();
    table.row(vec![
        "uploaded".into(),
        format!(
            "{} ({})",
            plural(report.uploaded_blobs as usize, "blob"),
            bytes_text(report.uploaded_bytes)
        ),
    ]);
    table.row(vec![
        "pushed".into(),
        format!(
            "{}: {} accepted, {} already there, {} rejected",
            plural(report.pushed as usize, "event"),
            report.accepted,
            report.duplicates,
            report.rejected.len()
        ),
    ]);
    table.row(vec![
        "pulled".into(),
        plural(report.pulled as usize, "new event"),
    ]);
    table.row(vec![
        "thumbnails".into(),
        format!("{} fetched", report.thumbnails_fetched),
    ]);
    if let Some(offset) = report.clock_offset_ms {
        table.row(vec!["clock".into(), offset_text(offset)]);
    }
    out.push_str(&table.render(2));
    if report.clock_skew_warning {
        out.push_str(
            "Warning: this device's clock is off by more than 5 minutes; its completions are \
             flagged until the clock is fixed.\n",
        );
    }
    if !report.rejected.is_empty() {
        out.push_str("Rejected by the server (kept on this device, counted nowhere):\n");
        let mut table = Table::default();
        for r in &report.rejected {
            table.row(vec![r.subject.clone()]);
            table.row(vec![
                String::new(),
                format!("{}: {}", code_text(r.code), r.reason),
            ]);
        }
        out.push_str(&table.render(2));
    }
    if !report.errors.is_empty() {
        out.push_str("Problems:\n");
        for e in &report.errors {
            out.push_str(&format!("  {e}\n"));
        }
    }
    out
}

fn code_text(code: proofline_core::sync::protocol::RejectCode) -> String {
    serde_json::to_value(code)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
        .unwrap_or_else(|| format!("{code:?}"))
}

// ---------------------------------------------------------------------------------------
// status

#[derive(Serialize)]
struct JsonStatus<'a> {
    status: &'a SyncStatus,
    rejected: Vec<&'a OutboxEntry>,
}

pub(crate) fn status(args: &Common, json: bool) -> Result<(), CliError> {
    let device = open(args)?;
    let status = device.sync_status().map_err(device_error)?;
    let outbox = device.outbox().map_err(device_error)?;
    let rejected: Vec<&OutboxEntry> = outbox
        .iter()
        .filter(|e| matches!(e.state, SyncState::Rejected { .. }))
        .collect();
    if json {
        return output::print_json(&JsonStatus {
            status: &status,
            rejected,
        });
    }
    let tz = home_zone(&device, &device.org());
    let mut out = match (&status.server, status.enrolled_at) {
        (Some(server), Some(at)) => format!(
            "Sync status · {server} (enrolled {})\n",
            heading_time(tz, at)
        ),
        (Some(server), None) => format!("Sync status · {server}\n"),
        _ => "Not enrolled with a sync server (set up from a routines file): events stay on \
              this device.\n"
            .to_string(),
    };
    let mut table = Table::default();
    if status.server.is_some() {
        table.row(vec![
            "last sync".into(),
            status
                .last_sync_at
                .map_or_else(|| "never completed".to_string(), |at| heading_time(tz, at)),
        ]);
    }
    table.row(vec![
        "pending events".into(),
        status.pending_events.to_string(),
    ]);
    table.row(vec![
        "rejected events".into(),
        status.rejected_events.to_string(),
    ]);
    table.row(vec![
        "photos to upload".into(),
        status.pending_uploads.to_string(),
    ]);
    if let Some(offset) = status.last_clock_offset_ms {
        table.row(vec!["clock".into(), offset_text(offset)]);
    }
    if let Some(error) = &status.last_error {
        table.row(vec!["last error".into(), error.clone()]);
    }
    out.push_str(&table.render(2));
    if status.clock_skew_warning {
        out.push_str(
            "Warning: this device's clock is off by more than 5 minutes; its completions are \
             flagged until the clock is fixed.\n",
        );
    }
    if !rejected.is_empty() {
        out.push_str("Rejected events (kept on this device, counted nowhere):\n");
        let mut table = Table::default();
        for entry in &rejected {
            let reason = match &entry.state {
                SyncState::Rejected { reason } => reason.as_str(),
                _ => "",
            };
            table.row(vec![
                format!("#{}", entry.seq),
                entry.kind.replace('_', " "),
                heading_time(tz, entry.changed_at),
                reason.to_string(),
            ]);
        }
        out.push_str(&table.render(2));
    }
    output::print(&out)
}

// ---------------------------------------------------------------------------------------
// Text

/// "server 2.1 s ahead of this device", "in step with the server".
fn offset_text(offset_ms: i64) -> String {
    let abs = offset_ms.unsigned_abs();
    if abs < 500 {
        return "in step with the server (within 0.5 s)".to_string();
    }
    let amount = if abs < 60_000 {
        format!("{:.1} s", abs as f64 / 1000.0)
    } else if abs < 3_600_000 {
        format!("{} min {} s", abs / 60_000, (abs % 60_000) / 1000)
    } else {
        format!("{} h {} min", abs / 3_600_000, (abs % 3_600_000) / 60_000)
    };
    if offset_ms > 0 {
        format!("this device is {amount} behind the server")
    } else {
        format!("this device is {amount} ahead of the server")
    }
}

fn bytes_text(bytes: u64) -> String {
    if bytes < 1000 {
        format!("{bytes} B")
    } else if bytes < 1_000_000 {
        format!("{:.1} kB", bytes as f64 / 1000.0)
    } else {
        format!("{:.1} MB", bytes as f64 / 1_000_000.0)
    }
}

/// "1 event", "3 events".
fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_read_as_sentences() {
        assert_eq!(offset_text(120), "in step with the server (within 0.5 s)");
        assert_eq!(offset_text(2_100), "this device is 2.1 s behind the server");
        assert_eq!(
            offset_text(-420_000),
            "this device is 7 min 0 s ahead of the server"
        );
        assert_eq!(bytes_text(512_380), "512.4 kB");
        assert_eq!(plural(1, "blob"), "1 blob");
    }
}
