//! Events: the append-only log every state is derived from, and the per-device hash chain
//! that makes a deleted or altered event detectable in an audit.
//!
//! Plain data and hashing only, no SQLite: the sync server reuses these types and
//! recomputes [`Event::compute_hash`] on every event it accepts.
//!
//! # The hash (part of the sync contract)
//!
//! ```text
//! hash = lowercase hex( SHA-256( serde_json::to_vec(HashInput) ) )
//!
//! HashInput = {"id":…,"site":…,"author":…,"device":…,"seq":…,"device_time":…,
//!              "payload":…,"prev_hash":…}
//! ```
//!
//! That is: compact JSON (no spaces), keys in exactly that order, every field of the
//! [`Event`] except `hash`. Ids are lowercase hyphenated UUIDs, `seq` a JSON integer,
//! `device_time` (and every instant inside the payload) RFC 3339 in UTC with a `Z` suffix
//! and fractional seconds only when non-zero (chrono's serde form, e.g.
//! `2026-03-09T11:05:00Z`), `payload` the adjacently tagged [`EventPayload`]
//! (`{"type":"completed","data":{…}}`) with every field of the model type in declaration
//! order (absent options as `null`), and `prev_hash` the `hash` of the previous event of
//! the same device ([`GENESIS_HASH`], 64 zeros, for `seq` 1). The bytes of `payload` are
//! exactly what the store keeps in its `payload` column, so a verifier can recompute the
//! hash from a stored row.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use uuid::timestamp::{Timestamp, context::NoContext};

use crate::model::{
    Absence, Acknowledgement, Completion, DeviceId, EscalationFired, EventId, Excuse, OccurrenceId,
    Org, Person, PersonId, Routine, RoutineId, Site, SiteId,
};

/// `prev_hash` of the first event of a device: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One event of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// UUIDv7: the millisecond of `device_time`, then random bits.
    pub id: EventId,
    /// The site the event belongs to (who may read it; which devices pull it).
    pub site: SiteId,
    /// The person who acted.
    pub author: PersonId,
    /// The device that wrote it (the chain it belongs to).
    pub device: DeviceId,
    /// Position in the device's chain: 1, 2, 3… without gaps.
    pub seq: u64,
    /// The device's clock when the event was written (the `now` passed in).
    pub device_time: DateTime<Utc>,
    /// What happened.
    pub payload: EventPayload,
    /// `hash` of the device's previous event ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// See the module documentation.
    pub hash: String,
}

/// What an event records. Definitions are events too, so every device derives the same
/// org from the same log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum EventPayload {
    /// The org's display name.
    OrgNamed {
        /// The name.
        name: String,
    },
    /// A site, new or changed (a later definition of the same id replaces it).
    SiteDefined(Site),
    /// A person, new or changed (a later definition of the same id replaces it).
    PersonDefined(Person),
    /// A version of a routine: a higher version supersedes, the log keeps the old ones.
    RoutineDefined(Routine),
    /// An absence.
    AbsenceRecorded(Absence),
    /// A completion (every one is kept; the earliest valid one counts).
    Completed(Completion),
    /// An excuse.
    Excused(Excuse),
    /// An acknowledgement of an escalation level.
    Acknowledged(Acknowledgement),
    /// The server's record that an escalation level fired (server chain only).
    EscalationFired(EscalationFired),
}

