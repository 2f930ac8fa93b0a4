//! Builders for scenario tests: Harbor Kitchen, a site in America/New_York, its people and
//! its fridge check, plus events scripted in the site's local time.

#![allow(dead_code)]

use chrono::{DateTime, NaiveDateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use proofline_core::model::{
    Absence, Acknowledgement, Cadence, ClosedDayPolicy, Completion, EscalationId, EscalationLevel,
    EventId, Excuse, History, OccurrenceId, Org, Person, PersonId, Recipient, RepeatFailureRule,
    Role, Routine, RoutineId, Site, SiteId, SiteRole, Step, StepAnswer, StepKind, StepResult,
    Window,
};
use proofline_core::occurrence::{Occurrence, occurrence_id};
use proofline_core::zone::local_to_instant;
use uuid::Uuid;

/// The zone of Harbor Kitchen.
pub const NEW_YORK: Tz = chrono_tz::America::New_York;

/// Harbor Kitchen with its people and routines.
pub struct Harbor {
    pub org: Org,
    pub site: SiteId,
    /// Maria Lopez, staff, owns the fridge check.
    pub maria: PersonId,
    /// Sam Reed, staff, backs Maria up.
    pub sam: PersonId,
    /// Ana Diaz, supervisor (first in the list).
    pub ana: PersonId,
    /// Ben Cho, supervisor.
    pub ben: PersonId,
    /// Lee Park, site lead.
    pub lee: PersonId,
    /// Fridge temperatures, daily at 07:00 from Mon 9 Mar 2026.
    pub fridge: RoutineId,
}

pub fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// A local wall-clock time "YYYY-MM-DD HH:MM" in `tz`, as an instant.
pub fn local_in(tz: Tz, s: &str) -> DateTime<Utc> {
    local_to_instant(tz, naive(s))
}

/// A New York wall-clock time "YYYY-MM-DD HH:MM", as an instant.
pub fn ny(s: &str) -> DateTime<Utc> {
    local_in(NEW_YORK, s)
}

pub fn naive(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("test time")
}

pub fn person(n: u128, key: &str, name: &str, roles: &[(SiteId, Role)]) -> Person {
    Person {
        id: PersonId(id(n)),
        key: key.into(),
        name: name.into(),
        roles: roles
            .iter()
            .map(|&(site, role)| SiteRole { site, role })
            .collect(),
    }
}

/// A site open every day.
pub fn site(n: u128, key: &str, name: &str, tz: Tz) -> Site {
    Site {
        id: SiteId(id(n)),
        key: key.into(),
        name: name.into(),
        time_zone: tz,
        closed_weekdays: vec![],
        holidays: vec![],
    }
}

/// A daily routine with one tick step at local `hh:mm` from `start_date`, default window
/// (opens 30 min before, 15 min grace, closes 2 h after), no escalation.
pub fn daily(
    n: u128,
    site: SiteId,
    key: &str,
    title: &str,
    owner: PersonId,
    start: &str,
) -> Routine {
    let start = naive(start);
    let rrule = format!(
        "FREQ=DAILY;BYHOUR={};BYMINUTE={}",
        start.format("%-H"),
        start.format("%-M")
    );
    Routine {
        id: RoutineId(id(n)),
        key: key.into(),
        version: 1,
        site,
        title: title.into(),
        instructions: String::new(),
        steps: vec![Step {
            key: "done".into(),
            title: "Done".into(),
            required: true,
            kind: StepKind::Check,
        }],
        cadence: Cadence::Rule {
            rrule,
            start,
            exdates: vec![],
        },
        closed_days: ClosedDayPolicy::RunAnyway,
        window: Window::default(),
        owner,
        backup: None,
        fallback_role: Role::Supervisor,
        escalation: vec![],
        repeat_failure: RepeatFailureRule::default(),
    }
}

/// The fridge check's steps: a walk-in reading 1–5 °C and a tick.
pub fn fridge_steps() -> Vec<Step> {
    vec![
        Step {
            key: "walk-in".into(),
            title: "Walk-in fridge".into(),
            required: true,
            kind: StepKind::Reading {
                unit: "°C".into(),
                min: Some(1.0),
                max: Some(5.0),
            },
        },
        Step {
            key: "seals".into(),
            title: "Door seals clean".into(),
            required: true,
            kind: StepKind::Check,
        },
    ]
}

/// Harbor Kitchen, New York. Fridge temperatures: daily 07:00 from Mon 9 Mar 2026, owner
/// Maria, backup Sam, fallback supervisor; level 1 after 20 min to the assignee and the
/// supervisors (re-notify every 10 min), level 2 after 60 min to the lead; 2 of 5.
pub fn harbor() -> Harbor {
    let s = site(0x51, "harbor", "Harbor Kitchen", NEW_YORK);
    let site = s.id;
    let people = vec![
        person(0x101, "maria", "Maria Lopez", &[(site, Role::Staff)]),
        person(0x102, "sam", "Sam Reed", &[(site, Role::Staff)]),
        person(0x103, "ana", "Ana Diaz", &[(site, Role::Supervisor)]),
        person(0x104, "ben", "Ben Cho", &[(site, Role::Supervisor)]),
        person(0x105, "lee", "Lee Park", &[(site, Role::Lead)]),
    ];
    let (maria, sam, ana, ben, lee) = (
        people[0].id,
        people[1].id,
        people[2].id,
        people[3].id,
        people[4].id,
    );
    let mut fridge = daily(
        0xF1,
        site,
        "fridge-temps",
        "Fridge temperatures",
        maria,
        "2026-03-09 07:00",
    );
    fridge.steps = fridge_steps();
    fridge.backup = Some(sam);
    fridge.escalation = vec![
        EscalationLevel {
            after_min: 20,
            notify: vec![Recipient::Assignee, Recipient::Role(Role::Supervisor)],
            renotify_every_min: Some(10),
        },
        EscalationLevel {
            after_min: 60,
            notify: vec![Recipient::Role(Role::Lead)],
            renotify_every_min: None,
        },
    ];
    let fridge_id = fridge.id;
    Harbor {
        org: Org {
            name: "Harbor Group".into(),
            sites: vec![s],
            people,
            routines: vec![fridge],
            absences: vec![],
            index: Default::default(),
        },
        site,
        maria,
        sam,
        ana,
        ben,
        lee,
        fridge: fridge_id,
    }
}

impl Harbor {
    pub fn routine(&self, id: RoutineId) -> &Routine {
        self.org.routine(id).expect("routine of the fixture")
    }

    pub fn routine_mut(&mut self, id: RoutineId) -> &mut Routine {
        self.org
            .routines
            .iter_mut()
            .find(|r| r.id == id)
            .expect("routine of the fixture")
    }

    /// The occurrence of `routine` due at New York local `due`.
    pub fn occ(&self, routine: RoutineId, due: &str) -> Occurrence {
        Occurrence::new(self.routine(routine), ny(due))
    }

    /// Records an absence between two New York local times.
    pub fn away(&mut self, person: PersonId, from: &str, until: &str, reason: Option<&str>) {
        self.org.absences.push(Absence {
            person,
            from: ny(from),
            until: ny(until),
            reason: reason.map(Into::into),
        });
    }
}

/// Results that pass the fridge check: 3.5 °C, seals ticked.
pub fn fridge_ok() -> Vec<StepResult> {
    vec![
        StepResult {
            step: "walk-in".into(),
            answer: StepAnswer::Reading {
                value: 3.5,
                corrective_action: None,
            },
        },
        StepResult {
            step: "seals".into(),
            answer: StepAnswer::Checked,
        },
    ]
}

/// Results for a one-tick routine ([`daily`]).
pub fn ticked() -> Vec<StepResult> {
    vec![StepResult {
        step: "done".into(),
        answer: StepAnswer::Checked,
    }]
}

fn event_id(kind: &str, occurrence: OccurrenceId, at: DateTime<Utc>, by: PersonId) -> EventId {
    EventId(Uuid::new_v5(
        &Uuid::nil(),
        format!("{kind}:{occurrence}:{at}:{by}").as_bytes(),
    ))
}

/// A completion of `routine`'s occurrence due at `due`, made at `at` (New York local).
pub fn completion(
    routine: &Routine,
    due: &str,
    at: &str,
    by: PersonId,
    results: Vec<StepResult>,
) -> Completion {
    completion_at(routine, ny(due), ny(at), by, results)
}

/// A completion at instants.
pub fn completion_at(
    routine: &Routine,
    due: DateTime<Utc>,
    at: DateTime<Utc>,
    by: PersonId,
    results: Vec<StepResult>,
) -> Completion {
    let occurrence = occurrence_id(routine.id, due);
    Completion {
        id: event_id("completion", occurrence, at, by),
        occurrence,
        due,
        routine: routine.id,
        routine_version: routine.version,
        by,
        at,
        results,
        note: None,
    }
}

/// An excuse of `routine`'s occurrence due at `due`, made at `at` (New York local).
pub fn excuse(routine: &Routine, due: &str, at: &str, by: PersonId, reason: &str) -> Excuse {
    let due = ny(due);
    let occurrence = occurrence_id(routine.id, due);
    let at = ny(at);
    Excuse {
        id: event_id("excuse", occurrence, at, by),
        occurrence,
        routine: routine.id,
        due,
        by,
        at,
        reason: reason.into(),
    }
}

/// An acknowledgement of escalation `escalation`, made at `at` (New York local).
pub fn ack(escalation: EscalationId, at: &str, by: PersonId) -> Acknowledgement {
    let at = ny(at);
    Acknowledgement {
        id: EventId(Uuid::new_v5(
            &Uuid::nil(),
            format!("ack:{escalation}:{at}:{by}").as_bytes(),
        )),
        escalation,
        by,
        at,
    }
}

/// A history of completions only.
pub fn completions(completions: Vec<Completion>) -> History {
    History {
        completions,
        ..History::default()
    }
}

/// Local time of day.
pub fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("time of day")
}

