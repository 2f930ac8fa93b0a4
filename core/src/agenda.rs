//! Agenda: a person's checks for today and the full detail of one occurrence.
//!
//! [`today`] is the home screen of the frontline app: my checks of the site-local day
//! containing `now` (each site in its own zone), done ones included so the shell can show
//! them ticked, plus checks of mine from earlier days that are still open (overdue, not yet
//! closed). [`occurrence_detail`] is the check screen: steps and proof requirements, the
//! window, the assignee and why, the escalation timeline, every completion and excuse
//! recorded (and which one counts), and the routine's recent history.
//!
//! Pure: the org and history come from the local store, `now` is a parameter. Status,
//! assignee and escalation come from [`crate::occurrence`], [`crate::assignee`] and
//! [`crate::escalation`]; nothing is re-derived here.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::assignee::{Assignment, AssignmentReason, absence_at, assignee};
use crate::completion::{self, ProofProblem};
use crate::escalation::{ChainEndCause, Timeline, timeline_in};
use crate::model::{
    EventId, History, OccurrenceId, Org, PersonId, Routine, Site, SiteId, Step, StepKind,
    StepResult,
};
use crate::occurrence::{
    Events, Occurrence, OccurrenceError, Status, minus_minutes, occurrence_id,
    occurrences_before_in, occurrences_in, status_in, valid_completion_in,
};
use crate::zone::local_to_instant;

/// How far either side of `now` [`occurrence_detail`] looks for the occurrence with a
/// given id (and either side of a completion or excuse naming it, as a fallback).
pub const SEARCH_DAYS: i64 = 45;
/// The narrower span searched first, since most detail requests are about checks near `now`.
const FIRST_SEARCH_DAYS: i64 = 2;
/// How many earlier occurrences [`OccurrenceDetail::recent`] lists.
pub const RECENT_COUNT: usize = 10;

/// Why an agenda or an occurrence detail cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AgendaError {
    /// The person is not in the org.
    #[error("person {person} is not in the org")]
    UnknownPerson {
        /// The person asked about.
        person: PersonId,
    },
    /// A routine names a site the org does not have.
    #[error("routine `{routine_key}` ({routine_title}) names a site that does not exist: {site}")]
    UnknownSite {
        /// The routine's key.
        routine_key: String,
        /// The routine's title.
        routine_title: String,
        /// The missing site.
        site: SiteId,
    },
    /// No routine has an occurrence with this id near `now`, and no completion or excuse of
    /// it leads to one.
    #[error(
        "unknown occurrence {occurrence}: no routine has an occurrence with this id due between \
         {searched_from} and {searched_until} ({SEARCH_DAYS} days either side of now), and no \
         completion or excuse of it leads to one"
    )]
    UnknownOccurrence {
        /// The id asked about.
        occurrence: OccurrenceId,
        /// Start of the span searched around `now`.
        searched_from: DateTime<Utc>,
        /// End of the span searched around `now`.
        searched_until: DateTime<Utc>,
    },
    /// A routine's occurrences cannot be listed (its message names the routine).
    #[error(transparent)]
    Occurrence(#[from] OccurrenceError),
}

/// An occurrence's window as wall-clock times in the site's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalWindow {
    /// From here the check can be done.
    pub opens: NaiveDateTime,
    /// The due time.
    pub due: NaiveDateTime,
    /// Done after this is late.
    pub late_after: NaiveDateTime,
    /// Not done by this is missed.
    pub closes: NaiveDateTime,
}

impl LocalWindow {
    /// The window of `occurrence` in zone `tz`.
    pub fn of(occurrence: &Occurrence, tz: Tz) -> LocalWindow {
        LocalWindow {
            opens: local(tz, occurrence.opens),
            due: local(tz, occurrence.due),
            late_after: local(tz, occurrence.late_after),
            closes: local(tz, occurrence.closes),
        }
    }
}

/// The event that decided a done or excused occurrence: the counting completion, or the
/// excuse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// Completed, or excused with a reason.
    pub kind: ChainEndCause,
    /// The completion or excuse event.
    pub event: EventId,
    /// Who completed or excused.
    pub by: PersonId,
    /// Their name.
    pub by_name: String,
    /// When.
    pub at: DateTime<Utc>,
    /// When, in the site's zone.
    pub local_at: NaiveDateTime,
}

