//! Attention feed: what needs a person now, most urgent first.
//!
//! In order: (1) my overdue checks, most overdue first; (2) my checks due now, then open,
//! earliest due first; (3) escalations that reached me and are not ended, unacknowledged
//! before acknowledged, higher level first; (4) repeat failures at sites I lead or
//! administer. Empty when all is well. Messages name the check, the site and people, with
//! times in the site's zone.

use chrono::{DateTime, Datelike, Duration, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::assignee::{Assignment, AssignmentReason, absence_at};
use crate::escalation::{LevelState, Timeline, timeline_in};
use crate::model::{
    AlertId, EscalationId, History, OccurrenceId, Org, PersonId, Role, Routine, RoutineId, Site,
    SiteId,
};
use crate::occurrence::{
    Events, Occurrence, Status, minus_minutes, occurrences_in, plus_minutes, status_in,
};
use crate::repeat_failure::{RaisedAlert, scan};

/// After a chain's last level (or the window's close), how long an undone occurrence stays
/// in the feed.
const STALE_AFTER_MIN: u32 = 24 * 60;
/// Ended repeat-failure streaks stay in the feed this long after being raised.
const RECENT_ALERT_DAYS: i64 = 7;
/// Spans searched for the alert of a streak still running but raised earlier than that.
const EARLIER_ALERT_DAYS: [i64; 4] = [30, 91, 365, 731];

/// One thing that needs a person's attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttentionItem {
    /// What kind of attention.
    pub kind: AttentionKind,
    /// The site.
    pub site: SiteId,
    /// The routine.
    pub routine: RoutineId,
    /// The occurrence, for all but repeat failures.
    pub occurrence: Option<OccurrenceId>,
    /// The occurrence's due time, for all but repeat failures.
    pub due: Option<DateTime<Utc>>,
    /// The occurrence's status at `now`, for all but repeat failures.
    pub status: Option<Status>,
    /// The escalation level that reached the person, for escalations.
    pub escalation: Option<EscalationRef>,
    /// The repeat-failure alert, for repeat failures.
    pub alert: Option<AlertId>,
    /// What to tell the person.
    pub message: String,
}

/// The kinds of attention item, in order of urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EscalationRef {
    /// Its id (acknowledgements name it).
    pub id: EscalationId,
    /// Level number, 1-based.
    pub level: usize,
    /// When it fired.
    pub fired_at: DateTime<Utc>,
    /// Whether it has been acknowledged.
    pub acknowledged: bool,
    /// Whether the server has confirmed it fired (its `escalation_fired` event arrived by
    /// pull). The engine alone cannot know and says `false`; the device facade fills it in,
    /// so an offline device shows escalations it computed itself as not yet confirmed.
    #[serde(default)]
    pub confirmed_by_server: bool,
}

/// The attention feed of `person` at `now`, most urgent first.
///
/// Routines whose cadence cannot be expanded are left out (the routines file is validated
/// when imported).
pub fn attention(
    org: &Org,
    history: &History,
    person: PersonId,
    now: DateTime<Utc>,
) -> Vec<AttentionItem> {
    let events = Events::new(history);
    let mut ranked: Vec<(Rank, AttentionItem)> = Vec::new();
    for routine in &org.routines {
        let Some(site) = org.site(routine.site) else {
            continue;
        };
        let speaker = Speaker {
            org,
            me: person,
            site,
            routine,
            now,
        };
        occurrence_items(&speaker, &events, &mut ranked);
        if matches!(
            org.person(person).and_then(|p| p.role_at(site.id)),
            Some(Role::Lead | Role::Admin)
        ) {
            repeat_failure_items(&speaker, &events, &mut ranked);
        }
    }
    ranked.sort_by(|a, b| a.0.cmp(&b.0));
    ranked.into_iter().map(|(_, item)| item).collect()
}

/// Sort key: group, then up to three numbers, then names for a stable order.
type Rank = (AttentionKind, i64, i64, i64, String, String);

