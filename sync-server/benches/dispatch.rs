//! Escalation dispatcher benchmark (`cargo bench -p proofline-server --bench dispatch`).
//!
//! One dispatcher tick over 100,000 open occurrences across 1,000 sites (target < 200 ms
//! on the project's 2-core machine). Everything goes through the code a deployment runs:
//! the real server ([`start`]) with its dispatcher driven by hand (`dispatch.tick =
//! None`), the generated routines file imported through the admin API ([`AdminClient`]),
//! devices enrolled with one-time codes and their push tokens registered with `POST
//! /v1/push-token` ([`SyncClient`]). Only [`RunningServer::dispatch_tick`] is timed;
//! building the fixture is not. Data dirs live under the target dir (a real disk, not a
//! tmpfs), as the other server bench does.
//!
//! The fixture: 1,000 sites, each in one of a handful of time zones, each with an owner
//! (staff), a supervisor and a lead, and one routine due every 15 minutes around the
//! clock, never done, with the chain `0m assignee → 15m role:supervisor → 60m role:lead`
//! (every fourth site re-notifies its supervisor every 30 minutes). The dispatcher looks
//! back a day past a chain's last level or the window's close (1 h here), so at the bench's
//! `now` every routine has 100 open occurrences: 100,000 in all, nearly all of them with
//! three fired levels. A webhook is configured (a closed loopback port: delivery is never
//! called) and the people of every [`TOKEN_EVERY`]-th site have a phone with a push token,
//! so the tick builds push and webhook rows alike.
//!
//! 1. **First tick**: a fresh server catches up with the imported definitions, asks the
//!    engine for the due notices and queues every one durably (the outbox insert included);
//!    on [`FIRST_RUNS`] fresh servers, or fewer once the runs took over
//!    [`FIRST_BUDGET_MS`] (one first tick took ~5 minutes when this bench was written,
//!    ~35 s before the dispatcher became incremental, ~13 s since: the engine ~1.4 s, the
//!    outbox insert ~5 s, recording the escalation-fired events ~6 s).
//!    The first tick also records an escalation-fired event per new level (kept in
//!    memory, not read back); a tick after it that still reads or queues anything is
//!    printed as "settling", not steady.
//! 2. **Steady-state tick**: the same server ticks again every 15 s of scripted clock:
//!    no new event, no new notice, nothing queued; what a running server pays every tick
//!    ([`STEADY_RUNS`] ticks). All due times sit on the quarter hour and the ticks stay
//!    between two quarters, so nothing new fires, and the dispatcher, which evaluates a
//!    routine again only when its events, definitions or recipients' devices change or
//!    the engine's next change for it comes, evaluates none ("routines evaluated").
//! 3. **Quarter hours**: the ticks at the next [`QUARTER_RUNS`] quarter hours, when a level
//!    comes due at every site: every routine is evaluated again, but only the occurrences
//!    whose own next change came (about 20 of the ~100 each routine keeps), and some
//!    4,000 outbox rows are queued (the fixture re-notifies a quarter of the supervisors
//!    every 30 minutes about each of their ~100 undone checks: ~50 rounds due to each at
//!    a quarter hour, one reminder).
//! 4. **After a restart**: the server restarted on the same data dir, its first tick
//!    (reloading the outbox keys, reading every event again, queueing nothing). Printed,
//!    not a table row.
//!
//! Each figure is the median of its runs, printed with the min–max spread; a markdown
//! table of the figures against the target closes the output.
//!
//! Figures on the project's 2-core machine (2026-11-30): when every tick evaluated every
//! routine, steady-state tick 1.5 s (1.4–1.7 s), first tick 35–44 s. Since the dispatcher
//! is incremental: steady-state tick 0.7–0.9 ms; the quarter-hour tick 2.9 s evaluating
//! every occurrence, ~2.2 s evaluating only those whose own change came (~1.2 s of it
//! inserting the 28,250 outbox rows into a table clustered on random notice ids). Since
//! settled occurrences are not derived again, ids use a hardware SHA-1, people are looked
//! up through an index and the outbox is an append-only table (server migration 5): the
//! quarter-hour tick 520–640 ms (~190 ms evaluating, ~300 ms writing the outbox, ~65 ms
//! recording the fired levels), first tick 6.9–8.0 s, the first tick after a restart
//! ~1.8 s. Since the outbox's state check builds no temporary table (migration 6), routines
//! are evaluated on both cores, notices already due at their occurrence's last evaluation
//! skip the outbox lookups, the webhook hears of a level once (16,000 rows a quarter hour
//! instead of 28,250) and rows and fired levels are written in one transaction
//! (2026-12-01, a machine whose speed moved ~1.5× between runs): the quarter-hour tick
//! 264–463 ms over five runs (~110–180 ms evaluating, ~160–250 ms writing, ~20 ms
//! settling). Since a person's re-notification rounds at one tick are one reminder (4,000
//! rows a quarter hour), a site's people by role are looked up through the org index
//! instead of a scan of every person (a sixth of evaluation and more), parallel
//! evaluation hands out 16 routines at a time, settling leaves the level index alone for
//! occurrences evaluated again, the fired levels are sealed beside the row inserts and not
//! read back, and the outbox's key is led by the notice's due time (migration 8; the same
//! day): the quarter-hour tick 200–241 ms in one run (~105–130 ms evaluating, ~75–100 ms
//! writing, ~15 ms settling) and 211 ms (174–244 ms) in scripts/bench, both in an hour in
//! which the photo pipeline ran 1.7× slower than its best; 171–212 ms under `perf` in a
//! faster one. Since the ~12,500 rounds that end in digests are not worded (a person's
//! single round is, by evaluating its occurrence again), a level known at its
//! occurrence's last evaluation is not looked up in the fired and webhook sets, notice ids
//! are derived only when asked and level ids once, the routines are settled on the
//! sealing thread during the write, and the catch-up reads along the events table's key
//! instead of naming 1,000 sites (2026-12-01, same day; the machine's speed moved
//! ~1.5× within minutes, the write's fsync with it): evaluating ~70–90 ms (was ~105–130),
//! the quarter-hour tick 156–210 ms in a quiet stretch, 205–345 ms in a busy one; the
//! steady tick ~0.05 ms. Each quarter-hour line prints the tick's phases; the timed
//! quarter hours are [`QUARTER_PAUSE`] apart.