/// Harbor Kitchen on a scripted shift: the fridge check of [`harbor`] plus five more daily
/// checks from Mon 9 Mar 2026. Maria is away Mon 9 Mar 12:00–15:00 (dentist), so Sam
/// covers her hot-holding check that day.
pub struct Shift {
    pub h: Harbor,
    /// Opening checklist, daily 06:30, owner Maria, backup Sam.
    pub opening: RoutineId,
    /// Handwash stations, daily 11:00, owner Sam, backup Maria.
    pub handwash: RoutineId,
    /// Hot holding, daily 14:00, owner Maria, backup Sam; level 1 after 30 min to the
    /// supervisors.
    pub hot: RoutineId,
    /// Delivery log, daily 16:00, owner Maria, backup Sam.
    pub delivery: RoutineId,
    /// Closing checklist, daily 23:00, owner Sam, backup Maria.
    pub closing: RoutineId,
}

/// See [`Shift`].
pub fn harbor_shift() -> Shift {
    let mut h = harbor();
    let (site, maria, sam) = (h.site, h.maria, h.sam);
    let with_backup = |mut r: Routine, backup: PersonId| {
        r.backup = Some(backup);
        r
    };
    let opening = with_backup(
        daily(
            0xC1,
            site,
            "opening",
            "Opening checklist",
            maria,
            "2026-03-09 06:30",
        ),
        sam,
    );
    let handwash = with_backup(
        daily(
            0xC2,
            site,
            "handwash",
            "Handwash stations",
            sam,
            "2026-03-09 11:00",
        ),
        maria,
    );
    let mut hot = with_backup(
        daily(
            0xC3,
            site,
            "hot-holding",
            "Hot holding",
            maria,
            "2026-03-09 14:00",
        ),
        sam,
    );
    hot.escalation = vec![EscalationLevel {
        after_min: 30,
        notify: vec![Recipient::Role(Role::Supervisor)],
        renotify_every_min: None,
    }];
    let delivery = with_backup(
        daily(
            0xC4,
            site,
            "delivery",
            "Delivery log",
            maria,
            "2026-03-09 16:00",
        ),
        sam,
    );
    let closing = with_backup(
        daily(
            0xC5,
            site,
            "closing",
            "Closing checklist",
            sam,
            "2026-03-09 23:00",
        ),
        maria,
    );
    let ids = (opening.id, handwash.id, hot.id, delivery.id, closing.id);
    h.org
        .routines
        .extend([opening, handwash, hot, delivery, closing]);
    h.away(
        maria,
        "2026-03-09 12:00",
        "2026-03-09 15:00",
        Some("dentist"),
    );
    Shift {
        h,
        opening: ids.0,
        handwash: ids.1,
        hot: ids.2,
        delivery: ids.3,
        closing: ids.4,
    }
}

