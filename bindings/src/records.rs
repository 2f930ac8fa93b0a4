//! What the screens show, as uniffi records and enums: plain data copied out of the core's
//! types, one `From` per type and nothing else. Instants are `SystemTime`, ids `Uuid`,
//! wall-clock times in a site's zone ISO 8601 strings without offset, counts `u32`.
//!
//! Names follow the core (and DESIGN.md's glossary), so the Kotlin and Swift code reads
//! like the Rust: `AttentionItem`, `OccurrenceDetail`, `StepRequirement`, `SyncReport`…

use std::time::SystemTime;

use proofline_core::{
    agenda, assignee, attention, completion, device, escalation, model, occurrence, proof,
    reminders, review, store,
};
use uuid::Uuid;

use crate::convert::{count, instant, instant_opt, local};

// -----------------------------------------------------------------------------------------
// People, sites, roles

/// A person's role at a site, by authority: staff < supervisor < lead < admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Role {
    /// Frontline staff: does the checks.
    Staff,
    /// Covers checks, excuses, records absences.
    Supervisor,
    /// Reviews a site's compliance.
    Lead,
    /// Administers the org.
    Admin,
}

impl From<model::Role> for Role {
    fn from(role: model::Role) -> Self {
        match role {
            model::Role::Staff => Role::Staff,
            model::Role::Supervisor => Role::Supervisor,
            model::Role::Lead => Role::Lead,
            model::Role::Admin => Role::Admin,
        }
    }
}

/// Who this device is.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DeviceIdentity {
    /// The device's id (assigned by the server when enrolled).
    pub device: Uuid,
    /// The person using it.
    pub person: Uuid,
    /// The person's sites.
    pub sites: Vec<Uuid>,
    /// When the device was set up.
    pub created_at: SystemTime,
}

impl From<store::DeviceIdentity> for DeviceIdentity {
    fn from(identity: store::DeviceIdentity) -> Self {
        DeviceIdentity {
            device: identity.device.0,
            person: identity.person.0,
            sites: identity.sites.into_iter().map(|s| s.0).collect(),
            created_at: instant(identity.created_at),
        }
    }
}

/// A site: a physical place with its own time zone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Site {
    /// Its id.
    pub id: Uuid,
    /// Its key in the routines file (`harbor`).
    pub key: String,
    /// Its name, as every message uses it.
    pub name: String,
    /// IANA time zone (`America/New_York`): every local time of the site is in it.
    pub time_zone: String,
}

/// A role held at one site.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SiteRole {
    /// The site.
    pub site: Uuid,
    /// The role there.
    pub role: Role,
}

/// A person of the org.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Person {
    /// Their id.
    pub id: Uuid,
    /// Their key in the routines file (`maria`).
    pub key: String,
    /// Their display name.
    pub name: String,
    /// Their role at each of their sites.
    pub roles: Vec<SiteRole>,
}

/// The org as this device knows it: its sites and people (routines are read through the
/// agenda and the occurrence detail).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Org {
    /// The org's name.
    pub name: String,
    /// Its sites this device holds.
    pub sites: Vec<Site>,
    /// Its people this device holds, in definition order.
    pub people: Vec<Person>,
}

impl From<model::Org> for Org {
    fn from(org: model::Org) -> Self {
        Org {
            name: org.name,
            sites: org
                .sites
                .into_iter()
                .map(|s| Site {
                    id: s.id.0,
                    key: s.key,
                    name: s.name,
                    time_zone: s.time_zone.name().to_string(),
                })
                .collect(),
            people: org
                .people
                .into_iter()
                .map(|p| Person {
                    id: p.id.0,
                    key: p.key,
                    name: p.name,
                    roles: p
                        .roles
                        .into_iter()
                        .map(|r| SiteRole {
                            site: r.site.0,
                            role: r.role.into(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

/// A person named somewhere in an [`OccurrenceDetail`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PersonName {
    /// The person.
    pub id: Uuid,
    /// Their display name.
    pub name: String,
}

impl From<agenda::PersonName> for PersonName {
    fn from(p: agenda::PersonName) -> Self {
        PersonName {
            id: p.id.0,
            name: p.name,
        }
    }
}

// -----------------------------------------------------------------------------------------
// Occurrences, status, assignment

/// Where an occurrence stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Status {
    /// Not open yet.
    Upcoming,
    /// Open, before the due time.
    Open,
    /// Past due, still within grace (on time if done now).
    Due,
    /// Past grace, not closed yet (late if done now).
    Overdue,
    /// Closed, not done, not excused.
    Missed,
    /// Done within grace.
    DoneOnTime,
    /// Done after grace.
    DoneLate,
    /// Released by a supervisor with a reason.
    Excused,
}

impl From<occurrence::Status> for Status {
    fn from(status: occurrence::Status) -> Self {
        use occurrence::Status as S;
        match status {
            S::Upcoming => Status::Upcoming,
            S::Open => Status::Open,
            S::Due => Status::Due,
            S::Overdue => Status::Overdue,
            S::Missed => Status::Missed,
            S::DoneOnTime => Status::DoneOnTime,
            S::DoneLate => Status::DoneLate,
            S::Excused => Status::Excused,
        }
    }
}

/// One due instance of a routine and its window, as instants.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Occurrence {
    /// Its id, derived from the routine and the due instant (the same on every device).
    pub id: Uuid,
    /// The routine.
    pub routine: Uuid,
    /// The routine version it was computed from.
    pub routine_version: u32,
    /// The routine's site.
    pub site: Uuid,
    /// When it is due.
    pub due: SystemTime,
    /// From here the check can be done.
    pub opens: SystemTime,
    /// Done after this is late.
    pub late_after: SystemTime,
    /// Not done by this is missed.
    pub closes: SystemTime,
}

impl From<occurrence::Occurrence> for Occurrence {
    fn from(o: occurrence::Occurrence) -> Self {
        Occurrence {
            id: o.id.0,
            routine: o.routine.0,
            routine_version: o.routine_version,
            site: o.site.0,
            due: instant(o.due),
            opens: instant(o.opens),
            late_after: instant(o.late_after),
            closes: instant(o.closes),
        }
    }
}

/// An occurrence's window as wall-clock times in the site's zone (ISO 8601, no offset).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LocalWindow {
    /// From here the check can be done.
    pub opens: String,
    /// The due time.
    pub due: String,
    /// Done after this is late.
    pub late_after: String,
    /// Not done by this is missed.
    pub closes: String,
}

impl From<agenda::LocalWindow> for LocalWindow {
    fn from(w: agenda::LocalWindow) -> Self {
        LocalWindow {
            opens: local(w.opens),
            due: local(w.due),
            late_after: local(w.late_after),
            closes: local(w.closes),
        }
    }
}

/// Why an occurrence went to its assignee.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum AssignmentReason {
    /// The routine's owner, available.
    Owner,
    /// The backup, because the owner is away.
    Backup {
        /// The absent owner.
        covering_for: Uuid,
    },
    /// The first available person with the fallback role, because owner and backup are
    /// away.
    RoleFallback {
        /// The fallback role.
        role: Role,
        /// The absent owner.
        covering_for: Uuid,
    },
    /// Everyone who could take it is away: still the owner, flagged so the app can warn.
    OwnerUnavailable,
}

/// The one person an occurrence is assigned to, and why.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Assignment {
    /// The assignee.
    pub person: Uuid,
    /// Why this person.
    pub reason: AssignmentReason,
}

impl From<assignee::Assignment> for Assignment {
    fn from(a: assignee::Assignment) -> Self {
        use assignee::AssignmentReason as R;
        Assignment {
            person: a.person.0,
            reason: match a.reason {
                R::Owner => AssignmentReason::Owner,
                R::Backup { covering_for } => AssignmentReason::Backup {
                    covering_for: covering_for.0,
                },
                R::RoleFallback { role, covering_for } => AssignmentReason::RoleFallback {
                    role: role.into(),
                    covering_for: covering_for.0,
                },
                R::OwnerUnavailable => AssignmentReason::OwnerUnavailable,
            },
        }
    }
}

/// What ended an escalation chain, or decided an occurrence.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ChainEndCause {
    /// A valid completion.
    Completed,
    /// An excuse.
    Excused {
        /// The excuse's reason.
        reason: String,
    },
}

impl From<escalation::ChainEndCause> for ChainEndCause {
    fn from(cause: escalation::ChainEndCause) -> Self {
        match cause {
            escalation::ChainEndCause::Completed => ChainEndCause::Completed,
            escalation::ChainEndCause::Excused { reason } => ChainEndCause::Excused { reason },
        }
    }
}

/// The event that decided a done or excused occurrence.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Resolution {
    /// Completed, or excused with a reason.
    pub kind: ChainEndCause,
    /// The completion or excuse event.
    pub event: Uuid,
    /// Who completed or excused.
    pub by: Uuid,
    /// Their name.
    pub by_name: String,
    /// When.
    pub at: SystemTime,
    /// When, in the site's zone.
    pub local_at: String,
}