mod common;

use std::path::Path;
use std::time::Instant;

use chrono::{DateTime, Duration as ChronoDuration, Utc};
use proofline_core::model::History;
use proofline_core::notify::ALERT_HORIZON_MIN;
use proofline_core::occurrence::occurrences;
use proofline_core::routines_file::parse_routines_file;
use proofline_core::sync::admin::AdminClient;
use proofline_core::sync::admin_protocol::CodeRequest;
use proofline_core::sync::client::{ClientOptions, SyncClient};
use proofline_core::sync::protocol::{EnrollRequest, PushTokenRequest};
use proofline_server::dispatch::settings::WebhookSettings;
use proofline_server::dispatch::{DispatchSettings, TickReport};
use proofline_server::{Config, RunningServer, start};
use tempfile::TempDir;

use common::{Spread, grouped, met, spread};

/// Sites in the generated file (one routine each); `PROOFLINE_BENCH_SITES` overrides it
/// (to see how a tick scales, or to profile a smaller fixture).
const SITES: usize = 1_000;
/// The sites' zones, site `i` in `ZONES[i % ZONES.len()]`. All have whole-quarter-hour
/// offsets, so every due time is on the UTC quarter hour.
const ZONES: [&str; 6] = [
    "America/New_York",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Sydney",
];
/// Every this many sites, the routine re-notifies its supervisor level.
const RENOTIFY_EVERY: usize = 4;
/// The people of every this many sites register a push token.
const TOKEN_EVERY: usize = 4;
/// Fresh servers whose first tick is timed.
const FIRST_RUNS: usize = 3;
/// When the first ticks together took longer than this, no further fresh server is
/// prepared (the bench stays within a couple of minutes).
const FIRST_BUDGET_MS: f64 = 20_000.0;
/// Steady-state ticks timed.
const STEADY_RUNS: usize = 7;
/// Quarter-hour ticks measured (each 15 minutes of scripted clock after the last).
const QUARTER_RUNS: usize = 8;
/// Wall time between two timed quarter-hour ticks, for the background WAL checkpoint of
/// the last one's writes to finish, as it does in the 15 minutes between quarter hours.
const QUARTER_PAUSE: std::time::Duration = std::time::Duration::from_millis(1_500);
/// Ticks allowed after the first before the dispatcher must read and queue nothing.
const SETTLE_TICKS: i64 = 3;
/// Seconds between steady-state ticks (the server's default tick).
const TICK_SECONDS: i64 = 15;
/// The routines' window closes this many minutes after due (also the last level's delay).
const CLOSES_AFTER_MIN: u32 = 60;
/// The bench's clock: 7 minutes past a quarter hour, so the steady ticks (15 s apart) see
/// nothing new fire before the next quarter.
const NOW: &str = "2026-11-18T15:07:00Z";
/// The webhook: a closed loopback port (the discard port); delivery is never called.
const WEBHOOK_URL: &str = "http://127.0.0.1:9/proofline-bench";