/// One of my checks on today's agenda.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaItem {
    /// The occurrence and its window (instants).
    pub occurrence: Occurrence,
    /// The routine's key.
    pub routine_key: String,
    /// The routine's title.
    pub routine_title: String,
    /// The site's name.
    pub site_name: String,
    /// The site's zone.
    pub time_zone: Tz,
    /// Due time in the site's zone.
    pub local_due: NaiveDateTime,
    /// The window in the site's zone.
    pub local_window: LocalWindow,
    /// Status at `now`.
    pub status: Status,
    /// The assignee (me) and why.
    pub assignment: Assignment,
    /// The absent owner I am covering for, by name, when I am not the owner.
    pub covering_for_name: Option<String>,
    /// Why I have it when I am not simply the owner ("covering for Maria Lopez (annual
    /// leave)"); see [`assignment_note`].
    pub assignment_note: Option<String>,
    /// Due on an earlier local day and still open (overdue, not yet closed).
    pub from_earlier_day: bool,
    /// What decided it, when done or excused.
    pub resolution: Option<Resolution>,
}

/// A person named somewhere in an [`OccurrenceDetail`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    /// The person.
    pub id: PersonId,
    /// Their display name.
    pub name: String,
}

/// The kind of a step, without its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

/// One step of a routine with its proof requirements, flattened for the check screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRequirement {
    /// The step's key.
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

/// Where a recorded completion stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompletionRecord {
    /// The completion event.
    pub event: EventId,
    /// Who did it.
    pub by: PersonId,
    /// Their name.
    pub by_name: String,
    /// Device time of completion.
    pub at: DateTime<Utc>,
    /// The same, in the site's zone.
    pub local_at: NaiveDateTime,
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

/// Where a recorded excuse stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExcuseRecord {
    /// The excuse event.
    pub event: EventId,
    /// Who excused.
    pub by: PersonId,
    /// Their name.
    pub by_name: String,
    /// When.
    pub at: DateTime<Utc>,
    /// The same, in the site's zone.
    pub local_at: NaiveDateTime,
    /// Why.
    pub reason: String,
    /// Whether this excuse decides the status.
    pub counts: bool,
    /// Where it stands.
    pub standing: ExcuseStanding,
}

/// An earlier occurrence of the same routine, for the recent-history strip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentOccurrence {
    /// The occurrence.
    pub occurrence: OccurrenceId,
    /// Its due time.
    pub due: DateTime<Utc>,
    /// Its due time in the site's zone.
    pub local_due: NaiveDateTime,
    /// Status at `now`.
    pub status: Status,
    /// Its assignee.
    pub assignee: PersonId,
    /// The assignee's name.
    pub assignee_name: String,
    /// Who completed (or excused) it and when.
    pub resolution: Option<Resolution>,
}

/// Everything about one occurrence, for the check screen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OccurrenceDetail {
    /// The occurrence and its window (instants).
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
    /// The site's zone.
    pub time_zone: Tz,
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
    pub owner: PersonId,
    /// The owner's name.
    pub owner_name: String,
    /// The routine's backup.
    pub backup: Option<PersonId>,
    /// The backup's name.
    pub backup_name: Option<String>,
    /// The absent owner being covered for, by name, when the assignee is not the owner.
    pub covering_for_name: Option<String>,
    /// Why the assignee has it when not simply the owner; see [`assignment_note`].
    pub assignment_note: Option<String>,
    /// The escalation chain at `now`.
    pub timeline: Timeline,
    /// What decided it, when done or excused.
    pub resolution: Option<Resolution>,
    /// Every completion recorded for it, earliest first.
    pub completions: Vec<CompletionRecord>,
    /// Every excuse recorded for it, earliest first.
    pub excuses: Vec<ExcuseRecord>,
    /// Up to [`RECENT_COUNT`] occurrences of the routine due before this one, most recent
    /// first.
    pub recent: Vec<RecentOccurrence>,
    /// Every person named above (assignee, owner, backup, escalation recipients and
    /// acknowledgers, authors of completions and excuses), in order of first mention.
    pub people: Vec<PersonName>,
}

