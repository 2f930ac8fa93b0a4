//! Review for site leads: missed checks and compliance figures per routine and per person.
//!
//! Works offline on the lead's device from the local store: a pure function of the org,
//! the history, the period `[from, until)` (by due time) and `now`. Status comes from
//! [`crate::occurrence`], the assignee from [`crate::assignee`].
//!
//! Compliance counts every occurrence due in the period once, by its status at `now`:
//! on time, late, missed, excused, or still open (not final yet: upcoming, open, due,
//! overdue). The on-time percentage is `on_time / (on_time + late + missed)`: excused
//! occurrences were released on purpose and still-open ones are undecided, so neither is
//! in the denominator. It is `None` when the denominator is 0.

use std::cmp::Ordering;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::agenda::{assignment_note, covering_for, local};
use crate::assignee::{Assignment, assignee};
use crate::attention::duration_text;
use crate::model::{
    EventId, History, OccurrenceId, Org, PersonId, Routine, RoutineId, Site, SiteId,
};
use crate::occurrence::{
    Events, Occurrence, OccurrenceError, Status, occurrences_in, status_in, valid_completion_in,
};

/// Why a review cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReviewError {
    /// The site is not in the org.
    #[error("site {site} is not in the org")]
    UnknownSite {
        /// The site asked about.
        site: SiteId,
    },
    /// The period ends before it starts.
    #[error("the review period for {site_name} ends ({until}) before it starts ({from})")]
    InvalidPeriod {
        /// The site's name.
        site_name: String,
        /// Start asked for.
        from: DateTime<Utc>,
        /// End asked for.
        until: DateTime<Utc>,
    },
    /// A routine's occurrences cannot be listed (its message names the routine).
    #[error(transparent)]
    Occurrence(#[from] OccurrenceError),
}

/// A missed check, or one done late.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MissedItem {
    /// The occurrence and its window (instants).
    pub occurrence: Occurrence,
    /// The routine's key.
    pub routine_key: String,
    /// The routine's title.
    pub routine_title: String,
    /// Due time in the site's zone.
    pub local_due: NaiveDateTime,
    /// [`Status::Missed`] or [`Status::DoneLate`], at `now`.
    pub status: Status,
    /// The assignee and why.
    pub assignment: Assignment,
    /// The assignee's name.
    pub assignee_name: String,
    /// The absent owner the assignee covered for, by name.
    pub covering_for_name: Option<String>,
    /// Why the assignee had it when not simply the owner
    /// (see [`crate::agenda::assignment_note`]).
    pub assignment_note: Option<String>,
    /// When the counting completion was made, if done late.
    pub done_at: Option<DateTime<Utc>>,
    /// The same, in the site's zone.
    pub local_done_at: Option<NaiveDateTime>,
    /// Who did it, if done late.
    pub done_by: Option<PersonId>,
    /// Their name.
    pub done_by_name: Option<String>,
    /// How late, in whole minutes after the due time (not after the grace), if done late.
    pub late_by_min: Option<i64>,
    /// The same in words ("40 min", "1 h 5 min").
    pub late_by_text: Option<String>,
}

/// Counts of occurrences by outcome, and the on-time percentage.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
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
    /// `100 · on_time / (on_time + late + missed)`; `None` when that denominator is 0.
    /// Excused and still-open occurrences are not in the denominator.
    pub on_time_percent: Option<f64>,
}

impl ComplianceCounts {
    fn add(&mut self, status: Status) {
        let slot = match status {
            Status::DoneOnTime => &mut self.on_time,
            Status::DoneLate => &mut self.late,
            Status::Missed => &mut self.missed,
            Status::Excused => &mut self.excused,
            Status::Upcoming | Status::Open | Status::Due | Status::Overdue => &mut self.still_open,
        };
        *slot = slot.saturating_add(1);
        self.total = self.total.saturating_add(1);
        let decided = u64::from(self.on_time) + u64::from(self.late) + u64::from(self.missed);
        self.on_time_percent =
            (decided > 0).then(|| 100.0 * f64::from(self.on_time) / decided as f64);
    }
}

