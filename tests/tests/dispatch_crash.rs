//! The escalation dispatcher killed with SIGKILL in the middle of dispatching, then
//! restarted on the same data dir: no alert is lost and none is sent twice (issue 5).
//!
//! A stub chat webhook on loopback (`proofline_e2e::webhook_stub`) checks each request's
//! signature, holds it 100–200 ms, then counts it per `x-proofline-escalation-id` and
//! answers 200; a request whose connection drops during the hold is not counted (checked by
//! `the_stub_does_not_count_a_request_whose_connection_drops`). The real server
//! (`e2e-server`, dispatching every second to the stub) gets a routine that runs every
//! 15 minutes, was never done, and escalates to the assignee at due, the supervisor at
//! +5 min and the lead at +10 min: the last 24 h of it are 288 webhook alerts, queued by one
//! tick and delivered 64 at a time. While the second batch is in flight the server is
//! SIGKILLed; it is started once without dispatching (`--dispatch-tick 0`) to read what its
//! outbox held at the kill, then restarted for good and left to finish. Then every outbox
//! row is `sent`, the alerts the stub counted are exactly the rows sent and exactly the ones
//! the core engine says are due, and nothing recorded as sent before the kill came again.
//!
//! - `a_server_killed_mid_dispatch_loses_no_alert_and_sends_none_twice`: the kill lands
//!   while the stub holds the second batch, none of it answered: each alert arrives once.
//! - `an_alert_answered_but_not_recorded_at_the_kill_is_sent_again_with_the_same_id`: the
//!   kill lands right after the stub answered the first alert of the second batch. An alert
//!   the stub answered but the server had not yet recorded (a few milliseconds per alert:
//!   reading the answer, then one committed UPDATE) is sent again after the restart, with
//!   the same escalation id; exactly those arrive twice. No sender can close that window
//!   (the receiver's answer and the sender's record are two machines' acts); receivers drop
//!   such repeats by the id.
//!
//! The dispatcher runs on the real clock. The routine's minutes are chosen from the clock at
//! the start so that every due time, level and expiry lies 2–3 minutes (mod 5) away from
//! "now" during the test: no level fires and no alert expires while it runs.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Timelike, Utc};
use proofline_core::model::History;
use proofline_core::notify::{NoticeKind, notices};
use proofline_core::routines_file::parse_routines_file;
use proofline_e2e::admin::{AdminClient, OutboxRow};
use proofline_e2e::server::ServerProcess;
use proofline_e2e::server_bin;
use proofline_e2e::webhook_stub::{StubCounts, WebhookStub};
use uuid::Uuid;

/// The webhook's signing secret.
const SECRET: &str = "dispatch-crash-secret";
/// How long the stub holds each request, in milliseconds.
const HOLD_MS: (u64, u64) = (100, 200);
/// Rows the dispatcher attempts at once (`ROUND` in sync-server/src/dispatch/deliver.rs):
/// the gated stub answers this many (the first batch, recorded before the next is fetched)
/// and holds the rest.
const DISPATCH_ROUND: u64 = 64;
/// Longest wait for the first deliveries (a debug server's start, the import, a tick).
const FIRST_DELIVERIES: StdDuration = StdDuration::from_secs(30);
/// Longest wait for the restarted server to empty its outbox.
const DRAIN: StdDuration = StdDuration::from_secs(60);

/// A site with one never-done routine every 15 minutes, due at minutes that sit 2–3 minutes
/// (mod 5) before `now`, escalating at 0, 5 and 10 minutes.
fn routines_file(now: DateTime<Utc>) -> String {
    // Due minutes ≡ now's minute − 2 (mod 5): `now − due` is 2:00–2:59 (mod 5 min).
    let first = (now.minute() + 58) % 5;
    let minutes: Vec<String> = (0..4).map(|i| (first + 15 * i).to_string()).collect();
    let hours: Vec<String> = (0..24).map(|h| h.to_string()).collect();
    let start = (now - Duration::days(3)).format("%Y-%m-%d");
    format!(
        r#"
org = "Dispatch Crash Group"

[[sites]]
key = "depot"
name = "Night Depot"
time_zone = "UTC"

[[people]]
key = "maria"
name = "Maria Lopez"
roles = {{ depot = "staff" }}

[[people]]
key = "sam"
name = "Sam Reed"
roles = {{ depot = "supervisor" }}

[[people]]
key = "dana"
name = "Dana Kim"
roles = {{ depot = "lead" }}

[[routines]]
key = "dock-check"
site = "depot"
title = "Loading dock check"
owner = "maria"
rrule = "FREQ=DAILY;BYHOUR={hours};BYMINUTE={minutes}"
start = "{start}T00:{first:02}"
closed_days = "run_anyway"
window = {{ opens_before = "5m", grace = "5m", closes_after = "10m" }}

[[routines.steps]]
key = "doors"
title = "Dock doors closed and locked"
kind = "check"

[[routines.escalation]]
after = "0m"
notify = ["assignee"]

[[routines.escalation]]
after = "5m"
notify = ["role:supervisor"]

[[routines.escalation]]
after = "10m"
notify = ["role:lead"]
"#,
        hours = hours.join(","),
        minutes = minutes.join(","),
    )
}