impl Shift {
    /// The routine with this id.
    pub fn routine(&self, id: RoutineId) -> &Routine {
        self.h.routine(id)
    }

    /// What happened on Mon 9 Mar (New York):
    /// - 06:40 Maria completes the opening checklist (on time);
    /// - 07:40 Maria completes the fridge check (late: 40 min after due);
    /// - 11:05 Sam completes the handwash stations (on time);
    /// - 14:30 Ana excuses hot holding (Sam covering for Maria): "Hot line down for repair";
    /// - nobody does the delivery log due 16:00 (missed at 18:00);
    /// - 23:50 Sam completes the closing checklist (late: 50 min after due).
    pub fn monday(&self) -> History {
        let h = &self.h;
        let done = |r: RoutineId, due: &str, at: &str, by: PersonId| {
            let routine = self.routine(r);
            let results = if r == h.fridge { fridge_ok() } else { ticked() };
            completion(routine, due, at, by, results)
        };
        History {
            completions: vec![
                done(
                    self.opening,
                    "2026-03-09 06:30",
                    "2026-03-09 06:40",
                    h.maria,
                ),
                done(h.fridge, "2026-03-09 07:00", "2026-03-09 07:40", h.maria),
                done(self.handwash, "2026-03-09 11:00", "2026-03-09 11:05", h.sam),
                done(self.closing, "2026-03-09 23:00", "2026-03-09 23:50", h.sam),
            ],
            excuses: vec![excuse(
                self.routine(self.hot),
                "2026-03-09 14:00",
                "2026-03-09 14:30",
                h.ana,
                "Hot line down for repair",
            )],
            acknowledgements: vec![],
        }
    }

    /// Adds Shibuya Store (Asia/Tokyo), where Sam is also staff, with its register count
    /// daily 09:00 Tokyo time from Mon 9 Mar 2026 owned by Sam. Returns its routine id.
    pub fn add_tokyo_store(&mut self) -> RoutineId {
        let store = site(0x52, "shibuya", "Shibuya Store", chrono_tz::Asia::Tokyo);
        let store_id = store.id;
        self.h.org.sites.push(store);
        let sam = self.h.sam;
        if let Some(p) = self.h.org.people.iter_mut().find(|p| p.id == sam) {
            p.roles.push(SiteRole {
                site: store_id,
                role: Role::Staff,
            });
        }
        let register = daily(
            0xD1,
            store_id,
            "register",
            "Register count",
            sam,
            "2026-03-09 09:00",
        );
        let id = register.id;
        self.h.org.routines.push(register);
        id
    }
}
