//! The device side of sync against a small in-process fake of the server (plain HTTP/1.1
//! on the loopback, one connection per request): enrolling, a day's work synced photos
//! first, rulings recorded, a sequence gap left pending, a failing server and a revoked
//! token, pulled definitions and thumbnails, and a large photo resuming from the server's
//! offset. The real server is tested end to end in `tests/`.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use proofline_core::device::{Device, DeviceError, EnrollOptions};
use proofline_core::model::{
    DeviceId, EventId, Org, PersonId, Routine, SiteId, StepAnswer, StepResult,
};
use proofline_core::proof::sha256_hex;
use proofline_core::routines_file::{load_routines_file, person_id};
use proofline_core::store::{
    BlobKind, DB_FILE, Event, EventPayload, GENESIS_HASH, Store, SyncState,
};
use proofline_core::sync::client::{BlobUpload, ClientOptions, SyncClient};
use proofline_core::sync::protocol::{
    BlobReceipt, DEFAULT_PULL_LIMIT, EnrollRequest, EnrollResponse, ErrorBody, HEADER_SHA256,
    HEADER_UPLOAD_LENGTH, HEADER_UPLOAD_OFFSET, MAX_PULL_LIMIT, PullResponse, PulledEvent,
    PushOutcome, PushRequest, PushResponse, PushResult, RejectCode, SiteMembership,
};
use uuid::Uuid;

const CODE: &str = "7KQ2-M9XD-4FHP";
const TOKEN: &str = "pl_test_token";
const SERVER_CHAIN: DeviceId = DeviceId(Uuid::from_u128(0x5e));
const SAMS_PHONE: DeviceId = DeviceId(Uuid::from_u128(0x5a));

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("test instant")
        .with_timezone(&Utc)
}

fn restaurant() -> Org {
    load_routines_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/restaurant.toml"))
        .expect("example loads")
}

// -----------------------------------------------------------------------------------------
// The fake server

#[derive(Default)]
struct Fake {
    /// The device id the next enrollment gets.
    device: Option<DeviceId>,
    person: Option<PersonId>,
    site: Option<SiteId>,
    server_time: Option<DateTime<Utc>>,
    /// Every accepted event in server order.
    log: Vec<PulledEvent>,
    accepted: HashSet<EventId>,
    next_seq: HashMap<DeviceId, u64>,
    /// Events to reject with `not_allowed`.
    reject: HashSet<EventId>,
    blobs: HashMap<String, Vec<u8>>,
    partial: HashMap<String, Vec<u8>>,
    /// Photo → thumbnail sha.
    thumbnails: HashMap<String, String>,
    /// Answer this many requests with 503 first.
    failing: u32,
    /// Answer the next PATCH with 409 at this offset.
    conflict_at: Option<u64>,
    revoked: bool,
    /// "METHOD /path" of every request, in order.
    requests: Vec<String>,
    /// The `limit` of every pull, in order.
    pull_limits: Vec<usize>,
}

impl Fake {
    fn append(&mut self, event: Event, skew: Option<i64>) {
        let server_seq = self.log.len() as u64 + 1;
        self.accepted.insert(event.id);
        self.next_seq.insert(event.device, event.seq + 1);
        self.log.push(PulledEvent {
            server_seq,
            event,
            received_at: self.server_time.unwrap_or_default(),
            clock_skew_ms: skew,
        });
    }

    /// The next events of a chain the fake writes itself (the server's definitions, Sam's
    /// phone).
    fn seal(
        &self,
        device: DeviceId,
        site: SiteId,
        author: PersonId,
        payload: EventPayload,
    ) -> Event {
        let seq = self.next_seq.get(&device).copied().unwrap_or(1);
        let prev = self
            .log
            .iter()
            .rev()
            .find(|p| p.event.device == device)
            .map_or_else(|| GENESIS_HASH.to_string(), |p| p.event.hash.clone());
        let id = match &payload {
            EventPayload::Completed(c) => c.id,
            _ => EventId(Uuid::from_u128(
                0xe000 + u128::from(seq) + ((device.0.as_u128() & 0xff) << 32),
            )),
        };
        Event::seal(
            id,
            site,
            author,
            device,
            seq,
            at("2026-12-09T10:00:00Z"),
            payload,
            prev,
        )
        .expect("seal")
    }
}

struct Server {
    url: String,
    state: Arc<Mutex<Fake>>,
}

