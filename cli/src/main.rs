//! `proofline`: the admin and headless-device command line.
//!
//! Human output by default, `--json` for scripts. Exit codes: 0 ok, 1 failure, 2 bad input
//! (a flag or a file the user gave; one line `error: …` on stderr).

mod admin_cmd;
mod cadence_cmd;
mod device_cmd;
mod error;
mod input;
mod output;
mod photo_cmd;
mod plan_cmd;
mod sync_cmd;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::CliError;

const EXAMPLES: &str = "\
Examples:
  # Preview a day of checks at every site of a routines file
  proofline plan examples/restaurant.toml --from 2026-12-01

  # Statuses and everyone's attention feed at an instant
  proofline plan examples/clinic.toml --from 2026-12-01 --now 2026-12-01T15:00:00Z

  # When does a rule fire? (one RFC 3339 instant per line)
  proofline cadence expand --rrule 'FREQ=DAILY;BYHOUR=2;BYMINUTE=30' \\
      --start 2026-03-01T02:30:00 --tz America/New_York \\
      --from 2026-03-07T00:00:00-05:00 --until 2026-03-10T00:00:00-04:00

  # Run a sync server's org: import routines, issue an enrollment code
  proofline admin import examples/restaurant.toml --server http://127.0.0.1:8787
  proofline admin code maria

  # Enroll a headless device with that code and sync it
  proofline device enroll http://127.0.0.1:8787 7KQ2-M9XD-4FHP --db ./maria
  proofline device sync --db ./maria

Exit status: 0 ok, 1 failure, 2 bad input (flags or files).";

/// Proofline: recurring checks that happen as defined.
#[derive(Debug, Parser)]
#[command(
    name = "proofline",
    version,
    about = "Proofline: recurring operational checks, cadences and escalations",
    long_about = None,
    after_help = EXAMPLES,
    propagate_version = true
)]
struct Cli {
    /// Print JSON for scripts instead of aligned text.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Inspect cadences (RFC 5545 rules in a site's zone).
    #[command(after_help = cadence_cmd::EXPAND_EXAMPLES)]
    Cadence {
        #[command(subcommand)]
        command: CadenceCommand,
    },
    /// Validate a routines file and show each site's occurrences in a period.
    Plan(plan_cmd::PlanArgs),
    /// Act as a headless device: today's checks, attention, complete, excuse, review.
    Device(device_cmd::DeviceArgs),
    /// Capture photo proof: upright, scaled, metadata stripped, stored by SHA-256.
    #[command(after_help = photo_cmd::CAPTURE_EXAMPLES)]
    Photo(photo_cmd::PhotoArgs),
    /// Administer a sync server: import routines, sites, people, enrollment codes, devices.
    #[command(after_help = admin_cmd::ADMIN_EXAMPLES)]
    Admin(admin_cmd::AdminArgs),
}

#[derive(Debug, Subcommand)]
enum CadenceCommand {
    /// Print the due instants of a rule in [--from, --until), one per line.
    Expand(cadence_cmd::ExpandArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // Help and version go to stdout with 0; usage errors to stderr with 2.
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
        }
    };
    let result = match &cli.command {
        Command::Cadence {
            command: CadenceCommand::Expand(args),
        } => cadence_cmd::run(args, cli.json),
        Command::Plan(args) => plan_cmd::run(args, cli.json),
        Command::Device(args) => device_cmd::run(args, cli.json),
        Command::Photo(args) => photo_cmd::run(args, cli.json),
        Command::Admin(args) => admin_cmd::run(args, cli.json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report(&err),
    }
}

fn report(err: &CliError) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "error: {err}");
    ExitCode::from(err.exit_code())
}
