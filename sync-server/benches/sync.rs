//! Sync benchmarks (`cargo bench -p proofline-server --bench sync`).
//!
//! Everything goes through the code the apps use: the real server ([`start`]) over HTTP on
//! loopback, devices enrolled with one-time codes from the admin API ([`AdminClient`]),
//! events pushed with the device's [`SyncClient`], and a fresh device set up with
//! [`Device::enroll`], which pulls the whole history in its first sync. Only the input
//! completions are made directly ([`Event::seal`], as a device seals them): that is fixture
//! preparation and never timed. Data dirs live under the target dir (a real disk, not a
//! tmpfs), as the store bench does.
//!
//! The bench site has six routines due every 15 minutes (576 occurrences a day), each
//! completion with a reading and a tick.
//!
//! 1. **Push ingest**: four devices at once (each its own quarter, its batches back to
//!    back) push 20,000 completions in batches of 500 to a server on a fresh data dir
//!    (events/s, round trips timed, sealing not: the server's ingest capacity); the same
//!    again with one device alone (its round trips in sequence: the latency-bound rate a
//!    single phone sees). In the same run the
//!    same rows go into a bare SQLite table with the server's `events` columns and
//!    indexes (fresh WAL database, `synchronous = FULL`, one transaction per 500 rows,
//!    prepared statement): the ratio says what the server costs over the bare write.
//!    Targets: ≥ 20,000 events/s and ≥ 50 % of the bare write.
//! 2. **Fresh device pull**: a server holding 90 days of the site's completions (~52,000
//!    events, pushed by three devices); the time [`Device::enroll`] takes on a new device
//!    until its first sync is complete (target < 2 s), and the events/s that makes.
//! 3. **Push latency under load**: on that same server, 50 enrolled devices, each on its
//!    own thread with its own HTTP client, push batches of 1–10 completions back to back
//!    (no pause between pushes) for 3 s; p50/p99/max per push request (target p99
//!    < 50 ms). Each device seals its completions before the run starts (on a phone that
//!    is the phone's CPU, not the server's); the 50 devices' HTTP clients still share the
//!    server's 2 cores. The same again with each device starting a push every 100 ms
//!    (about a fifth of the pushes/s the back-to-back runs reach), for the latency below
//!    saturation.
//!
//! Each figure is the median of several runs, printed with the min–max spread; a markdown
//! table of the figures against their targets closes the output. Printed before it, to
//! tell where the time goes: the single-thread CPU cost of a push's parts that need no
//! server (encode, decode, hash checks, re-encoding for storage) and the time to pull the
//! history's pages without storing them.

mod common;

use std::path::Path;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as ChronoDuration, SecondsFormat, Utc};
use proofline_core::device::{Device, EnrollOptions};
use proofline_core::model::{
    Completion, DeviceId, History, Org, PersonId, RoutineId, SiteId, StepAnswer, StepResult,
};
use proofline_core::occurrence::{occurrence_id, occurrences};
use proofline_core::routines_file::parse_routines_file;
use proofline_core::store::{DB_FILE, Event, EventPayload, GENESIS_HASH, Store, new_event_id};
use proofline_core::sync::admin::AdminClient;
use proofline_core::sync::admin_protocol::CodeRequest;
use proofline_core::sync::client::{ClientOptions, SyncClient};
use proofline_core::sync::protocol::{
    DEFAULT_PULL_LIMIT, EnrollRequest, MAX_PUSH_EVENTS, PushOutcome, PushRequest,
};
use proofline_server::{Config, RunningServer, start};
use rusqlite::{Connection, params};
use tempfile::TempDir;

use common::{Spread, grouped, met, spread};

/// Runs of the push ingest measurement.
const INGEST_RUNS: usize = 5;
/// Completions pushed per ingest run.
const INGEST_EVENTS: usize = 20_000;
/// Days of history on the pull server.
const HISTORY_DAYS: i64 = 90;
/// Fresh devices enrolled (each one a pull run).
const PULL_RUNS: usize = 5;
/// Devices pushing at once in the latency measurement.
const LOAD_DEVICES: usize = 50;
/// Runs of the latency measurement.
const LOAD_RUNS: usize = 3;
/// How long each latency run pushes.
const LOAD_SECONDS: u64 = 3;
/// Largest batch a loaded device pushes (it pushes 1 to this many events).
const LOAD_MAX_BATCH: usize = 10;
/// In the paced latency runs, each device starts a push this often.
const LOAD_PACE: Duration = Duration::from_millis(100);
/// Pushes each loaded device seals before a latency run starts (a run takes fewer than
/// 200 per device; more are sealed on the fly): on a phone the sealing is the phone's
/// work, not the server's, so it stays off the shared cores while the run is timed.
const LOAD_PRESEALED: usize = 400;