impl From<agenda::Resolution> for Resolution {
    fn from(r: agenda::Resolution) -> Self {
        Resolution {
            kind: r.kind.into(),
            event: r.event.0,
            by: r.by.0,
            by_name: r.by_name,
            at: instant(r.at),
            local_at: local(r.local_at),
        }
    }
}

// -----------------------------------------------------------------------------------------
// Attention feed

/// The kinds of attention item, in order of urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum AttentionKind {
    /// A check assigned to me is overdue.
    Overdue,
    /// A check assigned to me is due now (or open).
    DueNow,
    /// An escalation reached me.
    Escalation,
    /// A routine at a site I lead keeps being missed.
    RepeatFailure,
}

/// The escalation level behind an [`AttentionKind::Escalation`] item.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EscalationRef {
    /// Its id ([`crate::Device::acknowledge`] takes it).
    pub id: Uuid,
    /// Level number, 1-based.
    pub level: u32,
    /// When it fired.
    pub fired_at: SystemTime,
    /// Whether it has been acknowledged.
    pub acknowledged: bool,
    /// Whether the server has confirmed it fired (false while offline: the device computed
    /// it alone; show it as not yet confirmed).
    pub confirmed_by_server: bool,
}

/// One thing that needs the person's attention.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AttentionItem {
    /// What kind of attention.
    pub kind: AttentionKind,
    /// The site.
    pub site: Uuid,
    /// The routine.
    pub routine: Uuid,
    /// The occurrence, for all but repeat failures.
    pub occurrence: Option<Uuid>,
    /// Its due time, for all but repeat failures.
    pub due: Option<SystemTime>,
    /// Its status at `now`, for all but repeat failures.
    pub status: Option<Status>,
    /// The escalation level that reached the person, for escalations.
    pub escalation: Option<EscalationRef>,
    /// The repeat-failure alert, for repeat failures.
    pub alert: Option<Uuid>,
    /// What to tell the person (names the check, the site and people, local times).
    pub message: String,
}

impl From<attention::AttentionItem> for AttentionItem {
    fn from(item: attention::AttentionItem) -> Self {
        use attention::AttentionKind as K;
        AttentionItem {
            kind: match item.kind {
                K::Overdue => AttentionKind::Overdue,
                K::DueNow => AttentionKind::DueNow,
                K::Escalation => AttentionKind::Escalation,
                K::RepeatFailure => AttentionKind::RepeatFailure,
            },
            site: item.site.0,
            routine: item.routine.0,
            occurrence: item.occurrence.map(|o| o.0),
            due: instant_opt(item.due),
            status: item.status.map(Status::from),
            escalation: item.escalation.map(|e| EscalationRef {
                id: e.id.0,
                level: count(e.level),
                fired_at: instant(e.fired_at),
                acknowledged: e.acknowledged,
                confirmed_by_server: e.confirmed_by_server,
            }),
            alert: item.alert.map(|a| a.0),
            message: item.message,
        }
    }
}

// -----------------------------------------------------------------------------------------
// Today and the check screen

/// One of my checks on today's agenda.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AgendaItem {
    /// The occurrence and its window.
    pub occurrence: Occurrence,
    /// The routine's key.
    pub routine_key: String,
    /// The routine's title.
    pub routine_title: String,
    /// The site's name.
    pub site_name: String,
    /// The site's IANA time zone.
    pub time_zone: String,
    /// Due time in the site's zone.
    pub local_due: String,
    /// The window in the site's zone.
    pub local_window: LocalWindow,
    /// Status at `now`.
    pub status: Status,
    /// The assignee (me) and why.
    pub assignment: Assignment,
    /// The absent owner I am covering for, by name, when I am not the owner.
    pub covering_for_name: Option<String>,
    /// Why I have it when I am not simply the owner ("covering for Maria Lopez (annual
    /// leave)").
    pub assignment_note: Option<String>,
    /// Due on an earlier local day and still open.
    pub from_earlier_day: bool,
    /// What decided it, when done or excused.
    pub resolution: Option<Resolution>,
}

