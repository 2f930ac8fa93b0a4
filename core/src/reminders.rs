//! Reminders: what the shell should schedule as local notifications while offline.
//!
//! For a person, over `[now, now + horizon)`: for each occurrence they are the assignee of
//! and that is not done or excused, a reminder when its window opens, when it is due, and
//! when it becomes overdue (past grace); and for any occurrence whose escalation chain has a
//! level notifying them, a reminder when that level would fire if the check stays undone.
//!
//! Each reminder has a deterministic id ([`reminder_id`]), so scheduling the list again
//! replaces notifications rather than duplicating them. Texts name the check and the site,
//! with times in the site's zone (never the phone's). Pure: `now` is a parameter.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use crate::agenda::could_be_assigned;
use crate::assignee::{Assignment, AssignmentReason};
use crate::attention::local_time;
use crate::escalation::timeline_in;
use crate::ids::uuid_v5;
use crate::model::{
    EscalationId, History, OccurrenceId, Org, PersonId, Recipient, Routine, RoutineId, Site, SiteId,
};
use crate::occurrence::{
    Events, Occurrence, OccurrenceError, Status, minus_minutes, occurrences_in, plus_minutes,
    status_in,
};

/// Identifies a scheduled reminder: see [`reminder_id`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReminderId(pub Uuid);

impl fmt::Display for ReminderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a reminder is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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

impl ReminderKind {
    /// The snake_case name used in ids and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ReminderKind::Opens => "opens",
            ReminderKind::Due => "due",
            ReminderKind::Overdue => "overdue",
            ReminderKind::Escalation => "escalation",
        }
    }
}

/// One local notification to schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    /// Deterministic id: see [`reminder_id`].
    pub id: ReminderId,
    /// When to show it.
    pub fire_at: DateTime<Utc>,
    /// What it is about.
    pub kind: ReminderKind,
    /// The escalation level (1-based), for escalation reminders.
    pub escalation_level: Option<usize>,
    /// The escalation level's id, for escalation reminders.
    pub escalation: Option<EscalationId>,
    /// The occurrence: tapping the notification opens this check.
    pub occurrence: OccurrenceId,
    /// The routine.
    pub routine: RoutineId,
    /// The site.
    pub site: SiteId,
    /// The occurrence's due time.
    pub due: DateTime<Utc>,
    /// Notification title ("Fridge temperatures is due").
    pub title: String,
    /// Notification body ("Fridge temperatures at Harbor Kitchen is due at 14:00.").
    pub body: String,
}

/// Why reminders cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReminderError {
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
    /// A routine's occurrences cannot be listed (its message names the routine).
    #[error(transparent)]
    Occurrence(#[from] OccurrenceError),
}

/// The id of a reminder:
/// `UUIDv5(namespace = occurrence id, name = UTF-8 of "reminder:{kind}")`, and
/// `"reminder:escalation:{level}"` for an escalation level. Deterministic, so rescheduling
/// replaces a notification instead of adding a second one.
pub fn reminder_id(
    occurrence: OccurrenceId,
    kind: ReminderKind,
    escalation_level: Option<usize>,
) -> ReminderId {
    let name = match escalation_level {
        Some(level) => format!("reminder:{}:{level}", kind.as_str()),
        None => format!("reminder:{}", kind.as_str()),
    };
    ReminderId(uuid_v5(&occurrence.0, name.as_bytes()))
}