impl EventPayload {
    /// The `type` tag: `org_named`, `site_defined`, … `acknowledged` (the store's `kind`).
    pub fn kind(&self) -> &'static str {
        match self {
            EventPayload::OrgNamed { .. } => "org_named",
            EventPayload::SiteDefined(_) => "site_defined",
            EventPayload::PersonDefined(_) => "person_defined",
            EventPayload::RoutineDefined(_) => "routine_defined",
            EventPayload::AbsenceRecorded(_) => "absence_recorded",
            EventPayload::Completed(_) => "completed",
            EventPayload::Excused(_) => "excused",
            EventPayload::Acknowledged(_) => "acknowledged",
            EventPayload::EscalationFired(_) => "escalation_fired",
        }
    }

    /// Whether it defines the org (name, site, person, routine, absence) rather than
    /// recording work.
    pub fn is_definition(&self) -> bool {
        matches!(
            self,
            EventPayload::OrgNamed { .. }
                | EventPayload::SiteDefined(_)
                | EventPayload::PersonDefined(_)
                | EventPayload::RoutineDefined(_)
                | EventPayload::AbsenceRecorded(_)
        )
    }

    /// The occurrence a completion or excuse is about.
    pub fn occurrence(&self) -> Option<OccurrenceId> {
        match self {
            EventPayload::Completed(c) => Some(c.occurrence),
            EventPayload::Excused(e) => Some(e.occurrence),
            _ => None,
        }
    }

    /// The routine a completion or excuse is about.
    pub fn routine(&self) -> Option<RoutineId> {
        match self {
            EventPayload::Completed(c) => Some(c.routine),
            EventPayload::Excused(e) => Some(e.routine),
            _ => None,
        }
    }

    /// The due instant of the occurrence a completion or excuse is about.
    pub fn due(&self) -> Option<DateTime<Utc>> {
        match self {
            EventPayload::Completed(c) => Some(c.due),
            EventPayload::Excused(e) => Some(e.due),
            _ => None,
        }
    }

    /// When the person acted, for completions, excuses and acknowledgements.
    pub fn acted_at(&self) -> Option<DateTime<Utc>> {
        match self {
            EventPayload::Completed(c) => Some(c.at),
            EventPayload::Excused(e) => Some(e.at),
            EventPayload::Acknowledged(a) => Some(a.at),
            EventPayload::EscalationFired(f) => Some(f.fired_at),
            _ => None,
        }
    }
}

/// Folds one definition into `org` (other payloads are ignored). Applied in arrival
/// order, every device derives the same org from the same events:
/// - `OrgNamed` sets the name;
/// - `SiteDefined` / `PersonDefined` add, or replace the one with the same id in place;
/// - `RoutineDefined` adds, or replaces the same routine when its version is the same or
///   higher (an older version arriving late changes nothing; the log keeps it);
/// - `AbsenceRecorded` adds the absence unless an identical one is recorded.
pub fn apply_definition(org: &mut Org, payload: &EventPayload) {
    match payload {
        EventPayload::OrgNamed { name } => org.name.clone_from(name),
        EventPayload::SiteDefined(site) => match org.sites.iter_mut().find(|s| s.id == site.id) {
            Some(existing) => *existing = site.clone(),
            None => org.sites.push(site.clone()),
        },
        EventPayload::PersonDefined(person) => {
            match org.people.iter_mut().find(|p| p.id == person.id) {
                Some(existing) => {
                    *existing = person.clone();
                    // Their roles may have changed: the index of who works where is stale.
                    org.index.forget();
                }
                None => org.people.push(person.clone()),
            }
        }
        EventPayload::RoutineDefined(routine) => {
            match org.routines.iter_mut().find(|r| r.id == routine.id) {
                Some(existing) if existing.version <= routine.version => {
                    *existing = routine.clone();
                }
                Some(_) => {}
                None => org.routines.push(routine.clone()),
            }
        }
        EventPayload::AbsenceRecorded(absence) => {
            if !org.absences.contains(absence) {
                org.absences.push(absence.clone());
            }
        }
        EventPayload::Completed(_)
        | EventPayload::Excused(_)
        | EventPayload::Acknowledged(_)
        | EventPayload::EscalationFired(_) => {}
    }
}

/// Every field of an [`Event`] but `hash`, in hashing order.
#[derive(Serialize)]
struct HashInput<'a> {
    id: EventId,
    site: SiteId,
    author: PersonId,
    device: DeviceId,
    seq: u64,
    device_time: &'a DateTime<Utc>,
    payload: &'a EventPayload,
    prev_hash: &'a str,
}

impl Event {
    /// An event with its hash computed.
    #[allow(clippy::too_many_arguments)]
    pub fn seal(
        id: EventId,
        site: SiteId,
        author: PersonId,
        device: DeviceId,
        seq: u64,
        device_time: DateTime<Utc>,
        payload: EventPayload,
        prev_hash: String,
    ) -> Result<Event, serde_json::Error> {
        let mut event = Event {
            id,
            site,
            author,
            device,
            seq,
            device_time,
            payload,
            prev_hash,
            hash: String::new(),
        };
        event.hash = event.compute_hash()?;
        Ok(event)
    }