type R<T> = Result<T, String>;

/// Turns any error into a sentence naming what was being done.
fn fail<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> String {
    move |e| format!("{what}: {e}")
}

/// The people of site `i`: (key, name, role).
fn crew(i: usize) -> [(String, String, &'static str); 3] {
    [
        (format!("s{i:04}-owner"), format!("Owner {i:04}"), "staff"),
        (
            format!("s{i:04}-super"),
            format!("Supervisor {i:04}"),
            "supervisor",
        ),
        (format!("s{i:04}-lead"), format!("Lead {i:04}"), "lead"),
    ]
}

/// The number of sites: [`SITES`] unless `PROOFLINE_BENCH_SITES` says otherwise.
fn sites() -> R<usize> {
    match std::env::var("PROOFLINE_BENCH_SITES") {
        Ok(n) => n
            .trim()
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("PROOFLINE_BENCH_SITES={n}: not a positive number")),
        Err(_) => Ok(SITES),
    }
}

/// The generated routines file: `sites` sites, their crews, one routine each.
fn routines_file(sites: usize) -> String {
    let mut text = String::from("org = \"Dispatch Bench Group\"\n");
    for i in 0..sites {
        text.push_str(&format!(
            "\n[[sites]]\nkey = \"s{i:04}\"\nname = \"Store {i:04}\"\ntime_zone = \"{}\"\n",
            ZONES[i % ZONES.len()]
        ));
    }
    for i in 0..sites {
        for (key, name, role) in crew(i) {
            text.push_str(&format!(
                "\n[[people]]\nkey = \"{key}\"\nname = \"{name}\"\nroles = {{ s{i:04} = \"{role}\" }}\n"
            ));
        }
    }
    for i in 0..sites {
        let renotify = if i.is_multiple_of(RENOTIFY_EVERY) {
            "renotify_every = \"30m\"\n"
        } else {
            ""
        };
        text.push_str(&format!(
            r#"
[[routines]]
key = "s{i:04}-cold-chain"
site = "s{i:04}"
title = "Cold chain round"
owner = "s{i:04}-owner"
backup = "s{i:04}-super"
rrule = "FREQ=MINUTELY;INTERVAL=15"
start = "2026-01-01T00:00"
window = {{ opens_before = "15m", grace = "15m", closes_after = "{CLOSES_AFTER_MIN}m" }}

[[routines.steps]]
key = "temp"
title = "Walk-in cooler temperature"
kind = "reading"
unit = "°C"
min = 1
max = 5

[[routines.escalation]]
after = "0m"
notify = ["assignee"]

[[routines.escalation]]
after = "15m"
notify = ["role:supervisor"]
{renotify}
[[routines.escalation]]
after = "1h"
notify = ["role:lead"]
"#
        ));
    }
    text
}

/// Occurrences due inside the dispatcher's lookback at `now` (a day after the chain's
/// last level or the window's close, whichever is later), none of them done: the open
/// occurrences one tick evaluates.
fn open_occurrences(file: &str, now: DateTime<Utc>) -> R<usize> {
    let org = parse_routines_file("dispatch-bench.toml", file).map_err(fail("the bench file"))?;
    let lookback = i64::from(CLOSES_AFTER_MIN.max(60) + ALERT_HORIZON_MIN);
    let from = now - ChronoDuration::minutes(lookback);
    let until = now + ChronoDuration::seconds(1);
    let mut open = 0;
    for routine in &org.routines {
        let site = org
            .site(routine.site)
            .ok_or("a routine's site is missing")?;
        open += occurrences(routine, site, &History::default(), from, until, now)
            .map_err(fail("expanding a bench routine"))?
            .len();
    }
    Ok(open)
}