impl From<agenda::AgendaItem> for AgendaItem {
    fn from(item: agenda::AgendaItem) -> Self {
        AgendaItem {
            occurrence: item.occurrence.into(),
            routine_key: item.routine_key,
            routine_title: item.routine_title,
            site_name: item.site_name,
            time_zone: item.time_zone.name().to_string(),
            local_due: local(item.local_due),
            local_window: item.local_window.into(),
            status: item.status.into(),
            assignment: item.assignment.into(),
            covering_for_name: item.covering_for_name,
            assignment_note: item.assignment_note,
            from_earlier_day: item.from_earlier_day,
            resolution: item.resolution.map(Resolution::from),
        }
    }
}

/// The kind of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum StepType {
    /// A tick.
    Check,
    /// A number with a unit and an allowed range.
    Reading,
    /// Photo proof.
    Photo,
    /// One of fixed options.
    Choice,
    /// Free text.
    Text,
    /// A signature.
    Signature,
}

/// One step of a routine with its proof requirements, for the check screen.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StepRequirement {
    /// The step's key ([`StepResult::step`] names it).
    pub key: String,
    /// What the person sees.
    pub title: String,
    /// Its kind.
    pub kind: StepType,
    /// Whether a completion must answer it.
    pub required: bool,
    /// Unit of a reading.
    pub unit: Option<String>,
    /// Lowest allowed reading, inclusive.
    pub min: Option<f64>,
    /// Highest allowed reading, inclusive.
    pub max: Option<f64>,
    /// Minimum number of photos.
    pub min_photos: Option<u32>,
    /// Allowed answers of a choice (empty for other kinds).
    pub options: Vec<String>,
    /// The requirement in words ("Required. A reading in °C between 1 and 5 °C; out of
    /// range needs a corrective action.").
    pub requirement: String,
}

impl From<agenda::StepRequirement> for StepRequirement {
    fn from(s: agenda::StepRequirement) -> Self {
        use agenda::StepType as T;
        StepRequirement {
            key: s.key,
            title: s.title,
            kind: match s.kind {
                T::Check => StepType::Check,
                T::Reading => StepType::Reading,
                T::Photo => StepType::Photo,
                T::Choice => StepType::Choice,
                T::Text => StepType::Text,
                T::Signature => StepType::Signature,
            },
            required: s.required,
            unit: s.unit,
            min: s.min,
            max: s.max,
            min_photos: s.min_photos,
            options: s.options,
            requirement: s.requirement,
        }
    }
}

/// The answer to one step.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum StepAnswer {
    /// Ticked.
    Checked,
    /// A reading, with a corrective-action note when out of range.
    Reading {
        /// The value.
        value: f64,
        /// What was done about an out-of-range value.
        corrective_action: Option<String>,
    },
    /// Photos captured on this device, by SHA-256 ([`PhotoRecord::sha256`]).
    Photos {
        /// Their hashes.
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
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct StepResult {
    /// The step's key ([`StepRequirement::key`]).
    pub step: String,
    /// The answer.
    pub answer: StepAnswer,
}

impl From<StepResult> for model::StepResult {
    fn from(r: StepResult) -> Self {
        use model::StepAnswer as A;
        model::StepResult {
            step: r.step,
            answer: match r.answer {
                StepAnswer::Checked => A::Checked,
                StepAnswer::Reading {
                    value,
                    corrective_action,
                } => A::Reading {
                    value,
                    corrective_action,
                },
                StepAnswer::Photos { sha256 } => A::Photos { sha256 },
                StepAnswer::Choice { option } => A::Choice { option },
                StepAnswer::Text { text } => A::Text { text },
                StepAnswer::Signature { data } => A::Signature { data },
            },
        }
    }
}

impl From<model::StepResult> for StepResult {
    fn from(r: model::StepResult) -> Self {
        use model::StepAnswer as A;
        StepResult {
            step: r.step,
            answer: match r.answer {
                A::Checked => StepAnswer::Checked,
                A::Reading {
                    value,
                    corrective_action,
                } => StepAnswer::Reading {
                    value,
                    corrective_action,
                },
                A::Photos { sha256 } => StepAnswer::Photos { sha256 },
                A::Choice { option } => StepAnswer::Choice { option },
                A::Text { text } => StepAnswer::Text { text },
                A::Signature { data } => StepAnswer::Signature { data },
            },
        }
    }
}

/// What is wrong with a step's answer.
#[derive(Debug, Clone, PartialEq, uniffi::Enum)]
pub enum ProblemKind {
    /// A required step has no answer (or only blank text).
    Unanswered,
    /// A reading is outside its allowed range and has no corrective action.
    OutOfRange {
        /// The value read.
        value: f64,
        /// Its unit.
        unit: String,
        /// Lowest allowed value.
        min: Option<f64>,
        /// Highest allowed value.
        max: Option<f64>,
    },
    /// A reading is not a finite number.
    NotANumber,
    /// Fewer photos than required.
    TooFewPhotos {
        /// Photos given.
        given: u32,
        /// Photos required.
        min_count: u32,
    },
    /// A signature with no data.
    EmptySignature,
    /// A choice that is not one of the step's options.
    NotAnOption {
        /// The option given.
        option: String,
        /// The allowed options.
        options: Vec<String>,
    },
    /// The answer is of another kind than the step.
    WrongKind {
        /// The step's kind (`check`, `reading`, `photo`, `choice`, `text`, `signature`).
        expected: String,
        /// The answer's kind (`checked`, `reading`, `photos`, `choice`, `text`,
        /// `signature`).
        given: String,
    },
    /// An answer to a step the routine does not have.
    UnknownStep,
    /// The same step answered more than once.
    AnsweredTwice,
}

/// One unmet proof requirement of one step.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ProofProblem {
    /// The step's key (or the unknown key answered).
    pub step: String,
    /// The step's title.
    pub step_title: String,
    /// What is wrong.
    pub problem: ProblemKind,
    /// The same as a sentence ("Walk-in cooler: 7.5 °C is outside 1–5 °C; add a corrective
    /// action").
    pub message: String,
}