    /// The canonical bytes the hash is taken over (see the module documentation).
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(&HashInput {
            id: self.id,
            site: self.site,
            author: self.author,
            device: self.device,
            seq: self.seq,
            device_time: &self.device_time,
            payload: &self.payload,
            prev_hash: &self.prev_hash,
        })
    }

    /// The same bytes as [`Event::canonical_bytes`], built around `payload_json`, the
    /// payload as the store keeps it (`serde_json::to_string(&self.payload)`), so an event
    /// whose payload is encoded for storing is not encoded a second time to check its
    /// hash. The other fields are written one by one with `serde_json`, exactly as it
    /// writes them inside the compact object.
    pub fn canonical_bytes_with_payload(
        &self,
        payload_json: &str,
    ) -> Result<Vec<u8>, serde_json::Error> {
        let mut out = Vec::with_capacity(payload_json.len() + 320);
        out.extend_from_slice(b"{\"id\":");
        serde_json::to_writer(&mut out, &self.id)?;
        out.extend_from_slice(b",\"site\":");
        serde_json::to_writer(&mut out, &self.site)?;
        out.extend_from_slice(b",\"author\":");
        serde_json::to_writer(&mut out, &self.author)?;
        out.extend_from_slice(b",\"device\":");
        serde_json::to_writer(&mut out, &self.device)?;
        out.extend_from_slice(b",\"seq\":");
        serde_json::to_writer(&mut out, &self.seq)?;
        out.extend_from_slice(b",\"device_time\":");
        serde_json::to_writer(&mut out, &self.device_time)?;
        out.extend_from_slice(b",\"payload\":");
        out.extend_from_slice(payload_json.as_bytes());
        out.extend_from_slice(b",\"prev_hash\":");
        serde_json::to_writer(&mut out, self.prev_hash.as_str())?;
        out.push(b'}');
        Ok(out)
    }

    /// Whether `hash` matches the other fields, the payload given as the JSON the store
    /// keeps for it (see [`Event::canonical_bytes_with_payload`]): one SHA-256, no
    /// payload encoding, no allocation beyond the canonical bytes.
    pub fn hash_matches_payload(&self, payload_json: &str) -> bool {
        let Ok(bytes) = self.canonical_bytes_with_payload(payload_json) else {
            return false;
        };
        let mut hex = [0u8; 64];
        hex::encode_to_slice(Sha256::digest(&bytes), &mut hex).is_ok()
            && hex[..] == *self.hash.as_bytes()
    }

    /// Recomputes the hash from every other field.
    pub fn compute_hash(&self) -> Result<String, serde_json::Error> {
        Ok(hex::encode(Sha256::digest(self.canonical_bytes()?)))
    }

    /// Whether `hash` matches the other fields.
    pub fn hash_is_valid(&self) -> bool {
        self.compute_hash().is_ok_and(|h| h == self.hash)
    }
}

/// A new event id: UUIDv7 whose timestamp is the millisecond of `now` (clamped to the Unix
/// epoch), with random bits below it.
pub fn new_event_id(now: DateTime<Utc>) -> EventId {
    let secs = u64::try_from(now.timestamp()).unwrap_or(0);
    let ts = Timestamp::from_unix(NoContext, secs, now.timestamp_subsec_nanos());
    EventId(Uuid::new_v7(ts))
}

/// Where a stored event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Written by this device: in its hash chain and in the outbox.
    Local,
    /// Definitions imported from a routines file when the device was set up: a chain of
    /// their own (see [`import_chain`]), never pushed.
    Import,
    /// Written by another device and pulled from the server.
    Remote,
}

impl Origin {
    /// `local`, `import` or `remote`, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Local => "local",
            Origin::Import => "import",
            Origin::Remote => "remote",
        }
    }

    /// Parses [`Origin::as_str`].
    pub fn parse(s: &str) -> Option<Origin> {
        match s {
            "local" => Some(Origin::Local),
            "import" => Some(Origin::Import),
            "remote" => Some(Origin::Remote),
            _ => None,
        }
    }
}

