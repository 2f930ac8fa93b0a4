//! A world to play sync scenarios in: the real server (a child process), optionally a
//! fault-injecting proxy in front of it, devices enrolled with codes from the admin API,
//! and an auditor; then seeded sync rounds until the devices converge, and the checks that
//! they did: the same statuses, attention feeds and compliance on every device and the
//! server, every event on the server exactly once, photo proof verified, thumbnails
//! everywhere.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Debug;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use proofline_core::device::{Device, EnrollOptions, SyncReport};
use proofline_core::model::{DeviceId, EventId, PersonId};
use proofline_core::proof::PhotoRecord;
use proofline_core::review::{ComplianceCounts, ComplianceReport};
use proofline_core::store::{DB_FILE, EventPayload, Store, SyncState};
use proofline_core::sync::protocol::PulledEvent;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::admin::AdminClient;
use crate::auditor::Auditor;
use crate::proxy::{FaultConfig, FaultProxy};
use crate::restaurant::{self, SITE};
use crate::rng::Rng;
use crate::server::ServerProcess;

/// How devices reach the server.
#[derive(Debug, Clone, Copy)]
pub enum Network {
    /// Straight to the server's port.
    Direct,
    /// Through a [`FaultProxy`] with this seed; enrollment goes through it without faults
    /// (a one-time code cannot be retried), then `faults` apply.
    Proxy {
        /// The proxy's seed.
        seed: u64,
        /// The faults after enrollment.
        faults: FaultConfig,
    },
}

/// A person's enrolled device.
#[derive(Debug)]
pub struct Member {
    /// The person's key in the routines file (`luis`).
    pub key: &'static str,
    /// The person.
    pub person: PersonId,
    /// The device.
    pub device: Device,
    /// Its directory.
    pub dir: PathBuf,
    /// The events this device wrote (ids returned by `complete`, `excuse`,
    /// `acknowledge`), in order.
    pub written: Vec<EventId>,
    /// The photos captured on it.
    pub photos: Vec<PhotoRecord>,
}

impl Member {
    /// The device id.
    pub fn device_id(&self) -> DeviceId {
        self.device.identity().device
    }

    /// Records an event this device wrote.
    pub fn wrote(&mut self, id: EventId) -> EventId {
        self.written.push(id);
        id
    }

    /// Records the event this device wrote last (for writes that return no id, like an
    /// absence), from its outbox.
    pub fn wrote_last(&mut self) -> EventId {
        let last = self
            .device
            .outbox()
            .unwrap_or_else(|e| panic!("{}'s outbox: {e}", self.key))
            .into_iter()
            .max_by_key(|e| e.seq)
            .unwrap_or_else(|| panic!("{}'s outbox is empty", self.key));
        self.wrote(last.event)
    }

    /// Captures a photo (`what` names it in messages) on this device at `at` and
    /// remembers it.
    pub fn capture(&mut self, what: &str, bytes: &[u8], at: DateTime<Utc>) -> PhotoRecord {
        let record = self
            .device
            .capture_photo(bytes, at)
            .unwrap_or_else(|e| panic!("{} captures {what}: {e}", self.key));
        self.photos.push(record.clone());
        record
    }

    /// Opens the device's store beside the device (a second SQLite connection) to look at
    /// its log directly.
    pub fn store(&self) -> Store {
        Store::open(&self.dir.join(DB_FILE)).unwrap_or_else(|e| panic!("{}'s store: {e}", self.key))
    }
}

/// One device's sync in a round.
#[derive(Debug)]
pub struct SyncOutcome {
    /// Who synced.
    pub key: &'static str,
    /// The report, or the error `sync` returned.
    pub result: Result<SyncReport, String>,
}

impl SyncOutcome {
    /// Whether the sync finished with nothing left to do.
    pub fn complete(&self) -> bool {
        matches!(&self.result, Ok(r) if r.complete && r.errors.is_empty())
    }

    /// Whether the sync moved anything (pushed, pulled, uploaded, fetched).
    pub fn changed(&self) -> bool {
        match &self.result {
            Ok(r) => {
                r.pushed > 0
                    || r.accepted > 0
                    || r.duplicates > 0
                    || !r.rejected.is_empty()
                    || r.pulled > 0
                    || r.uploaded_blobs > 0
                    || r.thumbnails_fetched > 0
            }
            Err(_) => true,
        }
    }