/// What the webhook hears of once: `(escalation or alert id, round)`.
type AlertKey = (Uuid, u32);

/// The webhook alerts the core engine says are due at `now` for `file`, with no work done.
fn expected_alerts(file: &str, now: DateTime<Utc>) -> BTreeSet<AlertKey> {
    let org = parse_routines_file("dispatch_crash.toml", file).expect("the routines file parses");
    notices(&org, &History::default(), None, now)
        .iter()
        .map(|n| match n.kind {
            NoticeKind::Escalation {
                escalation, round, ..
            } => (escalation.0, round),
            NoticeKind::RepeatFailure { alert } => (alert.0, 0),
        })
        .collect()
}

fn dispatch_args(tick: u64, stub: &WebhookStub) -> Vec<String> {
    [
        "--dispatch-tick",
        &tick.to_string(),
        "--webhook-url",
        stub.url(),
        "--webhook-secret",
        SECRET,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The outbox keyed by what the webhook hears (`x-proofline-escalation-id`, round), with
/// each row's state. Panics on a key held by two rows (the webhook would be told twice).
fn by_key(rows: &[OutboxRow]) -> BTreeMap<AlertKey, String> {
    let mut out = BTreeMap::new();
    for row in rows {
        assert!(row.is_webhook(), "only webhook rows are expected: {row:?}");
        let previous = out.insert(row.escalation_key(), row.state.clone());
        assert!(
            previous.is_none(),
            "two outbox rows tell the webhook of {:?}",
            row.escalation_key()
        );
    }
    out
}

fn stub_keys(counts: &StubCounts) -> BTreeSet<Uuid> {
    counts.per_key.keys().copied().collect()
}

/// When the SIGKILL comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KillAt {
    /// The first batch answered (and recorded), the second held by the stub, none of it
    /// answered: the stub is gated after [`DISPATCH_ROUND`] answers.
    WhileABatchIsHeld,
    /// Right after the stub answered the first alert of the second batch, the rest of the
    /// batch still held: inside the window between a receiver's answer and its record.
    RightAfterAnAnswer,
}

/// What a run saw.
struct Run {
    /// The stub at the kill (after the requests held then ended).
    at_kill: StubCounts,
    /// The outbox as the server died: state per alert.
    at_death: BTreeMap<AlertKey, String>,
    /// Answered by the stub before the kill but still pending in the outbox at death.
    unrecorded: BTreeSet<Uuid>,
    /// The outbox once drained.
    rows: Vec<OutboxRow>,
    /// The stub at the end.
    end: StubCounts,
}

/// Starts the stub and the server, imports the overdue routine, SIGKILLs the server at
/// `kill_at`, reads the outbox it left, restarts it and waits until it has sent everything.
/// Checks what holds wherever the kill lands: nothing lost, every row sent, the outbox is
/// what the engine says is due, and nothing recorded as sent before the kill is sent again.
fn run(kill_at: KillAt) -> Run {
    let began = Instant::now();
    let stub = match kill_at {
        KillAt::WhileABatchIsHeld => WebhookStub::start_gated(SECRET, HOLD_MS, DISPATCH_ROUND),
        KillAt::RightAfterAnAnswer => WebhookStub::start(SECRET, HOLD_MS),
    };
    let mut server = ServerProcess::start_with_args(server_bin!(), &dispatch_args(1, &stub))
        .expect("the server starts");
    let mut admin = AdminClient::new(&server.url(), server.admin_token());
    let now = Utc::now();
    let file = routines_file(now);
    admin.import(&file).expect("the routines file imports");
    let expected = expected_alerts(&file, now);
    assert!(
        expected.iter().all(|(_, round)| *round == 0),
        "no re-notification rounds: the stub keys alerts by escalation id alone"
    );
    println!(
        "{kill_at:?}: {} webhook alerts due; imported {} ms after the start",
        expected.len(),
        began.elapsed().as_millis()
    );

    // The SIGKILL, from this thread, as soon as the stub's counts say so.
    let killer = server.kill_handle();
    let trigger = stub
        .wait_until(FIRST_DELIVERIES, |c| {
            c.in_flight > 0
                && match kill_at {
                    KillAt::WhileABatchIsHeld => c.answered == DISPATCH_ROUND,
                    KillAt::RightAfterAnAnswer => c.answered > DISPATCH_ROUND,
                }
        })
        .unwrap_or_else(|| {
            panic!(
                "the stub never held a second batch within {FIRST_DELIVERIES:?}: {:?}\n{}",
                stub.counts(),
                server.log_tail(30)
            )
        });
    let killed_at = began.elapsed();
    assert!(killer.kill(), "the server was running when killed");
    // The held requests see their connections close: dropped, not counted.
    let at_kill = stub
        .wait_until(StdDuration::from_secs(10), |c| c.in_flight == 0)
        .expect("the held requests end once the server is gone");
    stub.open_gate();
    println!(
        "  SIGKILL {} ms after the start: the stub had answered {} and held {}; once the server was gone, {} answered, {} dropped",
        killed_at.as_millis(),
        trigger.answered,
        trigger.in_flight,
        at_kill.answered,
        at_kill.dropped,
    );

    // What the outbox held at the kill, read from the server started without dispatching.
    server.set_extra_args(&dispatch_args(0, &stub));
    server
        .restart()
        .expect("the server restarts without dispatching");
    admin.set_base(&server.url());
    let at_death = by_key(&admin.notifications(None).expect("the outbox at the kill"));
    assert_eq!(
        stub.counts(),
        at_kill,
        "a server with --dispatch-tick 0 sends nothing"
    );
    let answered_before = stub_keys(&at_kill);
    let unrecorded: BTreeSet<Uuid> = at_death
        .iter()
        .filter(|(key, state)| state.as_str() == "pending" && answered_before.contains(&key.0))
        .map(|(key, _)| key.0)
        .collect();
    let recorded_unanswered: Vec<&AlertKey> = at_death
        .iter()
        .filter(|(key, state)| state.as_str() == "sent" && !answered_before.contains(&key.0))
        .map(|(key, _)| key)
        .collect();
    let sent_at_death: BTreeSet<Uuid> = at_death
        .iter()
        .filter(|(_, state)| state.as_str() == "sent")
        .map(|(key, _)| key.0)
        .collect();
    println!(
        "  the outbox at the kill: {} rows, {} sent, {} pending; {} answered by the stub but not recorded",
        at_death.len(),
        sent_at_death.len(),
        at_death.len() - sent_at_death.len(),
        unrecorded.len(),
    );
    assert!(
        recorded_unanswered.is_empty(),
        "recorded as sent but never answered: {recorded_unanswered:?}"
    );

    // Restart for good and let it finish.
    server.set_extra_args(&dispatch_args(1, &stub));
    let restarted = Instant::now();
    server.restart().expect("the server restarts");
    admin.set_base(&server.url());
    let deadline = Instant::now() + DRAIN;
    loop {
        let pending = admin
            .notifications(Some("pending"))
            .expect("the pending notifications");
        if pending.is_empty() && stub.counts().in_flight == 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} notifications still pending {DRAIN:?} after the restart; the stub: {:?}\n{}",
            pending.len(),
            stub.counts(),
            server.log_tail(30)
        );
        std::thread::sleep(StdDuration::from_millis(100));
    }
    let drained_in = restarted.elapsed();
    let rows = admin.notifications(None).expect("the outbox");
    let end = stub.counts();
    let after = end.answered - at_kill.answered;
    println!(
        "  drained {} ms after the restart: {} alerts answered before the kill, {after} after; {} rows; {} ms in all",
        drained_in.as_millis(),
        at_kill.answered,
        rows.len(),
        began.elapsed().as_millis()
    );

    assert!(
        end.refused.is_empty(),
        "refused requests: {:?}",
        end.refused
    );
    assert!(
        at_kill.answered > 0 && after > 0,
        "deliveries both before ({}) and after ({after}) the kill",
        at_kill.answered
    );
    assert!(
        at_kill.dropped > 0,
        "requests were in flight when the server was killed"
    );
    let not_sent: Vec<&OutboxRow> = rows.iter().filter(|r| r.state != "sent").collect();
    assert!(not_sent.is_empty(), "rows not sent: {not_sent:#?}");
    let outbox = by_key(&rows);
    let sent: BTreeSet<AlertKey> = outbox.keys().copied().collect();
    assert_eq!(
        sent, expected,
        "the outbox holds the alerts the core engine says are due"
    );
    // None lost.
    let received = stub_keys(&end);
    let sent_ids: BTreeSet<Uuid> = sent.iter().map(|(id, _)| *id).collect();
    assert_eq!(
        received,
        sent_ids,
        "the stub received every alert sent ({} missing, {} unexpected)",
        sent_ids.difference(&received).count(),
        received.difference(&sent_ids).count()
    );
    // What was recorded as sent before the kill is not sent again.
    let resent: Vec<&Uuid> = sent_at_death
        .iter()
        .filter(|id| end.per_key.get(id) != Some(&1))
        .collect();
    assert!(
        resent.is_empty(),
        "alerts recorded as sent before the kill were sent again: {resent:?}"
    );
    Run {
        at_kill,
        at_death,
        unrecorded,
        rows,
        end,
    }
}

