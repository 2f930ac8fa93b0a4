//! Repeat failure: missed K of the last N occurrences raises one alert per streak.
//!
//! Only decided occurrences count (missed, done on time, done late, excused; an excuse is
//! not a miss). A streak starts at the first decided occurrence whose last N decided
//! (itself included) hold at least K misses, and lasts while they do. Being in a streak
//! depends only on that window, so N decided occurrences of look-back are enough to know
//! whether one was already running.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use crate::ids::uuid_v5;
use crate::model::{
    AlertId, History, OccurrenceId, Org, PersonId, Role, Routine, RoutineId, SiteId,
};
use crate::occurrence::{
    Events, Nearby, Occurrence, OccurrenceError, Status, minus_minutes, occurrences_before_in,
    occurrences_in, plus_minutes, status_in, valid_completion_in,
};

/// One alert per repeat-failure streak, to the site's leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatFailureAlert {
    /// Derived id: see [`alert_id`].
    pub id: AlertId,
    /// The routine.
    pub routine: RoutineId,
    /// Its site.
    pub site: SiteId,
    /// When the alert was raised: the close of the occurrence whose miss started the streak.
    pub raised_at: DateTime<Utc>,
    /// The missed occurrences among the last N decided when the alert was raised, in due order.
    pub missed_occurrences: Vec<OccurrenceId>,
    /// Whom to notify: the site's leads (its admins if it has no lead).
    pub notify: Vec<PersonId>,
    /// When the streak ended (the decision that brought the misses below K), if it has by `now`.
    pub streak_ended_at: Option<DateTime<Utc>>,
}

/// Why repeat failures cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RepeatFailureError {
    /// The routine names a site the org does not have.
    #[error("routine `{routine_key}` ({routine_title}) names a site that does not exist: {site}")]
    UnknownSite {
        /// The routine's key.
        routine_key: String,
        /// The routine's title.
        routine_title: String,
        /// The missing site.
        site: SiteId,
    },
    /// The routine's occurrences cannot be listed.
    #[error(transparent)]
    Occurrence(#[from] OccurrenceError),
}

/// The id of the alert of the streak started by `triggering` (the occurrence whose miss
/// reached K): `UUIDv5(namespace = routine id, name = "repeat-failure:{occurrence id}")`.
pub fn alert_id(routine: RoutineId, triggering: OccurrenceId) -> AlertId {
    AlertId(uuid_v5(
        &routine.0,
        format!("repeat-failure:{triggering}").as_bytes(),
    ))
}

