//! Which part of the history each device call reads.
//!
//! The engines are pure functions of (org, history, now); the history they look at is
//! bounded by how far back each one looks. These functions turn those look-backs into a
//! [`HistoryWindow`], so a call reads days, not years. Reading more never changes a
//! result; reading less would (an occurrence whose completion was not read looks missed),
//! so every bound below is the engine's look-back plus a margin, and
//! `tests/device_shift.rs` checks windowed results against the whole history.
//!
//! - near `now` (attention, today, reminders, acknowledging): the longest of every
//!   routine's close, last escalation level and grace, plus [`NEAR_MARGIN_MIN`]
//!   (attention keeps an undone check for a day after its last level; today starts at the
//!   local midnight);
//! - `after_completion` routines: their whole chain, always (each due time follows the
//!   previous completion); they are few and fire rarely;
//! - repeat failures (a lead's or admin's attention): the N occurrences before the last
//!   [`RECENT_DAYS`] days and, only while a streak that started earlier is still running,
//!   two years more (the feed then looks for the alert that started it);
//! - a review period: the occurrences due in it;
//! - one occurrence: its routine back to [`RECENT_OCCURRENCES`] occurrences before it.

use chrono::{DateTime, Duration, Utc};

use crate::model::{Cadence, History, Org, PersonId, Role, Routine, RoutineId, SiteId};
use crate::occurrence::{
    Events, Status, minus_minutes, occurrences_before, occurrences_before_in, status_in,
};
use crate::repeat_failure::scan;
use crate::store::{HistoryWindow, Store, StoreError};

/// Minutes added to the near-`now` look-back: the feed keeps an undone check for 24 h
/// after its close or last level, and today starts at the local midnight, at most 25 h
/// before `now` (a fall-back day); one hour spare.
const NEAR_MARGIN_MIN: u32 = 26 * 60;
/// The attention feed shows repeat-failure alerts raised in the last week (7 days); one
/// more day of margin.
const RECENT_DAYS: i64 = 8;
/// The engines look back for a running streak's alert, and for earlier occurrences, at
/// most two years (731 days).
const DEEP_DAYS: i64 = 731;
/// Occurrences before the one shown that the check screen lists
/// ([`crate::agenda::RECENT_COUNT`]).
const RECENT_OCCURRENCES: usize = crate::agenda::RECENT_COUNT;