impl From<completion::ProofProblem> for ProofProblem {
    fn from(p: completion::ProofProblem) -> Self {
        use completion::ProblemKind as P;
        let message = p.to_string();
        ProofProblem {
            step: p.step,
            step_title: p.step_title,
            problem: match p.problem {
                P::Unanswered => ProblemKind::Unanswered,
                P::OutOfRange {
                    value,
                    unit,
                    min,
                    max,
                } => ProblemKind::OutOfRange {
                    value,
                    unit,
                    min,
                    max,
                },
                P::NotANumber => ProblemKind::NotANumber,
                P::TooFewPhotos { given, min_count } => ProblemKind::TooFewPhotos {
                    given: count(given),
                    min_count,
                },
                P::EmptySignature => ProblemKind::EmptySignature,
                P::NotAnOption { option, options } => ProblemKind::NotAnOption { option, options },
                P::WrongKind { expected, given } => ProblemKind::WrongKind { expected, given },
                P::UnknownStep => ProblemKind::UnknownStep,
                P::AnsweredTwice => ProblemKind::AnsweredTwice,
            },
            message,
        }
    }
}

/// Where a recorded completion stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum CompletionStanding {
    /// The earliest valid completion: it decides the status.
    Counts,
    /// Valid, but an earlier valid completion counts (done twice, e.g. offline).
    Duplicate,
    /// Its step results miss proof requirements (see `problems`).
    InvalidProof,
    /// Made before the window opened.
    BeforeWindow,
    /// Recorded after `now` (only when looking at the past).
    AfterNow,
}

/// One completion recorded for an occurrence.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CompletionRecord {
    /// The completion event.
    pub event: Uuid,
    /// Who did it.
    pub by: Uuid,
    /// Their name.
    pub by_name: String,
    /// Device time of completion.
    pub at: SystemTime,
    /// The same, in the site's zone.
    pub local_at: String,
    /// Routine version shown when completing.
    pub routine_version: u32,
    /// Step results.
    pub results: Vec<StepResult>,
    /// Free note.
    pub note: Option<String>,
    /// Whether this is the completion that counts.
    pub counts: bool,
    /// Where it stands, and why when it does not count.
    pub standing: CompletionStanding,
    /// Unmet proof requirements against the current routine (empty when valid).
    pub problems: Vec<ProofProblem>,
}

impl From<agenda::CompletionRecord> for CompletionRecord {
    fn from(c: agenda::CompletionRecord) -> Self {
        use agenda::CompletionStanding as S;
        CompletionRecord {
            event: c.event.0,
            by: c.by.0,
            by_name: c.by_name,
            at: instant(c.at),
            local_at: local(c.local_at),
            routine_version: c.routine_version,
            results: c.results.into_iter().map(StepResult::from).collect(),
            note: c.note,
            counts: c.counts,
            standing: match c.standing {
                S::Counts => CompletionStanding::Counts,
                S::Duplicate => CompletionStanding::Duplicate,
                S::InvalidProof => CompletionStanding::InvalidProof,
                S::BeforeWindow => CompletionStanding::BeforeWindow,
                S::AfterNow => CompletionStanding::AfterNow,
            },
            problems: c.problems.into_iter().map(ProofProblem::from).collect(),
        }
    }
}

/// Where a recorded excuse stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ExcuseStanding {
    /// The first excuse, and no valid completion: the occurrence is excused.
    Counts,
    /// A valid completion decides the status (valid proof beats an excuse).
    CompletionCounts,
    /// An earlier excuse counts.
    Duplicate,
    /// Recorded after `now` (only when looking at the past).
    AfterNow,
}

/// One excuse recorded for an occurrence.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ExcuseRecord {
    /// The excuse event.
    pub event: Uuid,
    /// Who excused.
    pub by: Uuid,
    /// Their name.
    pub by_name: String,
    /// When.
    pub at: SystemTime,
    /// The same, in the site's zone.
    pub local_at: String,
    /// Why.
    pub reason: String,
    /// Whether this excuse decides the status.
    pub counts: bool,
    /// Where it stands.
    pub standing: ExcuseStanding,
}

impl From<agenda::ExcuseRecord> for ExcuseRecord {
    fn from(e: agenda::ExcuseRecord) -> Self {
        use agenda::ExcuseStanding as S;
        ExcuseRecord {
            event: e.event.0,
            by: e.by.0,
            by_name: e.by_name,
            at: instant(e.at),
            local_at: local(e.local_at),
            reason: e.reason,
            counts: e.counts,
            standing: match e.standing {
                S::Counts => ExcuseStanding::Counts,
                S::CompletionCounts => ExcuseStanding::CompletionCounts,
                S::Duplicate => ExcuseStanding::Duplicate,
                S::AfterNow => ExcuseStanding::AfterNow,
            },
        }
    }
}

/// An earlier occurrence of the same routine, for the recent-history strip.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RecentOccurrence {
    /// The occurrence.
    pub occurrence: Uuid,
    /// Its due time.
    pub due: SystemTime,
    /// Its due time in the site's zone.
    pub local_due: String,
    /// Status at `now`.
    pub status: Status,
    /// Its assignee.
    pub assignee: Uuid,
    /// The assignee's name.
    pub assignee_name: String,
    /// Who completed (or excused) it and when.
    pub resolution: Option<Resolution>,
}

impl From<agenda::RecentOccurrence> for RecentOccurrence {
    fn from(r: agenda::RecentOccurrence) -> Self {
        RecentOccurrence {
            occurrence: r.occurrence.0,
            due: instant(r.due),
            local_due: local(r.local_due),
            status: r.status.into(),
            assignee: r.assignee.0,
            assignee_name: r.assignee_name,
            resolution: r.resolution.map(Resolution::from),
        }
    }
}

/// An acknowledgement of one escalation level.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LevelAck {
    /// The acknowledgement event.
    pub event: Uuid,
    /// Who acknowledged.
    pub by: Uuid,
    /// When.
    pub at: SystemTime,
}