/// A server with the dispatcher driven by hand and the bench file imported.
struct BenchServer {
    server: RunningServer,
    admin: AdminClient,
    /// Dropped after the server (fields drop in order).
    dir: TempDir,
}

/// The server's configuration on `dir`: any free port, the webhook, no tick loop.
fn config(dir: &Path) -> R<Config> {
    Ok(Config {
        listen: "127.0.0.1:0".parse().map_err(fail("the listen address"))?,
        dispatch: DispatchSettings {
            tick: None,
            webhook: Some(WebhookSettings {
                url: WEBHOOK_URL.into(),
                secret: "bench-secret".into(),
            }),
            ..DispatchSettings::default()
        },
        ..Config::new(dir)
    })
}

/// An admin client for `server`.
fn admin_of(server: &RunningServer) -> R<AdminClient> {
    AdminClient::new(
        &server.base_url(),
        server.admin_token(),
        ClientOptions::default(),
    )
    .map_err(fail("the admin client"))
}

impl BenchServer {
    /// A fresh data dir, the file imported, push tokens registered; (server, seconds the
    /// import took, devices with a token).
    fn start(base: &Path, file: &str, sites: usize) -> R<(BenchServer, f64, usize)> {
        let dir = tempfile::tempdir_in(base).map_err(fail("creating the server's data dir"))?;
        let server = start(config(dir.path())?).map_err(fail("starting the server"))?;
        let admin = admin_of(&server)?;
        let started = Instant::now();
        admin
            .import(file)
            .map_err(fail("importing the bench routines file"))?;
        let imported = started.elapsed().as_secs_f64();
        let bench = BenchServer { server, admin, dir };
        let mut phones = 0;
        for i in (0..sites).step_by(TOKEN_EVERY) {
            for (key, _, _) in crew(i) {
                bench.phone(&key, phones)?;
                phones += 1;
            }
        }
        Ok((bench, imported, phones))
    }

    /// Enrolls a phone for `person` (by key) and registers its push token: APNs for even
    /// `n`, FCM for odd.
    fn phone(&self, person: &str, n: usize) -> R<()> {
        let code = self
            .admin
            .enrollment_code(&CodeRequest {
                person: person.to_string(),
                expires_in_minutes: None,
                expires_at: None,
            })
            .map_err(fail("issuing an enrollment code"))?;
        let url = self.server.base_url();
        let anonymous = SyncClient::new(&url, None, ClientOptions::default())
            .map_err(fail("the enrollment client"))?;
        let answer = anonymous
            .enroll(&EnrollRequest {
                code: code.code,
                platform: Some(
                    if n.is_multiple_of(2) {
                        "ios"
                    } else {
                        "android"
                    }
                    .into(),
                ),
                device_name: Some(format!("{person}'s phone")),
            })
            .map_err(fail("enrolling a phone"))?;
        let client = SyncClient::new(&url, Some(&answer.token), ClientOptions::default())
            .map_err(fail("the phone's client"))?;
        let request = if n.is_multiple_of(2) {
            PushTokenRequest {
                platform: "apns".into(),
                token: format!("{n:064x}"),
            }
        } else {
            PushTokenRequest {
                platform: "fcm".into(),
                token: format!("bench-fcm-{n:06}:{}", "x".repeat(140)),
            }
        };
        client
            .register_push_token(&request)
            .map_err(fail("registering a push token"))
    }

    /// The same data dir served by a new server process-in-process (the dispatcher's
    /// memory gone, the outbox kept).
    fn restart(self) -> R<BenchServer> {
        let BenchServer { server, admin, dir } = self;
        drop(admin);
        server.shutdown().map_err(fail("stopping the server"))?;
        let server = start(config(dir.path())?).map_err(fail("restarting the server"))?;
        let admin = admin_of(&server)?;
        Ok(BenchServer { server, admin, dir })
    }

