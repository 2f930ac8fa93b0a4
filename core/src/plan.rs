//! Site plans: occurrences of a period with assignee, window, escalation and status.
//!
//! What `proofline plan` prints. With `now`, each occurrence carries its status and
//! timeline at `now`, and each person of the site their attention feed. Without it, the
//! plan is a projection: as if nothing had been done, timelines evaluated at `from`.

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use thiserror::Error;

use crate::assignee::Assignment;
use crate::attention::{AttentionItem, attention};
use crate::escalation::{Timeline, timeline_in};
use crate::model::{History, Org, PersonId, Routine, SiteId};
use crate::occurrence::{Events, Occurrence, OccurrenceError, Status, occurrences_in, status_in};

/// One occurrence of a plan, with everything a person would ask about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedOccurrence {
    /// The occurrence and its window.
    pub occurrence: Occurrence,
    /// The routine's key.
    pub routine_key: String,
    /// The routine's title.
    pub routine_title: String,
    /// Due time in the site's zone.
    pub local_due: NaiveDateTime,
    /// Its assignee.
    pub assignment: Assignment,
    /// The assignee's name.
    pub assignee_name: String,
    /// Its escalation timeline (at `now`, or at `from` in a projection).
    pub timeline: Timeline,
    /// Its status at `now`; `None` in a projection.
    pub status: Option<Status>,
}

/// One site's plan for a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SitePlan {
    /// The site.
    pub site: SiteId,
    /// Its key.
    pub site_key: String,
    /// Its name.
    pub site_name: String,
    /// Its zone.
    pub time_zone: Tz,
    /// Occurrences of all its routines due in the period, in due order.
    pub occurrences: Vec<PlannedOccurrence>,
    /// Each person of the site (id, name) with their attention items at this site; only
    /// when `now` is given.
    pub attention: Vec<(PersonId, String, Vec<AttentionItem>)>,
}

/// Why a plan cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlanError {
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
    /// A routine's occurrences cannot be listed.
    #[error(transparent)]
    Occurrence(#[from] OccurrenceError),
}

/// Plans of every site of the org (in org order) for occurrences due in `[from, until)`.
pub fn plan(
    org: &Org,
    history: &History,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    now: Option<DateTime<Utc>>,
) -> Result<Vec<SitePlan>, PlanError> {
    if let Some(orphan) = org.routines.iter().find(|r| org.site(r.site).is_none()) {
        return Err(PlanError::UnknownSite {
            routine_key: orphan.key.clone(),
            routine_title: orphan.title.clone(),
            site: orphan.site,
        });
    }
    let nothing_done = History::default();
    let events = match now {
        Some(_) => Events::new(history),
        None => Events::new(&nothing_done),
    };
    let mut plans = Vec::with_capacity(org.sites.len());
    for site in &org.sites {
        let mut planned = Vec::new();
        for routine in org.routines.iter().filter(|r| r.site == site.id) {
            // A projection treats every earlier occurrence as closed and undone, so
            // after-completion cadences keep advancing through the period.
            let expand_now = now.unwrap_or_else(|| projection_now(routine, until));
            for occurrence in occurrences_in(routine, site, &events, from, until, expand_now)? {
                planned.push(planned_occurrence(
                    org,
                    routine,
                    site.time_zone,
                    occurrence,
                    &events,
                    from,
                    now,
                ));
            }
        }
        planned.sort_by(|a, b| {
            (a.occurrence.due, &a.routine_key).cmp(&(b.occurrence.due, &b.routine_key))
        });
        let attention = match now {
            Some(now) => org
                .people
                .iter()
                .filter(|p| p.role_at(site.id).is_some())
                .map(|p| {
                    let items = attention(org, history, p.id, now)
                        .into_iter()
                        .filter(|i| i.site == site.id)
                        .collect();
                    (p.id, p.name.clone(), items)
                })
                .collect(),
            None => Vec::new(),
        };
        plans.push(SitePlan {
            site: site.id,
            site_key: site.key.clone(),
            site_name: site.name.clone(),
            time_zone: site.time_zone,
            occurrences: planned,
            attention,
        });
    }
    Ok(plans)
}

fn planned_occurrence(
    org: &Org,
    routine: &Routine,
    tz: Tz,
    occurrence: Occurrence,
    events: &Events<'_>,
    from: DateTime<Utc>,
    now: Option<DateTime<Utc>>,
) -> PlannedOccurrence {
    let timeline = timeline_in(org, routine, &occurrence, events, now.unwrap_or(from));
    let status = now.map(|now| status_in(routine, &occurrence, events, now));
    let local_due = occurrence.due.with_timezone(&tz).naive_local();
    let assignment = timeline.assignment;
    PlannedOccurrence {
        routine_key: routine.key.clone(),
        routine_title: routine.title.clone(),
        local_due,
        assignee_name: org.person_name(assignment.person),
        assignment,
        timeline,
        status,
        occurrence,
    }
}

/// An instant by which every occurrence due before `until` has closed.
fn projection_now(routine: &Routine, until: DateTime<Utc>) -> DateTime<Utc> {
    crate::occurrence::plus_minutes(until, routine.window.closes_after_min)
}