/// The bench site: six routines every 15 minutes, owned two each by three staff; a
/// supervisor who enrolls fresh devices; the loaded devices' people are appended by
/// [`routines_file`].
const SITE_FILE: &str = r#"
org = "Bench Group"

[[sites]]
key = "depot"
name = "Bench Depot"
time_zone = "America/New_York"

[[people]]
key = "ana"
name = "Ana Alves"
roles = { depot = "staff" }

[[people]]
key = "ben"
name = "Ben Brooks"
roles = { depot = "staff" }

[[people]]
key = "cho"
name = "Cho Chen"
roles = { depot = "staff" }

[[people]]
key = "sue"
name = "Sue Supervisor"
roles = { depot = "supervisor" }
"#;

/// Keys of the routines' owners: routine `i` is owned by `OWNERS[i / 2]`.
const OWNERS: [&str; 3] = ["ana", "ben", "cho"];
/// Routines in the file.
const ROUTINES: usize = 6;

type R<T> = Result<T, String>;

/// Turns any error into a sentence naming what was being done.
fn fail<E: std::fmt::Display>(what: &'static str) -> impl Fn(E) -> String {
    move |e| format!("{what}: {e}")
}

/// The whole routines file: [`SITE_FILE`], the crew of the loaded devices, the routines.
fn routines_file() -> String {
    let mut text = SITE_FILE.to_string();
    for n in 0..LOAD_DEVICES {
        text.push_str(&format!(
            "\n[[people]]\nkey = \"crew{n:02}\"\nname = \"Crew Member {n:02}\"\n\
             roles = {{ depot = \"staff\" }}\n"
        ));
    }
    for i in 0..ROUTINES {
        text.push_str(&format!(
            r#"
[[routines]]
key = "round-{i}"
site = "depot"
title = "Round {i}"
owner = "{owner}"
backup = "sue"
rrule = "FREQ=MINUTELY;INTERVAL=15"
start = "2026-01-01T00:{minute:02}"

[[routines.steps]]
key = "temp"
title = "Cold store temperature"
kind = "reading"
unit = "°C"
min = 1
max = 5

[[routines.steps]]
key = "clean"
title = "Area clean"
kind = "check"
"#,
            owner = OWNERS[i / 2],
            minute = i * 2,
        ));
    }
    text
}

/// One occurrence to complete.
#[derive(Debug, Clone, Copy)]
struct Due {
    site: SiteId,
    routine: RoutineId,
    due: DateTime<Utc>,
}

/// Occurrences of the given routines (indices into the file's routines) due in
/// `[from, until)`, by due time.
fn dues(org: &Org, routines: &[usize], from: DateTime<Utc>, until: DateTime<Utc>) -> R<Vec<Due>> {
    let site = org.sites.first().ok_or("the bench file has no site")?;
    let mut found = Vec::new();
    for &i in routines {
        let routine = org
            .routines
            .get(i)
            .ok_or("the bench file lacks a routine")?;
        let list = occurrences(routine, site, &History::default(), from, until, until)
            .map_err(fail("expanding the bench routines"))?;
        found.extend(list.into_iter().map(|o| Due {
            site: o.site,
            routine: o.routine,
            due: o.due,
        }));
    }
    found.sort_by_key(|d| d.due);
    Ok(found)
}

/// A server on a fresh data dir with the bench file imported.
struct BenchServer {
    server: RunningServer,
    admin: AdminClient,
    /// Dropped after the server (fields drop in order).
    _dir: TempDir,
}

impl BenchServer {
    fn start(base: &Path, file: &str) -> R<BenchServer> {
        let dir = tempfile::tempdir_in(base).map_err(fail("creating the server's data dir"))?;
        let config = Config {
            listen: "127.0.0.1:0".parse().map_err(fail("the listen address"))?,
            ..Config::new(dir.path())
        };
        let server = start(config).map_err(fail("starting the server"))?;
        let admin = AdminClient::new(
            &server.base_url(),
            server.admin_token(),
            ClientOptions::default(),
        )
        .map_err(fail("the admin client"))?;
        admin
            .import(file)
            .map_err(fail("importing the bench routines file"))?;
        Ok(BenchServer {
            server,
            admin,
            _dir: dir,
        })
    }

