//! Notifications the engine says are due: whom to alert about what, right now.
//!
//! The server's dispatcher sends these as push alerts; a device computes the same list
//! offline from the same events, so a supervisor without signal still sees what the server
//! would have sent. Each notice has a deterministic id, so a dispatcher that keeps the ids
//! it has queued never alerts twice for the same thing, across ticks and restarts:
//!
//! - an escalation level that has fired and is neither acknowledged nor ended: one notice
//!   per recipient and per round (round 0 when the level fires, round `k` at the `k`-th
//!   re-notification); only the current round is listed, so a dispatcher that was down
//!   catches up with one alert, not a burst;
//! - a repeat-failure streak still running: one notice per lead of the site, per streak.
//!
//! A chain that has ended (valid completion or excuse) lists nothing, and neither does an
//! acknowledged level: acknowledgement silences that level, the next still fires. Notices
//! older than a day (after the last level or the window's close) are left out: a missed
//! check then belongs to the attention feed and the repeat-failure alert, not to a phone
//! buzzing forever.

use std::collections::HashMap;
use std::io::Write as _;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::attention::Speaker;
use crate::escalation::{ResolvedChain, level_ids, next_after, timeline_resolved};
use crate::ids::uuid_v5;
use crate::model::{
    Acknowledgement, AlertId, Completion, EscalationId, Excuse, History, OccurrenceId, Org,
    PersonId, Routine, RoutineId, Site, SiteId,
};
use crate::occurrence::{
    Events, MAX_LOOKBACK_DAYS, Nearby, Occurrence, OccurrenceError, Status, due_times_in,
    minus_minutes, occurrences_in, plus_minutes, status_in,
};
use crate::repeat_failure::scan_among;

/// How long after a chain's last level (or the window's close) an undone occurrence still
/// alerts, and how long after it was raised a running repeat-failure streak still alerts.
pub const ALERT_HORIZON_MIN: u32 = 24 * 60;

/// One alert to send to one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Deterministic id (see [`escalation_notice_id`] and [`repeat_failure_notice_id`]):
    /// the key a dispatcher records so it never sends the same alert twice.
    pub id: Uuid,
    /// What the alert is about.
    pub kind: NoticeKind,
    /// Whom it goes to.
    pub recipient: PersonId,
    /// The site.
    pub site: SiteId,
    /// The routine.
    pub routine: RoutineId,
    /// The occurrence, for escalations.
    pub occurrence: Option<OccurrenceId>,
    /// When it became due (a level's firing or re-notification, an alert's raising).
    pub due_at: DateTime<Utc>,
    /// Groups alerts on a phone: one notification per check (the occurrence id) or per
    /// streak (the alert id).
    pub collapse_key: String,
    /// Short title: "Fridge temperatures (Harbor Kitchen)".
    pub title: String,
    /// The sentence the person reads, in the site's zone, naming the check, the site and
    /// the people.
    pub body: String,
}

/// What a notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NoticeKind {
    /// An escalation level reached the recipient.
    Escalation {
        /// The level's id (acknowledgements name it).
        escalation: EscalationId,
        /// Level number, 1-based.
        level: usize,
        /// 0 when the level fires, `k` at its `k`-th re-notification.
        round: u32,
        /// When the level fired (due + its `after`).
        fired_at: DateTime<Utc>,
    },
    /// A routine keeps being missed at a site the recipient leads.
    RepeatFailure {
        /// The streak's alert.
        alert: AlertId,
    },
}

/// The id of round `round` of escalation `escalation` to `recipient`:
/// `UUIDv5(namespace = escalation id, name = "to:{recipient}:round:{round}")`.
pub fn escalation_notice_id(escalation: EscalationId, recipient: PersonId, round: u32) -> Uuid {
    // Computed for every due notice at every dispatcher tick: formatted on the stack.
    let mut name = [0u8; 64];
    let mut cursor = std::io::Cursor::new(&mut name[..]);
    let _ = write!(cursor, "to:{}:round:{round}", recipient.0);
    let len = usize::try_from(cursor.position()).unwrap_or(0);
    uuid_v5(&escalation.0, &name[..len])
}

/// The id of a repeat-failure alert to `recipient`:
/// `UUIDv5(namespace = alert id, name = "to:{recipient}")`.
pub fn repeat_failure_notice_id(alert: AlertId, recipient: PersonId) -> Uuid {
    uuid_v5(&alert.0, format!("to:{}", recipient.0).as_bytes())
}