/// Compliance of one routine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoutineCompliance {
    /// The routine.
    pub routine: RoutineId,
    /// Its key.
    pub routine_key: String,
    /// Its title.
    pub routine_title: String,
    /// Its occurrences in the period.
    pub counts: ComplianceCounts,
}

/// Compliance of one person, over the occurrences assigned to them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonCompliance {
    /// The person.
    pub person: PersonId,
    /// Their name.
    pub name: String,
    /// The occurrences they were the assignee of.
    pub counts: ComplianceCounts,
}

/// A site's compliance over a period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComplianceReport {
    /// The site.
    pub site: SiteId,
    /// Its name.
    pub site_name: String,
    /// Its zone.
    pub time_zone: Tz,
    /// Start of the period (due times), inclusive.
    pub from: DateTime<Utc>,
    /// End of the period, exclusive.
    pub until: DateTime<Utc>,
    /// Start of the period in the site's zone.
    pub local_from: NaiveDateTime,
    /// End of the period in the site's zone.
    pub local_until: NaiveDateTime,
    /// All occurrences of the site in the period.
    pub totals: ComplianceCounts,
    /// Per routine with at least one occurrence in the period, worst first (lowest on-time
    /// percentage; rows without one last), ties by title.
    pub routines: Vec<RoutineCompliance>,
    /// Per assignee of at least one occurrence in the period, worst first, ties by name.
    pub people: Vec<PersonCompliance>,
}

/// Occurrences at `site` due in `[from, until)` that are missed or done late at `now`, in
/// due order (ties by title).
pub fn missed(
    org: &Org,
    history: &History,
    site: SiteId,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<MissedItem>, ReviewError> {
    let site = site_and_period(org, site, from, until)?;
    let tz = site.time_zone;
    let events = Events::new(history);
    let mut items = Vec::new();
    for_each_occurrence(
        org,
        site,
        &events,
        from,
        until,
        now,
        |routine, occ, status| {
            if !matches!(status, Status::Missed | Status::DoneLate) {
                return;
            }
            let done = match status {
                Status::DoneLate => valid_completion_in(routine, &occ, &events, now),
                _ => None,
            };
            let late_by = done.map(|c| c.at - occ.due);
            let assignment = assignee(org, routine, occ.due);
            items.push(MissedItem {
                routine_key: routine.key.clone(),
                routine_title: routine.title.clone(),
                local_due: local(tz, occ.due),
                status,
                assignee_name: org.person_name(assignment.person),
                covering_for_name: covering_for(&assignment).map(|p| org.person_name(p)),
                assignment_note: assignment_note(org, &assignment, occ.due),
                assignment,
                done_at: done.map(|c| c.at),
                local_done_at: done.map(|c| local(tz, c.at)),
                done_by: done.map(|c| c.by),
                done_by_name: done.map(|c| org.person_name(c.by)),
                late_by_min: late_by.map(|d| d.num_minutes()),
                late_by_text: late_by.map(duration_text),
                occurrence: occ,
            });
        },
    )?;
    items.sort_by(|a, b| {
        (a.occurrence.due, &a.routine_title, a.occurrence.id).cmp(&(
            b.occurrence.due,
            &b.routine_title,
            b.occurrence.id,
        ))
    });
    Ok(items)
}

/// One occurrence and its status: the row devices and the server compare to show they
/// agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OccurrenceStatus {
    /// The occurrence.
    pub occurrence: OccurrenceId,
    /// Its routine.
    pub routine: RoutineId,
    /// The routine's title.
    pub routine_title: String,
    /// Due instant.
    pub due: DateTime<Utc>,
    /// Where it stands at `now`.
    pub status: Status,
    /// The completion that counts (the earliest valid one), if done.
    pub counted_completion: Option<EventId>,
}

