//! The domain model (DESIGN.md glossary): org, sites, people and roles, routines with their
//! steps, cadence, window, owner, backup and escalation chain, absences, and the events that
//! state is derived from (completions, excuses, acknowledgements).
//!
//! Plain data: serde-serializable, no I/O, no clock. Behaviour lives in the domain modules
//! (`cadence`, `occurrence`, `assignee`, `escalation`, `attention`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// Identifies a site.
    SiteId
);
id_type!(
    /// Identifies a person.
    PersonId
);
id_type!(
    /// Identifies a routine across its versions.
    RoutineId
);
id_type!(
    /// Identifies an occurrence: UUIDv5 of (routine id, due instant), derived, never stored.
    OccurrenceId
);
id_type!(
    /// Identifies one escalation level of one occurrence: UUIDv5 of (occurrence id, level).
    EscalationId
);
id_type!(
    /// Identifies a repeat-failure alert: UUIDv5 of (routine id, occurrence that started the streak).
    AlertId
);
id_type!(
    /// Identifies a recorded event (completion, excuse, acknowledgement).
    EventId
);
id_type!(
    /// Identifies a device (a phone, or a headless CLI device): the author of a hash chain
    /// of events.
    DeviceId
);

/// Namespace for every derived Proofline id (UUIDv5).
pub const PROOFLINE_NAMESPACE: Uuid = Uuid::from_u128(0x6f1e_4c1a_9d7b_4e0a_8f3c_2b5d_7a91_c0de);

/// An organisation: the sites, people, routines and absences it defines.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Org {
    /// Display name.
    pub name: String,
    /// Sites of the org.
    pub sites: Vec<Site>,
    /// People of the org, in the order they were defined (role fallback picks the first).
    pub people: Vec<Person>,
    /// Routines of every site (current versions).
    pub routines: Vec<Routine>,
    /// Recorded absences.
    pub absences: Vec<Absence>,
    /// Where each id sits in the lists above, for the lookups by id (built on first use;
    /// not part of the org's value: never serialized, always equal).
    #[serde(skip)]
    pub index: OrgIndex,
}

impl Org {
    /// The site with this id.
    pub fn site(&self, id: SiteId) -> Option<&Site> {
        let at = self.index.position(self, |p| &p.sites, id.0);
        find_at(&self.sites, at, |s| s.id == id)
    }

    /// The person with this id.
    pub fn person(&self, id: PersonId) -> Option<&Person> {
        let at = self.index.position(self, |p| &p.people, id.0);
        find_at(&self.people, at, |p| p.id == id)
    }

    /// The routine with this id.
    pub fn routine(&self, id: RoutineId) -> Option<&Routine> {
        let at = self.index.position(self, |p| &p.routines, id.0);
        find_at(&self.routines, at, |r| r.id == id)
    }