/// My checks for the site-local day containing `now`, in due order.
///
/// "Mine": I am the assignee ([`assignee`]: owner, covering backup or role fallback). Each
/// routine's day is the local day of its own site, so a person working at sites in two
/// zones sees each site's day. Done and excused checks of the day are included; checks due
/// on earlier days are included only while still open (not done, not excused, not closed).
/// Only routines I could be assigned are expanded: those I own or back up, and those at
/// sites where I hold a role. Ties in due time are ordered by site name, then title.
pub fn today(
    org: &Org,
    history: &History,
    person: PersonId,
    now: DateTime<Utc>,
) -> Result<Vec<AgendaItem>, AgendaError> {
    if org.person(person).is_none() {
        return Err(AgendaError::UnknownPerson { person });
    }
    let events = Events::new(history);
    let mut items = Vec::new();
    for routine in org
        .routines
        .iter()
        .filter(|r| could_be_assigned(org, r, person))
    {
        let site = site_of(org, routine)?;
        let tz = site.time_zone;
        let (day_start, day_end) = local_day(tz, now);
        let from = minus_minutes(now, routine.window.closes_after_min).min(day_start);
        for occurrence in occurrences_in(routine, site, &events, from, day_end, now)? {
            let status = status_in(routine, &occurrence, &events, now);
            let from_earlier_day = occurrence.due < day_start;
            if from_earlier_day && status.is_final() {
                continue;
            }
            let assignment = assignee(org, routine, occurrence.due);
            if assignment.person != person {
                continue;
            }
            items.push(AgendaItem {
                routine_key: routine.key.clone(),
                routine_title: routine.title.clone(),
                site_name: site.name.clone(),
                time_zone: tz,
                local_due: local(tz, occurrence.due),
                local_window: LocalWindow::of(&occurrence, tz),
                status,
                covering_for_name: covering_for(&assignment).map(|p| org.person_name(p)),
                assignment_note: assignment_note(org, &assignment, occurrence.due),
                assignment,
                from_earlier_day,
                resolution: resolution(org, routine, &occurrence, &events, status, now, tz),
                occurrence,
            });
        }
    }
    items.sort_by(|a, b| {
        (
            a.occurrence.due,
            &a.site_name,
            &a.routine_title,
            a.occurrence.id,
        )
            .cmp(&(
                b.occurrence.due,
                &b.site_name,
                &b.routine_title,
                b.occurrence.id,
            ))
    });
    Ok(items)
}