/// Every notice due at `now` for the routines of `site` (or of every site when `None`),
/// in routine order, then due order.
///
/// Routines whose cadence cannot be expanded are left out (the routines file is validated
/// when imported).
pub fn notices(
    org: &Org,
    history: &History,
    site: Option<SiteId>,
    now: DateTime<Utc>,
) -> Vec<Notice> {
    notices_where(org, history, site, now, &mut |_| true)
}

/// What a notice is, before its words are written: enough to decide whether it is wanted.
/// Its id ([`NoticeKey::id`], a SHA-1) is derived only when asked for: a dispatcher
/// decides about most due notices without it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoticeKey {
    /// Whom it goes to.
    pub recipient: PersonId,
    /// What it is about.
    pub kind: NoticeKind,
    /// The occurrence, for escalations.
    pub occurrence: Option<OccurrenceId>,
    /// When it became due (as [`Notice::due_at`]): a caller that evaluated the occurrence
    /// at or after this instant, and learned of nothing since but the passing of time,
    /// has seen it.
    pub due_at: DateTime<Utc>,
}

impl NoticeKey {
    /// The notice's id (see [`escalation_notice_id`] and [`repeat_failure_notice_id`]).
    pub fn id(&self) -> Uuid {
        match self.kind {
            NoticeKind::Escalation {
                escalation, round, ..
            } => escalation_notice_id(escalation, self.recipient, round),
            NoticeKind::RepeatFailure { alert } => repeat_failure_notice_id(alert, self.recipient),
        }
    }
}

/// [`notices`], keeping only those `wanted` says yes to; the words (the costly part) are
/// written only for those. A dispatcher that has queued most of what is due asks for the
/// new ones only.
pub fn notices_where(
    org: &Org,
    history: &History,
    site: Option<SiteId>,
    now: DateTime<Utc>,
    wanted: &mut dyn FnMut(&NoticeKey) -> bool,
) -> Vec<Notice> {
    let events = Events::new(history);
    let mut out = Vec::new();
    for routine in org
        .routines
        .iter()
        .filter(|r| site.is_none_or(|s| r.site == s))
    {
        escalation_notices(org, routine, &events, now, wanted, &mut out);
        repeat_failure_notices(org, routine, &events, now, None, wanted, &mut out);
    }
    out
}

/// One routine's recorded work, as a caller that files events by routine keeps it (the
/// server's dispatcher): the routine's completions and excuses, and every acknowledgement
/// by escalation (an acknowledgement names only its escalation level).
#[derive(Debug, Clone, Copy)]
pub struct RoutineEvents<'h> {
    /// The routine's completions (others are ignored).
    pub completions: &'h [Completion],
    /// The routine's excuses (others are ignored).
    pub excuses: &'h [Excuse],
    /// Acknowledgements by the escalation they acknowledge.
    pub acknowledgements: &'h HashMap<EscalationId, Vec<Acknowledgement>>,
}

/// [`routine_notices_where`]'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutineNotices {
    /// The routine's due notices that `wanted` said yes to, as [`notices_where`] lists them
    /// (of the occurrences evaluated: see [`routine_notices_where`]'s `settled`).
    pub notices: Vec<Notice>,
    /// How many notices were due (wanted or not), of the occurrences evaluated and of the
    /// routine's repeat failures.
    pub due: usize,
    /// How many of them were repeat-failure notices.
    pub repeat_failure_due: usize,
    /// The earliest instant after `now` at which the due notices of the occurrences
    /// evaluated, or anything shared, could differ from those at `now` by the passing of
    /// time alone (same org, same events); `None` when they never will. A caller that
    /// settled occurrences takes the earliest of this and the next changes it kept for
    /// them. Evaluating again before it gives the same notices (only their words, which
    /// name times relative to `now`, may read differently).
    pub next_change: Option<DateTime<Utc>>,
    /// The earliest of those instants that is not tied to one occurrence (the daily look,
    /// an event recorded with a time ahead of `now`, the repeat-failure look-back's edge):
    /// from it on, every occurrence must be evaluated again.
    pub shared_change: Option<DateTime<Utc>>,
    /// Every occurrence evaluated whose notices can change with time (those near `now`,
    /// and the next one due), with when they next can: until then, its escalation
    /// notices stay as they are at `now`. Settled occurrences are not listed: what the
    /// caller kept for them stands.
    pub occurrences: Vec<OccurrenceNotices>,
    /// Occurrences due before this instant are out of every look-back: their notices can
    /// no longer change, and a caller that keeps something per occurrence can forget them.
    pub kept_from: DateTime<Utc>,
    /// Everyone a due notice goes to (wanted or not), without repeats: a new device of
    /// one of them makes a notice wanted again.
    pub recipients: Vec<PersonId>,
}

