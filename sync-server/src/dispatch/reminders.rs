//! Reminders: re-notification rounds, told to each person once per tick.
//!
//! A level that re-notifies reminds its recipients every few minutes until it is
//! acknowledged or the check is done (DESIGN.md). One reminder per check is right for a
//! person with one check waiting on them; a supervisor with fifty undone checks would get
//! fifty pushes at every round. So the rounds due to one person at one tick go out as one
//! reminder: the round itself when there is one, a digest naming the oldest few when there
//! are several. The webhook never hears of rounds (it hears of each level once).
//!
//! What was told is kept per person as a mark ([`Reminded`]): the due time of the latest
//! round told. A round due at or before a person's mark is not told again, after a second
//! tick or a restart alike; the marks are written in the tick's transaction, with the rows.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use proofline_core::attention::duration_text;
use proofline_core::ids::uuid_v5;
use proofline_core::model::{Org, PersonId, RoutineId, SiteId};
use proofline_core::notify::{Notice, NoticeKey, NoticeKind};
use rustc_hash::FxHashMap;
use uuid::Uuid;

use crate::storage::notifications::Reminded;

/// At most this many checks are named in a digest; the rest are counted.
const NAMED_IN_DIGEST: usize = 3;

/// Whether `kind` is a re-notification round (not a level's first firing, not a repeat
/// failure).
pub(super) fn is_round(kind: &NoticeKind) -> bool {
    matches!(kind, NoticeKind::Escalation { round, .. } if *round > 0)
}

/// Each person's mark: rounds due at or before it were told.
#[derive(Debug, Default)]
pub(super) struct Marks {
    through: FxHashMap<PersonId, DateTime<Utc>>,
}

impl Marks {
    /// From storage.
    pub(super) fn from_stored(marks: Vec<Reminded>) -> Marks {
        Marks {
            through: marks.into_iter().map(|m| (m.person, m.through)).collect(),
        }
    }

    /// Whether a round to `person` due at `due_at` was told already.
    pub(super) fn told(&self, person: PersonId, due_at: DateTime<Utc>) -> bool {
        self.through.get(&person).is_some_and(|&at| due_at <= at)
    }

    /// Records marks written out (moving each forward only).
    pub(super) fn advance(&mut self, written: &[Reminded]) {
        for mark in written {
            let at = self.through.entry(mark.person).or_insert(mark.through);
            *at = (*at).max(mark.through);
        }
    }
}

/// A re-notification round due and not yet told: with its words when the engine wrote
/// them (its level was new to the dispatcher, or it is its person's only round: see
/// [`Gathered::unworded_singles`]); otherwise only what a digest names of it. Most rounds
/// end in a digest, which reads no round's sentence.
#[derive(Debug, Clone)]
pub(super) struct Round {
    /// What it is and whom it goes to.
    pub(super) key: NoticeKey,
    /// The site.
    pub(super) site: SiteId,
    /// The routine.
    pub(super) routine: RoutineId,
    /// The check's title ("Fridge temperatures (Harbor Kitchen)", as the notice's; shared
    /// by a routine's rounds).
    pub(super) title: Arc<str>,
    /// The engine's notice, when worded.
    pub(super) notice: Option<Notice>,
}

impl Round {
    /// A round the engine worded.
    pub(super) fn worded(notice: Notice) -> Round {
        Round {
            key: NoticeKey {
                recipient: notice.recipient,
                kind: notice.kind,
                occurrence: notice.occurrence,
                due_at: notice.due_at,
            },
            site: notice.site,
            routine: notice.routine,
            title: Arc::from(notice.title.as_str()),
            notice: Some(notice),
        }
    }

    /// The notice's id.
    fn id(&self) -> Uuid {
        self.notice.as_ref().map_or_else(|| self.key.id(), |n| n.id)
    }

    /// When its level fired.
    fn fired_at(&self) -> DateTime<Utc> {
        match self.key.kind {
            NoticeKind::Escalation { fired_at, .. } => fired_at,
            NoticeKind::RepeatFailure { .. } => self.key.due_at,
        }
    }
}

/// The rounds one tick found due and not yet told, gathered per person in the order found.
#[derive(Debug, Default)]
pub(super) struct Gathered {
    people: Vec<(PersonId, Vec<Round>)>,
    index: FxHashMap<PersonId, usize>,
}