/// Overdue, due-now and escalation items of one routine.
fn occurrence_items(
    speaker: &Speaker<'_>,
    events: &Events<'_>,
    ranked: &mut Vec<(Rank, AttentionItem)>,
) {
    let (routine, now) = (speaker.routine, speaker.now);
    let last_level = routine
        .escalation
        .iter()
        .map(|l| l.after_min)
        .max()
        .unwrap_or(0);
    let lookback = routine
        .window
        .closes_after_min
        .max(last_level)
        .saturating_add(STALE_AFTER_MIN);
    let from = minus_minutes(now, lookback);
    let until = plus_minutes(now, routine.window.opens_before_min)
        .checked_add_signed(Duration::seconds(1))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let Ok(found) = occurrences_in(routine, speaker.site, events, from, until, now) else {
        return;
    };
    for occurrence in found {
        let status = status_in(routine, &occurrence, events, now);
        if matches!(
            status,
            Status::Upcoming | Status::DoneOnTime | Status::DoneLate | Status::Excused
        ) {
            continue;
        }
        let timeline = timeline_in(speaker.org, routine, &occurrence, events, now);
        let mine = timeline.assignment.person == speaker.me;
        let due = occurrence.due.timestamp();
        let item = |kind, message, escalation| AttentionItem {
            kind,
            site: routine.site,
            routine: routine.id,
            occurrence: Some(occurrence.id),
            due: Some(occurrence.due),
            status: Some(status),
            escalation,
            alert: None,
            message,
        };
        let rank = |kind, a, b, c| {
            (
                kind,
                a,
                b,
                c,
                speaker.site.name.clone(),
                routine.title.clone(),
            )
        };
        match status {
            Status::Overdue if mine => ranked.push((
                rank(AttentionKind::Overdue, due, 0, 0),
                item(
                    AttentionKind::Overdue,
                    speaker.my_check(&occurrence, status, &timeline.assignment),
                    None,
                ),
            )),
            Status::Due | Status::Open if mine => ranked.push((
                rank(
                    AttentionKind::DueNow,
                    i64::from(status == Status::Open),
                    due,
                    0,
                ),
                item(
                    AttentionKind::DueNow,
                    speaker.my_check(&occurrence, status, &timeline.assignment),
                    None,
                ),
            )),
            _ => {
                if timeline.ended.is_some() {
                    continue;
                }
                let Some(level) = timeline
                    .levels
                    .iter()
                    .rev()
                    .find(|l| l.fired && l.recipients.contains(&speaker.me))
                else {
                    continue;
                };
                let acknowledged = level.acknowledgement.is_some();
                let escalation = EscalationRef {
                    id: level.id,
                    level: level.level,
                    fired_at: level.fires_at,
                    acknowledged,
                    confirmed_by_server: false,
                };
                let level_rank = i64::try_from(level.level).unwrap_or(i64::MAX);
                ranked.push((
                    rank(
                        AttentionKind::Escalation,
                        i64::from(acknowledged),
                        -level_rank,
                        due,
                    ),
                    item(
                        AttentionKind::Escalation,
                        speaker.escalated(&occurrence, status, &timeline, level),
                        Some(escalation),
                    ),
                ));
            }
        }
    }
}