impl Server {
    /// A fake holding the restaurant's definitions, enrolling Maria.
    fn start(now: DateTime<Utc>) -> Server {
        let org = restaurant();
        let site = org.sites[0].id;
        let mut fake = Fake {
            device: Some(DeviceId(Uuid::from_u128(0xd0))),
            person: Some(person_id("maria")),
            site: Some(site),
            server_time: Some(now + chrono::Duration::seconds(2)),
            ..Fake::default()
        };
        let admin = person_id("@admin");
        let mut payloads = vec![EventPayload::OrgNamed {
            name: org.name.clone(),
        }];
        payloads.extend(org.sites.iter().cloned().map(EventPayload::SiteDefined));
        payloads.extend(org.people.iter().cloned().map(EventPayload::PersonDefined));
        payloads.extend(
            org.routines
                .iter()
                .cloned()
                .map(EventPayload::RoutineDefined),
        );
        for payload in payloads {
            let event = fake.seal(SERVER_CHAIN, site, admin, payload);
            fake.append(event, None);
        }
        let state = Arc::new(Mutex::new(fake));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = serve(stream, &shared);
            }
        });
        Server { url, state }
    }

    fn fake(&self) -> MutexGuard<'_, Fake> {
        self.state.lock().expect("fake")
    }
}

struct Request {
    method: String,
    path: String,
    query: HashMap<String, String>,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn json(status: u16, value: &impl serde::Serialize) -> Answer {
    Answer {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: serde_json::to_vec(value).expect("json"),
    }
}

fn error(status: u16, code: &str, message: &str) -> Answer {
    json(
        status,
        &ErrorBody {
            error: code.into(),
            message: message.into(),
        },
    )
}

fn serve(stream: TcpStream, state: &Arc<Mutex<Fake>>) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q),
        None => (target.clone(), ""),
    };
    let query = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let request = Request {
        method,
        path,
        query,
        headers,
        body,
    };
    let answer = {
        let mut fake = state.lock().expect("fake");
        fake.requests
            .push(format!("{} {}", request.method, request.path));
        route(&mut fake, &request)
    };
    let mut out = stream;
    let reason = match answer.status {
        200 => "OK",
        201 => "Created",
        401 => "Unauthorized",
        404 => "Not Found",
        409 => "Conflict",
        503 => "Service Unavailable",
        _ => "Other",
    };
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nconnection: close\r\ncontent-length: {}\r\n",
        answer.status,
        if request.method == "HEAD" {
            0
        } else {
            answer.body.len()
        }
    );
    for (k, v) in &answer.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    out.write_all(head.as_bytes())?;
    if request.method != "HEAD" {
        out.write_all(&answer.body)?;
    }
    out.flush()
}