/// The chain imported definitions are filed under for `device`:
/// `UUIDv5(namespace = device id, name = "import")`. Keeps them out of the device's own
/// chain (whose events the server accepts) while still hashing them the same way.
pub fn import_chain(device: DeviceId) -> DeviceId {
    DeviceId(Uuid::new_v5(&device.0, b"import"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{StepAnswer, StepResult};

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("test instant")
            .with_timezone(&Utc)
    }

    fn completion_event() -> Event {
        let c = Completion {
            id: EventId(Uuid::from_u128(7)),
            occurrence: OccurrenceId(Uuid::from_u128(8)),
            due: at("2026-03-09T11:00:00Z"),
            routine: RoutineId(Uuid::from_u128(9)),
            routine_version: 1,
            by: PersonId(Uuid::from_u128(2)),
            at: at("2026-03-09T11:05:00Z"),
            results: vec![StepResult {
                step: "walk-in".into(),
                answer: StepAnswer::Reading {
                    value: 3.5,
                    corrective_action: None,
                },
            }],
            note: None,
        };
        Event::seal(
            EventId(Uuid::from_u128(7)),
            SiteId(Uuid::from_u128(1)),
            PersonId(Uuid::from_u128(2)),
            DeviceId(Uuid::from_u128(3)),
            1,
            at("2026-03-09T11:05:00Z"),
            EventPayload::Completed(c),
            GENESIS_HASH.to_string(),
        )
        .expect("seal")
    }

    #[test]
    fn canonical_bytes_follow_the_documented_layout() {
        let event = completion_event();
        let text = String::from_utf8(event.canonical_bytes().expect("bytes")).expect("utf-8");
        assert_eq!(
            text,
            format!(
                concat!(
                    "{{\"id\":\"00000000-0000-0000-0000-000000000007\",",
                    "\"site\":\"00000000-0000-0000-0000-000000000001\",",
                    "\"author\":\"00000000-0000-0000-0000-000000000002\",",
                    "\"device\":\"00000000-0000-0000-0000-000000000003\",",
                    "\"seq\":1,\"device_time\":\"2026-03-09T11:05:00Z\",",
                    "\"payload\":{{\"type\":\"completed\",\"data\":{{",
                    "\"id\":\"00000000-0000-0000-0000-000000000007\",",
                    "\"occurrence\":\"00000000-0000-0000-0000-000000000008\",",
                    "\"due\":\"2026-03-09T11:00:00Z\",",
                    "\"routine\":\"00000000-0000-0000-0000-000000000009\",",
                    "\"routine_version\":1,",
                    "\"by\":\"00000000-0000-0000-0000-000000000002\",",
                    "\"at\":\"2026-03-09T11:05:00Z\",",
                    "\"results\":[{{\"step\":\"walk-in\",\"answer\":",
                    "{{\"kind\":\"reading\",\"value\":3.5,\"corrective_action\":null}}}}],",
                    "\"note\":null}}}},",
                    "\"prev_hash\":\"{}\"}}"
                ),
                GENESIS_HASH
            )
        );
        assert_eq!(
            event.hash,
            hex::encode(Sha256::digest(text.as_bytes())),
            "hash = hex(SHA-256(canonical bytes))"
        );
    }

    #[test]
    fn a_json_round_trip_keeps_the_hash() {
        let event = completion_event();
        let json = serde_json::to_string(&event.payload).expect("encode");
        let payload: EventPayload = serde_json::from_str(&json).expect("decode");
        let again = Event {
            payload,
            ..event.clone()
        };
        assert!(again.hash_is_valid());
        assert_eq!(again.compute_hash().expect("hash"), event.hash);
    }

    /// `canonical_bytes_with_payload` is `canonical_bytes`, byte for byte.
    fn assert_same_canonical_bytes(event: &Event) {
        let payload = serde_json::to_string(&event.payload).expect("payload");
        assert_eq!(
            String::from_utf8(event.canonical_bytes_with_payload(&payload).expect("with"))
                .expect("utf-8"),
            String::from_utf8(event.canonical_bytes().expect("bytes")).expect("utf-8"),
        );
        assert_eq!(
            event.hash_matches_payload(&payload),
            event.hash_is_valid(),
            "{event:?}"
        );
    }

    #[test]
    fn canonical_bytes_around_the_stored_payload_are_the_canonical_bytes() {
        let event = completion_event();
        assert_same_canonical_bytes(&event);
        assert!(event.hash_matches_payload(&serde_json::to_string(&event.payload).expect("json")));
        let mut odd = event.clone();
        if let EventPayload::Completed(c) = &mut odd.payload {
            c.note = Some("\"quoted\" \\ back\u{0}slash\n\t é ✓ 🧊 \u{1f}".into());
        }
        odd.seq = u64::MAX;
        odd.device_time = at("2026-03-09T11:05:00.123456789Z");
        odd.prev_hash = "not \"hex\" \u{7f}".into();
        assert_same_canonical_bytes(&odd);
        let sealed = Event::seal(
            odd.id,
            odd.site,
            odd.author,
            odd.device,
            odd.seq,
            odd.device_time,
            odd.payload.clone(),
            odd.prev_hash.clone(),
        )
        .expect("seal");
        assert!(
            sealed.hash_matches_payload(&serde_json::to_string(&sealed.payload).expect("json"))
        );
        // The payload text is what the hash is checked over: another text fails.
        assert!(!sealed.hash_matches_payload(
            &serde_json::to_string(&EventPayload::OrgNamed { name: "x".into() }).expect("json")
        ));
        let mut upper = sealed.clone();
        upper.hash = upper.hash.to_uppercase();
        assert!(!upper.hash_matches_payload(&serde_json::to_string(&upper.payload).expect("json")));
    }

    proptest::proptest! {
        #[test]
        fn canonical_bytes_around_any_payload_text_match(
            name in ".*",
            prev in ".*",
            seq in proptest::prelude::any::<u64>(),
            nanos in 0u32..1_000_000_000,
        ) {
            let time = DateTime::from_timestamp(1_773_000_000, nanos).expect("instant");
            let event = Event::seal(
                EventId(Uuid::from_u128(7)),
                SiteId(Uuid::from_u128(1)),
                PersonId(Uuid::from_u128(2)),
                DeviceId(Uuid::from_u128(3)),
                seq,
                time,
                EventPayload::OrgNamed { name },
                prev,
            )
            .expect("seal");
            assert_same_canonical_bytes(&event);
        }
    }

    #[test]
    fn any_change_breaks_the_hash() {
        let event = completion_event();
        assert!(event.hash_is_valid());
        let mut tampered = event.clone();
        tampered.seq = 2;
        assert!(!tampered.hash_is_valid());
        let mut tampered = event;
        if let EventPayload::Completed(c) = &mut tampered.payload {
            c.note = Some("edited".into());
        }
        assert!(!tampered.hash_is_valid());
    }

    #[test]
    fn event_ids_are_v7_at_now() {
        let now = at("2026-03-09T11:05:00.250Z");
        let a = new_event_id(now);
        let b = new_event_id(now);
        assert_ne!(a, b);
        assert_eq!(a.0.get_version_num(), 7);
        let (secs, nanos) = a.0.get_timestamp().expect("v7 timestamp").to_unix();
        assert_eq!(i64::try_from(secs).ok(), Some(now.timestamp()));
        assert_eq!(nanos / 1_000_000, 250);
    }

    #[test]
    fn a_newer_routine_version_supersedes_an_older_one_never_the_reverse() {
        let mut org = Org::default();
        let v = |version: u32, title: &str| {
            EventPayload::RoutineDefined(Routine {
                id: RoutineId(Uuid::from_u128(9)),
                key: "fridge".into(),
                version,
                site: SiteId(Uuid::from_u128(1)),
                title: title.into(),
                instructions: String::new(),
                steps: Vec::new(),
                cadence: crate::model::Cadence::Rule {
                    rrule: "FREQ=DAILY".into(),
                    start: chrono::NaiveDateTime::default(),
                    exdates: Vec::new(),
                },
                closed_days: Default::default(),
                window: Default::default(),
                owner: PersonId(Uuid::from_u128(2)),
                backup: None,
                fallback_role: crate::model::Role::Supervisor,
                escalation: Vec::new(),
                repeat_failure: Default::default(),
            })
        };
        apply_definition(&mut org, &v(1, "one"));
        apply_definition(&mut org, &v(2, "two"));
        apply_definition(&mut org, &v(1, "late one"));
        assert_eq!(org.routines.len(), 1);
        assert_eq!(org.routines[0].title, "two");
    }
}