/// Repeat-failure alerts of one routine still worth a lead's attention: raised in the last
/// week, or raised earlier with the streak still running.
fn repeat_failure_items(
    speaker: &Speaker<'_>,
    events: &Events<'_>,
    ranked: &mut Vec<(Rank, AttentionItem)>,
) {
    let (org, routine, now) = (speaker.org, speaker.routine, speaker.now);
    let ago = |days| {
        now.checked_sub_signed(Duration::days(days))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    };
    let recent_from = ago(RECENT_ALERT_DAYS);
    let until = now
        .checked_add_signed(Duration::seconds(1))
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let Ok(recent) = scan(org, routine, events, recent_from, until, now) else {
        return;
    };
    let mut alerts = recent.alerts;
    if recent.earlier_streak_running {
        for days in EARLIER_ALERT_DAYS {
            let Ok(earlier) = scan(org, routine, events, ago(days), recent_from, now) else {
                return;
            };
            if let Some(running) = earlier
                .alerts
                .into_iter()
                .rev()
                .find(|a| a.alert.streak_ended_at.is_none())
            {
                alerts.insert(0, running);
                break;
            }
        }
    }
    for raised in alerts {
        let rank = (
            AttentionKind::RepeatFailure,
            -raised.alert.raised_at.timestamp(),
            0,
            0,
            speaker.site.name.clone(),
            routine.title.clone(),
        );
        ranked.push((
            rank,
            AttentionItem {
                kind: AttentionKind::RepeatFailure,
                site: routine.site,
                routine: routine.id,
                occurrence: None,
                due: None,
                status: None,
                escalation: None,
                alert: Some(raised.alert.id),
                message: speaker.repeat_failure(&raised),
            },
        ));
    }
}

/// Writes messages for one person about one routine: names, site, site-zone times.
pub(crate) struct Speaker<'a> {
    pub(crate) org: &'a Org,
    pub(crate) me: PersonId,
    pub(crate) site: &'a Site,
    pub(crate) routine: &'a Routine,
    pub(crate) now: DateTime<Utc>,
}

/// How an item or alert about `routine` at `site` is titled: "Fridge temperatures (Harbor
/// Kitchen)" (a notice's title).
pub fn check_title(routine: &Routine, site: &Site) -> String {
    format!("{} ({})", routine.title, site.name)
}