    fn url(&self) -> String {
        self.server.base_url()
    }

    fn code(&self, person: &str) -> R<String> {
        let code = self
            .admin
            .enrollment_code(&CodeRequest {
                person: person.to_string(),
                expires_in_minutes: None,
                expires_at: None,
            })
            .map_err(fail("issuing an enrollment code"))?;
        Ok(code.code)
    }

    /// Enrolls a pushing device for `person` (by key) through `POST /v1/enroll`.
    fn pusher(&self, person: &str) -> R<Pusher> {
        let code = self.code(person)?;
        let anonymous = SyncClient::new(&self.url(), None, ClientOptions::default())
            .map_err(fail("the enrollment client"))?;
        let answer = anonymous
            .enroll(&EnrollRequest {
                code,
                platform: Some("cli".into()),
                device_name: Some(format!("{person}'s bench device")),
            })
            .map_err(fail("enrolling a pushing device"))?;
        let client = SyncClient::new(&self.url(), Some(&answer.token), ClientOptions::default())
            .map_err(fail("the device client"))?;
        Ok(Pusher {
            client,
            device: answer.device,
            person: answer.person,
            seq: 0,
            prev_hash: GENESIS_HASH.to_string(),
        })
    }
}

/// An enrolled device that seals completions and pushes them with its own client.
struct Pusher {
    client: SyncClient,
    device: DeviceId,
    person: PersonId,
    seq: u64,
    prev_hash: String,
}

impl Pusher {
    /// Seals the next event of the chain: a valid completion of `due`, done 4 minutes
    /// after it.
    fn complete(&mut self, due: &Due) -> R<Event> {
        let at = due.due + ChronoDuration::minutes(4);
        let id = new_event_id(at);
        let reading = 2.0 + (self.seq % 25) as f64 / 10.0;
        let completion = Completion {
            id,
            occurrence: occurrence_id(due.routine, due.due),
            due: due.due,
            routine: due.routine,
            routine_version: 1,
            by: self.person,
            at,
            results: vec![
                StepResult {
                    step: "temp".into(),
                    answer: StepAnswer::Reading {
                        value: reading,
                        corrective_action: None,
                    },
                },
                StepResult {
                    step: "clean".into(),
                    answer: StepAnswer::Checked,
                },
            ],
            note: None,
        };
        let event = Event::seal(
            id,
            due.site,
            self.person,
            self.device,
            self.seq + 1,
            at,
            EventPayload::Completed(completion),
            self.prev_hash.clone(),
        )
        .map_err(fail("sealing a completion"))?;
        self.seq += 1;
        self.prev_hash = event.hash.clone();
        Ok(event)
    }

    /// Seals a completion of each of `dues`, in order.
    fn complete_all(&mut self, dues: &[Due]) -> R<Vec<Event>> {
        dues.iter().map(|d| self.complete(d)).collect()
    }

    /// Pushes one batch; every event must be accepted.
    fn push(&self, request: &PushRequest) -> R<()> {
        let response = self.client.push(request).map_err(fail("a push"))?;
        let refused = response
            .results
            .iter()
            .find(|r| !matches!(r.outcome, PushOutcome::Accepted { .. }));
        match refused {
            None if response.results.len() == request.events.len() => Ok(()),
            None => Err(format!(
                "a push of {} events got {} results",
                request.events.len(),
                response.results.len()
            )),
            Some(r) => Err(format!(
                "the server refused event {}: {:?}",
                r.id, r.outcome
            )),
        }
    }
}

/// Batches of at most [`MAX_PUSH_EVENTS`], as the device sends them.
fn batches(events: Vec<Event>) -> Vec<PushRequest> {
    events
        .chunks(MAX_PUSH_EVENTS)
        .map(|chunk| PushRequest {
            events: chunk.to_vec(),
            clock_offset_ms: Some(0),
        })
        .collect()
}

// -----------------------------------------------------------------------------------------
// 1. Push ingest