/// One level of an occurrence's escalation chain.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EscalationLevel {
    /// Level number, 1-based.
    pub level: u32,
    /// Its id ([`crate::Device::acknowledge`] takes it).
    pub id: Uuid,
    /// When it fires.
    pub fires_at: SystemTime,
    /// Whether it has fired.
    pub fired: bool,
    /// Who it notifies, in the order the level names them.
    pub recipients: Vec<Uuid>,
    /// The first acknowledgement of this level, if any.
    pub acknowledgement: Option<LevelAck>,
    /// The next re-notification, while the level has fired and is neither acknowledged
    /// nor ended (only when the level re-notifies).
    pub next_renotify: Option<SystemTime>,
}

/// What ended an escalation chain.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChainEnd {
    /// When.
    pub at: SystemTime,
    /// The completion or excuse event.
    pub event: Uuid,
    /// Who completed or excused.
    pub by: Uuid,
    /// Completion or excuse.
    pub cause: ChainEndCause,
}

/// An occurrence's escalation chain at `now`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Timeline {
    /// The occurrence.
    pub occurrence: Uuid,
    /// Its assignee.
    pub assignment: Assignment,
    /// Every level of the routine's chain, in order.
    pub levels: Vec<EscalationLevel>,
    /// What ended the chain, if anything has.
    pub ended: Option<ChainEnd>,
}

impl From<escalation::Timeline> for Timeline {
    fn from(t: escalation::Timeline) -> Self {
        Timeline {
            occurrence: t.occurrence.0,
            assignment: t.assignment.into(),
            levels: t
                .levels
                .into_iter()
                .map(|l| EscalationLevel {
                    level: count(l.level),
                    id: l.id.0,
                    fires_at: instant(l.fires_at),
                    fired: l.fired,
                    recipients: l.recipients.into_iter().map(|p| p.0).collect(),
                    acknowledgement: l.acknowledgement.map(|a| LevelAck {
                        event: a.event.0,
                        by: a.by.0,
                        at: instant(a.at),
                    }),
                    next_renotify: instant_opt(l.next_renotify),
                })
                .collect(),
            ended: t.ended.map(|e| ChainEnd {
                at: instant(e.at),
                event: e.event.0,
                by: e.by.0,
                cause: e.cause.into(),
            }),
        }
    }
}

/// Everything about one occurrence, for the check screen.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct OccurrenceDetail {
    /// The occurrence and its window.
    pub occurrence: Occurrence,
    /// The routine's key.
    pub routine_key: String,
    /// The routine's title.
    pub routine_title: String,
    /// The routine's current version.
    pub routine_version: u32,
    /// Instructions shown on the check screen.
    pub instructions: String,
    /// The site's name.
    pub site_name: String,
    /// The site's IANA time zone.
    pub time_zone: String,
    /// The window in the site's zone.
    pub local_window: LocalWindow,
    /// Status at `now`.
    pub status: Status,
    /// The steps with their proof requirements, in order.
    pub steps: Vec<StepRequirement>,
    /// The assignee and why.
    pub assignment: Assignment,
    /// The assignee's name.
    pub assignee_name: String,
    /// The routine's owner.
    pub owner: Uuid,
    /// The owner's name.
    pub owner_name: String,
    /// The routine's backup.
    pub backup: Option<Uuid>,
    /// The backup's name.
    pub backup_name: Option<String>,
    /// The absent owner being covered for, by name.
    pub covering_for_name: Option<String>,
    /// Why the assignee has it when not simply the owner.
    pub assignment_note: Option<String>,
    /// The escalation chain at `now`.
    pub timeline: Timeline,
    /// What decided it, when done or excused.
    pub resolution: Option<Resolution>,
    /// Every completion recorded for it, earliest first.
    pub completions: Vec<CompletionRecord>,
    /// Every excuse recorded for it, earliest first.
    pub excuses: Vec<ExcuseRecord>,
    /// Earlier occurrences of the routine, most recent first.
    pub recent: Vec<RecentOccurrence>,
    /// Every person named above, in order of first mention.
    pub people: Vec<PersonName>,
}

impl From<agenda::OccurrenceDetail> for OccurrenceDetail {
    fn from(d: agenda::OccurrenceDetail) -> Self {
        OccurrenceDetail {
            occurrence: d.occurrence.into(),
            routine_key: d.routine_key,
            routine_title: d.routine_title,
            routine_version: d.routine_version,
            instructions: d.instructions,
            site_name: d.site_name,
            time_zone: d.time_zone.name().to_string(),
            local_window: d.local_window.into(),
            status: d.status.into(),
            steps: d.steps.into_iter().map(StepRequirement::from).collect(),
            assignment: d.assignment.into(),
            assignee_name: d.assignee_name,
            owner: d.owner.0,
            owner_name: d.owner_name,
            backup: d.backup.map(|b| b.0),
            backup_name: d.backup_name,
            covering_for_name: d.covering_for_name,
            assignment_note: d.assignment_note,
            timeline: d.timeline.into(),
            resolution: d.resolution.map(Resolution::from),
            completions: d
                .completions
                .into_iter()
                .map(CompletionRecord::from)
                .collect(),
            excuses: d.excuses.into_iter().map(ExcuseRecord::from).collect(),
            recent: d.recent.into_iter().map(RecentOccurrence::from).collect(),
            people: d.people.into_iter().map(PersonName::from).collect(),
        }
    }
}

// -----------------------------------------------------------------------------------------
// What the person records

/// A recorded completion (immutable; two of one occurrence are both kept, the earliest
/// valid one counts).
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct Completion {
    /// The event's id.
    pub id: Uuid,
    /// The occurrence completed.
    pub occurrence: Uuid,
    /// Its due time.
    pub due: SystemTime,
    /// The routine.
    pub routine: Uuid,
    /// The routine version completed against.
    pub routine_version: u32,
    /// Who did it.
    pub by: Uuid,
    /// Device time of completion.
    pub at: SystemTime,
    /// Step results (photos attached to their step).
    pub results: Vec<StepResult>,
    /// Free note.
    pub note: Option<String>,
}

impl From<model::Completion> for Completion {
    fn from(c: model::Completion) -> Self {
        Completion {
            id: c.id.0,
            occurrence: c.occurrence.0,
            due: instant(c.due),
            routine: c.routine.0,
            routine_version: c.routine_version,
            by: c.by.0,
            at: instant(c.at),
            results: c.results.into_iter().map(StepResult::from).collect(),
            note: c.note,
        }
    }
}

