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

use chrono::{DateTime, Utc};
use proofline_core::attention::duration_text;
use proofline_core::ids::uuid_v5;
use proofline_core::model::{Org, PersonId};
use proofline_core::notify::{Notice, NoticeKind};
use rustc_hash::FxHashMap;

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

/// The rounds one tick found due and not yet told, gathered per person in the order found.
#[derive(Debug, Default)]
pub(super) struct Gathered {
    people: Vec<(PersonId, Vec<Notice>)>,
    index: FxHashMap<PersonId, usize>,
}

impl Gathered {
    /// Adds a round.
    pub(super) fn add(&mut self, notice: Notice) {
        let at = *self.index.entry(notice.recipient).or_insert_with(|| {
            self.people.push((notice.recipient, Vec::new()));
            self.people.len() - 1
        });
        if let Some((_, rounds)) = self.people.get_mut(at) {
            rounds.push(notice);
        }
    }

    /// One reminder per person (see [`reminder`]), with the mark it moves them to.
    pub(super) fn into_reminders(self, org: &Org, now: DateTime<Utc>) -> Vec<(Notice, Reminded)> {
        self.people
            .into_iter()
            .filter_map(|(person, rounds)| {
                let through = rounds.iter().map(|n| n.due_at).max()?;
                Some((
                    reminder(org, person, rounds, through, now)?,
                    Reminded { person, through },
                ))
            })
            .collect()
    }
}

/// The reminder telling `person` of `rounds` (due at or before `through`): the round
/// itself when there is one; otherwise a digest. A digest stands in for the oldest round
/// (its level, check and site, so a tap opens that check), is named
/// `UUIDv5(person, "reminders:through:{through µs}")` (a mark only moves forward, so a
/// digest is never named twice) and collapses per person on the phone: a newer digest
/// replaces the older one. `None` for no rounds.
fn reminder(
    org: &Org,
    person: PersonId,
    mut rounds: Vec<Notice>,
    through: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<Notice> {
    if rounds.len() <= 1 {
        return rounds.pop();
    }
    // Oldest alert first; one line per check (a person can be in two of its levels).
    rounds.sort_by_key(|n| (fired_at(n), n.id));
    let mut checks: Vec<&Notice> = Vec::with_capacity(rounds.len());
    for notice in &rounds {
        if !checks.iter().any(|c| c.occurrence == notice.occurrence) {
            checks.push(notice);
        }
    }
    let oldest = checks.first()?;
    let named: Vec<String> = checks
        .iter()
        .take(NAMED_IN_DIGEST)
        .map(|n| {
            format!(
                "{}, alerted {} ago",
                n.title,
                duration_text(now - fired_at(n))
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
    let title = match org.site(site) {
        Some(s) if one_site => format!("{} checks still waiting ({})", checks.len(), s.name),
        _ => format!("{} checks still waiting", checks.len()),
    };
    let body = format!("Not done and not acknowledged: {}{rest}.", named.join("; "));
    Some(Notice {
        id: uuid_v5(
            &person.0,
            format!("reminders:through:{}", through.timestamp_micros()).as_bytes(),
        ),
        kind: oldest.kind,
        recipient: person,
        site,
        routine: oldest.routine,
        occurrence: oldest.occurrence,
        due_at: through,
        collapse_key: format!("reminders-{}", person.0),
        title,
        body,
    })
}

/// When the level a notice is about fired (a repeat failure: when it became due).
fn fired_at(notice: &Notice) -> DateTime<Utc> {
    match notice.kind {
        NoticeKind::Escalation { fired_at, .. } => fired_at,
        NoticeKind::RepeatFailure { .. } => notice.due_at,
    }
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
        gathered.add(only.clone());
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
            gathered.add(r.clone());
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