    /// A one-line summary.
    pub fn line(&self) -> String {
        match &self.result {
            Ok(r) => format!(
                "{}: pushed {} (accepted {}, dup {}, rejected {}), pulled {}, blobs up {} ({} B), thumbs {}, complete {}{}",
                self.key,
                r.pushed,
                r.accepted,
                r.duplicates,
                r.rejected.len(),
                r.pulled,
                r.uploaded_blobs,
                r.uploaded_bytes,
                r.thumbnails_fetched,
                r.complete,
                if r.errors.is_empty() {
                    String::new()
                } else {
                    format!(", errors {:?}", r.errors)
                }
            ),
            Err(e) => format!("{}: sync failed: {e}", self.key),
        }
    }
}

/// Sums over every sync of a world.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncTotals {
    /// Syncs run.
    pub syncs: u64,
    /// Of those, not complete (or failed).
    pub incomplete: u64,
    /// Events pushed.
    pub pushed: u64,
    /// Accepted rulings.
    pub accepted: u64,
    /// Duplicate rulings: pushes the server had applied but whose answer was lost.
    pub duplicates: u64,
    /// Rejections.
    pub rejected: u64,
    /// Events pulled.
    pub pulled: u64,
    /// Blobs uploaded.
    pub uploaded_blobs: u64,
    /// Thumbnails fetched.
    pub thumbnails_fetched: u64,
}

impl SyncTotals {
    /// Adds one sync.
    pub fn add(&mut self, outcome: &SyncOutcome) {
        self.syncs += 1;
        if !outcome.complete() {
            self.incomplete += 1;
        }
        if let Ok(r) = &outcome.result {
            self.pushed += u64::from(r.pushed);
            self.accepted += u64::from(r.accepted);
            self.duplicates += u64::from(r.duplicates);
            self.rejected += r.rejected.len() as u64;
            self.pulled += u64::from(r.pulled);
            self.uploaded_blobs += u64::from(r.uploaded_blobs);
            self.thumbnails_fetched += u64::from(r.thumbnails_fetched);
        }
    }
}

impl std::fmt::Display for SyncTotals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} syncs ({} incomplete): pushed {} (accepted {}, duplicate {}, rejected {}), pulled {}, {} blobs up, {} thumbnails fetched",
            self.syncs,
            self.incomplete,
            self.pushed,
            self.accepted,
            self.duplicates,
            self.rejected,
            self.pulled,
            self.uploaded_blobs,
            self.thumbnails_fetched
        )
    }
}

/// How the convergence went.
#[derive(Debug, Clone, Default)]
pub struct Convergence {
    /// Rounds played, the quiet last one included.
    pub rounds: usize,
    /// Syncs that did not complete (network faults, a server down).
    pub incomplete_syncs: usize,
    /// The order of each round, by person key.
    pub orders: Vec<Vec<&'static str>>,
}

/// The server, the devices and the tools to watch them.
#[derive(Debug)]
pub struct World {
    /// The server child process.
    pub server: ServerProcess,
    /// Its admin API.
    pub admin: AdminClient,
    /// The proxy devices go through, if any.
    pub proxy: Option<FaultProxy>,
    /// A read-only device that pulls the whole log.
    pub auditor: Auditor,
    /// The enrolled devices.
    pub members: Vec<Member>,
    /// The `now` of the next sync call (advances a minute per call).
    pub sync_clock: DateTime<Utc>,
    /// Every sync's summary line, in order (printed when a test fails).
    pub sync_log: Vec<String>,
    /// Sums over every sync.
    pub totals: SyncTotals,
    tmp: TempDir,
}