fn route(fake: &mut Fake, r: &Request) -> Answer {
    if fake.failing > 0 {
        fake.failing -= 1;
        return error(503, "unavailable", "the server is restarting");
    }
    if r.method == "POST" && r.path == "/v1/enroll" {
        let Ok(request) = serde_json::from_slice::<EnrollRequest>(&r.body) else {
            return error(400, "bad_request", "malformed enrollment");
        };
        if request.code != CODE {
            return error(401, "invalid_code", "this enrollment code is not valid");
        }
        let (Some(device), Some(person), Some(site)) = (fake.device, fake.person, fake.site) else {
            return error(500, "internal", "fake not set up");
        };
        return json(
            200,
            &EnrollResponse {
                token: TOKEN.into(),
                device,
                person,
                person_name: "Maria Lopez".into(),
                org_name: "Harbor Kitchen Group".into(),
                sites: vec![SiteMembership {
                    site,
                    site_name: "Harbor Kitchen".into(),
                    role: proofline_core::model::Role::Staff,
                }],
                server_time: fake.server_time.unwrap_or_default(),
            },
        );
    }
    let bearer = r.headers.get("authorization").map(String::as_str);
    if bearer != Some(&format!("Bearer {TOKEN}")) || fake.revoked {
        return error(401, "unauthorized", "this device was revoked by an admin");
    }
    let server_time = fake.server_time.unwrap_or_default();
    match (r.method.as_str(), r.path.as_str()) {
        ("POST", "/v1/sync/push") => {
            let Ok(push) = serde_json::from_slice::<PushRequest>(&r.body) else {
                return error(400, "bad_request", "malformed push");
            };
            let mut results = Vec::new();
            for event in push.events {
                let id = event.id;
                let expected = fake.next_seq.get(&event.device).copied().unwrap_or(1);
                let outcome = if fake.accepted.contains(&event.id) {
                    PushOutcome::Duplicate
                } else if event.seq != expected {
                    PushOutcome::Rejected {
                        code: RejectCode::SequenceGap,
                        reason: format!("expected event {expected}"),
                        expected_seq: Some(expected),
                    }
                } else if fake.reject.contains(&event.id) {
                    fake.next_seq.insert(event.device, event.seq + 1);
                    PushOutcome::Rejected {
                        code: RejectCode::NotAllowed,
                        reason: "Maria Lopez may not do this at Harbor Kitchen".into(),
                        expected_seq: None,
                    }
                } else {
                    fake.append(event, None);
                    PushOutcome::Accepted {
                        server_seq: fake.log.len() as u64,
                    }
                };
                results.push(PushResult { id, outcome });
            }
            json(
                200,
                &PushResponse {
                    results,
                    server_time,
                },
            )
        }
        ("GET", "/v1/sync/pull") => {
            let after: u64 = r
                .query
                .get("after")
                .and_then(|a| a.parse().ok())
                .unwrap_or(0);
            let limit: usize = r
                .query
                .get("limit")
                .and_then(|l| l.parse().ok())
                .unwrap_or(1000);
            fake.pull_limits.push(limit);
            let me = fake.device;
            let newer: Vec<&PulledEvent> = fake
                .log
                .iter()
                .filter(|p| p.server_seq > after && Some(p.event.device) != me)
                .collect();
            let events: Vec<PulledEvent> = newer.iter().take(limit).map(|p| (*p).clone()).collect();
            let next = events.last().map_or(after, |p| p.server_seq);
            json(
                200,
                &PullResponse {
                    more: newer.len() > events.len(),
                    events,
                    next: next.to_string(),
                    server_time,
                },
            )
        }
        (method, path) if path.starts_with("/v1/blobs/") => {
            let rest = &path["/v1/blobs/".len()..];
            if let Some(photo) = rest.strip_suffix("/thumbnail") {
                let Some(thumb) = fake.thumbnails.get(photo).cloned() else {
                    return error(404, "not_found", "no such thumbnail");
                };
                let Some(bytes) = fake.blobs.get(&thumb).cloned() else {
                    return error(404, "not_found", "no such thumbnail");
                };
                return Answer {
                    status: 200,
                    headers: vec![(HEADER_SHA256.into(), thumb)],
                    body: bytes,
                };
            }
            let sha = rest.to_string();
            let kind = match r.headers.get("x-proofline-kind").map(String::as_str) {
                Some("thumbnail") => BlobKind::Thumbnail,
                _ => BlobKind::Photo,
            };
            match method {
                "HEAD" => {
                    if fake.blobs.contains_key(&sha) {
                        Answer {
                            status: 200,
                            headers: vec![],
                            body: vec![],
                        }
                    } else {
                        let held = fake.partial.get(&sha).map_or(0, Vec::len);
                        Answer {
                            status: 404,
                            headers: vec![(HEADER_UPLOAD_OFFSET.into(), held.to_string())],
                            body: vec![],
                        }
                    }
                }
                "PUT" => {
                    if sha256_hex(&r.body) != sha {
                        return error(422, "hash_mismatch", "the bytes do not match");
                    }
                    fake.blobs.insert(sha.clone(), r.body.clone());
                    receipt(&sha, r.body.len(), true, kind)
                }
                "PATCH" => {
                    let offset: u64 = r
                        .headers
                        .get(HEADER_UPLOAD_OFFSET)
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(u64::MAX);
                    let total: usize = r
                        .headers
                        .get(HEADER_UPLOAD_LENGTH)
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    if let Some(conflict) = fake.conflict_at.take() {
                        fake.partial
                            .entry(sha.clone())
                            .or_default()
                            .truncate(conflict as usize);
                        return Answer {
                            status: 409,
                            headers: vec![(HEADER_UPLOAD_OFFSET.into(), conflict.to_string())],
                            body: serde_json::to_vec(&ErrorBody {
                                error: "offset_mismatch".into(),
                                message: "wrong offset".into(),
                            })
                            .expect("json"),
                        };
                    }
                    let held = fake.partial.entry(sha.clone()).or_default();
                    if offset != held.len() as u64 {
                        let held = held.len();
                        return Answer {
                            status: 409,
                            headers: vec![(HEADER_UPLOAD_OFFSET.into(), held.to_string())],
                            body: vec![],
                        };
                    }
                    held.extend_from_slice(&r.body);
                    let received = held.len();
                    if received == total {
                        let bytes = fake.partial.remove(&sha).unwrap_or_default();
                        if sha256_hex(&bytes) != sha {
                            return error(422, "hash_mismatch", "the bytes do not match");
                        }
                        fake.blobs.insert(sha.clone(), bytes);
                        receipt(&sha, received, true, kind)
                    } else {
                        receipt(&sha, received, false, kind)
                    }
                }
                _ => error(405, "method_not_allowed", "no"),
            }
        }
        _ => error(404, "not_found", "no such route"),
    }
}