/// The server's `events` table and its indexes, as migrations 1–3
/// (`sync-server/src/storage/migrations.rs`) leave them. Migration 4's index on
/// `(device, seq)` is left out on purpose: it replaced the `rulings` row the server wrote
/// for every accepted event besides the event row, which the bare write never had either,
/// so the bare write stays the yardstick it was.
const RAW_SCHEMA: &str = "
    CREATE TABLE events (
        server_seq    INTEGER PRIMARY KEY,
        id            TEXT NOT NULL UNIQUE,
        site          TEXT NOT NULL,
        device        TEXT NOT NULL,
        seq           INTEGER NOT NULL,
        author        TEXT NOT NULL,
        kind          TEXT NOT NULL,
        event         TEXT NOT NULL,
        received_at   TEXT NOT NULL,
        clock_skew_ms INTEGER
    );
    CREATE INDEX events_by_site ON events (site, server_seq);
    CREATE INDEX events_definitions ON events (server_seq)
        WHERE kind = 'org_named' OR kind = 'site_defined' OR kind = 'person_defined'
           OR kind = 'routine_defined' OR kind = 'absence_recorded';
";

/// One row of the bare insert, made before timing.
struct RawRow {
    id: String,
    site: String,
    device: String,
    seq: i64,
    author: String,
    kind: &'static str,
    json: String,
}

/// Inserts `rows` into a fresh WAL database (`synchronous = FULL`, the server's
/// autocheckpoint), one transaction per [`MAX_PUSH_EVENTS`] rows, with a prepared
/// statement; returns the time taken.
fn raw_insert(base: &Path, rows: &[RawRow]) -> R<Duration> {
    let dir = tempfile::tempdir_in(base).map_err(fail("creating the bare database's dir"))?;
    let mut conn = Connection::open(dir.path().join("raw.db")).map_err(fail("opening"))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(fail("WAL mode"))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(format!("the bare database is in {mode} mode, not WAL"));
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(fail("synchronous"))?;
    conn.pragma_update(None, "wal_autocheckpoint", 20_000)
        .map_err(fail("autocheckpoint"))?;
    conn.execute_batch(RAW_SCHEMA).map_err(fail("the schema"))?;
    let started = Instant::now();
    for chunk in rows.chunks(MAX_PUSH_EVENTS) {
        let tx = conn.transaction().map_err(fail("begin"))?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT INTO events (id, site, device, seq, author, kind, event,
                                         received_at, clock_skew_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(fail("prepare"))?;
            let now = Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true);
            for row in chunk {
                insert
                    .execute(params![
                        row.id,
                        row.site,
                        row.device,
                        row.seq,
                        row.author,
                        row.kind,
                        row.json,
                        now,
                        None::<i64>,
                    ])
                    .map_err(fail("insert"))?;
            }
        }
        tx.commit().map_err(fail("commit"))?;
    }
    Ok(started.elapsed())
}

/// Devices pushing at once in the concurrent ingest runs (each its own share of the
/// completions, each its batches back to back).
const INGEST_DEVICES: [&str; 4] = ["ana", "ben", "cho", "crew00"];

/// One ingest run with `pushers` devices pushing their shares of `dues` at once, each its
/// batches back to back: (server events/s, bare events/s, the batches).
fn ingest_run(
    base: &Path,
    file: &str,
    dues: &[Due],
    pushers: &[&str],
) -> R<(f64, f64, Vec<PushRequest>)> {
    let server = BenchServer::start(base, file)?;
    let share = dues.len().div_ceil(pushers.len());
    let mut devices = Vec::new();
    let mut rows = Vec::new();
    let mut all_requests = Vec::new();
    for (person, part) in pushers.iter().zip(dues.chunks(share)) {
        let mut pusher = server.pusher(person)?;
        let events = pusher.complete_all(part)?;
        for e in &events {
            rows.push(RawRow {
                id: e.id.to_string(),
                site: e.site.to_string(),
                device: e.device.to_string(),
                seq: i64::try_from(e.seq).map_err(fail("seq"))?,
                author: e.author.to_string(),
                kind: e.payload.kind(),
                json: serde_json::to_string(e).map_err(fail("encoding an event"))?,
            });
        }
        let requests = batches(events);
        all_requests.extend(requests.iter().cloned());
        devices.push((pusher, requests));
    }
    let count = rows.len() as f64;
    let start = Barrier::new(devices.len() + 1);
    let pushed = std::thread::scope(|scope| -> R<Duration> {
        let threads: Vec<_> = devices
            .iter()
            .map(|(pusher, requests)| {
                let start = &start;
                scope.spawn(move || -> R<()> {
                    start.wait();
                    requests.iter().try_for_each(|r| pusher.push(r))
                })
            })
            .collect();
        start.wait();
        let started = Instant::now();
        for thread in threads {
            thread.join().map_err(|_| "a pushing thread panicked")??;
        }
        Ok(started.elapsed())
    })?;
    drop(server);
    let raw = raw_insert(base, &rows)?;
    Ok((
        count / pushed.as_secs_f64(),
        count / raw.as_secs_f64(),
        all_requests,
    ))
}