/// A recorded excuse.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Excuse {
    /// The event's id.
    pub id: Uuid,
    /// The occurrence excused.
    pub occurrence: Uuid,
    /// Its routine.
    pub routine: Uuid,
    /// Its due time.
    pub due: SystemTime,
    /// Who excused it.
    pub by: Uuid,
    /// When.
    pub at: SystemTime,
    /// Why.
    pub reason: String,
}

impl From<model::Excuse> for Excuse {
    fn from(e: model::Excuse) -> Self {
        Excuse {
            id: e.id.0,
            occurrence: e.occurrence.0,
            routine: e.routine.0,
            due: instant(e.due),
            by: e.by.0,
            at: instant(e.at),
            reason: e.reason,
        }
    }
}

/// A recorded absence: the person's checks go to the backup.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Absence {
    /// Who is away.
    pub person: Uuid,
    /// Start, inclusive.
    pub from: SystemTime,
    /// End, exclusive.
    pub until: SystemTime,
    /// Why ("annual leave").
    pub reason: Option<String>,
}

impl From<model::Absence> for Absence {
    fn from(a: model::Absence) -> Self {
        Absence {
            person: a.person.0,
            from: instant(a.from),
            until: instant(a.until),
            reason: a.reason,
        }
    }
}

/// A recorded acknowledgement of an escalation level.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Acknowledgement {
    /// The event's id.
    pub id: Uuid,
    /// The level acknowledged.
    pub escalation: Uuid,
    /// Who acknowledged.
    pub by: Uuid,
    /// When.
    pub at: SystemTime,
}

impl From<model::Acknowledgement> for Acknowledgement {
    fn from(a: model::Acknowledgement) -> Self {
        Acknowledgement {
            id: a.id.0,
            escalation: a.escalation.0,
            by: a.by.0,
            at: instant(a.at),
        }
    }
}

/// A photo stored as proof and its thumbnail (upright, scaled, no metadata).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PhotoRecord {
    /// SHA-256 (lowercase hex) of the stored JPEG: what a completion names.
    pub sha256: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Size of the stored JPEG in bytes.
    pub bytes: u64,
    /// SHA-256 of the thumbnail JPEG.
    pub thumb_sha256: String,
    /// Thumbnail width in pixels.
    pub thumb_width: u32,
    /// Thumbnail height in pixels.
    pub thumb_height: u32,
    /// When the photo was taken.
    pub captured_at: SystemTime,
}

impl From<proof::PhotoRecord> for PhotoRecord {
    fn from(p: proof::PhotoRecord) -> Self {
        PhotoRecord {
            sha256: p.sha256,
            width: p.width,
            height: p.height,
            bytes: p.bytes,
            thumb_sha256: p.thumb_sha256,
            thumb_width: p.thumb_width,
            thumb_height: p.thumb_height,
            captured_at: instant(p.captured_at),
        }
    }
}

// -----------------------------------------------------------------------------------------
// Review: missed checks, compliance, statuses

/// A missed check, or one done late.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct MissedItem {
    /// The occurrence and its window.
    pub occurrence: Occurrence,
    /// The routine's key.
    pub routine_key: String,
    /// The routine's title.
    pub routine_title: String,
    /// Due time in the site's zone.
    pub local_due: String,
    /// Missed or done late, at `now`.
    pub status: Status,
    /// The assignee and why.
    pub assignment: Assignment,
    /// The assignee's name.
    pub assignee_name: String,
    /// The absent owner the assignee covered for, by name.
    pub covering_for_name: Option<String>,
    /// Why the assignee had it when not simply the owner.
    pub assignment_note: Option<String>,
    /// When the counting completion was made, if done late.
    pub done_at: Option<SystemTime>,
    /// The same, in the site's zone.
    pub local_done_at: Option<String>,
    /// Who did it, if done late.
    pub done_by: Option<Uuid>,
    /// Their name.
    pub done_by_name: Option<String>,
    /// How late, in whole minutes after the due time, if done late.
    pub late_by_min: Option<i64>,
    /// The same in words ("40 min", "1 h 5 min").
    pub late_by_text: Option<String>,
}

impl From<review::MissedItem> for MissedItem {
    fn from(m: review::MissedItem) -> Self {
        MissedItem {
            occurrence: m.occurrence.into(),
            routine_key: m.routine_key,
            routine_title: m.routine_title,
            local_due: local(m.local_due),
            status: m.status.into(),
            assignment: m.assignment.into(),
            assignee_name: m.assignee_name,
            covering_for_name: m.covering_for_name,
            assignment_note: m.assignment_note,
            done_at: instant_opt(m.done_at),
            local_done_at: m.local_done_at.map(local),
            done_by: m.done_by.map(|p| p.0),
            done_by_name: m.done_by_name,
            late_by_min: m.late_by_min,
            late_by_text: m.late_by_text,
        }
    }
}

/// Counts of occurrences by outcome, and the on-time percentage.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ComplianceCounts {
    /// Done within grace.
    pub on_time: u32,
    /// Done after grace.
    pub late: u32,
    /// Closed without valid proof or excuse.
    pub missed: u32,
    /// Released by a supervisor.
    pub excused: u32,
    /// Not final yet at `now`.
    pub still_open: u32,
    /// All of the above.
    pub total: u32,
    /// `100 · on_time / (on_time + late + missed)`; absent when that is 0 / 0.
    pub on_time_percent: Option<f64>,
}

impl From<review::ComplianceCounts> for ComplianceCounts {
    fn from(c: review::ComplianceCounts) -> Self {
        ComplianceCounts {
            on_time: c.on_time,
            late: c.late,
            missed: c.missed,
            excused: c.excused,
            still_open: c.still_open,
            total: c.total,
            on_time_percent: c.on_time_percent,
        }
    }
}

/// Compliance of one routine: a row of the compliance screen.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RoutineCompliance {
    /// The routine.
    pub routine: Uuid,
    /// Its key.
    pub routine_key: String,
    /// Its title.
    pub routine_title: String,
    /// Its counts.
    pub counts: ComplianceCounts,
}

/// Compliance of one person (as assignee): a row of the compliance screen.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct PersonCompliance {
    /// The person.
    pub person: Uuid,
    /// Their name.
    pub name: String,
    /// Their counts.
    pub counts: ComplianceCounts,
}