/// The Done-when of issue 5: killed while a batch of alerts is in flight (held by the
/// webhook, none of it answered yet), restarted: none lost, none sent twice.
#[test]
fn a_server_killed_mid_dispatch_loses_no_alert_and_sends_none_twice() {
    let run = run(KillAt::WhileABatchIsHeld);
    let twice = run.end.duplicates();
    assert!(
        twice.is_empty() && run.unrecorded.is_empty(),
        "{} alerts reached the webhook twice: {twice:?}; answered by the stub before the \
         SIGKILL but still pending in the outbox when the server died: {:?}",
        twice.len(),
        run.unrecorded
    );
    assert_eq!(
        run.end.answered,
        run.rows.len() as u64,
        "one request per alert"
    );
    assert_eq!(
        run.at_death
            .values()
            .filter(|s| s.as_str() == "sent")
            .count() as u64,
        run.at_kill.answered,
        "every alert answered before the kill was recorded as sent"
    );
}

/// The window no dispatcher can close: a webhook that answered an alert the server had not
/// yet recorded when it was killed gets that alert again after the restart, with the same
/// `x-proofline-escalation-id` (so a receiver can drop it). Exactly those alerts arrive
/// twice, and nothing else does.
#[test]
fn an_alert_answered_but_not_recorded_at_the_kill_is_sent_again_with_the_same_id() {
    let run = run(KillAt::RightAfterAnAnswer);
    let twice: BTreeSet<Uuid> = run.end.duplicates().into_iter().map(|(k, _)| k).collect();
    println!(
        "  {} alerts answered by the stub but not recorded when the server died; {} reached it twice",
        run.unrecorded.len(),
        twice.len()
    );
    assert_eq!(
        twice, run.unrecorded,
        "exactly the alerts answered but not recorded at the kill arrive twice"
    );
    assert!(
        run.end.per_key.values().all(|n| *n <= 2),
        "no alert arrives more than twice: {:?}",
        run.end.duplicates()
    );
    assert_eq!(
        run.end.answered,
        (run.rows.len() + run.unrecorded.len()) as u64
    );
}