    /// One timed tick at `now`: (milliseconds, report).
    fn tick(&self, now: DateTime<Utc>) -> R<(f64, TickReport)> {
        let started = Instant::now();
        let report = self
            .server
            .dispatch_tick(now)
            .map_err(fail("a dispatcher tick"))?;
        Ok((started.elapsed().as_secs_f64() * 1e3, report))
    }
}

// -----------------------------------------------------------------------------------------
// Reporting

/// A tick's phase, in milliseconds.
fn phase(d: std::time::Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

fn ms_cell(s: Spread) -> String {
    // A tenth of a millisecond where whole ones would round a quiet tick away.
    let digits = if s.max < 10.0 { 1 } else { 0 };
    format!(
        "{:.digits$} ms ({:.digits$}–{:.digits$} ms)",
        s.median, s.min, s.max
    )
}

fn run() -> R<Vec<[String; 4]>> {
    let bench_started = Instant::now();
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(base).map_err(fail("creating the bench dir"))?;
    let now: DateTime<Utc> = NOW.parse().map_err(fail("the bench clock"))?;
    let sites = sites()?;
    let file = routines_file(sites);
    let open = open_occurrences(&file, now)?;
    println!(
        "fixture: {sites} sites in {} zones, {} routines file, {} open occurrences at {NOW}",
        ZONES.len(),
        format_args!("{} KiB", file.len() / 1024),
        grouped(open as f64)
    );
    let mut rows = Vec::new();

    // 1. First tick, each on a fresh server (fewer runs when one takes long).
    let mut firsts = Vec::new();
    let mut first_report = TickReport::default();
    let mut last = None;
    for n in 1..=FIRST_RUNS {
        if n > 1 && firsts.iter().sum::<f64>() > FIRST_BUDGET_MS {
            println!(
                "(first tick measured {} time(s) only: the runs took over {:.0} s)",
                firsts.len(),
                FIRST_BUDGET_MS / 1e3
            );
            break;
        }
        let prepared = Instant::now();
        let (server, imported, phones) = BenchServer::start(base, &file, sites)?;
        let setup = prepared.elapsed().as_secs_f64();
        let (took, report) = server.tick(now)?;
        println!(
            "first tick {n}: {took:.0} ms: {} events read, {} notices due, {} outbox rows \
             queued, {} escalation-fired events recorded, {} notices without a target (setup \
             untimed: import {imported:.1} s, {phones} phones enrolled with push tokens, \
             {setup:.1} s in all)",
            grouped(report.events_read as f64),
            grouped(report.notices_due as f64),
            grouped(report.queued as f64),
            grouped(report.fired as f64),
            grouped(report.unreachable as f64),
        );
        if report.queued == 0 {
            return Err("the first tick queued nothing: the fixture is wrong".into());
        }
        firsts.push(took);
        first_report = report;
        last = Some(server);
    }
    let server = last.ok_or("no first-tick run")?;

    // The ticks right after read back what the first recorded (its escalation-fired
    // events); timed and printed, not part of the steady state.
    let mut tick = 0;
    loop {
        tick += 1;
        let at = now + ChronoDuration::seconds(TICK_SECONDS * tick);
        let (took, report) = server.tick(at)?;
        if report.events_read == 0 && report.queued == 0 {
            break;
        }
        println!(
            "settling tick {tick} (now + {} s): {took:.0} ms: {} events read (what the first \
             tick recorded), {} notices due, {} queued",
            TICK_SECONDS * tick,
            grouped(report.events_read as f64),
            grouped(report.notices_due as f64),
            report.queued
        );
        if tick >= SETTLE_TICKS {
            return Err(format!(
                "after {SETTLE_TICKS} ticks the dispatcher still reads or queues: not steady"
            ));
        }
    }

    // 2. Steady state on the last server.
    let mut steady = Vec::new();
    let mut steady_report = TickReport::default();
    for n in 1..=STEADY_RUNS {
        tick += 1;
        let at = now + ChronoDuration::seconds(TICK_SECONDS * tick);
        let (took, report) = server.tick(at)?;
        println!(
            "steady tick {n} (now + {} s): {took:.1} ms: {} events read, {} notices due, {} \
             queued, {} routines evaluated",
            TICK_SECONDS * tick,
            report.events_read,
            grouped(report.notices_due as f64),
            report.queued,
            report.evaluated
        );
        if report.queued != 0 || report.events_read != 0 {
            return Err(format!(
                "a steady-state tick read {} events and queued {}: not steady",
                report.events_read, report.queued
            ));
        }
        steady.push(took);
        steady_report = report;
    }
    // NOW is 7 minutes past a quarter: 8 minutes of ticks before anything new fires.
    if TICK_SECONDS * (tick + 1) >= 8 * 60 {
        return Err("the ticks ran past the next quarter hour: raise NOW's minute".into());
    }

    // The next quarter hours: a level comes due at every site, so every routine is
    // evaluated (only the occurrences whose own next change came) and what fired is
    // queued.
    let first_quarter = now + ChronoDuration::minutes(8);
    let mut quarters = Vec::new();
    let mut quarter_report = TickReport::default();
    for n in 0..QUARTER_RUNS {
        let at = first_quarter + ChronoDuration::minutes(15 * n as i64);
        // Quarter hours are 15 minutes apart: the server's background checkpoint of the
        // last one's writes has long finished by the next (here it would share the two
        // cores with the tick).
        std::thread::sleep(QUARTER_PAUSE);
        let (took, report) = server.tick(at)?;
        println!(
            "tick at quarter hour {} (something comes due at every site): {took:.0} ms \
             ({} evaluating, {} writing, {} settling): {} routines evaluated ({} of their \
             occurrences), {} notices due, {} outbox rows queued ({} people reminded), {} \
             escalation-fired events recorded",
            n + 1,
            phase(report.evaluating),
            phase(report.writing),
            phase(report.settling),
            grouped(report.evaluated as f64),
            grouped(report.occurrences_evaluated as f64),
            grouped(report.notices_due as f64),
            grouped(report.queued as f64),
            grouped(report.reminded as f64),
            grouped(report.fired as f64)
        );
        quarters.push(took);
        quarter_report = report;
    }
    let quarter = first_quarter + ChronoDuration::minutes(15 * (QUARTER_RUNS as i64 - 1));

    // 3. After a restart.
    let server = server.restart()?;
    let (took, report) = server.tick(quarter + ChronoDuration::seconds(TICK_SECONDS))?;
    println!(
        "first tick after a restart on the same data dir: {took:.0} ms: {} events read, {} \
         notices due, {} queued",
        grouped(report.events_read as f64),
        grouped(report.notices_due as f64),
        report.queued
    );
    drop(server);

    let first = spread(&firsts);
    let steady = spread(&steady);
    let quarters = spread(&quarters);
    rows.push([
        format!(
            "escalation: first dispatcher tick, {} open occurrences over {sites} sites \
             (catch-up; {} notices due, {} outbox rows queued)",
            grouped(open as f64),
            grouped(first_report.notices_due as f64),
            grouped(first_report.queued as f64)
        ),
        ms_cell(first),
        "—".into(),
        "—".into(),
    ]);
    rows.push([
        format!(
            "escalation: one dispatcher tick, {}k open occurrences over {sites} sites \
             (steady state: nothing new, {} notices due, 0 queued)",
            open / 1000,
            grouped(steady_report.notices_due as f64)
        ),
        ms_cell(steady),
        "< 200 ms".into(),
        met(steady.median < 200.0).into(),
    ]);
    rows.push([
        format!(
            "escalation: a dispatcher tick when something comes due at all {sites} sites at \
             once (here every quarter hour: {} routines and {} occurrences evaluated, {} outbox \
             rows queued, {} escalation-fired events recorded)",
            grouped(quarter_report.evaluated as f64),
            grouped(quarter_report.occurrences_evaluated as f64),
            grouped(quarter_report.queued as f64),
            grouped(quarter_report.fired as f64)
        ),
        ms_cell(quarters),
        "< 200 ms".into(),
        met(quarters.median < 200.0).into(),
    ]);
    println!("bench took {:.0} s", bench_started.elapsed().as_secs_f64());
    Ok(rows)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing here takes arguments.
    common::print_table("dispatch", run());
}