/// One occurrence in [`RoutineNotices::occurrences`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OccurrenceNotices {
    /// The occurrence.
    pub occurrence: OccurrenceId,
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// How many of its escalation notices are due at `now`.
    pub due: usize,
    /// The earliest instant after `now` at which its escalation notices could change by
    /// the passing of time alone (a window edge, a level firing, a re-notification round,
    /// an acknowledgement recorded ahead of `now`, leaving the look-back).
    pub next_change: Option<DateTime<Utc>>,
    /// Its escalation levels, when it is in the escalations' look-back: an
    /// acknowledgement of one of them can change its notices; of any other level, it
    /// cannot before `next_change`.
    pub escalations: Vec<EscalationId>,
}

/// Which occurrences a caller knows are settled: their escalation notices at `now` are
/// those it was given at an earlier evaluation of the routine, with the same org and
/// events, because the [`OccurrenceNotices::next_change`] it was given for them has not
/// come (nor the [`RoutineNotices::shared_change`]). They are not evaluated again.
pub type Settled<'a> = &'a dyn Fn(OccurrenceId) -> bool;

/// Nothing is settled: every occurrence is evaluated.
pub fn nothing_settled(_: OccurrenceId) -> bool {
    false
}

/// The notices of one routine due at `now` (those `wanted` says yes to, as
/// [`notices_where`] would list them for this routine given the same events), and when
/// they could next change: what a dispatcher needs to evaluate a routine again only when
/// its events, its definitions or [`RoutineNotices::next_change`] say so, and then only
/// the occurrences whose own next change has come (the others are `settled`: they are
/// left out of the answer). The routine's repeat failures are always evaluated.
pub fn routine_notices_where(
    org: &Org,
    routine: &Routine,
    recorded: RoutineEvents<'_>,
    now: DateTime<Utc>,
    settled: Settled<'_>,
    wanted: &mut dyn FnMut(&NoticeKey) -> bool,
) -> RoutineNotices {
    let events = Events::of_routine(
        recorded.completions,
        recorded.excuses,
        recorded.acknowledgements,
    );
    let mut due = 0;
    let mut repeat_failure_due = 0;
    let mut due_of: HashMap<OccurrenceId, usize> = HashMap::new();
    let mut recipients: Vec<PersonId> = Vec::new();
    let mut counting = |key: &NoticeKey| {
        due += 1;
        match key.occurrence {
            Some(occurrence) => *due_of.entry(occurrence).or_default() += 1,
            None => repeat_failure_due += 1,
        }
        if !recipients.contains(&key.recipient) {
            recipients.push(key.recipient);
        }
        wanted(key)
    };
    let thresholds = Thresholds::of(routine);
    let site = org.site(routine.site);
    // The occurrences near `now`, expanded once for the escalations and the next change;
    // those not evaluated (settled) are dropped here, so their ids are derived once.
    let nearby =
        site.and_then(|site| nearby_occurrences(routine, site, &events, &thresholds, now).ok());
    let until = now
        .checked_add_signed(Duration::seconds(1))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    // Each one evaluated, with its escalation levels' ids when it is in the escalations'
    // look-back: derived once (SHA-1s), for its notices and its next change alike.
    let lookback_from = thresholds
        .escalation_lookback()
        .map(|lookback| minus_minutes(now, lookback));
    let evaluated: Vec<(&Occurrence, Vec<EscalationId>)> = nearby
        .iter()
        .flat_map(|n| &n.occurrences)
        .filter(|o| !settled(o.id))
        .map(|o| {
            let ids = match lookback_from {
                Some(from) if from <= o.due && o.due < until => {
                    level_ids(o.id, routine.escalation.len())
                }
                _ => Vec::new(),
            };
            (o, ids)
        })
        .collect();
    let mut notices = Vec::new();
    if let (Some(site), Some(_)) = (site, lookback_from) {
        let in_lookback = evaluated
            .iter()
            .filter(|(_, ids)| !ids.is_empty())
            .map(|(o, ids)| (*o, ids.as_slice()));
        escalation_notices_of(
            org,
            routine,
            site,
            in_lookback,
            &events,
            now,
            &mut counting,
            &mut notices,
        );
    }
    let short_context = repeat_failure_notices(
        org,
        routine,
        &events,
        now,
        nearby.as_ref(),
        &mut counting,
        &mut notices,
    );
    let changes = next_change(
        routine,
        &thresholds,
        evaluated,
        site.is_some(),
        recorded,
        now,
        short_context,
    );
    let occurrences = changes
        .occurrences
        .into_iter()
        .map(|c| OccurrenceNotices {
            occurrence: c.occurrence,
            due_at: c.due_at,
            due: due_of.get(&c.occurrence).copied().unwrap_or(0),
            next_change: c.next,
            escalations: c.escalations,
        })
        .collect();
    RoutineNotices {
        notices,
        due,
        repeat_failure_due,
        next_change: changes.next,
        shared_change: changes.shared,
        occurrences,
        kept_from: thresholds.kept_from(now),
        recipients,
    }
}