impl Speaker<'_> {
    /// "Fridge temperatures (Harbor Kitchen)" ([`check_title`]).
    pub(crate) fn subject(&self) -> String {
        check_title(self.routine, self.site)
    }

    fn tz(&self) -> Tz {
        self.site.time_zone
    }

    /// "you" or the person's name.
    fn name(&self, p: PersonId) -> String {
        if p == self.me {
            "you".to_string()
        } else {
            self.org.person_name(p)
        }
    }

    /// "you are" or "Sam Reed is".
    fn is(&self, p: PersonId) -> String {
        if p == self.me {
            "you are".to_string()
        } else {
            format!("{} is", self.org.person_name(p))
        }
    }

    fn time(&self, at: DateTime<Utc>) -> String {
        local_time(self.tz(), at, self.now)
    }

    /// Where the occurrence stands, as a verb phrase.
    fn state(&self, occurrence: &Occurrence, status: Status) -> String {
        match status {
            Status::Overdue => format!("is {} overdue", duration_text(self.now - occurrence.due)),
            Status::Missed => format!("was missed (closed at {})", self.time(occurrence.closes)),
            Status::Due => "is due now".to_string(),
            Status::Open => "is open".to_string(),
            Status::Upcoming => "is upcoming".to_string(),
            Status::DoneOnTime | Status::DoneLate => "is done".to_string(),
            Status::Excused => "is excused".to_string(),
        }
    }

    /// An overdue or due-now item for its assignee.
    fn my_check(&self, occurrence: &Occurrence, status: Status, assignment: &Assignment) -> String {
        let when = match status {
            Status::Due => format!(
                "due at {}, on time until {}",
                self.time(occurrence.due),
                self.time(occurrence.late_after)
            ),
            _ => format!("due at {}", self.time(occurrence.due)),
        };
        let cover = match assignment.reason {
            AssignmentReason::Owner => String::new(),
            AssignmentReason::Backup { covering_for } => format!(
                "; you are covering for {}, who is away{}",
                self.org.person_name(covering_for),
                self.away_reason(covering_for, occurrence.due)
            ),
            AssignmentReason::RoleFallback { role, .. } => {
                format!("; you are covering as {role}: {}", self.owners_away())
            }
            AssignmentReason::OwnerUnavailable => {
                "; you are marked away and nobody is available to cover".to_string()
            }
        };
        format!(
            "{} {} — {when}{cover}.",
            self.subject(),
            self.state(occurrence, status)
        )
    }

    /// An escalation item for one of its recipients.
    pub(crate) fn escalated(
        &self,
        occurrence: &Occurrence,
        status: Status,
        timeline: &Timeline,
        level: &LevelState,
    ) -> String {
        let assignment = &timeline.assignment;
        let who = match assignment.reason {
            AssignmentReason::Owner => format!("assigned to {}", self.name(assignment.person)),
            AssignmentReason::Backup { covering_for } => format!(
                "owner {} is away{}, {} covering",
                self.org.person_name(covering_for),
                self.away_reason(covering_for, occurrence.due),
                self.is(assignment.person)
            ),
            AssignmentReason::RoleFallback { role, .. } => {
                let covering = if assignment.person == self.me {
                    format!("you are covering as {role}")
                } else {
                    format!(
                        "{} ({role}) is covering",
                        self.org.person_name(assignment.person)
                    )
                };
                format!("{}, {covering}", self.owners_away())
            }
            AssignmentReason::OwnerUnavailable => format!(
                "owner {} is away and nobody is available to cover",
                self.org.person_name(assignment.person)
            ),
        };
        let ack = match &level.acknowledgement {
            Some(ack) if ack.by == self.me => {
                format!("; you acknowledged at {}", self.time(ack.at))
            }
            Some(ack) => format!(
                "; {} acknowledged at {}",
                self.org.person_name(ack.by),
                self.time(ack.at)
            ),
            None => String::new(),
        };
        format!(
            "{} {} — {who}; escalated to you at {} (level {}){ack}.",
            self.subject(),
            self.state(occurrence, status),
            self.time(level.fires_at),
            level.level
        )
    }

    /// "owner Maria Lopez and backup Sam Reed are away" (or without a backup).
    fn owners_away(&self) -> String {
        let owner = self.org.person_name(self.routine.owner);
        match self.routine.backup {
            Some(b) if b != self.routine.owner => format!(
                "owner {owner} and backup {} are away",
                self.org.person_name(b)
            ),
            _ => format!("owner {owner} is away and has no backup"),
        }
    }

    /// " (annual leave)" when the absence covering `at` gives a reason.
    fn away_reason(&self, person: PersonId, at: DateTime<Utc>) -> String {
        absence_at(self.org, person, at)
            .and_then(|a| a.reason.as_deref())
            .filter(|r| !r.trim().is_empty())
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    }

    /// A repeat-failure item for a lead.
    pub(crate) fn repeat_failure(&self, raised: &RaisedAlert) -> String {
        let rule = self.routine.repeat_failure;
        let missed: Vec<String> = raised.missed_due.iter().map(|d| self.time(*d)).collect();
        let end = match raised.alert.streak_ended_at {
            Some(at) => format!("; back on track since {}", self.time(at)),
            None => String::new(),
        };
        format!(
            "{} was missed {} of the last {} times ({}); owner {}{end}.",
            self.subject(),
            rule.missed,
            rule.of_last,
            missed.join(", "),
            self.org.person_name(self.routine.owner)
        )
    }
}

/// A time in the site's zone: "07:00" on the same local day as `now`, else with the date
/// ("Mon 9 Mar 07:00"), and the year when it differs.
pub fn local_time(tz: Tz, at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let local = at.with_timezone(&tz);
    let today = now.with_timezone(&tz);
    if local.date_naive() == today.date_naive() {
        local.format("%H:%M").to_string()
    } else if local.year() == today.year() {
        local.format("%a %-d %b %H:%M").to_string()
    } else {
        local.format("%a %-d %b %Y %H:%M").to_string()
    }
}

/// "20 min", "1 h 5 min", "2 h", "1 d 3 h"; "less than 1 min" below a minute.
pub fn duration_text(d: Duration) -> String {
    let minutes = d.num_minutes();
    if minutes < 1 {
        return "less than 1 min".to_string();
    }
    let (days, hours, mins) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    match (days, hours, mins) {
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}