/// Everything about the occurrence with id `occurrence`, as of `now`.
///
/// Occurrence ids are UUIDv5 of (routine id, due) and cannot be inverted, so the id is
/// resolved by search: every routine's occurrences due within [`SEARCH_DAYS`] days either
/// side of `now` (nearest two days first). Failing that, completions and excuses naming
/// the id are used: they record the routine and due instant, which must re-derive the id.
/// Routines whose site is missing or whose cadence cannot be expanded are skipped by the
/// search. Not found: [`AgendaError::UnknownOccurrence`].
pub fn occurrence_detail(
    org: &Org,
    history: &History,
    occurrence: OccurrenceId,
    now: DateTime<Utc>,
) -> Result<OccurrenceDetail, AgendaError> {
    let events = Events::new(history);
    let (routine, site, occ) = resolve(org, history, &events, occurrence, now)?;
    let tz = site.time_zone;
    let status = status_in(routine, &occ, &events, now);
    let timeline = timeline_in(org, routine, &occ, &events, now);
    let assignment = timeline.assignment;
    let counting = valid_completion_in(routine, &occ, &events, now).map(|c| c.id);
    let first_excuse = events.first_excuse(occ.id, now).map(|e| e.id);

    let mut completions: Vec<_> = history
        .completions
        .iter()
        .filter(|c| c.occurrence == occ.id)
        .collect();
    completions.sort_by_key(|c| (c.at, c.id));
    let completions: Vec<CompletionRecord> = completions
        .into_iter()
        .map(|c| {
            let problems = completion::validate(routine, &c.results)
                .err()
                .unwrap_or_default();
            let standing = if counting == Some(c.id) {
                CompletionStanding::Counts
            } else if c.at > now {
                CompletionStanding::AfterNow
            } else if c.at < occ.opens {
                CompletionStanding::BeforeWindow
            } else if !problems.is_empty() {
                CompletionStanding::InvalidProof
            } else {
                CompletionStanding::Duplicate
            };
            CompletionRecord {
                event: c.id,
                by: c.by,
                by_name: org.person_name(c.by),
                at: c.at,
                local_at: local(tz, c.at),
                routine_version: c.routine_version,
                results: c.results.clone(),
                note: c.note.clone(),
                counts: standing == CompletionStanding::Counts,
                standing,
                problems,
            }
        })
        .collect();

    let mut excuses: Vec<_> = history
        .excuses
        .iter()
        .filter(|e| e.occurrence == occ.id)
        .collect();
    excuses.sort_by_key(|e| (e.at, e.id));
    let excuses: Vec<ExcuseRecord> = excuses
        .into_iter()
        .map(|e| {
            let standing = if e.at > now {
                ExcuseStanding::AfterNow
            } else if counting.is_some() {
                ExcuseStanding::CompletionCounts
            } else if first_excuse == Some(e.id) {
                ExcuseStanding::Counts
            } else {
                ExcuseStanding::Duplicate
            };
            ExcuseRecord {
                event: e.id,
                by: e.by,
                by_name: org.person_name(e.by),
                at: e.at,
                local_at: local(tz, e.at),
                reason: e.reason.clone(),
                counts: standing == ExcuseStanding::Counts,
                standing,
            }
        })
        .collect();

    let mut recent: Vec<RecentOccurrence> =
        occurrences_before_in(routine, site, &events, occ.due, RECENT_COUNT, now)?
            .into_iter()
            .map(|o| {
                let status = status_in(routine, &o, &events, now);
                let who = assignee(org, routine, o.due).person;
                RecentOccurrence {
                    occurrence: o.id,
                    due: o.due,
                    local_due: local(tz, o.due),
                    status,
                    assignee: who,
                    assignee_name: org.person_name(who),
                    resolution: resolution(org, routine, &o, &events, status, now, tz),
                }
            })
            .collect();
    recent.reverse();

    let mut people = Vec::new();
    let mut mention = |p: PersonId| {
        if !people.iter().any(|n: &PersonName| n.id == p) {
            people.push(PersonName {
                id: p,
                name: org.person_name(p),
            });
        }
    };
    mention(assignment.person);
    mention(routine.owner);
    routine.backup.into_iter().for_each(&mut mention);
    for level in &timeline.levels {
        level.recipients.iter().copied().for_each(&mut mention);
        level.acknowledgement.iter().for_each(|a| mention(a.by));
    }
    completions.iter().for_each(|c| mention(c.by));
    excuses.iter().for_each(|e| mention(e.by));

    Ok(OccurrenceDetail {
        routine_key: routine.key.clone(),
        routine_title: routine.title.clone(),
        routine_version: routine.version,
        instructions: routine.instructions.clone(),
        site_name: site.name.clone(),
        time_zone: tz,
        local_window: LocalWindow::of(&occ, tz),
        status,
        steps: routine.steps.iter().map(step_requirement).collect(),
        assignee_name: org.person_name(assignment.person),
        owner: routine.owner,
        owner_name: org.person_name(routine.owner),
        backup: routine.backup,
        backup_name: routine.backup.map(|b| org.person_name(b)),
        covering_for_name: covering_for(&assignment).map(|p| org.person_name(p)),
        assignment_note: assignment_note(org, &assignment, occ.due),
        assignment,
        resolution: resolution(org, routine, &occ, &events, status, now, tz),
        timeline,
        completions,
        excuses,
        recent,
        people,
        occurrence: occ,
    })
}