    /// A person's display name, or the id if unknown (never expected for valid orgs).
    pub fn person_name(&self, id: PersonId) -> String {
        self.person(id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// People holding `role` at `site`, in definition order (through the index: those
    /// holding any role there, a handful of a large org's people).
    pub fn people_with_role(&self, site: SiteId, role: Role) -> impl Iterator<Item = &Person> {
        let works_here = |at: &usize| {
            self.people
                .get(*at)
                .is_some_and(|p| p.role_at(site).is_some())
        };
        let mut at = self.index.people_at(self, site);
        if !at.iter().all(works_here) {
            // The list changed in place since the index was built (reordered, say).
            self.index.forget();
            at = self.index.people_at(self, site);
        }
        at.into_iter()
            .filter_map(|at| self.people.get(at))
            .filter(move |p| p.role_at(site) == Some(role))
    }
}

/// The item at position `at` when it is the one sought, else the first that is (a scan).
fn find_at<T>(items: &[T], at: Option<usize>, is: impl Fn(&T) -> bool) -> Option<&T> {
    match at.and_then(|i| items.get(i)) {
        Some(item) if is(item) => Some(item),
        _ => items.iter().find(|item| is(item)),
    }
}

/// Positions of an [`Org`]'s sites, people and routines by id, and of the people holding
/// a role at each site, built at the first lookup.
///
/// The engine looks people and sites up by id for every notice it words, and a site's
/// people by role for every routine it evaluates (thousands of people in a large org).
/// The org's lists are public and may change after the index was built: it is built again
/// when a list's length changed, and a lookup by id checks that the entry at the recorded
/// position still has the id and scans otherwise, so a stale position costs time, never a
/// wrong answer. A person's roles changed in place (the list's length unchanged) are
/// another matter: whoever changes them calls [`OrgIndex::forget`], as
/// [`crate::store::apply_definition`] does.
#[derive(Debug, Default)]
pub struct OrgIndex {
    positions: std::sync::RwLock<Option<Positions>>,
}

/// What [`OrgIndex`] holds: the first position of each id, and the lengths it was built
/// for.
#[derive(Debug)]
struct Positions {
    lengths: (usize, usize, usize),
    sites: HashMap<Uuid, usize>,
    people: HashMap<Uuid, usize>,
    routines: HashMap<Uuid, usize>,
    /// By site id: the positions of the people holding a role there, in order.
    people_at: HashMap<Uuid, Vec<usize>>,
}

impl Positions {
    fn of(org: &Org) -> Positions {
        fn first_positions(ids: impl Iterator<Item = Uuid>) -> HashMap<Uuid, usize> {
            let mut positions = HashMap::new();
            for (i, id) in ids.enumerate() {
                positions.entry(id).or_insert(i);
            }
            positions
        }
        let mut people_at: HashMap<Uuid, Vec<usize>> = HashMap::new();
        for (i, person) in org.people.iter().enumerate() {
            for role in &person.roles {
                let at = people_at.entry(role.site.0).or_default();
                if at.last() != Some(&i) {
                    at.push(i);
                }
            }
        }
        Positions {
            lengths: lengths(org),
            sites: first_positions(org.sites.iter().map(|s| s.id.0)),
            people: first_positions(org.people.iter().map(|p| p.id.0)),
            routines: first_positions(org.routines.iter().map(|r| r.id.0)),
            people_at,
        }
    }
}

/// The lengths of the lists an [`OrgIndex`] covers.
fn lengths(org: &Org) -> (usize, usize, usize) {
    (org.sites.len(), org.people.len(), org.routines.len())
}

impl OrgIndex {
    /// Where `id` sits in the list `list` picks, as far as the index knows.
    fn position(
        &self,
        org: &Org,
        list: fn(&Positions) -> &HashMap<Uuid, usize>,
        id: Uuid,
    ) -> Option<usize> {
        self.read(org, |positions| list(positions).get(&id).copied())
    }

    /// The positions of the people holding a role at `site`, in order.
    fn people_at(&self, org: &Org, site: SiteId) -> Vec<usize> {
        self.read(org, |positions| {
            positions
                .people_at
                .get(&site.0)
                .cloned()
                .unwrap_or_default()
        })
    }

    /// `read` of the index, built (again) first when missing or built for other lengths.
    fn read<T>(&self, org: &Org, read: impl Fn(&Positions) -> T) -> T {
        {
            let built = self.positions.read().unwrap_or_else(|e| e.into_inner());
            if let Some(positions) = built.as_ref()
                && positions.lengths == lengths(org)
            {
                return read(positions);
            }
        }
        let positions = Positions::of(org);
        let value = read(&positions);
        *self.positions.write().unwrap_or_else(|e| e.into_inner()) = Some(positions);
        value
    }

    /// Drops what was built, so the next lookup builds it again: call after changing an
    /// entry of the org's lists in place (a person's roles above all).
    pub fn forget(&self) {
        *self.positions.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

impl Clone for OrgIndex {
    /// Empty: the clone builds its own at its first lookup (its lists may change apart).
    fn clone(&self) -> OrgIndex {
        OrgIndex::default()
    }
}

impl PartialEq for OrgIndex {
    /// Always: the index is derived from the org, not part of its value.
    fn eq(&self, _: &OrgIndex) -> bool {
        true
    }
}

/// A physical place where routines run, with its own clock and calendar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Site {
    /// Id.
    pub id: SiteId,
    /// Short stable key used in routines files (e.g. `harbor`).
    pub key: String,
    /// Display name, used in every message.
    pub name: String,
    /// IANA time zone: all cadences and displayed times are in this zone.
    pub time_zone: Tz,
    /// Weekdays the site is closed (empty: open every day).
    #[serde(default)]
    pub closed_weekdays: Vec<Weekday>,
    /// Holiday calendar: dates the site is closed.
    #[serde(default)]
    pub holidays: Vec<Holiday>,
}

impl Site {
    /// Whether the site is closed on a local date (a closed weekday or a holiday).
    pub fn is_closed(&self, date: NaiveDate) -> bool {
        use chrono::Datelike;
        self.closed_weekdays.contains(&date.weekday())
            || self.holidays.iter().any(|h| h.date == date)
    }
}

/// A date a site is closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holiday {
    /// Local date.
    pub date: NaiveDate,
    /// Name shown to people ("Christmas Day").
    pub name: String,
}

/// A person's role at a site. Ordered by authority: staff < supervisor < lead < admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Frontline staff: does the checks.
    Staff,
    /// Covers checks, excuses, records absences.
    Supervisor,
    /// Reviews a site's compliance, edits routines.
    Lead,
    /// Administers the org.
    Admin,
}

impl Role {
    /// The lowercase name used in files and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Supervisor => "supervisor",
            Role::Lead => "lead",
            Role::Admin => "admin",
        }
    }

    /// Parses `staff`, `supervisor`, `lead` or `admin`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "staff" => Some(Role::Staff),
            "supervisor" => Some(Role::Supervisor),
            "lead" => Some(Role::Lead),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A person and their role at each site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// Id.
    pub id: PersonId,
    /// Short stable key used in routines files (e.g. `maria`).
    pub key: String,
    /// Display name.
    pub name: String,
    /// One role per site.
    pub roles: Vec<SiteRole>,
}