impl Gathered {
    /// Adds a round.
    pub(super) fn add(&mut self, round: Round) {
        let person = round.key.recipient;
        let at = *self.index.entry(person).or_insert_with(|| {
            self.people.push((person, Vec::new()));
            self.people.len() - 1
        });
        if let Some((_, rounds)) = self.people.get_mut(at) {
            rounds.push(round);
        }
    }

    /// The rounds that are their person's only one and have no words yet: told as they
    /// are, so the engine must word them ([`Gathered::word`]).
    pub(super) fn unworded_singles(&self) -> Vec<(RoutineId, NoticeKey)> {
        self.people
            .iter()
            .filter_map(|(_, rounds)| match rounds.as_slice() {
                [only] if only.notice.is_none() => Some((only.routine, only.key)),
                _ => None,
            })
            .collect()
    }

    /// Gives the round `notice` is its words.
    pub(super) fn word(&mut self, notice: Notice) {
        let Some(&at) = self.index.get(&notice.recipient) else {
            return;
        };
        if let Some((_, rounds)) = self.people.get_mut(at)
            && let Some(round) = rounds
                .iter_mut()
                .find(|r| r.key.kind == notice.kind && r.key.occurrence == notice.occurrence)
        {
            round.notice = Some(notice);
        }
    }

    /// One reminder per person (see [`reminder`]), with the mark it moves them to.
    pub(super) fn into_reminders(self, org: &Org, now: DateTime<Utc>) -> Vec<(Notice, Reminded)> {
        self.people
            .into_iter()
            .filter_map(|(person, rounds)| {
                let through = rounds.iter().map(|r| r.key.due_at).max()?;
                Some((
                    reminder(org, person, rounds, through, now)?,
                    Reminded { person, through },
                ))
            })
            .collect()
    }
}