/// Medians (with spread) of [`INGEST_RUNS`] ingest runs with `pushers`: (server events/s,
/// bare events/s, ratio, the last run's batches).
fn ingest_runs(
    base: &Path,
    file: &str,
    dues: &[Due],
    pushers: &[&str],
) -> R<(Spread, Spread, Spread, Vec<PushRequest>)> {
    let mut server_rates = Vec::new();
    let mut raw_rates = Vec::new();
    let mut ratios = Vec::new();
    let mut last_requests = Vec::new();
    for n in 1..=INGEST_RUNS {
        let (server, raw, requests) = ingest_run(base, file, dues, pushers)?;
        last_requests = requests;
        println!(
            "ingest run {n}, {} device(s) at once: {} events in batches of {MAX_PUSH_EVENTS}: \
             server {} events/s, bare SQLite {} events/s ({:.0} %)",
            pushers.len(),
            dues.len(),
            grouped(server),
            grouped(raw),
            server / raw * 100.0
        );
        server_rates.push(server);
        raw_rates.push(raw);
        ratios.push(server / raw);
    }
    Ok((
        spread(&server_rates),
        spread(&raw_rates),
        spread(&ratios),
        last_requests,
    ))
}

/// Single-thread CPU cost of the parts of a push that need no server, per batch of
/// [`MAX_PUSH_EVENTS`]: (client encode, server decode, hash checks, re-encoding each event
/// for storage), in ms, and the mean body size in KiB. Printed to tell where a push's time
/// goes; not a figure.
fn push_cpu_parts(requests: &[PushRequest]) -> R<([f64; 4], f64)> {
    let mut parts = [Duration::ZERO; 4];
    let mut bytes = 0;
    for request in requests {
        let t = Instant::now();
        let body = serde_json::to_vec(request).map_err(fail("encoding a push"))?;
        parts[0] += t.elapsed();
        bytes += body.len();
        let t = Instant::now();
        let decoded: PushRequest = serde_json::from_slice(&body).map_err(fail("decoding"))?;
        parts[1] += t.elapsed();
        let t = Instant::now();
        let valid = decoded.events.iter().filter(|e| e.hash_is_valid()).count();
        parts[2] += t.elapsed();
        if valid != decoded.events.len() {
            return Err("a sealed event fails its own hash check".into());
        }
        let t = Instant::now();
        for event in &decoded.events {
            std::hint::black_box(serde_json::to_string(event).map_err(fail("encoding"))?);
        }
        parts[3] += t.elapsed();
    }
    let batches = requests.len().max(1) as f64;
    let per_batch = |d: Duration| ms(d) / batches;
    Ok((parts.map(per_batch), bytes as f64 / 1024.0 / batches))
}

// -----------------------------------------------------------------------------------------
// 2. Fresh device pull

/// Pushes 90 days of the site's completions, each owner's device its own two routines.
/// Returns the number of events pushed.
fn fill_history(server: &BenchServer, org: &Org, end: DateTime<Utc>) -> R<usize> {
    let from = end - ChronoDuration::days(HISTORY_DAYS);
    let started = Instant::now();
    let mut total = 0;
    for (n, owner) in OWNERS.iter().enumerate() {
        let mut device = server.pusher(owner)?;
        let list = dues(org, &[2 * n, 2 * n + 1], from, end)?;
        let events = device.complete_all(&list)?;
        total += events.len();
        for request in batches(events) {
            device.push(&request)?;
        }
    }
    let took = started.elapsed().as_secs_f64();
    println!(
        "history: {total} completions over {HISTORY_DAYS} days pushed by {} devices \
         (sealed and pushed in {took:.1} s)",
        OWNERS.len()
    );
    Ok(total)
}