/// Why the assignee has an occurrence due at `due`, when not simply as its available
/// owner: "covering for Maria Lopez (annual leave)", "covering as supervisor for Maria
/// Lopez", "Maria Lopez is away and nobody is available to cover". The owner's absence
/// reason is added in parentheses when recorded. `None` for the owner.
pub fn assignment_note(org: &Org, assignment: &Assignment, due: DateTime<Utc>) -> Option<String> {
    let away = |p: PersonId| {
        absence_at(org, p, due)
            .and_then(|a| a.reason.as_deref())
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    };
    match assignment.reason {
        AssignmentReason::Owner => None,
        AssignmentReason::Backup { covering_for } => Some(format!(
            "covering for {}{}",
            org.person_name(covering_for),
            away(covering_for)
        )),
        AssignmentReason::RoleFallback { role, covering_for } => Some(format!(
            "covering as {role} for {}{}",
            org.person_name(covering_for),
            away(covering_for)
        )),
        AssignmentReason::OwnerUnavailable => Some(format!(
            "{} is away{} and nobody is available to cover",
            org.person_name(assignment.person),
            away(assignment.person)
        )),
    }
}

/// The absent owner an assignee covers for, if any.
pub(crate) fn covering_for(assignment: &Assignment) -> Option<PersonId> {
    match assignment.reason {
        AssignmentReason::Backup { covering_for }
        | AssignmentReason::RoleFallback { covering_for, .. } => Some(covering_for),
        AssignmentReason::Owner | AssignmentReason::OwnerUnavailable => None,
    }
}

/// Whether `person` could ever be assigned an occurrence of `routine`: its owner or backup,
/// or someone with a role at its site (role fallback).
pub(crate) fn could_be_assigned(org: &Org, routine: &Routine, person: PersonId) -> bool {
    routine.owner == person
        || routine.backup == Some(person)
        || org
            .person(person)
            .is_some_and(|p| p.role_at(routine.site).is_some())
}

/// The site of a routine, or [`AgendaError::UnknownSite`].
fn site_of<'o>(org: &'o Org, routine: &Routine) -> Result<&'o Site, AgendaError> {
    org.site(routine.site)
        .ok_or_else(|| AgendaError::UnknownSite {
            routine_key: routine.key.clone(),
            routine_title: routine.title.clone(),
            site: routine.site,
        })
}

/// `at` as a wall-clock time in `tz`.
pub(crate) fn local(tz: Tz, at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&tz).naive_local()
}

/// The local day of `tz` containing `now`: `[start, end)` as instants (midnight to
/// midnight under the DST policy).
pub(crate) fn local_day(tz: Tz, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let date = now.with_timezone(&tz).date_naive();
    let start = local_to_instant(tz, date.and_time(NaiveTime::MIN));
    let end = date
        .succ_opt()
        .map(|next: NaiveDate| local_to_instant(tz, next.and_time(NaiveTime::MIN)))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    (start, end)
}

/// The completion or excuse that decided a done or excused occurrence.
pub(crate) fn resolution(
    org: &Org,
    routine: &Routine,
    occurrence: &Occurrence,
    events: &Events<'_>,
    status: Status,
    now: DateTime<Utc>,
    tz: Tz,
) -> Option<Resolution> {
    let (kind, event, by, at) = match status {
        Status::DoneOnTime | Status::DoneLate => {
            let c = valid_completion_in(routine, occurrence, events, now)?;
            (ChainEndCause::Completed, c.id, c.by, c.at)
        }
        Status::Excused => {
            let e = events.first_excuse(occurrence.id, now)?;
            (
                ChainEndCause::Excused {
                    reason: e.reason.clone(),
                },
                e.id,
                e.by,
                e.at,
            )
        }
        Status::Upcoming | Status::Open | Status::Due | Status::Overdue | Status::Missed => {
            return None;
        }
    };
    Some(Resolution {
        kind,
        event,
        by,
        by_name: org.person_name(by),
        at,
        local_at: local(tz, at),
    })
}