/// Repeat-failure alerts of `routine` raised in `[from, until)`, as of `now`, in order.
///
/// A rule with K = 0, N = 0 or K > N never raises.
pub fn repeat_failures(
    org: &Org,
    routine: &Routine,
    history: &History,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<RepeatFailureAlert>, RepeatFailureError> {
    let events = Events::new(history);
    Ok(scan(org, routine, &events, from, until, now)?
        .alerts
        .into_iter()
        .map(|a| a.alert)
        .collect())
}

/// An alert with the due times of its missed occurrences (for messages).
pub(crate) struct RaisedAlert {
    pub(crate) alert: RepeatFailureAlert,
    pub(crate) missed_due: Vec<DateTime<Utc>>,
}

/// Alerts raised in a range, and whether a streak is running at `now` whose alert was
/// raised before the range.
pub(crate) struct Scan {
    pub(crate) alerts: Vec<RaisedAlert>,
    pub(crate) earlier_streak_running: bool,
    /// When fewer than N occurrences precede the range within the longest look-back, the
    /// due time of the oldest of them (the scan changes when it leaves the look-back).
    pub(crate) short_context_oldest: Option<DateTime<Utc>>,
}

struct Decided {
    occurrence: Occurrence,
    missed: bool,
    at: DateTime<Utc>,
}

pub(crate) fn scan(
    org: &Org,
    routine: &Routine,
    events: &Events<'_>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Scan, RepeatFailureError> {
    scan_among(org, routine, events, from, until, now, None)
}

/// [`scan`], given the routine's occurrences over a stretch that may cover the scanned
/// range: then the range is taken from them instead of being expanded again.
pub(crate) fn scan_among(
    org: &Org,
    routine: &Routine,
    events: &Events<'_>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
    nearby: Option<&Nearby>,
) -> Result<Scan, RepeatFailureError> {
    let rule = routine.repeat_failure;
    let (k, n) = (rule.missed as usize, rule.of_last as usize);
    let mut out = Scan {
        alerts: Vec::new(),
        earlier_streak_running: false,
        short_context_oldest: None,
    };
    if k == 0 || n == 0 || k > n || from >= until {
        return Ok(out);
    }
    let site = org
        .site(routine.site)
        .ok_or_else(|| RepeatFailureError::UnknownSite {
            routine_key: routine.key.clone(),
            routine_title: routine.title.clone(),
            site: routine.site,
        })?;
    // Alerts are raised at close; an occurrence can be done as soon as it opens.
    let scan_from = minus_minutes(from, routine.window.closes_after_min);
    let scan_until = plus_minutes(now, routine.window.opens_before_min)
        .checked_add_signed(Duration::seconds(1))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let context = occurrences_before_in(routine, site, events, scan_from, n, now)?;
    let context_len = context.len();
    if context_len < n {
        out.short_context_oldest = context.first().map(|o| o.due);
    }
    let range = match nearby {
        _ if scan_from >= scan_until => Vec::new(),
        Some(nearby) if nearby.from <= scan_from && scan_until <= nearby.until => nearby
            .occurrences
            .iter()
            .filter(|o| scan_from <= o.due && o.due < scan_until)
            .cloned()
            .collect(),
        _ => occurrences_in(routine, site, events, scan_from, scan_until, now)?,
    };
    let notify = site_leads(org, routine.site);

    let mut window: VecDeque<Decided> = VecDeque::with_capacity(n + 1);
    let mut was_in_streak = false;
    let mut running: Option<usize> = None;
    for (i, occurrence) in context.into_iter().chain(range).enumerate() {
        let Some(decided) = decide(routine, occurrence, events, now) else {
            continue;
        };
        let at = decided.at;
        window.push_back(decided);
        if window.len() > n {
            window.pop_front();
        }
        let in_streak = window.iter().filter(|d| d.missed).count() >= k;
        if in_streak && !was_in_streak && i >= context_len {
            running = Some(out.alerts.len());
            out.alerts.push(raise(routine, &window, notify.clone()));
        } else if !in_streak
            && was_in_streak
            && let Some(idx) = running.take()
            && let Some(raised) = out.alerts.get_mut(idx)
        {
            raised.alert.streak_ended_at = Some(at);
        }
        was_in_streak = in_streak;
    }
    out.alerts
        .retain(|a| from <= a.alert.raised_at && a.alert.raised_at < until);
    out.earlier_streak_running =
        was_in_streak && !out.alerts.iter().any(|a| a.alert.streak_ended_at.is_none());
    Ok(out)
}

/// The occurrence's final status and when it was decided, or `None` while undecided.
fn decide(
    routine: &Routine,
    occurrence: Occurrence,
    events: &Events<'_>,
    now: DateTime<Utc>,
) -> Option<Decided> {
    let (missed, at) = match status_in(routine, &occurrence, events, now) {
        Status::Missed => (true, occurrence.closes),
        Status::DoneOnTime | Status::DoneLate => (
            false,
            valid_completion_in(routine, &occurrence, events, now)?.at,
        ),
        Status::Excused => (false, events.first_excuse(occurrence.id, now)?.at),
        Status::Upcoming | Status::Open | Status::Due | Status::Overdue => return None,
    };
    Some(Decided {
        occurrence,
        missed,
        at,
    })
}

fn raise(routine: &Routine, window: &VecDeque<Decided>, notify: Vec<PersonId>) -> RaisedAlert {
    let missed: Vec<&Occurrence> = window
        .iter()
        .filter(|d| d.missed)
        .map(|d| &d.occurrence)
        .collect();
    // The streak starts with the newest decision, which is the miss that reached K.
    let (trigger_id, raised_at) = window
        .back()
        .map(|d| (d.occurrence.id, d.occurrence.closes))
        .unwrap_or((OccurrenceId(Uuid::nil()), DateTime::<Utc>::MIN_UTC));
    RaisedAlert {
        alert: RepeatFailureAlert {
            id: alert_id(routine.id, trigger_id),
            routine: routine.id,
            site: routine.site,
            raised_at,
            missed_occurrences: missed.iter().map(|o| o.id).collect(),
            notify,
            streak_ended_at: None,
        },
        missed_due: missed.iter().map(|o| o.due).collect(),
    }
}

/// The site's leads, or its admins when it has no lead.
fn site_leads(org: &Org, site: SiteId) -> Vec<PersonId> {
    let leads: Vec<PersonId> = org
        .people_with_role(site, Role::Lead)
        .map(|p| p.id)
        .collect();
    if leads.is_empty() {
        org.people_with_role(site, Role::Admin)
            .map(|p| p.id)
            .collect()
    } else {
        leads
    }
}