/// One pull run: a fresh device enrolled for the supervisor; (seconds, events pulled).
fn pull_run(base: &Path, server: &BenchServer, history: usize) -> R<(f64, u64)> {
    let code = server.code("sue")?;
    let dir = tempfile::tempdir_in(base).map_err(fail("creating the device dir"))?;
    let device_dir = dir.path().join("device");
    let options = EnrollOptions {
        platform: Some("cli".into()),
        device_name: Some("bench fresh device".into()),
    };
    let url = server.url();
    let started = Instant::now();
    let device = Device::enroll(&device_dir, &url, &code, options, Utc::now())
        .map_err(fail("enrolling the fresh device"))?;
    let took = started.elapsed().as_secs_f64();
    let status = device.sync_status().map_err(fail("the sync status"))?;
    if let Some(error) = status.last_error {
        return Err(format!("the first sync did not complete: {error}"));
    }
    if status.last_sync_at.is_none() {
        return Err("the first sync was not recorded".into());
    }
    let store = Store::open(&device_dir.join(DB_FILE)).map_err(fail("opening the store"))?;
    let (_, _, remote) = store.event_counts().map_err(fail("counting events"))?;
    if remote < history as u64 {
        return Err(format!(
            "the fresh device holds {remote} pulled events, fewer than the {history} of the history"
        ));
    }
    Ok((took, remote))
}

/// Pulls every page as a new device would, storing nothing, three times: (median
/// seconds, events per pull). Printed to split the fresh device's time; not a figure.
fn pull_pages_only(server: &BenchServer) -> R<(f64, usize)> {
    let reader = server.pusher("sue")?;
    let mut times = Vec::new();
    let mut count = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let mut cursor: Option<String> = None;
        count = 0;
        loop {
            let page = reader
                .client
                .pull(cursor.as_deref(), DEFAULT_PULL_LIMIT)
                .map_err(fail("a pull"))?;
            count += page.events.len();
            if !page.more || cursor.as_deref() == Some(page.next.as_str()) {
                break;
            }
            cursor = Some(page.next);
        }
        times.push(started.elapsed().as_secs_f64());
    }
    Ok((spread(&times).median, count))
}

// -----------------------------------------------------------------------------------------
// 3. Push latency under load

/// What one latency run measured.
struct LoadRun {
    p50: Duration,
    p99: Duration,
    max: Duration,
    pushes: usize,
    events: usize,
}