fn days_before(at: DateTime<Utc>, days: i64) -> DateTime<Utc> {
    at.checked_sub_signed(Duration::days(days))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn is_after_completion(routine: &Routine) -> bool {
    matches!(routine.cadence, Cadence::AfterCompletion { .. })
}

/// The start of the near-`now` window.
pub(crate) fn near_start(org: &Org, now: DateTime<Utc>) -> DateTime<Utc> {
    let behind = org
        .routines
        .iter()
        .map(|r| {
            let last_level = r.escalation.iter().map(|l| l.after_min).max().unwrap_or(0);
            r.window
                .closes_after_min
                .max(last_level)
                .max(r.window.grace_min)
        })
        .max()
        .unwrap_or(0);
    minus_minutes(now, behind.saturating_add(NEAR_MARGIN_MIN))
}

/// Everything due from [`near_start`] on, every `after_completion` chain, and
/// acknowledgements since [`near_start`].
pub(crate) fn near_now(org: &Org, now: DateTime<Utc>) -> HistoryWindow {
    let start = near_start(org, now);
    HistoryWindow {
        everything: false,
        due: Some((start, DateTime::<Utc>::MAX_UTC)),
        routines: whole_chains(org, None),
        acks_from: Some(start),
    }
}

/// `(routine, None)` for every `after_completion` routine (of `site`, when given).
fn whole_chains(org: &Org, site: Option<SiteId>) -> Vec<(RoutineId, Option<DateTime<Utc>>)> {
    org.routines
        .iter()
        .filter(|r| is_after_completion(r) && site.is_none_or(|s| r.site == s))
        .map(|r| (r.id, None))
        .collect()
}

/// The history a person's attention feed needs at `now` (see the module documentation).
pub(crate) fn attention_history(
    store: &Store,
    org: &Org,
    person: PersonId,
    now: DateTime<Utc>,
) -> Result<History, StoreError> {
    let mut window = near_now(org, now);
    let Some(me) = org.person(person) else {
        return store.history(&window);
    };
    // Routines whose repeat failures this person sees, with the start of the context the
    // feed's scan reads for each.
    let recent = days_before(now, RECENT_DAYS);
    let mut watched: Vec<&Routine> = Vec::new();
    for routine in &org.routines {
        let rule = routine.repeat_failure;
        if rule.missed == 0 || rule.of_last == 0 || rule.missed > rule.of_last {
            continue;
        }
        if !matches!(me.role_at(routine.site), Some(Role::Lead | Role::Admin)) {
            continue;
        }
        if is_after_completion(routine) {
            continue; // already read whole
        }
        let Some(site) = org.site(routine.site) else {
            continue;
        };
        let before = minus_minutes(recent, routine.window.closes_after_min);
        let from = context_start(routine, site, before, now);
        window.routines.push((routine.id, Some(from)));
        watched.push(routine);
    }
    if watched.is_empty() {
        return store.history(&window);
    }
    let history = store.history(&window)?;
    // A streak that started before the last week and is still running: the feed looks up
    // to two years back for its alert.
    let events = Events::new(&history);
    let week_ago = days_before(now, RECENT_DAYS - 1);
    let until = now
        .checked_add_signed(Duration::seconds(1))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let mut deep = Vec::new();
    for routine in watched {
        let Some(site) = org.site(routine.site) else {
            continue;
        };
        if !may_be_in_a_streak(routine, site, &events, now) {
            continue;
        }
        let running = scan(org, routine, &events, week_ago, until, now)
            .map(|s| s.earlier_streak_running)
            .unwrap_or(false);
        if running {
            let before =
                minus_minutes(days_before(now, DEEP_DAYS), routine.window.closes_after_min);
            deep.push((routine.id, Some(context_start(routine, site, before, now))));
        }
    }
    drop(events);
    if deep.is_empty() {
        return Ok(history);
    }
    let mut more = store.history(&HistoryWindow {
        routines: deep,
        ..HistoryWindow::default()
    })?;
    let mut merged = history;
    let known: std::collections::HashSet<_> = merged.completions.iter().map(|c| c.id).collect();
    more.completions.retain(|c| !known.contains(&c.id));
    let known: std::collections::HashSet<_> = merged.excuses.iter().map(|e| e.id).collect();
    more.excuses.retain(|e| !known.contains(&e.id));
    merged.completions.append(&mut more.completions);
    merged.excuses.append(&mut more.excuses);
    Ok(merged)
}

/// Whether `routine` may be in a repeat-failure streak at `now`: at least K misses among
/// its last N decided occurrences due up to `now` (a cheap necessary condition, so the full
/// scan runs only for routines that fail it). Occurrences due after `now` but already done
/// can only push misses out of the feed's window, never add one. Unsure (too few decided
/// occurrences found): yes.
fn may_be_in_a_streak(
    routine: &Routine,
    site: &crate::model::Site,
    events: &Events<'_>,
    now: DateTime<Utc>,
) -> bool {
    let rule = routine.repeat_failure;
    let (k, n) = (rule.missed as usize, rule.of_last as usize);
    let until = now
        .checked_add_signed(Duration::seconds(1))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let Ok(found) = occurrences_before_in(routine, site, events, until, n + 4, now) else {
        return true;
    };
    let decided: Vec<Status> = found
        .iter()
        .rev()
        .map(|o| status_in(routine, o, events, now))
        .filter(|s| s.is_final())
        .take(n)
        .collect();
    decided.len() < n || decided.iter().filter(|s| **s == Status::Missed).count() >= k
}

/// The due time of the `of_last`-th occurrence of a rule routine before `before` (its
/// due times do not depend on history), or `before` itself when there are none.
fn context_start(
    routine: &Routine,
    site: &crate::model::Site,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let n = usize::try_from(routine.repeat_failure.of_last).unwrap_or(usize::MAX);
    occurrences_before(routine, site, &History::default(), before, n, now)
        .ok()
        .and_then(|found| found.first().map(|o| o.due))
        .unwrap_or(before)
}

/// The history a review of `site` over occurrences due in `[from, until)` needs.
pub(crate) fn period(
    org: &Org,
    site: SiteId,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> HistoryWindow {
    HistoryWindow {
        everything: false,
        due: Some((from, until)),
        routines: whole_chains(org, Some(site)),
        acks_from: Some(from),
    }
}

/// The history the check screen of an occurrence of `routine` due at `due` needs: the
/// routine back to [`RECENT_OCCURRENCES`] occurrences before it (all of it for an
/// `after_completion` chain), and acknowledgements since it was due.
pub(crate) fn occurrence(
    org: &Org,
    routine: &Routine,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> HistoryWindow {
    let from = if is_after_completion(routine) {
        None
    } else {
        let site = org.site(routine.site);
        let first = site.and_then(|site| {
            occurrences_before(
                routine,
                site,
                &History::default(),
                due,
                RECENT_OCCURRENCES,
                now,
            )
            .ok()
            .and_then(|found| found.first().map(|o| o.due))
        });
        Some(first.unwrap_or(due).min(due))
    };
    HistoryWindow {
        everything: false,
        due: None,
        routines: vec![(routine.id, from)],
        acks_from: Some(minus_minutes(due, 1)),
    }
}