/// The earliest instant after `now` it is worth waking up at. Instants are kept as
/// nanoseconds since the epoch: the engine weighs dozens of them per occurrence, and
/// integer sums cost a fraction of chrono's checked arithmetic.
struct Wake {
    now: i128,
    next: Option<i128>,
    /// Representable time: instants out of it are skipped (chrono's checked sums fail).
    first: i128,
    last: i128,
}

/// Nanoseconds in a second.
const NANOS: i128 = 1_000_000_000;

/// `at` in nanoseconds since the epoch.
fn nanos(at: DateTime<Utc>) -> i128 {
    i128::from(at.timestamp()) * NANOS + i128::from(at.timestamp_subsec_nanos())
}

/// The instant `nanos` after the epoch, when representable.
fn from_nanos(nanos: i128) -> Option<DateTime<Utc>> {
    let secs = i64::try_from(nanos.div_euclid(NANOS)).ok()?;
    let sub = u32::try_from(nanos.rem_euclid(NANOS)).ok()?;
    DateTime::from_timestamp(secs, sub)
}

impl Wake {
    fn new(now: DateTime<Utc>) -> Wake {
        Wake {
            now: nanos(now),
            next: None,
            first: nanos(DateTime::<Utc>::MIN_UTC),
            last: nanos(DateTime::<Utc>::MAX_UTC),
        }
    }

    /// An instant, in nanoseconds.
    fn at_nanos(&mut self, at: i128) {
        if at > self.now && self.next.is_none_or(|n| at < n) && at <= self.last {
            self.next = Some(at);
        }
    }

    fn at(&mut self, at: DateTime<Utc>) {
        self.at_nanos(nanos(at));
    }

    /// A threshold the engine compares `now` with: the result may change at `at` (`<`,
    /// `>=`) or right after it (`<=`, `>`), and a bound one second off (`now + 1 s`).
    fn around_nanos(&mut self, at: i128) {
        if !(self.first..=self.last).contains(&at) {
            return;
        }
        for shift in [-NANOS, 0, 1] {
            self.at_nanos(at + shift);
        }
    }

    fn around(&mut self, at: DateTime<Utc>) {
        self.around_nanos(nanos(at));
    }

    /// The earliest instant found.
    fn next(&self) -> Option<DateTime<Utc>> {
        self.next.and_then(from_nanos)
    }
}

const DAY_SECS: i64 = 86_400;

/// Seconds in `m` minutes.
fn mins(m: u32) -> i64 {
    i64::from(m) * 60
}

/// The instants, as offsets from an occurrence's due time, at which a comparison the
/// engine makes with `now` about the occurrence can flip, and the ranges they imply.
struct Thresholds {
    /// Seconds from the due time: window edges, level firings, the look-backs' edges,
    /// expiry after [`ALERT_HORIZON_MIN`].
    offsets: Vec<i64>,
    /// How far back an occurrence's due time can lie and still have a threshold ahead.
    back: i64,
    /// How far ahead to look for the next occurrence due (a day past its window's
    /// opening).
    ahead: i64,
    /// The latest level's delay, in minutes (`None`: no chain).
    last_level: Option<u32>,
    /// The escalations' look-back, in minutes.
    lookback_min: u32,
}