/// The reminder telling `person` of `rounds` (due at or before `through`): the round
/// itself when there is one (worded); otherwise a digest. A digest stands in for the
/// oldest round (its level, check and site, so a tap opens that check), is named
/// `UUIDv5(person, "reminders:through:{through µs}")` (a mark only moves forward, so a
/// digest is never named twice) and collapses per person on the phone: a newer digest
/// replaces the older one. `None` for no rounds.
fn reminder(
    org: &Org,
    person: PersonId,
    mut rounds: Vec<Round>,
    through: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<Notice> {
    if let [only] = rounds.as_mut_slice()
        && let Some(notice) = only.notice.take()
    {
        return Some(notice);
    }
    // Oldest alert first (ids, SHA-1s, only to break a tie); one line per check (a person
    // can be in two of its levels).
    rounds.sort_by(|a, b| {
        a.fired_at()
            .cmp(&b.fired_at())
            .then_with(|| a.id().cmp(&b.id()))
    });
    let mut checks: Vec<&Round> = Vec::with_capacity(rounds.len());
    for round in &rounds {
        if !checks
            .iter()
            .any(|c| c.key.occurrence == round.key.occurrence)
        {
            checks.push(round);
        }
    }
    let oldest = checks.first()?;
    let named: Vec<String> = checks
        .iter()
        .take(NAMED_IN_DIGEST)
        .map(|r| {
            format!(
                "{}, alerted {} ago",
                r.title,
                duration_text(now - r.fired_at())
            )
        })
        .collect();
    let more = checks.len().saturating_sub(NAMED_IN_DIGEST);
    let rest = match more {
        0 => String::new(),
        1 => "; and 1 more".to_string(),
        n => format!("; and {n} more"),
    };
    let site = oldest.site;
    let one_site = checks.iter().all(|c| c.site == site);
    let waiting = match checks.len() {
        1 => "1 check still waiting".to_string(),
        n => format!("{n} checks still waiting"),
    };
    let title = match org.site(site) {
        Some(s) if one_site => format!("{waiting} ({})", s.name),
        _ => waiting,
    };
    let body = format!("Not done and not acknowledged: {}{rest}.", named.join("; "));
    Some(Notice {
        id: uuid_v5(
            &person.0,
            format!("reminders:through:{}", through.timestamp_micros()).as_bytes(),
        ),
        kind: oldest.key.kind,
        recipient: person,
        site,
        routine: oldest.routine,
        occurrence: oldest.key.occurrence,
        due_at: through,
        collapse_key: format!("reminders-{}", person.0),
        title,
        body,
    })
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use proofline_core::model::{EscalationId, OccurrenceId};
    use proofline_core::routines_file::{parse_routines_file, person_id, routine_id, site_id};
    use uuid::Uuid;

    use super::*;

    const ORG: &str = r#"
org = "Harbor Group"

[[sites]]
key = "harbor"
name = "Harbor Kitchen"
time_zone = "America/New_York"

[[sites]]
key = "bay"
name = "Bay Deli"
time_zone = "Europe/Berlin"

[[people]]
key = "dana"
name = "Dana Kim"
roles = { harbor = "lead", bay = "lead" }
"#;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-07T12:00:00Z")
            .expect("instant")
            .to_utc()
    }

    /// A round of level 2 of check `n` at `site`, fired `ago` minutes before now.
    fn round(n: u128, site: &str, title: &str, ago: i64) -> Notice {
        let occurrence = OccurrenceId(Uuid::from_u128(n));
        Notice {
            id: Uuid::from_u128(100 + n),
            kind: NoticeKind::Escalation {
                escalation: EscalationId(Uuid::from_u128(200 + n)),
                level: 2,
                round: 3,
                fired_at: now() - Duration::minutes(ago),
            },
            recipient: person_id("dana"),
            site: site_id(site),
            routine: routine_id(site, title),
            occurrence: Some(occurrence),
            due_at: now() - Duration::minutes(ago % 20),
            collapse_key: occurrence.to_string(),
            title: format!(
                "{title} ({})",
                if site == "bay" {
                    "Bay Deli"
                } else {
                    "Harbor Kitchen"
                }
            ),
            body: format!("{title} is overdue."),
        }
    }

    #[test]
    fn one_round_is_told_as_it_is() {
        let org = parse_routines_file("org.toml", ORG).expect("org");
        let mut gathered = Gathered::default();
        let only = round(1, "harbor", "Fridge temperatures", 95);
        gathered.add(Round::worded(only.clone()));
        let told = gathered.into_reminders(&org, now());
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].0, only);
        assert_eq!(told[0].1.through, only.due_at);
    }

    #[test]
    fn several_rounds_are_one_digest_naming_the_oldest_checks() {
        let org = parse_routines_file("org.toml", ORG).expect("org");
        let mut gathered = Gathered::default();
        let rounds = [
            round(1, "harbor", "Fridge temperatures", 95),
            round(2, "bay", "Line check", 250),
            round(3, "harbor", "Opening checks", 30),
            round(4, "harbor", "Cooling log", 61),
            round(5, "bay", "Slicer clean", 45),
        ];
        for r in &rounds {
            gathered.add(Round::worded(r.clone()));
        }
        let told = gathered.into_reminders(&org, now());
        assert_eq!(told.len(), 1, "one reminder for one person");
        let (digest, mark) = &told[0];
        assert_eq!(
            digest.title, "5 checks still waiting",
            "two sites: none named"
        );
        assert_eq!(
            digest.body,
            "Not done and not acknowledged: Line check (Bay Deli), alerted 4 h 10 min ago; \
             Fridge temperatures (Harbor Kitchen), alerted 1 h 35 min ago; \
             Cooling log (Harbor Kitchen), alerted 1 h 1 min ago; and 2 more."
        );
        // It stands in for the oldest, collapses per person and is due with the latest.
        assert_eq!(digest.kind, rounds[1].kind);
        assert_eq!(digest.occurrence, rounds[1].occurrence);
        assert_eq!(
            digest.collapse_key,
            format!("reminders-{}", person_id("dana").0)
        );
        let latest = rounds.iter().map(|r| r.due_at).max().expect("latest");
        assert_eq!((digest.due_at, mark.through), (latest, latest));
        assert!(rounds.iter().all(|r| r.id != digest.id));
    }

    #[test]
    fn a_mark_tells_what_was_told_and_only_moves_forward() {
        let dana = person_id("dana");
        let mut marks = Marks::default();
        assert!(!marks.told(dana, now()));
        marks.advance(&[Reminded {
            person: dana,
            through: now(),
        }]);
        marks.advance(&[Reminded {
            person: dana,
            through: now() - Duration::hours(1),
        }]);
        assert!(marks.told(dana, now()));
        assert!(!marks.told(dana, now() + Duration::seconds(1)));
    }
}