impl Person {
    /// This person's role at `site`, if they belong to it.
    pub fn role_at(&self, site: SiteId) -> Option<Role> {
        self.roles.iter().find(|r| r.site == site).map(|r| r.role)
    }
}

/// A role held at one site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteRole {
    /// The site.
    pub site: SiteId,
    /// The role there.
    pub role: Role,
}

/// A period a person is away; their checks go to the backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Absence {
    /// Who is away.
    pub person: PersonId,
    /// Start, inclusive.
    pub from: DateTime<Utc>,
    /// End, exclusive.
    pub until: DateTime<Utc>,
    /// Why ("annual leave"), shown to supervisors.
    #[serde(default)]
    pub reason: Option<String>,
}

impl Absence {
    /// Whether the absence covers instant `at`.
    pub fn covers(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && at < self.until
    }
}

/// A recurring check definition (one version of it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Routine {
    /// Id, stable across versions.
    pub id: RoutineId,
    /// Short stable key used in routines files (e.g. `fridge-temps`).
    pub key: String,
    /// Version: an edit makes a new one.
    pub version: u32,
    /// The site it runs at.
    pub site: SiteId,
    /// Title shown to people ("Fridge temperatures").
    pub title: String,
    /// Instructions shown on the check screen.
    #[serde(default)]
    pub instructions: String,
    /// Ordered steps.
    pub steps: Vec<Step>,
    /// When it is due.
    pub cadence: Cadence,
    /// What happens to an occurrence that falls on a closed day.
    #[serde(default)]
    pub closed_days: ClosedDayPolicy,
    /// The window around each due time.
    pub window: Window,
    /// The one named owner.
    pub owner: PersonId,
    /// Covers when the owner is absent.
    #[serde(default)]
    pub backup: Option<PersonId>,
    /// Role whose first available member is assignee when owner and backup are both away.
    #[serde(default = "default_fallback_role")]
    pub fallback_role: Role,
    /// Ordered escalation levels, measured from the due time.
    #[serde(default)]
    pub escalation: Vec<EscalationLevel>,
    /// Repeat-failure rule.
    #[serde(default)]
    pub repeat_failure: RepeatFailureRule,
}

fn default_fallback_role() -> Role {
    Role::Supervisor
}

/// One step of a routine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// Key unique within the routine (e.g. `walk-in`).
    pub key: String,
    /// What the person sees.
    pub title: String,
    /// Whether the completion must answer it.
    #[serde(default = "default_true")]
    pub required: bool,
    /// What kind of answer and proof it takes.
    pub kind: StepKind,
}

fn default_true() -> bool {
    true
}

/// The kinds of step and their proof requirements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepKind {
    /// A tick.
    Check,
    /// A number with a unit; outside `[min, max]` demands a corrective-action note.
    Reading {
        /// Unit shown next to the number ("°C").
        unit: String,
        /// Lowest allowed value, inclusive.
        min: Option<f64>,
        /// Highest allowed value, inclusive.
        max: Option<f64>,
    },
    /// Photo proof, at least `min_count` photos.
    Photo {
        /// Minimum number of photos.
        min_count: u32,
    },
    /// One of a fixed set of options.
    Choice {
        /// Allowed answers.
        options: Vec<String>,
    },
    /// Free text.
    Text,
    /// A signature.
    Signature,
}

/// When a routine is due.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cadence {
    /// An RFC 5545 rule anchored at a local start in the site's zone.
    Rule {
        /// The RRULE text, e.g. `FREQ=DAILY;BYHOUR=7;BYMINUTE=0`.
        rrule: String,
        /// Local anchor (DTSTART) in the site's zone.
        start: NaiveDateTime,
        /// Local times excluded (EXDATE).
        #[serde(default)]
        exdates: Vec<NaiveDateTime>,
    },
    /// Next one `days` after the last completion, at local time `at`.
    AfterCompletion {
        /// Days after the completion's local date.
        days: u32,
        /// Local time of day the next one is due.
        at: NaiveTime,
        /// Local due time of the first occurrence.
        start: NaiveDateTime,
    },
}

/// What happens to an occurrence whose local date is a closed day of the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedDayPolicy {
    /// Drop it.
    #[default]
    Skip,
    /// Move it to the previous open day, same local time.
    MoveEarlier,
    /// Move it to the next open day, same local time.
    MoveLater,
    /// Keep it.
    RunAnyway,
}