impl Thresholds {
    fn of(routine: &Routine) -> Thresholds {
        let horizon = mins(ALERT_HORIZON_MIN);
        let w = routine.window;
        let last_level = routine.escalation.iter().map(|l| l.after_min).max();
        let lookback_min = w
            .closes_after_min
            .max(last_level.unwrap_or(0))
            .saturating_add(ALERT_HORIZON_MIN);
        let mut offsets = vec![
            -mins(w.opens_before_min),
            -mins(w.opens_before_min) - 1,
            -1,
            0,
            mins(w.grace_min),
            mins(w.closes_after_min),
            mins(w.closes_after_min) + horizon,
            mins(lookback_min),
        ];
        for level in &routine.escalation {
            offsets.push(mins(level.after_min));
            offsets.push(mins(level.after_min) + horizon);
        }
        let back = offsets.iter().copied().max().unwrap_or(0).max(0) + 60;
        let ahead = mins(w.opens_before_min) + 1 + DAY_SECS;
        Thresholds {
            offsets,
            back,
            ahead,
            last_level,
            lookback_min,
        }
    }

    /// The escalations' look-back in minutes, when the routine has a chain.
    fn escalation_lookback(&self) -> Option<u32> {
        self.last_level.map(|_| self.lookback_min)
    }

    /// Occurrences due before this have no threshold left after `now`.
    fn kept_from(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now.checked_sub_signed(Duration::seconds(self.back))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// Whether every threshold of an occurrence due at `due` lies after `now` (then its
    /// first threshold is its own next change, and every later occurrence's comes after).
    fn all_ahead(&self, due: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        let first = self.offsets.iter().copied().min().unwrap_or(0) - 1;
        due.checked_add_signed(Duration::seconds(first))
            .is_none_or(|at| at > now)
    }
}

/// The [`Nearby`] occurrences at `now`: those with a threshold left (due from
/// [`Thresholds::kept_from`]) up to the first whose thresholds all lie ahead. Later ones
/// change after it, so they are not derived.
fn nearby_occurrences(
    routine: &Routine,
    site: &Site,
    events: &Events<'_>,
    thresholds: &Thresholds,
    now: DateTime<Utc>,
) -> Result<Nearby, OccurrenceError> {
    let from = thresholds.kept_from(now);
    let mut until = now
        .checked_add_signed(Duration::seconds(thresholds.ahead))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let dues = due_times_in(routine, site, events, from, until, now)?;
    let mut occurrences = Vec::with_capacity(dues.len().min(256));
    for due in dues {
        occurrences.push(Occurrence::new(routine, due));
        if thresholds.all_ahead(due, now) {
            // Covered up to and including it.
            until = due
                .checked_add_signed(Duration::nanoseconds(1))
                .unwrap_or(until);
            break;
        }
    }
    Ok(Nearby {
        occurrences,
        from,
        until,
    })
}

/// What [`next_change`] finds.
struct Changes {
    /// The earliest of everything below.
    next: Option<DateTime<Utc>>,
    /// The earliest not tied to one occurrence.
    shared: Option<DateTime<Utc>>,
    /// Each occurrence evaluated and its own earliest.
    occurrences: Vec<OccurrenceChange>,
}

/// One occurrence's part of [`Changes`].
struct OccurrenceChange {
    occurrence: OccurrenceId,
    due_at: DateTime<Utc>,
    next: Option<DateTime<Utc>>,
    escalations: Vec<EscalationId>,
}

/// When the routine's notices could next change with time alone (see
/// [`RoutineNotices::next_change`]), in all and for each of the `evaluated` occurrences
/// (those of [`nearby_occurrences`] not settled), with their escalation levels.
///
/// Conservative: every instant at which a comparison the engine makes with `now` can flip
/// (window edges, level firings, re-notification rounds, the look-backs' edges, expiry
/// after [`ALERT_HORIZON_MIN`], events recorded with a time ahead of `now`), for every
/// occurrence that can matter; and at most a day ahead, so a cadence with nothing due for
/// long is looked at again daily.
fn next_change(
    routine: &Routine,
    thresholds: &Thresholds,
    evaluated: Vec<(&Occurrence, Vec<EscalationId>)>,
    has_site: bool,
    recorded: RoutineEvents<'_>,
    now: DateTime<Utc>,
    short_context: Option<DateTime<Utc>>,
) -> Changes {
    // Wake-ups not tied to one occurrence.
    let mut shared = Wake::new(now);
    let mut changes = Changes {
        next: None,
        shared: None,
        occurrences: Vec::with_capacity(evaluated.len()),
    };
    if !has_site {
        return changes;
    }
    let horizon = mins(ALERT_HORIZON_MIN);
    let w = routine.window;
    if let Some(cap) = now.checked_add_signed(Duration::seconds(DAY_SECS)) {
        shared.at(cap);
    }
    for c in recorded.completions {
        shared.around(c.at);
    }
    for e in recorded.excuses {
        shared.around(e.at);
    }
    for (occurrence, ids) in evaluated {
        let mut own = Wake::new(now);
        let due = nanos(occurrence.due);
        for &offset in &thresholds.offsets {
            own.around_nanos(due + i128::from(offset) * NANOS);
        }
        // In the escalations' look-back exactly when its level ids were derived.
        for (spec, id) in routine.escalation.iter().zip(&ids) {
            for ack in recorded.acknowledgements.get(id).into_iter().flatten() {
                own.around(ack.at);
            }
            let fires_at = plus_minutes(occurrence.due, spec.after_min);
            if let Some(every) = spec.renotify_every_min.filter(|&e| e > 0)
                && fires_at <= now
            {
                if let Some(next) = next_after(fires_at, every, now) {
                    own.around(next);
                }
                let (_, round_at) = current_round(fires_at, Some(every), now);
                if let Some(expiry) = round_at.checked_add_signed(Duration::seconds(horizon)) {
                    own.around(expiry);
                }
            }
        }
        changes.occurrences.push(OccurrenceChange {
            occurrence: occurrence.id,
            due_at: occurrence.due,
            next: own.next(),
            escalations: ids,
        });
    }
    if let Some(oldest) = short_context {
        // It leaves the repeat-failure scan's longest look-back (which starts a close and
        // a horizon before now).
        let leaves = Duration::days(MAX_LOOKBACK_DAYS)
            + Duration::seconds(mins(w.closes_after_min) + horizon);
        if let Some(at) = oldest.checked_add_signed(leaves) {
            shared.around(at);
        }
    }
    changes.shared = shared.next();
    changes.next = changes
        .occurrences
        .iter()
        .filter_map(|c| c.next)
        .chain(shared.next())
        .min();
    changes
}

/// The current round of each fired, unacknowledged level of each undone occurrence
/// among the routine's occurrences in the escalations' look-back.
fn escalation_notices(
    org: &Org,
    routine: &Routine,
    events: &Events<'_>,
    now: DateTime<Utc>,
    wanted: &mut dyn FnMut(&NoticeKey) -> bool,
    out: &mut Vec<Notice>,
) {
    let Some(site) = org.site(routine.site) else {
        return;
    };
    let Some(lookback) = Thresholds::of(routine).escalation_lookback() else {
        return;
    };
    let until = now
        .checked_add_signed(Duration::seconds(1))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let Ok(found) = occurrences_in(
        routine,
        site,
        events,
        minus_minutes(now, lookback),
        until,
        now,
    ) else {
        return;
    };
    let levels = routine.escalation.len();
    let found: Vec<_> = found.iter().map(|o| (o, level_ids(o.id, levels))).collect();
    let found = found.iter().map(|(o, ids)| (*o, ids.as_slice()));
    escalation_notices_of(org, routine, site, found, events, now, wanted, out);
}

/// The current round of each fired, unacknowledged level of each undone occurrence of
/// `occurrences` (the routine's, in the escalations' look-back, in due order, each with
/// its levels' ids).
#[allow(clippy::too_many_arguments)]
fn escalation_notices_of<'o>(
    org: &Org,
    routine: &Routine,
    site: &Site,
    occurrences: impl Iterator<Item = (&'o Occurrence, &'o [EscalationId])>,
    events: &Events<'_>,
    now: DateTime<Utc>,
    wanted: &mut dyn FnMut(&NoticeKey) -> bool,
    out: &mut Vec<Notice>,
) {
    let chain = ResolvedChain::new(org, routine);
    for (occurrence, ids) in occurrences {
        let status = status_in(routine, occurrence, events, now);
        if matches!(
            status,
            Status::Upcoming | Status::DoneOnTime | Status::DoneLate | Status::Excused
        ) {
            continue;
        }
        let timeline = timeline_resolved(org, routine, &chain, occurrence, ids, events, now);
        if timeline.ended.is_some() {
            continue;
        }
        for (level, spec) in timeline.levels.iter().zip(&routine.escalation) {
            if !level.fired || level.acknowledgement.is_some() {
                continue;
            }
            let horizon = minus_minutes(now, ALERT_HORIZON_MIN);
            let (round, due_at) = current_round(level.fires_at, spec.renotify_every_min, now);
            // Strictly inside the horizon: a notice expires ALERT_HORIZON_MIN after it
            // became due.
            if due_at <= horizon {
                continue;
            }
            for &recipient in &level.recipients {
                let key = NoticeKey {
                    recipient,
                    kind: NoticeKind::Escalation {
                        escalation: level.id,
                        level: level.level,
                        round,
                        fired_at: level.fires_at,
                    },
                    occurrence: Some(occurrence.id),
                    due_at,
                };
                if !wanted(&key) {
                    continue;
                }
                let speaker = Speaker {
                    org,
                    me: recipient,
                    site,
                    routine,
                    now,
                };
                out.push(Notice {
                    id: key.id(),
                    kind: key.kind,
                    recipient,
                    site: site.id,
                    routine: routine.id,
                    occurrence: Some(occurrence.id),
                    due_at,
                    collapse_key: occurrence.id.to_string(),
                    title: speaker.subject(),
                    body: speaker.escalated(occurrence, status, &timeline, level),
                });
            }
        }
    }
}