impl World {
    /// Starts the server, imports `examples/restaurant.toml`, enrolls one device per key
    /// in `people` at `now` (through the proxy if any) and the auditor (Owen, the admin,
    /// straight to the server).
    pub fn start(
        bin: &Path,
        network: Network,
        people: &[&'static str],
        now: DateTime<Utc>,
    ) -> World {
        let server = ServerProcess::start(bin).unwrap_or_else(|e| panic!("server: {e}"));
        println!(
            "server on {}, data in {}",
            server.addr(),
            server.data_dir().display()
        );
        let admin = AdminClient::new(&server.url(), server.admin_token());
        let summary = admin
            .import(&restaurant::routines_file())
            .unwrap_or_else(|e| panic!("import: {e}"));
        println!("imported examples/restaurant.toml: {summary}");
        let proxy = match network {
            Network::Direct => None,
            Network::Proxy { seed, .. } => Some(
                FaultProxy::start(server.addr(), seed, FaultConfig::none())
                    .unwrap_or_else(|e| panic!("proxy: {e}")),
            ),
        };
        let device_url = proxy
            .as_ref()
            .map(FaultProxy::url)
            .unwrap_or_else(|| server.url());
        let tmp = tempfile::Builder::new()
            .prefix("proofline-e2e-devices-")
            .tempdir()
            .expect("temp dir");
        let mut members = Vec::new();
        for &key in people {
            let code = admin
                .enrollment_code(key)
                .unwrap_or_else(|e| panic!("enrollment code for {key}: {e}"));
            let dir = tmp.path().join(key);
            let device = Device::enroll(
                &dir,
                &device_url,
                &code.code,
                EnrollOptions {
                    platform: Some("cli".into()),
                    device_name: Some(format!("{key}'s phone")),
                },
                now,
            )
            .unwrap_or_else(|e| panic!("{key} enrolls with {}: {e}", code.code));
            assert_eq!(device.identity().person, restaurant::person(key));
            members.push(Member {
                key,
                person: restaurant::person(key),
                device,
                dir,
                written: Vec::new(),
                photos: Vec::new(),
            });
        }
        let code = admin
            .enrollment_code("owen")
            .unwrap_or_else(|e| panic!("enrollment code for the auditor: {e}"));
        let auditor = Auditor::enroll(&server.url(), &code.code)
            .unwrap_or_else(|e| panic!("auditor enrolls: {e}"));
        if let (Some(proxy), Network::Proxy { faults, .. }) = (&proxy, network) {
            proxy.set_faults(faults);
        }
        World {
            server,
            admin,
            proxy,
            auditor,
            members,
            sync_clock: now + Duration::minutes(1),
            sync_log: Vec::new(),
            totals: SyncTotals::default(),
            tmp,
        }
    }

    /// The member with `key`.
    pub fn member(&mut self, key: &str) -> &mut Member {
        self.members
            .iter_mut()
            .find(|m| m.key == key)
            .unwrap_or_else(|| panic!("no device for {key}"))
    }

    /// The position of `key`'s device in [`World::members`].
    pub fn index(&self, key: &str) -> usize {
        self.members
            .iter()
            .position(|m| m.key == key)
            .unwrap_or_else(|| panic!("no device for {key}"))
    }

    /// Where device directories live.
    pub fn devices_dir(&self) -> &Path {
        self.tmp.path()
    }

    /// Syncs member `i` at the sync clock (which then advances a minute).
    pub fn sync(&mut self, i: usize) -> SyncOutcome {
        let now = self.sync_clock;
        self.sync_clock += Duration::minutes(1);
        let member = &self.members[i];
        let outcome = SyncOutcome {
            key: member.key,
            result: member.device.sync(now).map_err(|e| e.to_string()),
        };
        self.record(now, &outcome);
        outcome
    }

    /// Records a sync made at `now` in the log and the totals (the tests that sync devices
    /// from their own threads call it).
    pub fn record(&mut self, now: DateTime<Utc>, outcome: &SyncOutcome) {
        self.sync_log
            .push(format!("{} {}", local(now), outcome.line()));
        self.totals.add(outcome);
    }

    /// Syncs member `i` until a sync completes (at most `attempts` tries).
    pub fn sync_until_complete(&mut self, i: usize, attempts: usize) -> SyncOutcome {
        let mut last = None;
        for _ in 0..attempts {
            let outcome = self.sync(i);
            if outcome.complete() {
                return outcome;
            }
            last = Some(outcome);
        }
        panic!(
            "{} did not complete a sync in {attempts} tries; last: {}\n{}",
            self.members[i].key,
            last.map(|o| o.line()).unwrap_or_default(),
            self.sync_log_tail(30)
        );
    }

    /// Sync rounds, each in an order drawn from `rng`, until every sync of a round
    /// completes and the round changes nothing; at most `max_rounds`.
    pub fn converge(&mut self, rng: &mut Rng, max_rounds: usize) -> Convergence {
        let mut result = Convergence::default();
        for _ in 0..max_rounds {
            let mut order: Vec<usize> = (0..self.members.len()).collect();
            rng.shuffle(&mut order);
            result
                .orders
                .push(order.iter().map(|&i| self.members[i].key).collect());
            result.rounds += 1;
            let mut complete = true;
            let mut changed = false;
            for i in order {
                let outcome = self.sync(i);
                complete &= outcome.complete();
                changed |= outcome.changed();
                if !outcome.complete() {
                    result.incomplete_syncs += 1;
                }
            }
            if complete && !changed {
                return result;
            }
        }
        panic!(
            "no convergence in {max_rounds} rounds (orders {:?})\n{}",
            result.orders,
            self.sync_log_tail(40)
        );
    }

    /// The last `n` sync summaries.
    pub fn sync_log_tail(&self, n: usize) -> String {
        let from = self.sync_log.len().saturating_sub(n);
        self.sync_log[from..].join("\n")
    }

    /// Points the proxy, the admin client and the auditor at the server after a restart.
    pub fn server_moved(&mut self) {
        let url = self.server.url();
        if let Some(proxy) = &self.proxy {
            proxy.set_upstream(self.server.addr());
        }
        self.admin.set_base(&url);
        self.auditor.set_base(&url);
    }

    /// Every event the server holds for the site, from the auditor's pull.
    pub fn server_log(&self) -> Vec<PulledEvent> {
        self.auditor
            .pull_all(1000)
            .unwrap_or_else(|e| panic!("auditor pull: {e}"))
    }

    /// The checks that the world converged, at each of `nows`, over `[from, until)`: the
    /// same statuses, compliance report and attention feeds on every device as on the
    /// server. Returns what was compared, for the test's output.
    pub fn assert_converged(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        nows: &[DateTime<Utc>],
    ) -> String {
        let site = restaurant::site();
        let mut compared = Vec::new();
        for &now in nows {
            let at = local(now);
            let server = self
                .admin
                .statuses(SITE, from, until, now)
                .unwrap_or_else(|e| panic!("server statuses: {e}"));
            assert!(!server.is_empty(), "the server lists no occurrence at {at}");
            for m in &self.members {
                let mine = m
                    .device
                    .statuses(site, from, until, now)
                    .unwrap_or_else(|e| panic!("{}'s statuses: {e}", m.key));
                assert_same(&format!("statuses at {at}"), &server, m.key, &mine);
            }
            let done = server
                .iter()
                .filter(|s| s.counted_completion.is_some())
                .count();
            let mut line = format!("{at}: {} statuses ({done} done)", server.len());
            let server = rounded(
                self.admin
                    .compliance(SITE, from, until, now)
                    .unwrap_or_else(|e| panic!("server compliance: {e}")),
            );
            for m in &self.members {
                let mine = rounded(
                    m.device
                        .compliance(site, from, until, now)
                        .unwrap_or_else(|e| panic!("{}'s compliance: {e}", m.key)),
                );
                assert_same(&format!("compliance at {at}"), &server, m.key, &mine);
            }
            for m in &self.members {
                let server = self
                    .admin
                    .attention(m.key, now)
                    .unwrap_or_else(|e| panic!("server attention of {}: {e}", m.key));
                let mine = m
                    .device
                    .attention(now)
                    .unwrap_or_else(|e| panic!("{}'s attention: {e}", m.key));
                assert_same(
                    &format!("{}'s attention at {at}", m.key),
                    &server,
                    m.key,
                    &mine,
                );
                line.push_str(&format!(
                    ", {} {} in {}'s feed",
                    server.len(),
                    if server.len() == 1 { "item" } else { "items" },
                    m.key
                ));
            }
            compared.push(line);
        }
        format!(
            "the same on {} and the server: {}",
            match self.members.len() {
                1 => "the device".to_string(),
                n => format!("{n} devices"),
            },
            compared.join("; ")
        )
    }

    /// Every event each device wrote is on the server exactly once (or finally rejected
    /// and not there), nothing else from these devices is, no event id or per-device `seq`
    /// appears twice, server order is strictly increasing, and every device's outbox is
    /// settled (accepted or duplicate). Returns the server's log.
    pub fn assert_nothing_lost(&self) -> Vec<PulledEvent> {
        let log = self.server_log();
        let mut ids = HashSet::new();
        let mut last_seq = 0u64;
        for pulled in &log {
            assert!(
                ids.insert(pulled.event.id),
                "event {} is twice in the server's log",
                pulled.event.id
            );
            assert!(
                pulled.server_seq > last_seq,
                "server order not increasing: {} after {last_seq}",
                pulled.server_seq
            );
            last_seq = pulled.server_seq;
        }
        let rejected: HashSet<uuid::Uuid> = self
            .admin
            .rejected()
            .unwrap_or_else(|e| panic!("rejected list: {e}"))
            .into_iter()
            .map(|r| r.id)
            .collect();
        for m in &self.members {
            let device = m.device_id();
            let on_server: Vec<&PulledEvent> =
                log.iter().filter(|p| p.event.device == device).collect();
            let mut seqs = HashSet::new();
            for p in &on_server {
                assert!(
                    seqs.insert(p.event.seq),
                    "{}'s seq {} is twice on the server",
                    m.key,
                    p.event.seq
                );
            }
            let outbox = m
                .device
                .outbox()
                .unwrap_or_else(|e| panic!("{}'s outbox: {e}", m.key));
            let mut settled = HashSet::new();
            for entry in &outbox {
                match &entry.state {
                    SyncState::Accepted | SyncState::Duplicate => {
                        settled.insert(entry.event);
                    }
                    SyncState::Pending => panic!(
                        "{}'s event {} ({}, seq {}) is still pending",
                        m.key, entry.event, entry.kind, entry.seq
                    ),
                    SyncState::Rejected { reason } => {
                        assert!(
                            rejected.contains(&entry.event.0),
                            "{}'s event {} is rejected on the device ({reason}) but not in the server's rejected list",
                            m.key,
                            entry.event
                        );
                        assert!(
                            !on_server.iter().any(|p| p.event.id == entry.event),
                            "{}'s event {} is rejected on the device ({reason}) but in the server's log",
                            m.key,
                            entry.event
                        );
                    }
                }
            }
            let server_ids: HashSet<EventId> = on_server.iter().map(|p| p.event.id).collect();
            assert_eq!(
                server_ids, settled,
                "{}: the server's events of this device differ from its accepted outbox",
                m.key
            );
            let written: HashSet<EventId> = m.written.iter().copied().collect();
            assert_eq!(
                written.len(),
                m.written.len(),
                "{} wrote an event id twice",
                m.key
            );
            let status = m
                .device
                .sync_status()
                .unwrap_or_else(|e| panic!("{}'s sync status: {e}", m.key));
            assert_eq!(
                (status.pending_events, status.pending_uploads),
                (0, 0),
                "{}'s sync status after convergence: {status:?}",
                m.key
            );
            let outbox_ids: HashSet<EventId> = outbox.iter().map(|e| e.event).collect();
            assert_eq!(
                outbox_ids, written,
                "{}: the outbox differs from the events the test wrote",
                m.key
            );
            assert_eq!(
                outbox.len(),
                m.written.len(),
                "{}: an event is twice in the outbox",
                m.key
            );
        }
        log
    }

    /// The server rejected nothing (the scenarios only do what people may do), and every
    /// device's hash chain is intact.
    pub fn assert_nothing_rejected(&self) {
        let rejected = self
            .admin
            .rejected()
            .unwrap_or_else(|e| panic!("rejected list: {e}"));
        assert!(
            rejected.is_empty(),
            "the server rejected events: {rejected:#?}"
        );
        for m in &self.members {
            let report = m
                .device
                .verify_chain()
                .unwrap_or_else(|e| panic!("{}'s chain: {e}", m.key));
            assert!(
                report.is_intact(),
                "{}'s chain is broken: {report:?}",
                m.key
            );
        }
    }

    /// Every photo a completion on the server references is stored there, verified, and
    /// its thumbnail is on every other device (byte-identical to the one captured).
    pub fn assert_photos_everywhere(&self, log: &[PulledEvent]) {
        let mut referenced = BTreeMap::new();
        for pulled in log {
            if let EventPayload::Completed(c) = &pulled.event.payload {
                for sha in restaurant::photos_of(&c.results) {
                    referenced.insert(sha, pulled.event.device);
                }
            }
        }
        assert!(!referenced.is_empty(), "no completion references a photo");
        let captured: HashMap<&str, (&Member, &PhotoRecord)> = self
            .members
            .iter()
            .flat_map(|m| m.photos.iter().map(move |p| (p.sha256.as_str(), (m, p))))
            .collect();
        for (sha, device) in &referenced {
            let info = self
                .admin
                .blob(sha)
                .unwrap_or_else(|e| panic!("blob {sha}: {e}"))
                .unwrap_or_else(|| panic!("photo {sha} of device {device} is not on the server"));
            assert!(info.verified, "photo {sha} is not verified: {info:?}");
            assert_eq!(info.kind, "photo", "{info:?}");
            let (owner, record) = captured
                .get(sha.as_str())
                .unwrap_or_else(|| panic!("photo {sha} was captured by no test device"));
            assert_eq!(info.bytes, record.bytes, "photo {sha}'s size on the server");
            let thumb = self
                .admin
                .blob(&record.thumb_sha256)
                .unwrap_or_else(|e| panic!("thumbnail blob: {e}"))
                .unwrap_or_else(|| panic!("the thumbnail of {sha} is not on the server"));
            assert!(
                thumb.verified,
                "thumbnail {} is not verified",
                record.thumb_sha256
            );
            for m in &self.members {
                if m.key == owner.key {
                    continue;
                }
                let bytes = m
                    .device
                    .thumbnail(sha)
                    .unwrap_or_else(|e| panic!("{}'s thumbnail of {sha}: {e}", m.key))
                    .unwrap_or_else(|| {
                        panic!("{} has no thumbnail of {}'s photo {sha}", m.key, owner.key)
                    });
                assert_eq!(
                    hex::encode(Sha256::digest(&bytes)),
                    record.thumb_sha256,
                    "{}'s thumbnail of {}'s photo differs from the one captured",
                    m.key,
                    owner.key
                );
            }
        }
    }

    /// The proxy's counters, if there is a proxy.
    pub fn proxy_report(&self) -> String {
        match &self.proxy {
            Some(proxy) => {
                let cuts = proxy.cuts();
                let fired = cuts.iter().filter(|c| c.fired).count();
                format!(
                    "proxy: {} ({fired} of {} planned cuts happened: {cuts:?})",
                    proxy.stats(),
                    cuts.len()
                )
            }
            None => "no proxy".into(),
        }
    }
}

/// An instant as `12-02 07:40` in the site's zone, for messages.
pub fn local(at: DateTime<Utc>) -> String {
    at.with_timezone(&restaurant::NEW_YORK)
        .format("%m-%d %H:%M")
        .to_string()
}

/// The report with its percentages rounded to 1e-9: serde_json's default float parser is
/// not always correctly rounded, so a percentage read from the server's JSON may differ
/// from the device's in the last bit.
pub fn rounded(mut report: ComplianceReport) -> ComplianceReport {
    fn round(counts: &mut ComplianceCounts) {
        counts.on_time_percent = counts.on_time_percent.map(|p| (p * 1e9).round() / 1e9);
    }
    round(&mut report.totals);
    report
        .routines
        .iter_mut()
        .for_each(|r| round(&mut r.counts));
    report.people.iter_mut().for_each(|p| round(&mut p.counts));
    report
}

/// Panics with the first difference between the server's `expected` and device `who`'s
/// `actual`, located by JSON path.
pub fn assert_same<T: PartialEq + Debug + Serialize>(
    what: &str,
    expected: &T,
    who: &str,
    actual: &T,
) {
    if expected == actual {
        return;
    }
    let a = serde_json::to_value(expected).unwrap_or_default();
    let b = serde_json::to_value(actual).unwrap_or_default();
    panic!(
        "{what}: {who}'s device differs from the server: {}",
        first_difference("$", &a, &b)
    );
}

/// The first place two JSON values differ, with both sides there.
pub fn first_difference(path: &str, a: &serde_json::Value, b: &serde_json::Value) -> String {
    use serde_json::Value;
    match (a, b) {
        (Value::Array(xs), Value::Array(ys)) => {
            for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
                if x != y {
                    return first_difference(&format!("{path}[{i}]"), x, y);
                }
            }
            format!(
                "{path}: server has {} items, device {}; server extra {:?}, device extra {:?}",
                xs.len(),
                ys.len(),
                xs.get(ys.len()..)
                    .map(|s| s.iter().take(3).collect::<Vec<_>>()),
                ys.get(xs.len()..)
                    .map(|s| s.iter().take(3).collect::<Vec<_>>())
            )
        }
        (Value::Object(xs), Value::Object(ys)) => {
            for (k, x) in xs {
                match ys.get(k) {
                    Some(y) if x != y => return first_difference(&format!("{path}.{k}"), x, y),
                    Some(_) => {}
                    None => return format!("{path}.{k}: only the server has it ({x})"),
                }
            }
            for k in ys.keys() {
                if !xs.contains_key(k) {
                    return format!("{path}.{k}: only the device has it");
                }
            }
            format!("{path}: equal as JSON, different as values")
        }
        _ => format!("{path}: server {a}, device {b}"),
    }
}