/// The window around a due time: opens before due, due, grace, closes (missed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Minutes before due when the check can be done.
    pub opens_before_min: u32,
    /// Minutes after due that still count as on time.
    pub grace_min: u32,
    /// Minutes after due when the occurrence closes as missed (≥ grace).
    pub closes_after_min: u32,
}

impl Default for Window {
    fn default() -> Self {
        Window {
            opens_before_min: 30,
            grace_min: 15,
            closes_after_min: 120,
        }
    }
}

/// One level of an escalation chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EscalationLevel {
    /// Minutes after due when this level fires.
    pub after_min: u32,
    /// Who hears about it.
    pub notify: Vec<Recipient>,
    /// Re-notify this level's recipients every so many minutes until acknowledged or ended.
    #[serde(default)]
    pub renotify_every_min: Option<u32>,
}

/// Whom an escalation level notifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Recipient {
    /// The occurrence's assignee.
    Assignee,
    /// A named person.
    Person(PersonId),
    /// Everyone with this role at the routine's site.
    Role(Role),
}

/// "Missed K of the last N occurrences" raises one alert to the site lead per streak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatFailureRule {
    /// K.
    pub missed: u32,
    /// N.
    pub of_last: u32,
}

impl Default for RepeatFailureRule {
    fn default() -> Self {
        RepeatFailureRule {
            missed: 2,
            of_last: 5,
        }
    }
}

/// The answer to one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StepAnswer {
    /// Ticked.
    Checked,
    /// A reading, with a corrective-action note when out of range.
    Reading {
        /// The value.
        value: f64,
        /// What was done about an out-of-range value.
        #[serde(default)]
        corrective_action: Option<String>,
    },
    /// Photos by SHA-256 (hex).
    Photos {
        /// Content hashes.
        sha256: Vec<String>,
    },
    /// The chosen option.
    Choice {
        /// The option.
        option: String,
    },
    /// Free text.
    Text {
        /// The text.
        text: String,
    },
    /// A signature (stroke data or image hash).
    Signature {
        /// Opaque signature data.
        data: String,
    },
}

/// One step's result in a completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// The step's key.
    pub step: String,
    /// The answer.
    pub answer: StepAnswer,
}

/// An immutable completion event. Two of one occurrence are both kept; the earliest valid counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Completion {
    /// Event id.
    pub id: EventId,
    /// The occurrence completed.
    pub occurrence: OccurrenceId,
    /// Its due instant: with `routine` it re-derives `occurrence` (a check on the id) and lets
    /// stores index completions by due time.
    pub due: DateTime<Utc>,
    /// The routine (and its version) it was completed against.
    pub routine: RoutineId,
    /// Routine version shown when completing.
    pub routine_version: u32,
    /// Who did it.
    pub by: PersonId,
    /// Device time of completion.
    pub at: DateTime<Utc>,
    /// Step results.
    pub results: Vec<StepResult>,
    /// Free note.
    #[serde(default)]
    pub note: Option<String>,
}

/// An excuse: a supervisor (or above) releases an occurrence with a reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Excuse {
    /// Event id.
    pub id: EventId,
    /// The occurrence excused.
    pub occurrence: OccurrenceId,
    /// The routine of the occurrence.
    pub routine: RoutineId,
    /// Its due instant (see [`Completion::due`]).
    pub due: DateTime<Utc>,
    /// Who excused it.
    pub by: PersonId,
    /// When.
    pub at: DateTime<Utc>,
    /// Why.
    pub reason: String,
}

/// The server's record that an escalation level fired and its alerts were queued: what
/// lets a device tell an escalation the server confirmed from one it computed alone.
/// Only the server's own chain writes these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationFired {
    /// Event id.
    pub id: EventId,
    /// The level's id.
    pub escalation: EscalationId,
    /// Level number, 1-based.
    pub level: usize,
    /// The occurrence.
    pub occurrence: OccurrenceId,
    /// Its routine.
    pub routine: RoutineId,
    /// When the level fired (due + its `after`).
    pub fired_at: DateTime<Utc>,
    /// Whom the server alerted.
    pub recipients: Vec<PersonId>,
}

/// An acknowledgement of one escalation level by a recipient.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Acknowledgement {
    /// Event id.
    pub id: EventId,
    /// The level acknowledged.
    pub escalation: EscalationId,
    /// Who acknowledged.
    pub by: PersonId,
    /// When.
    pub at: DateTime<Utc>,
}

/// Everything people did, from which all state is derived.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// Completions (all of them, including duplicates and invalid ones).
    pub completions: Vec<Completion>,
    /// Excuses.
    pub excuses: Vec<Excuse>,
    /// Acknowledgements.
    pub acknowledgements: Vec<Acknowledgement>,
}