/// A signed webhook request for `key`, as raw HTTP/1.1.
fn raw_request(key: Uuid) -> Vec<u8> {
    let body = serde_json::json!({ "escalation_id": key, "level": 1 }).to_string();
    let signature =
        proofline_push::webhook::sign(SECRET.as_bytes(), Utc::now().timestamp(), body.as_bytes());
    format!(
        "POST /hook HTTP/1.1\r\nhost: stub\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nx-proofline-signature: {signature}\r\n\
         x-proofline-escalation-id: {key}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The stub's premise: a request whose client goes away during the hold (as a SIGKILLed
/// server's connections do) is not counted, and one whose client waits is, once.
#[test]
fn the_stub_does_not_count_a_request_whose_connection_drops() {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    let stub = WebhookStub::start(SECRET, (500, 500));
    let addr = stub
        .url()
        .trim_start_matches("http://")
        .trim_end_matches("/hook")
        .to_string();
    let wait = StdDuration::from_secs(10);

    let gone = Uuid::from_u128(1);
    let mut stream = TcpStream::connect(&addr).expect("connect");
    stream.write_all(&raw_request(gone)).expect("send");
    stub.wait_until(wait, |c| c.in_flight == 1)
        .expect("the request is held");
    drop(stream);
    let counts = stub
        .wait_until(wait, |c| c.in_flight == 0)
        .expect("the hold ends");
    assert_eq!(
        (counts.dropped, counts.answered),
        (1, 0),
        "dropped, not counted"
    );
    assert!(counts.per_key.is_empty(), "{counts:?}");

    let kept = Uuid::from_u128(2);
    let mut stream = TcpStream::connect(&addr).expect("connect");
    stream.set_read_timeout(Some(wait)).expect("a read timeout");
    stream.write_all(&raw_request(kept)).expect("send");
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).expect("the answer");
    assert_eq!(&answer, b"HTTP/1.1 200");
    let counts = stub.counts();
    assert_eq!((counts.dropped, counts.answered), (1, 1));
    assert_eq!(counts.per_key.get(&kept), Some(&1));
    assert!(counts.refused.is_empty(), "{:?}", counts.refused);
}