/// A small deterministic generator for batch sizes (xorshift64).
fn next_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Every device pushes for [`LOAD_SECONDS`]; all start together. With `pace`, a device
/// starts a push every `pace` (from a phase of its own; at once when the previous push ran
/// over), else back to back.
fn load_run(
    devices: &mut [Pusher],
    dues: &[Due],
    run: usize,
    pace: Option<Duration>,
) -> R<LoadRun> {
    let barrier = Barrier::new(devices.len());
    let span = Duration::from_secs(LOAD_SECONDS);
    let per_device = std::thread::scope(|scope| {
        let handles: Vec<_> = devices
            .iter_mut()
            .enumerate()
            .map(|(n, device)| {
                let barrier = &barrier;
                scope.spawn(move || -> R<(Vec<Duration>, usize)> {
                    let mut rng = 0x9e37_79b9_7f4a_7c15_u64 ^ ((n as u64 + 1) << 20) ^ run as u64;
                    let mut cursor = n * 997 + run * 7919;
                    let mut samples = Vec::new();
                    let mut events = 0;
                    let phase = (next_random(&mut rng) % 1000) as f64 / 1000.0;
                    let mut next_batch = |device: &mut Pusher| -> R<PushRequest> {
                        let size = 1 + (next_random(&mut rng) % LOAD_MAX_BATCH as u64) as usize;
                        let mut batch = Vec::with_capacity(size);
                        for _ in 0..size {
                            let due = dues.get(cursor % dues.len()).ok_or("no dues")?;
                            cursor += 1;
                            batch.push(device.complete(due)?);
                        }
                        Ok(PushRequest {
                            events: batch,
                            clock_offset_ms: Some(0),
                        })
                    };
                    let mut sealed = (0..LOAD_PRESEALED)
                        .map(|_| next_batch(device))
                        .collect::<R<std::collections::VecDeque<_>>>()?;
                    // Where the chain stands on the server after the run: the pushes not
                    // made are forgotten, so the next run goes on from the last one made.
                    let mut head = (
                        device.seq - sealed.iter().map(|b| b.events.len() as u64).sum::<u64>(),
                        None,
                    );
                    barrier.wait();
                    let begun = Instant::now();
                    let deadline = begun + span;
                    let mut next_start = pace.map(|p| begun + p.mul_f64(phase));
                    while Instant::now() < deadline {
                        if let (Some(at), Some(p)) = (next_start, pace) {
                            std::thread::sleep(at.saturating_duration_since(Instant::now()));
                            next_start = Some(at.max(Instant::now() - p) + p);
                        }
                        let request = match sealed.pop_front() {
                            Some(request) => request,
                            None => next_batch(device)?,
                        };
                        let started = Instant::now();
                        device.push(&request)?;
                        samples.push(started.elapsed());
                        events += request.events.len();
                        if let Some(last) = request.events.last() {
                            head = (last.seq, Some(last.hash.clone()));
                        }
                    }
                    if !sealed.is_empty() {
                        device.seq = head.0;
                        if let Some(hash) = head.1 {
                            device.prev_hash = hash;
                        } else {
                            return Err("a device made no push".into());
                        }
                    }
                    Ok((samples, events))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err("a device thread panicked".into()))
            })
            .collect::<R<Vec<_>>>()
    })?;
    let mut samples: Vec<Duration> = Vec::new();
    let mut events = 0;
    for (s, e) in per_device {
        samples.extend(s);
        events += e;
    }
    if samples.is_empty() {
        return Err("no push finished".into());
    }
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
    Ok(LoadRun {
        p50: at(0.50),
        p99: at(0.99),
        max: at(1.0),
        pushes: samples.len(),
        events,
    })
}

// -----------------------------------------------------------------------------------------
// Reporting

fn rate_cell(s: Spread) -> String {
    format!(
        "{} events/s ({}–{})",
        grouped(s.median),
        grouped(s.min),
        grouped(s.max)
    )
}

fn percent_cell(s: Spread) -> String {
    format!(
        "{:.0} % ({:.0}–{:.0} %)",
        s.median * 100.0,
        s.min * 100.0,
        s.max * 100.0
    )
}

fn seconds_cell(s: Spread) -> String {
    format!("{:.2} s ({:.2}–{:.2} s)", s.median, s.min, s.max)
}

fn ms_cell(s: Spread) -> String {
    format!("{:.1} ms ({:.1}–{:.1} ms)", s.median, s.min, s.max)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn run() -> R<Vec<[String; 4]>> {
    let bench_started = Instant::now();
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    std::fs::create_dir_all(base).map_err(fail("creating the bench dir"))?;
    let file = routines_file();
    let org = parse_routines_file("bench.toml", &file).map_err(fail("the bench file"))?;
    // Completed history ends at the last UTC midnight.
    let now = Utc::now();
    let end = now - ChronoDuration::seconds(now.timestamp().rem_euclid(86_400));
    let all: Vec<usize> = (0..ROUTINES).collect();
    let mut rows = Vec::new();

    // 1. Push ingest.
    let recent = dues(&org, &all, end - ChronoDuration::days(40), end)?;
    let ingest_dues = recent
        .get(..INGEST_EVENTS)
        .ok_or("too few occurrences for the ingest runs")?;
    let (one_rate, one_raw, one_ratio, last_requests) =
        ingest_runs(base, &file, ingest_dues, &INGEST_DEVICES[..1])?;
    let (server_rate, raw_rate, ratio, _) = ingest_runs(base, &file, ingest_dues, &INGEST_DEVICES)?;
    let ([encode, decode, hashes, reencode], kib) = push_cpu_parts(&last_requests)?;
    println!(
        "per batch of {MAX_PUSH_EVENTS} ({kib:.0} KiB of JSON): push round trip {:.1} ms, bare insert + commit {:.1} \
         ms; CPU parts on one thread: client encode {encode:.1} ms, server decode {decode:.1} \
         ms, hash checks {hashes:.1} ms, re-encoding for storage {reencode:.1} ms",
        MAX_PUSH_EVENTS as f64 / one_rate.median * 1e3,
        MAX_PUSH_EVENTS as f64 / one_raw.median * 1e3,
    );
    rows.push([
        format!(
            "push ingest, {INGEST_EVENTS} completions in batches of {MAX_PUSH_EVENTS}, one \
             device"
        ),
        rate_cell(one_rate),
        "—".into(),
        "—".into(),
    ]);
    rows.push([
        "push ingest / bare insert, one device (round trips back to back)".into(),
        percent_cell(one_ratio),
        "—".into(),
        "—".into(),
    ]);
    rows.push([
        format!(
            "push ingest, {INGEST_EVENTS} completions in batches of {MAX_PUSH_EVENTS}, {} \
             devices at once",
            INGEST_DEVICES.len()
        ),
        rate_cell(server_rate),
        "≥ 20,000 events/s".into(),
        met(server_rate.median >= 20_000.0).into(),
    ]);
    rows.push([
        "bare SQLite insert of the same rows (WAL, synchronous=FULL, 500/tx)".into(),
        rate_cell(raw_rate),
        "—".into(),
        "—".into(),
    ]);
    rows.push([
        format!(
            "push ingest / bare insert, {} devices at once",
            INGEST_DEVICES.len()
        ),
        percent_cell(ratio),
        "≥ 50 %".into(),
        met(ratio.median >= 0.5).into(),
    ]);

    // 2. Fresh device pull.
    let server = BenchServer::start(base, &file)?;
    let history = fill_history(&server, &org, end)?;
    let mut times = Vec::new();
    let mut pull_rates = Vec::new();
    let mut pulled = 0;
    for n in 1..=PULL_RUNS {
        let (took, events) = pull_run(base, &server, history)?;
        println!(
            "pull run {n}: Device::enroll + first sync of {events} events in {took:.2} s \
             ({} events/s)",
            grouped(events as f64 / took)
        );
        times.push(took);
        pull_rates.push(events as f64 / took);
        pulled = events;
    }
    let time = spread(&times);
    let pages = pull_pages_only(&server)?;
    println!(
        "the same history pulled with SyncClient alone, nothing stored: {} events in {:.2} s \
         (median of 3): the rest of the fresh device's time is its store",
        pages.1, pages.0
    );
    rows.push([
        format!("fresh device: Device::enroll until first sync complete ({pulled} events)"),
        seconds_cell(time),
        "< 2 s".into(),
        met(time.median < 2.0).into(),
    ]);
    rows.push([
        "fresh device pull rate".into(),
        rate_cell(spread(&pull_rates)),
        "—".into(),
        "—".into(),
    ]);

    // 3. Push latency under load, on the server holding the history.
    let mut devices = (0..LOAD_DEVICES)
        .map(|n| server.pusher(&format!("crew{n:02}")))
        .collect::<R<Vec<Pusher>>>()?;
    let load_dues = dues(&org, &all, end - ChronoDuration::days(7), end)?;
    let modes = [
        (
            None,
            format!("{LOAD_DEVICES} devices pushing 1–{LOAD_MAX_BATCH} events back to back"),
            true,
        ),
        (
            Some(LOAD_PACE),
            format!(
                "{LOAD_DEVICES} devices pushing 1–{LOAD_MAX_BATCH} events every {} ms each",
                LOAD_PACE.as_millis()
            ),
            false,
        ),
    ];
    for (pace, load, judged) in modes {
        let mut p50s = Vec::new();
        let mut p99s = Vec::new();
        let mut maxes = Vec::new();
        for n in 1..=LOAD_RUNS {
            let r = load_run(&mut devices, &load_dues, n, pace)?;
            println!(
                "load run {n}, {load}: {} pushes ({} events, {} events/s, {} pushes/s): \
                 p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
                r.pushes,
                r.events,
                grouped(r.events as f64 / LOAD_SECONDS as f64),
                grouped(r.pushes as f64 / LOAD_SECONDS as f64),
                ms(r.p50),
                ms(r.p99),
                ms(r.max)
            );
            p50s.push(ms(r.p50));
            p99s.push(ms(r.p99));
            maxes.push(ms(r.max));
        }
        let p99 = spread(&p99s);
        let (target, ok) = if judged {
            ("< 50 ms".to_string(), met(p99.median < 50.0).to_string())
        } else {
            ("— (not the target's load)".to_string(), "—".to_string())
        };
        rows.push([
            format!("push latency p50, {load}"),
            ms_cell(spread(&p50s)),
            "—".into(),
            "—".into(),
        ]);
        rows.push([
            format!("push latency p99, {load}"),
            ms_cell(p99),
            target,
            ok,
        ]);
        rows.push([
            format!("push latency max, {load}"),
            ms_cell(spread(&maxes)),
            "—".into(),
            "—".into(),
        ]);
    }
    drop(devices);
    drop(server);
    println!("bench took {:.0} s", bench_started.elapsed().as_secs_f64());
    Ok(rows)
}

fn main() {
    // `cargo bench` passes `--bench`; nothing here takes arguments.
    common::print_table("sync", run());
}