/// The reminders to schedule for `person` that fire in `[now, now + horizon)`, sorted by
/// `fire_at` (then kind, site name, title).
///
/// As assignee (owner, covering backup or role fallback) of an occurrence not done and not
/// excused at `now`: when its window opens, when it is due, when it becomes overdue. An
/// "opens" or "overdue" point at the same instant as the due time (no opening lead, no
/// grace) is left to the "due" reminder. As a recipient of an escalation level of an
/// occurrence whose chain has not ended at `now`: when the level fires. A horizon of zero
/// or less gives none.
pub fn upcoming_reminders(
    org: &Org,
    history: &History,
    person: PersonId,
    now: DateTime<Utc>,
    horizon: Duration,
) -> Result<Vec<Reminder>, ReminderError> {
    if org.person(person).is_none() {
        return Err(ReminderError::UnknownPerson { person });
    }
    if horizon <= Duration::zero() {
        return Ok(Vec::new());
    }
    let until = now
        .checked_add_signed(horizon)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let events = Events::new(history);
    let mut out = Vec::new();
    for routine in org
        .routines
        .iter()
        .filter(|r| could_be_assigned(org, r, person) || names_person(r, person))
    {
        let site = org
            .site(routine.site)
            .ok_or_else(|| ReminderError::UnknownSite {
                routine_key: routine.key.clone(),
                routine_title: routine.title.clone(),
                site: routine.site,
            })?;
        // Fire points lie between `opens` (due - opens_before) and the last level
        // (due + after), so these dues cover every point in [now, until).
        let last_level = routine.escalation.iter().map(|l| l.after_min).max();
        let behind = last_level.unwrap_or(0).max(routine.window.grace_min);
        let from = minus_minutes(now, behind);
        let due_until = plus_minutes(until, routine.window.opens_before_min)
            .checked_add_signed(Duration::seconds(1))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        for occurrence in occurrences_in(routine, site, &events, from, due_until, now)? {
            let status = status_in(routine, &occurrence, &events, now);
            if matches!(
                status,
                Status::DoneOnTime | Status::DoneLate | Status::Excused
            ) {
                continue;
            }
            let timeline = timeline_in(org, routine, &occurrence, &events, now);
            let writer = Writer {
                org,
                me: person,
                routine,
                site,
                occurrence: &occurrence,
                assignment: &timeline.assignment,
            };
            let in_horizon = |at: DateTime<Utc>| now <= at && at < until;
            if timeline.assignment.person == person {
                let points = [
                    (ReminderKind::Opens, occurrence.opens),
                    (ReminderKind::Due, occurrence.due),
                    (ReminderKind::Overdue, occurrence.late_after),
                ];
                for (kind, at) in points {
                    if kind != ReminderKind::Due && at == occurrence.due {
                        continue;
                    }
                    if in_horizon(at) {
                        out.push(writer.reminder(kind, at, None));
                    }
                }
            }
            if timeline.ended.is_some() {
                continue;
            }
            for level in &timeline.levels {
                if in_horizon(level.fires_at) && level.recipients.contains(&person) {
                    let mut r = writer.reminder(
                        ReminderKind::Escalation,
                        level.fires_at,
                        Some(level.level),
                    );
                    r.escalation = Some(level.id);
                    out.push(r);
                }
            }
        }
    }
    out.sort_by(|a, b| {
        (a.fire_at, a.kind, a.escalation_level)
            .cmp(&(b.fire_at, b.kind, b.escalation_level))
            .then_with(|| a.body.cmp(&b.body))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(out)
}

/// Whether an escalation level of `routine` names `person` directly.
fn names_person(routine: &Routine, person: PersonId) -> bool {
    routine
        .escalation
        .iter()
        .flat_map(|l| &l.notify)
        .any(|r| *r == Recipient::Person(person))
}

/// Writes one occurrence's reminders for one person.
struct Writer<'a> {
    org: &'a Org,
    me: PersonId,
    routine: &'a Routine,
    site: &'a Site,
    occurrence: &'a Occurrence,
    assignment: &'a Assignment,
}

impl Writer<'_> {
    fn tz(&self) -> Tz {
        self.site.time_zone
    }

    fn reminder(
        &self,
        kind: ReminderKind,
        fire_at: DateTime<Utc>,
        level: Option<usize>,
    ) -> Reminder {
        let (title, body) = self.text(kind, fire_at, level);
        Reminder {
            id: reminder_id(self.occurrence.id, kind, level),
            fire_at,
            kind,
            escalation_level: level,
            escalation: None,
            occurrence: self.occurrence.id,
            routine: self.routine.id,
            site: self.site.id,
            due: self.occurrence.due,
            title,
            body,
        }
    }

    /// Title and body. Times are in the site's zone, relative to the day the reminder
    /// fires ("14:00" that day, "Tue 10 Mar 00:10" otherwise).
    fn text(
        &self,
        kind: ReminderKind,
        fire_at: DateTime<Utc>,
        level: Option<usize>,
    ) -> (String, String) {
        let check = &self.routine.title;
        let at_site = format!("{check} at {}", self.site.name);
        let time = |at| local_time(self.tz(), at, fire_at);
        let due = time(self.occurrence.due);
        match kind {
            ReminderKind::Opens => (
                format!("{check} can be done now"),
                format!("{at_site} is open; it is due at {due}.{}", self.cover()),
            ),
            ReminderKind::Due => (
                format!("{check} is due"),
                format!("{at_site} is due at {due}.{}", self.cover()),
            ),
            ReminderKind::Overdue => (
                format!("{check} is overdue"),
                format!(
                    "{at_site} was due at {due} and is now late; it closes at {}.{}",
                    time(self.occurrence.closes),
                    self.cover()
                ),
            ),
            ReminderKind::Escalation => {
                let who = if self.assignment.person == self.me {
                    "you".to_string()
                } else {
                    self.org.person_name(self.assignment.person)
                };
                (
                    format!("{check} is not done"),
                    format!(
                        "{at_site} was due at {due} and is not done (assigned to {who}); \
                         escalated to you (level {}).",
                        level.unwrap_or(0)
                    ),
                )
            }
        }
    }

    /// " You are covering for Maria Lopez." when I am not simply the owner.
    fn cover(&self) -> String {
        match self.assignment.reason {
            AssignmentReason::Owner => String::new(),
            AssignmentReason::Backup { covering_for } => format!(
                " You are covering for {}.",
                self.org.person_name(covering_for)
            ),
            AssignmentReason::RoleFallback { role, covering_for } => format!(
                " You are covering for {} as {role}.",
                self.org.person_name(covering_for)
            ),
            AssignmentReason::OwnerUnavailable => {
                " You are marked away and nobody is available to cover.".to_string()
            }
        }
    }
}