/// Compliance of a site over a period, per routine and per person.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct ComplianceReport {
    /// The site.
    pub site: Uuid,
    /// Its name.
    pub site_name: String,
    /// Its IANA time zone.
    pub time_zone: String,
    /// Start of the period, inclusive.
    pub from: SystemTime,
    /// End of the period, exclusive.
    pub until: SystemTime,
    /// The start in the site's zone.
    pub local_from: String,
    /// The end in the site's zone.
    pub local_until: String,
    /// All routines together.
    pub totals: ComplianceCounts,
    /// One row per routine.
    pub routines: Vec<RoutineCompliance>,
    /// One row per person.
    pub people: Vec<PersonCompliance>,
}

impl From<review::ComplianceReport> for ComplianceReport {
    fn from(r: review::ComplianceReport) -> Self {
        ComplianceReport {
            site: r.site.0,
            site_name: r.site_name,
            time_zone: r.time_zone.name().to_string(),
            from: instant(r.from),
            until: instant(r.until),
            local_from: local(r.local_from),
            local_until: local(r.local_until),
            totals: r.totals.into(),
            routines: r
                .routines
                .into_iter()
                .map(|c| RoutineCompliance {
                    routine: c.routine.0,
                    routine_key: c.routine_key,
                    routine_title: c.routine_title,
                    counts: c.counts.into(),
                })
                .collect(),
            people: r
                .people
                .into_iter()
                .map(|c| PersonCompliance {
                    person: c.person.0,
                    name: c.name,
                    counts: c.counts.into(),
                })
                .collect(),
        }
    }
}

/// One occurrence and its status (what the server computes from the same events).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OccurrenceStatus {
    /// The occurrence.
    pub occurrence: Uuid,
    /// Its routine.
    pub routine: Uuid,
    /// The routine's title.
    pub routine_title: String,
    /// Due instant.
    pub due: SystemTime,
    /// Where it stands at `now`.
    pub status: Status,
    /// The completion that counts, if done.
    pub counted_completion: Option<Uuid>,
}

impl From<review::OccurrenceStatus> for OccurrenceStatus {
    fn from(s: review::OccurrenceStatus) -> Self {
        OccurrenceStatus {
            occurrence: s.occurrence.0,
            routine: s.routine.0,
            routine_title: s.routine_title,
            due: instant(s.due),
            status: s.status.into(),
            counted_completion: s.counted_completion.map(|e| e.0),
        }
    }
}

// -----------------------------------------------------------------------------------------
// Reminders

/// What a reminder is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ReminderKind {
    /// My check's window opens: it can be done now.
    Opens,
    /// My check is due.
    Due,
    /// My check is past grace: done from now on it is late.
    Overdue,
    /// An escalation level that notifies me fires.
    Escalation,
}

/// One local notification to schedule.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Reminder {
    /// Deterministic id: the same reminder always has the same id, so rescheduling
    /// replaces rather than duplicates.
    pub id: Uuid,
    /// When to show it.
    pub fire_at: SystemTime,
    /// What it is about.
    pub kind: ReminderKind,
    /// The escalation level (1-based), for escalation reminders.
    pub escalation_level: Option<u32>,
    /// The escalation level's id, for escalation reminders.
    pub escalation: Option<Uuid>,
    /// The occurrence: tapping the notification opens this check.
    pub occurrence: Uuid,
    /// The routine.
    pub routine: Uuid,
    /// The site.
    pub site: Uuid,
    /// The occurrence's due time.
    pub due: SystemTime,
    /// Notification title ("Fridge temperatures is due").
    pub title: String,
    /// Notification body.
    pub body: String,
}

impl From<reminders::Reminder> for Reminder {
    fn from(r: reminders::Reminder) -> Self {
        use reminders::ReminderKind as K;
        Reminder {
            id: r.id.0,
            fire_at: instant(r.fire_at),
            kind: match r.kind {
                K::Opens => ReminderKind::Opens,
                K::Due => ReminderKind::Due,
                K::Overdue => ReminderKind::Overdue,
                K::Escalation => ReminderKind::Escalation,
            },
            escalation_level: r.escalation_level.map(count),
            escalation: r.escalation.map(|e| e.0),
            occurrence: r.occurrence.0,
            routine: r.routine.0,
            site: r.site.0,
            due: instant(r.due),
            title: r.title,
            body: r.body,
        }
    }
}

// -----------------------------------------------------------------------------------------
// Sync, outbox, audit

/// One of this device's events the server finally rejected (kept, counted in no state).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RejectedEvent {
    /// The event.
    pub event: Uuid,
    /// Its kind (`completed`, `excused`…).
    pub kind: String,
    /// Why, for programs (`proof_incomplete`, `not_allowed`…).
    pub code: String,
    /// Why, for people (the server's sentence).
    pub reason: String,
    /// What the event was, by name ("completion of Fridge temperatures (Harbor Kitchen)
    /// due Wed 9 Dec 2026 07:00").
    pub subject: String,
}

/// What one sync did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Events sent in push requests.
    pub pushed: u32,
    /// Of those, accepted by the server.
    pub accepted: u32,
    /// Of those, already accepted by an earlier push.
    pub duplicates: u32,
    /// Of those, finally rejected, with the server's reasons.
    pub rejected: Vec<RejectedEvent>,
    /// New events pulled and stored.
    pub pulled: u32,
    /// Blobs (photos and thumbnails) the server now holds that it did not before.
    pub uploaded_blobs: u32,
    /// Bytes sent for them.
    pub uploaded_bytes: u64,
    /// Thumbnails of other devices' photos fetched.
    pub thumbnails_fetched: u32,
    /// The clock offset measured (server − device, ms), if the server answered.
    pub clock_offset_ms: Option<i64>,
    /// Whether that offset is beyond 5 minutes: show a "check the phone's clock" warning.
    pub clock_skew_warning: bool,
    /// What went wrong, as sentences (the next sync resumes; nothing is lost).
    pub errors: Vec<String>,
    /// Whether every step finished without an error.
    pub complete: bool,
}