fn receipt(sha: &str, received: usize, complete: bool, kind: BlobKind) -> Answer {
    json(
        200,
        &BlobReceipt {
            sha256: sha.to_string(),
            received: received as u64,
            complete,
            kind,
        },
    )
}

// -----------------------------------------------------------------------------------------
// Helpers

fn enroll(server: &Server, dir: &Path, now: DateTime<Utc>) -> Device {
    Device::enroll(
        dir,
        &server.url,
        CODE,
        EnrollOptions {
            platform: Some("cli".into()),
            device_name: Some("Till 2".into()),
        },
        now,
    )
    .expect("enroll")
}

fn routine<'o>(org: &'o Org, key: &str) -> &'o Routine {
    org.routines.iter().find(|r| r.key == key).expect("routine")
}

fn leaf_photo() -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/fixtures/photos/leaf-2560x1600.jpg"),
    )
    .or_else(|_| std::fs::read("/work/shared/fixtures/photos/leaf-2560x1600.jpg"))
    .expect("fixture photo")
}

fn reading(step: &str, value: f64) -> StepResult {
    StepResult {
        step: step.into(),
        answer: StepAnswer::Reading {
            value,
            corrective_action: None,
        },
    }
}

fn checked(step: &str) -> StepResult {
    StepResult {
        step: step.into(),
        answer: StepAnswer::Checked,
    }
}

// -----------------------------------------------------------------------------------------
// Scenarios

#[test]
fn enrolling_sets_the_device_up_from_the_server_and_pulls_its_definitions() {
    let now = at("2026-12-09T10:00:00Z");
    let server = Server::start(now);
    let tmp = tempfile::tempdir().expect("dir");
    let dir = tmp.path().join("maria");
    let device = enroll(&server, &dir, now);

    let identity = device.identity();
    assert_eq!(identity.device, DeviceId(Uuid::from_u128(0xd0)));
    assert_eq!(identity.person, person_id("maria"));
    let org = device.org();
    assert_eq!(org.name, "Harbor Kitchen Group");
    assert_eq!(org.routines.len(), 6);
    let status = device.sync_status().expect("status");
    assert_eq!(status.server.as_deref(), Some(server.url.as_str()));
    assert_eq!(status.last_sync_at, Some(now));
    assert_eq!(status.last_error, None);
    let offset = status.last_clock_offset_ms.expect("offset");
    assert!((1_000..=2_000).contains(&offset), "{offset}");
    assert!(!status.clock_skew_warning);
    // No imported definitions: the device's own chain is empty, every event is remote.
    let report = device.verify_chain().expect("verify");
    assert_eq!((report.local_events, report.import_events), (0, 0));
    drop(device);

    // Opened again, it is the same device.
    let again = Device::open(&dir).expect("open");
    assert_eq!(again.org().routines.len(), 6);
    assert!(again.today(at("2026-12-09T12:05:00Z")).is_ok());
}