/// Every occurrence at `site` due in `[from, until)` with its status at `now`, in due
/// order (ties by title, then id).
pub fn statuses(
    org: &Org,
    history: &History,
    site: SiteId,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<OccurrenceStatus>, ReviewError> {
    let site = site_and_period(org, site, from, until)?;
    let events = Events::new(history);
    let mut rows = Vec::new();
    for_each_occurrence(
        org,
        site,
        &events,
        from,
        until,
        now,
        |routine, occ, status| {
            rows.push(OccurrenceStatus {
                occurrence: occ.id,
                routine: routine.id,
                routine_title: routine.title.clone(),
                due: occ.due,
                status,
                counted_completion: valid_completion_in(routine, &occ, &events, now).map(|c| c.id),
            });
        },
    )?;
    rows.sort_by(|a, b| {
        (a.due, &a.routine_title, a.occurrence).cmp(&(b.due, &b.routine_title, b.occurrence))
    });
    Ok(rows)
}

/// Compliance of `site` over occurrences due in `[from, until)`, by status at `now`: site
/// totals, per routine and per person (the assignee of each occurrence). See the module
/// documentation for the on-time percentage.
pub fn compliance(
    org: &Org,
    history: &History,
    site: SiteId,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<ComplianceReport, ReviewError> {
    let site = site_and_period(org, site, from, until)?;
    let events = Events::new(history);
    let mut totals = ComplianceCounts::default();
    let mut routines: Vec<RoutineCompliance> = Vec::new();
    let mut people: HashMap<PersonId, ComplianceCounts> = HashMap::new();
    for_each_occurrence(
        org,
        site,
        &events,
        from,
        until,
        now,
        |routine, occ, status| {
            totals.add(status);
            match routines.iter_mut().find(|r| r.routine == routine.id) {
                Some(row) => row.counts.add(status),
                None => {
                    let mut counts = ComplianceCounts::default();
                    counts.add(status);
                    routines.push(RoutineCompliance {
                        routine: routine.id,
                        routine_key: routine.key.clone(),
                        routine_title: routine.title.clone(),
                        counts,
                    });
                }
            }
            people
                .entry(assignee(org, routine, occ.due).person)
                .or_default()
                .add(status);
        },
    )?;
    routines.sort_by(|a, b| {
        worst_first(&a.counts, &b.counts)
            .then_with(|| a.routine_title.cmp(&b.routine_title))
            .then_with(|| a.routine.cmp(&b.routine))
    });
    let mut people: Vec<PersonCompliance> = people
        .into_iter()
        .map(|(person, counts)| PersonCompliance {
            person,
            name: org.person_name(person),
            counts,
        })
        .collect();
    people.sort_by(|a, b| {
        worst_first(&a.counts, &b.counts)
            .then_with(|| a.name.cmp(&b.name))
            .then_with(|| a.person.cmp(&b.person))
    });
    let tz = site.time_zone;
    Ok(ComplianceReport {
        site: site.id,
        site_name: site.name.clone(),
        time_zone: tz,
        from,
        until,
        local_from: local(tz, from),
        local_until: local(tz, until),
        totals,
        routines,
        people,
    })
}

/// Lowest on-time percentage first; rows without a percentage last.
fn worst_first(a: &ComplianceCounts, b: &ComplianceCounts) -> Ordering {
    match (a.on_time_percent, b.on_time_percent) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// The site, once the period is checked.
fn site_and_period(
    org: &Org,
    site: SiteId,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<&Site, ReviewError> {
    let site = org.site(site).ok_or(ReviewError::UnknownSite { site })?;
    if until < from {
        return Err(ReviewError::InvalidPeriod {
            site_name: site.name.clone(),
            from,
            until,
        });
    }
    Ok(site)
}

/// Calls `f` with every occurrence of the site's routines due in `[from, until)` and its
/// status at `now`.
fn for_each_occurrence(
    org: &Org,
    site: &Site,
    events: &Events<'_>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
    mut f: impl FnMut(&Routine, Occurrence, Status),
) -> Result<(), ReviewError> {
    if from >= until {
        return Ok(());
    }
    for routine in org.routines.iter().filter(|r| r.site == site.id) {
        for occ in occurrences_in(routine, site, events, from, until, now)? {
            let status = status_in(routine, &occ, events, now);
            f(routine, occ, status);
        }
    }
    Ok(())
}