/// The round of a level that fired at `fired` and re-notifies every `every` minutes, at
/// `now`, and when that round became due.
fn current_round(
    fired: DateTime<Utc>,
    every_min: Option<u32>,
    now: DateTime<Utc>,
) -> (u32, DateTime<Utc>) {
    let Some(every) = every_min.filter(|&e| e > 0).map(|e| i64::from(e) * 60) else {
        return (0, fired);
    };
    let rounds = (now - fired).num_seconds().max(0) / every;
    let at = fired
        .checked_add_signed(Duration::seconds(rounds.saturating_mul(every)))
        .unwrap_or(fired);
    (u32::try_from(rounds).unwrap_or(u32::MAX), at)
}

/// One notice per lead for each running streak raised within the horizon; returns the
/// scan's short context (see `Scan::short_context_oldest`). `nearby`: the routine's
/// occurrences over a stretch, used where they cover the scan.
fn repeat_failure_notices(
    org: &Org,
    routine: &Routine,
    events: &Events<'_>,
    now: DateTime<Utc>,
    nearby: Option<&Nearby>,
    wanted: &mut dyn FnMut(&NoticeKey) -> bool,
    out: &mut Vec<Notice>,
) -> Option<DateTime<Utc>> {
    let site = org.site(routine.site)?;
    let until = now
        .checked_add_signed(Duration::seconds(1))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let Ok(found) = scan_among(
        org,
        routine,
        events,
        minus_minutes(now, ALERT_HORIZON_MIN),
        until,
        now,
        nearby,
    ) else {
        return None;
    };
    let horizon = minus_minutes(now, ALERT_HORIZON_MIN);
    for raised in found
        .alerts
        .iter()
        .filter(|r| r.alert.streak_ended_at.is_none() && r.alert.raised_at > horizon)
    {
        for &recipient in &raised.alert.notify {
            let key = NoticeKey {
                recipient,
                kind: NoticeKind::RepeatFailure {
                    alert: raised.alert.id,
                },
                occurrence: None,
                due_at: raised.alert.raised_at,
            };
            if !wanted(&key) {
                continue;
            }
            let speaker = Speaker {
                org,
                me: recipient,
                site,
                routine,
                now,
            };
            out.push(Notice {
                id: key.id(),
                kind: key.kind,
                recipient,
                site: site.id,
                routine: routine.id,
                occurrence: None,
                due_at: raised.alert.raised_at,
                collapse_key: raised.alert.id.to_string(),
                title: speaker.subject(),
                body: speaker.repeat_failure(raised),
            });
        }
    }
    found.short_context_oldest
}