#[test]
fn a_wrong_code_sets_nothing_up_and_says_what_to_do() {
    let now = at("2026-12-09T10:00:00Z");
    let server = Server::start(now);
    let tmp = tempfile::tempdir().expect("dir");
    let dir = tmp.path().join("maria");
    let err = Device::enroll(&dir, &server.url, "WRONG", EnrollOptions::default(), now)
        .expect_err("refused");
    match err {
        DeviceError::Unauthorized(m) => assert_eq!(
            m,
            "this enrollment code is not valid; ask your supervisor for a new enrollment code"
        ),
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    assert!(matches!(Device::open(&dir), Err(DeviceError::NotFound(_))));

    let err = Device::enroll(
        &dir,
        "http://127.0.0.1:1",
        CODE,
        EnrollOptions::default(),
        now,
    )
    .expect_err("offline");
    assert!(
        matches!(&err, DeviceError::Offline(m) if m.contains("nothing was set up")),
        "{err:?}"
    );
    let err = Device::enroll(&dir, "harbor.example", CODE, EnrollOptions::default(), now)
        .expect_err("bad address");
    assert!(matches!(err, DeviceError::InvalidInput(_)), "{err:?}");

    // Once enrolled, enrolling the same directory again is refused before the code is used.
    enroll(&server, &dir, now);
    let requests = server.fake().requests.len();
    let err = Device::enroll(&dir, &server.url, CODE, EnrollOptions::default(), now)
        .expect_err("already");
    assert!(
        matches!(&err, DeviceError::InvalidInput(m) if m.contains("Maria Lopez")),
        "{err:?}"
    );
    assert_eq!(server.fake().requests.len(), requests);
}

#[test]
fn a_day_of_work_syncs_photos_first_and_records_every_ruling() {
    let now = at("2026-12-09T10:00:00Z");
    let server = Server::start(now);
    let tmp = tempfile::tempdir().expect("dir");
    let device = enroll(&server, &tmp.path().join("maria"), now);
    let org = device.org();
    let site = org.sites[0].id;
    let opening = routine(&org, "opening-checks").id;
    let fridge = routine(&org, "fridge-temps").id;
    let work = at("2026-12-09T12:05:00Z"); // 07:05 in New York
    let today = device.today(work).expect("today");
    let occ = |routine, hour: u32| {
        today
            .iter()
            .find(|i| {
                i.occurrence.routine == routine
                    && i.occurrence.due == at(&format!("2026-12-09T{:02}:00:00Z", hour + 5))
            })
            .map(|i| i.occurrence.id)
            .expect("occurrence")
    };
    let photo = device.capture_photo(&leaf_photo(), work).expect("photo");
    let opened = device
        .complete(
            occ(opening, 7),
            vec![checked("handwash"), checked("sanitizer")],
            vec![photo.sha256.clone()],
            None,
            work,
        )
        .expect("opening");
    let fridge_done = device
        .complete(
            occ(fridge, 6),
            vec![reading("walk-in", 3.0), reading("reach-in", 4.0)],
            vec![],
            None,
            work,
        )
        .expect("fridge");
    server.fake().reject.insert(fridge_done.id);
    assert_eq!(device.sync_status().expect("status").pending_uploads, 1);

    let report = device.sync(at("2026-12-09T12:10:00Z")).expect("sync");
    assert!(report.complete, "{:?}", report.errors);
    assert_eq!(report.uploaded_blobs, 2, "the photo and its thumbnail");
    assert_eq!(
        report.uploaded_bytes,
        photo.bytes
            + server
                .fake()
                .blobs
                .get(&photo.thumb_sha256)
                .map_or(0, |b| b.len() as u64)
    );
    assert_eq!(
        (report.pushed, report.accepted, report.duplicates),
        (2, 1, 0)
    );
    assert_eq!(report.rejected.len(), 1);
    let rejected = &report.rejected[0];
    assert_eq!(rejected.event, fridge_done.id);
    assert_eq!(rejected.code, RejectCode::NotAllowed);
    assert_eq!(
        rejected.subject,
        "completion of Fridge temperatures (Harbor Kitchen) due Wed 9 Dec 2026 06:00"
    );
    // Blobs went up before the events that reference them.
    let requests = server.fake().requests.clone();
    let first_push = requests
        .iter()
        .position(|r| r == "POST /v1/sync/push")
        .expect("pushed");
    let photo_put = requests
        .iter()
        .position(|r| *r == format!("PUT /v1/blobs/{}", photo.sha256))
        .expect("photo uploaded");
    assert!(photo_put < first_push, "{requests:?}");
    assert!(server.fake().blobs.contains_key(&photo.thumb_sha256));

    // The rejected completion stays visible with its reason but counts nowhere.
    let outbox = device.outbox().expect("outbox");
    assert_eq!(outbox.len(), 2);
    assert_eq!(outbox[0].state, SyncState::Accepted);
    assert_eq!(
        outbox[1].state,
        SyncState::Rejected {
            reason: "Maria Lopez may not do this at Harbor Kitchen".into()
        }
    );
    let statuses = device
        .statuses(
            site,
            at("2026-12-09T05:00:00Z"),
            at("2026-12-10T05:00:00Z"),
            work,
        )
        .expect("statuses");
    let counted = |routine, due: &str| {
        statuses
            .iter()
            .find(|s| s.routine == routine && s.due == at(due))
            .map(|s| (s.status, s.counted_completion))
            .expect("status")
    };
    assert_eq!(
        counted(opening, "2026-12-09T12:00:00Z"),
        (
            proofline_core::occurrence::Status::DoneOnTime,
            Some(opened.id)
        )
    );
    assert_eq!(
        counted(fridge, "2026-12-09T11:00:00Z").1,
        None,
        "the rejected completion does not count"
    );
    let status = device.sync_status().expect("status");
    assert_eq!(
        (
            status.pending_events,
            status.rejected_events,
            status.pending_uploads
        ),
        (0, 1, 0)
    );
    assert_eq!(
        device
            .thumbnail(&photo.sha256)
            .expect("thumb")
            .map(|b| sha256_hex(&b)),
        Some(photo.thumb_sha256.clone())
    );

    // Nothing left: a second sync sends nothing and changes nothing.
    let again = device.sync(at("2026-12-09T12:15:00Z")).expect("again");
    assert!(again.complete);
    assert_eq!(
        (again.pushed, again.uploaded_blobs, again.pulled),
        (0, 0, 0)
    );
}

#[test]
fn a_sequence_gap_leaves_the_events_pending() {
    let now = at("2026-12-09T10:00:00Z");
    let server = Server::start(now);
    let tmp = tempfile::tempdir().expect("dir");
    let dir = tmp.path().join("maria");
    let device = enroll(&server, &dir, now);
    let org = device.org();
    let fridge = routine(&org, "fridge-temps").id;
    let work = at("2026-12-09T15:05:00Z");
    let today = device.today(work).expect("today");
    let mut done = Vec::new();
    for item in today
        .iter()
        .filter(|i| i.occurrence.routine == fridge)
        .take(2)
    {
        done.push(
            device
                .complete(
                    item.occurrence.id,
                    vec![reading("walk-in", 3.0), reading("reach-in", 4.0)],
                    vec![],
                    None,
                    work,
                )
                .expect("complete"),
        );
    }
    // The first was marked accepted here, but the server never got it (restored from an
    // old backup): it expects #1 while the device sends #2.
    let mut store = Store::open(&dir.join(DB_FILE)).expect("store");
    store
        .set_sync_state(done[0].id, &SyncState::Accepted, work)
        .expect("mark");

    let report = device.sync(work).expect("sync");
    assert!(!report.complete);
    assert_eq!((report.pushed, report.accepted), (1, 0));
    assert!(report.rejected.is_empty(), "a gap is not a final rejection");
    assert!(
        report.errors[0].contains("expects event #1 of this device next, not #2"),
        "{:?}",
        report.errors
    );
    assert_eq!(device.sync_status().expect("status").pending_events, 1);
    assert_eq!(
        device.sync_status().expect("status").last_error.as_deref(),
        report.errors.first().map(String::as_str)
    );
}

#[test]
fn a_failing_server_loses_nothing_and_a_revoked_token_says_enroll_again() {
    let now = at("2026-12-09T10:00:00Z");
    let server = Server::start(now);
    let tmp = tempfile::tempdir().expect("dir");
    let device = enroll(&server, &tmp.path().join("maria"), now);
    let org = device.org();
    let fridge = routine(&org, "fridge-temps").id;
    let work = at("2026-12-09T11:05:00Z");
    let item = device
        .today(work)
        .expect("today")
        .into_iter()
        .find(|i| i.occurrence.routine == fridge)
        .expect("fridge");
    device
        .complete(
            item.occurrence.id,
            vec![reading("walk-in", 3.0), reading("reach-in", 4.0)],
            vec![],
            None,
            work,
        )
        .expect("complete");

    // Every attempt answered 503 (first try and three retries): reported, not an error.
    server.fake().failing = 4;
    let report = device.sync(work).expect("sync reports");
    assert!(!report.complete);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert!(
        report.errors[0].contains("is not working right now (503: the server is restarting)"),
        "{}",
        report.errors[0]
    );
    assert!(report.errors[0].ends_with("nothing is lost, the next sync resumes"));
    assert_eq!(device.sync_status().expect("status").pending_events, 1);

    // Two 503s are retried through.
    server.fake().failing = 2;
    let report = device.sync(work).expect("sync");
    assert!(report.complete, "{:?}", report.errors);
    assert_eq!(report.accepted, 1);

    server.fake().revoked = true;
    match device.sync(work) {
        Err(DeviceError::Unauthorized(m)) => assert_eq!(
            m,
            "the server no longer accepts this device: this device was revoked by an admin; \
             ask your supervisor for a new enrollment code and enroll again"
        ),
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    assert!(
        device
            .sync_status()
            .expect("status")
            .last_error
            .is_some_and(|e| e.contains("revoked"))
    );
}

#[test]
fn pulled_definitions_refresh_the_org_and_thumbnails_arrive_with_their_skew_flag() {
    let now = at("2026-12-09T10:00:00Z");
    let server = Server::start(now);
    let tmp = tempfile::tempdir().expect("dir");
    let device = enroll(&server, &tmp.path().join("maria"), now);
    let org = device.org();
    let site = org.sites[0].id;
    let fridge = routine(&org, "fridge-temps").clone();

    // The admin renames a routine; Sam's phone, 7 minutes off, completes a check with a
    // photo and uploads it.
    let thumb = b"a small jpeg".to_vec();
    let thumb_sha = sha256_hex(&thumb);
    let photo_sha = sha256_hex(b"the full photo");
    let sams = {
        let mut fake = server.fake();
        let mut renamed = fridge.clone();
        renamed.version += 1;
        renamed.title = "Fridge and freezer temperatures".into();
        let event = fake.seal(
            SERVER_CHAIN,
            site,
            person_id("@admin"),
            EventPayload::RoutineDefined(renamed),
        );
        fake.append(event, None);
        let due = at("2026-12-09T11:00:00Z");
        let completion = proofline_core::model::Completion {
            id: EventId(Uuid::from_u128(0x5a01)),
            occurrence: proofline_core::occurrence::occurrence_id(fridge.id, due),
            due,
            routine: fridge.id,
            routine_version: 1,
            by: person_id("sam"),
            at: at("2026-12-09T11:05:00Z"),
            results: vec![
                reading("walk-in", 3.0),
                reading("reach-in", 4.0),
                StepResult {
                    step: "photo".into(),
                    answer: StepAnswer::Photos {
                        sha256: vec![photo_sha.clone()],
                    },
                },
            ],
            note: None,
        };
        let event = fake.seal(
            SAMS_PHONE,
            site,
            person_id("sam"),
            EventPayload::Completed(completion),
        );
        let id = event.id;
        fake.append(event, Some(-420_000));
        fake.blobs.insert(thumb_sha.clone(), thumb.clone());
        fake.thumbnails.insert(photo_sha.clone(), thumb_sha.clone());
        id
    };

    let report = device.sync(at("2026-12-09T11:30:00Z")).expect("sync");
    assert!(report.complete, "{:?}", report.errors);
    assert_eq!(report.pulled, 2);
    assert_eq!(report.thumbnails_fetched, 1);
    assert_eq!(
        routine(&device.org(), "fridge-temps").title,
        "Fridge and freezer temperatures"
    );
    assert_eq!(device.thumbnail(&photo_sha).expect("thumb"), Some(thumb));
    assert_eq!(device.skewed_completions().expect("skewed"), vec![sams]);

    let again = device.sync(at("2026-12-09T11:35:00Z")).expect("again");
    assert_eq!((again.pulled, again.thumbnails_fetched), (0, 0));
    assert!(again.complete);
}

#[test]
fn a_large_photo_resumes_from_the_offset_the_server_reports() {
    let now = at("2026-12-09T10:00:00Z");
    let server = Server::start(now);
    // 600 kB of pseudo-random bytes: three chunks.
    let mut bytes = Vec::with_capacity(600_000);
    let mut x: u32 = 0x1234_5678;
    while bytes.len() < 600_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    let sha = sha256_hex(&bytes);
    {
        // An earlier attempt got 100 000 bytes through; then the server lost the last
        // 40 000 of them (it answers the first PATCH with 409 at 60 000).
        let mut fake = server.fake();
        fake.partial.insert(sha.clone(), bytes[..100_000].to_vec());
        fake.conflict_at = Some(60_000);
    }
    let client =
        SyncClient::new(&server.url, Some(TOKEN), ClientOptions::default()).expect("client");
    let outcome = client
        .upload_blob(&BlobUpload {
            sha256: &sha,
            bytes: &bytes,
            kind: BlobKind::Photo,
            site: SiteId(Uuid::from_u128(1)),
            photo: None,
            width: 1600,
            height: 1200,
            captured_at: now,
        })
        .expect("upload");
    assert!(!outcome.already_stored);
    assert_eq!(outcome.sent_bytes, 600_000 - 60_000);
    assert_eq!(server.fake().blobs.get(&sha), Some(&bytes));
    let patches = server
        .fake()
        .requests
        .iter()
        .filter(|r| r.starts_with("PATCH"))
        .count();
    assert_eq!(
        patches, 4,
        "one refused at 100 000, then 60 000 → 600 000 in 3"
    );

    // Stored: a second upload sends nothing.
    let again = client
        .upload_blob(&BlobUpload {
            sha256: &sha,
            bytes: &bytes,
            kind: BlobKind::Photo,
            site: SiteId(Uuid::from_u128(1)),
            photo: None,
            width: 1600,
            height: 1200,
            captured_at: now,
        })
        .expect("again");
    assert!(again.already_stored);
    assert_eq!(again.sent_bytes, 0);
}

#[test]
fn a_device_far_behind_pulls_in_large_pages_and_stops_before_a_damaged_one() {
    let now = at("2026-12-09T10:00:00Z");
    let server = Server::start(now);
    let org = restaurant();
    let fridge = routine(&org, "fridge-temps").id;
    // Sam's phone has months of completions on the server; one of them was damaged on
    // the way (its note changed after it was sealed).
    const SAMS: usize = 8_000;
    let (total, damaged) = {
        let mut fake = server.fake();
        let site = fake.site.expect("site");
        let start = at("2026-06-01T00:00:00Z");
        for i in 0..SAMS {
            let due = start + chrono::Duration::minutes(15 * i as i64);
            let completion = proofline_core::model::Completion {
                id: EventId(Uuid::from_u128(0x7000_0000 + i as u128)),
                occurrence: proofline_core::occurrence::occurrence_id(fridge, due),
                due,
                routine: fridge,
                routine_version: 1,
                by: person_id("sam"),
                at: due + chrono::Duration::minutes(4),
                results: vec![reading("walk-in", 3.0), reading("reach-in", 4.0)],
                note: None,
            };
            let event = fake.seal(
                SAMS_PHONE,
                site,
                person_id("sam"),
                EventPayload::Completed(completion),
            );
            fake.append(event, None);
        }
        let damaged = 7_000;
        let intact = fake.log[damaged].event.clone();
        if let EventPayload::Completed(c) = &mut fake.log[damaged].event.payload {
            c.note = Some("changed on the way".into());
        }
        (fake.log.len(), (damaged, intact))
    };
    let tmp = tempfile::tempdir().expect("dir");
    let dir = tmp.path().join("maria");
    let device = enroll(&server, &dir, now);

    // The first page has the default size; the link is fast, so the next ones are as
    // large as the server allows. The page holding the damaged event is refused whole:
    // everything before it is stored, with the cursor after the last good page.
    assert_eq!(
        server.fake().pull_limits,
        [DEFAULT_PULL_LIMIT, MAX_PULL_LIMIT, MAX_PULL_LIMIT]
    );
    let stored = DEFAULT_PULL_LIMIT + MAX_PULL_LIMIT;
    assert!(damaged.0 >= stored && damaged.0 < stored + MAX_PULL_LIMIT);
    let status = device.sync_status().expect("status");
    let error = status.last_error.expect("the first sync did not complete");
    assert!(
        error.contains("hash does not match") && error.contains("nothing of that page was stored"),
        "{error}"
    );
    let store = Store::open(&dir.join(DB_FILE)).expect("store");
    assert_eq!(store.event_counts().expect("counts"), (0, 0, stored as u64));
    assert_eq!(
        store.cursor(&server.url).expect("cursor"),
        Some(stored.to_string())
    );
    assert_eq!(device.org().routines.len(), 6);

    // Repaired on the server, the next sync goes on from the cursor and completes.
    {
        let mut fake = server.fake();
        fake.log[damaged.0].event = damaged.1;
        fake.pull_limits.clear();
    }
    let report = device.sync(at("2026-12-09T10:05:00Z")).expect("sync");
    assert!(report.complete, "{:?}", report.errors);
    assert_eq!(report.pulled as usize, total - stored);
    assert_eq!(server.fake().pull_limits[0], DEFAULT_PULL_LIMIT);
    assert_eq!(store.event_counts().expect("counts"), (0, 0, total as u64));
    let history = store
        .history(&proofline_core::store::HistoryWindow::everything())
        .expect("history");
    assert_eq!(history.completions.len(), SAMS);
}