/// Finds the routine, site and occurrence of an id (see [`occurrence_detail`]).
fn resolve<'o>(
    org: &'o Org,
    history: &History,
    events: &Events<'_>,
    id: OccurrenceId,
    now: DateTime<Utc>,
) -> Result<(&'o Routine, &'o Site, Occurrence), AgendaError> {
    let around = |at: DateTime<Utc>, days: i64| {
        let span = Duration::days(days);
        (
            at.checked_sub_signed(span)
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
            at.checked_add_signed(span)
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        )
    };
    for days in [FIRST_SEARCH_DAYS, SEARCH_DAYS] {
        if let Some(found) = find_in(org, events, org.routines.iter(), id, around(now, days), now) {
            return Ok(found);
        }
    }
    // Completions and excuses record their routine and due instant: an occurrence outside
    // the searched span is found through them, checked against the id formula.
    let recorded = history
        .completions
        .iter()
        .filter(|c| c.occurrence == id)
        .map(|c| (c.routine, c.due))
        .chain(
            history
                .excuses
                .iter()
                .filter(|e| e.occurrence == id)
                .map(|e| (e.routine, e.due)),
        );
    for (routine_id, due) in recorded {
        if occurrence_id(routine_id, due) != id {
            continue;
        }
        if let Some(routine) = org.routine(routine_id)
            && let Some(site) = org.site(routine.site)
        {
            return Ok((routine, site, Occurrence::new(routine, due)));
        }
    }
    let (searched_from, searched_until) = around(now, SEARCH_DAYS);
    Err(AgendaError::UnknownOccurrence {
        occurrence: id,
        searched_from,
        searched_until,
    })
}

/// The occurrence with id `id` among `routines`' occurrences due in `[from, until)`.
fn find_in<'o>(
    org: &'o Org,
    events: &Events<'_>,
    mut routines: impl Iterator<Item = &'o Routine>,
    id: OccurrenceId,
    (from, until): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
) -> Option<(&'o Routine, &'o Site, Occurrence)> {
    routines.find_map(|routine| {
        let site = org.site(routine.site)?;
        occurrences_in(routine, site, events, from, until, now)
            .ok()?
            .into_iter()
            .find(|o| o.id == id)
            .map(|o| (routine, site, o))
    })
}

/// A step with its proof requirements.
fn step_requirement(step: &Step) -> StepRequirement {
    let mut req = StepRequirement {
        key: step.key.clone(),
        title: step.title.clone(),
        kind: StepType::Check,
        required: step.required,
        unit: None,
        min: None,
        max: None,
        min_photos: None,
        options: Vec::new(),
        requirement: String::new(),
    };
    let what = match &step.kind {
        StepKind::Check => "A tick.".to_string(),
        StepKind::Reading { unit, min, max } => {
            req.kind = StepType::Reading;
            req.unit = Some(unit.clone());
            req.min = *min;
            req.max = *max;
            let n = |v: f64| {
                if unit.is_empty() {
                    v.to_string()
                } else {
                    format!("{v} {unit}")
                }
            };
            let range = match (min, max) {
                (Some(lo), Some(hi)) => format!(" between {lo} and {}", n(*hi)),
                (Some(lo), None) => format!(" of at least {}", n(*lo)),
                (None, Some(hi)) => format!(" of at most {}", n(*hi)),
                (None, None) => String::new(),
            };
            let unit = if unit.is_empty() {
                String::new()
            } else {
                format!(" in {unit}")
            };
            if range.is_empty() {
                format!("A reading{unit}.")
            } else {
                format!("A reading{unit}{range}; out of range needs a corrective action.")
            }
        }
        StepKind::Photo { min_count } => {
            req.kind = StepType::Photo;
            req.min_photos = Some(*min_count);
            match min_count {
                0 => "Photos.".to_string(),
                1 => "At least 1 photo.".to_string(),
                n => format!("At least {n} photos."),
            }
        }
        StepKind::Choice { options } => {
            req.kind = StepType::Choice;
            req.options = options.clone();
            format!("One of: {}.", options.join(", "))
        }
        StepKind::Text => {
            req.kind = StepType::Text;
            "Text.".to_string()
        }
        StepKind::Signature => {
            req.kind = StepType::Signature;
            "A signature.".to_string()
        }
    };
    let need = if step.required {
        "Required"
    } else {
        "Optional"
    };
    req.requirement = format!("{need}. {what}");
    req
}