impl From<device::SyncReport> for SyncReport {
    fn from(r: device::SyncReport) -> Self {
        SyncReport {
            pushed: r.pushed,
            accepted: r.accepted,
            duplicates: r.duplicates,
            rejected: r
                .rejected
                .into_iter()
                .map(|e| RejectedEvent {
                    event: e.event.0,
                    kind: e.kind,
                    code: e.code.as_str().to_string(),
                    reason: e.reason,
                    subject: e.subject,
                })
                .collect(),
            pulled: r.pulled,
            uploaded_blobs: r.uploaded_blobs,
            uploaded_bytes: r.uploaded_bytes,
            thumbnails_fetched: r.thumbnails_fetched,
            clock_offset_ms: r.clock_offset_ms,
            clock_skew_warning: r.clock_skew_warning,
            errors: r.errors,
            complete: r.complete,
        }
    }
}

/// Where this device stands with its server.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncStatus {
    /// The server's address (absent: not enrolled).
    pub server: Option<String>,
    /// When the device enrolled.
    pub enrolled_at: Option<SystemTime>,
    /// Events not yet acknowledged by the server.
    pub pending_events: u64,
    /// Events the server finally rejected.
    pub rejected_events: u64,
    /// Photos of this device's completions not uploaded yet ("pending upload").
    pub pending_uploads: u64,
    /// When a sync last completed.
    pub last_sync_at: Option<SystemTime>,
    /// The clock offset last measured (server − device, ms).
    pub last_clock_offset_ms: Option<i64>,
    /// Whether that offset is beyond 5 minutes.
    pub clock_skew_warning: bool,
    /// What went wrong in the last sync, if it did not complete.
    pub last_error: Option<String>,
}

impl From<device::SyncStatus> for SyncStatus {
    fn from(s: device::SyncStatus) -> Self {
        SyncStatus {
            server: s.server,
            enrolled_at: instant_opt(s.enrolled_at),
            pending_events: s.pending_events,
            rejected_events: s.rejected_events,
            pending_uploads: s.pending_uploads,
            last_sync_at: instant_opt(s.last_sync_at),
            last_clock_offset_ms: s.last_clock_offset_ms,
            clock_skew_warning: s.clock_skew_warning,
            last_error: s.last_error,
        }
    }
}

/// How many of this device's events are in each sync state.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OutboxSummary {
    /// Not yet acknowledged.
    pub pending: u64,
    /// Accepted by the server.
    pub accepted: u64,
    /// Already known to the server.
    pub duplicate: u64,
    /// Refused by the server.
    pub rejected: u64,
}

impl From<store::OutboxSummary> for OutboxSummary {
    fn from(s: store::OutboxSummary) -> Self {
        OutboxSummary {
            pending: s.pending,
            accepted: s.accepted,
            duplicate: s.duplicate,
            rejected: s.rejected,
        }
    }
}

/// One local event's sync state.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SyncState {
    /// Not acknowledged by the server yet.
    Pending,
    /// Stored by the server.
    Accepted,
    /// The server already had it.
    Duplicate,
    /// Refused; kept so the person can see why.
    Rejected {
        /// The server's reason.
        reason: String,
    },
}

/// One event this device wrote, with its sync state.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct OutboxEntry {
    /// The event.
    pub event: Uuid,
    /// Its position in the device's chain.
    pub seq: u64,
    /// Its kind (`completed`, `excused`…).
    pub kind: String,
    /// Where it stands.
    pub state: SyncState,
    /// When the state last changed.
    pub changed_at: SystemTime,
}

impl From<store::OutboxEntry> for OutboxEntry {
    fn from(e: store::OutboxEntry) -> Self {
        OutboxEntry {
            event: e.event.0,
            seq: e.seq,
            kind: e.kind,
            state: match e.state {
                store::SyncState::Pending => SyncState::Pending,
                store::SyncState::Accepted => SyncState::Accepted,
                store::SyncState::Duplicate => SyncState::Duplicate,
                store::SyncState::Rejected { reason } => SyncState::Rejected { reason },
            },
            changed_at: instant(e.changed_at),
        }
    }
}

/// The result of re-checking this device's hash chain.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChainReport {
    /// The device whose chain was checked.
    pub device: Uuid,
    /// Events of the device's own chain checked.
    pub local_events: u64,
    /// Imported definition events checked.
    pub import_events: u64,
    /// Whether both chains are intact.
    pub intact: bool,
    /// The first problem found, as a sentence (absent when intact).
    pub first_broken: Option<String>,
}

impl From<store::ChainReport> for ChainReport {
    fn from(r: store::ChainReport) -> Self {
        ChainReport {
            device: r.device.0,
            local_events: r.local_events,
            import_events: r.import_events,
            intact: r.is_intact(),
            first_broken: r.first_broken.map(|b| b.to_string()),
        }
    }
}

/// An alert due for the device's person (what the server's dispatcher pushes), computed on
/// the device so it shows offline too.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Alert {
    /// The alert's id (the same on the server and every device).
    pub id: Uuid,
    /// The site.
    pub site: Uuid,
    /// The routine.
    pub routine: Uuid,
    /// The occurrence, for escalations (tapping opens it).
    pub occurrence: Option<Uuid>,
    /// The escalation level's id, for escalations ([`crate::Device::acknowledge`] takes it).
    pub escalation: Option<Uuid>,
    /// The level, for escalations (1-based).
    pub level: Option<u32>,
    /// The repeat-failure alert, for repeat failures.
    pub repeat_failure: Option<Uuid>,
    /// When it became due.
    pub due_at: SystemTime,
    /// One notification per check: the key to group or replace notifications by.
    pub collapse_key: String,
    /// The notification's title: the check and the site.
    pub title: String,
    /// The sentence to show.
    pub body: String,
    /// Whether the server has confirmed it (false while offline).
    pub confirmed_by_server: bool,
}

impl From<proofline_core::device::Alert> for Alert {
    fn from(alert: proofline_core::device::Alert) -> Self {
        use proofline_core::notify::NoticeKind;
        let notice = alert.notice;
        let (escalation, level, repeat_failure) = match notice.kind {
            NoticeKind::Escalation {
                escalation, level, ..
            } => (Some(escalation.0), Some(count(level)), None),
            NoticeKind::RepeatFailure { alert } => (None, None, Some(alert.0)),
        };
        Alert {
            id: notice.id,
            site: notice.site.0,
            routine: notice.routine.0,
            occurrence: notice.occurrence.map(|o| o.0),
            escalation,
            level,
            repeat_failure,
            due_at: instant(notice.due_at),
            collapse_key: notice.collapse_key,
            title: notice.title,
            body: notice.body,
            confirmed_by_server: alert.confirmed_by_server,
        }
    }
}
