//! The org as the server knows it: folded from every accepted definition event, in
//! server order, exactly as devices fold what they pull (`apply_definition`). Also keeps
//! what devices do not need but the server does: every version of every routine (a
//! completion names the version it was made against) with its cadence compiled once, and
//! which definitions each site has received (so an import writes only what is new).
//!
//! Plain data, no I/O: the state is rebuilt at start and replaced, never edited in place,
//! when definitions are accepted (readers hold an `Arc` to a consistent snapshot).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, Duration, Utc};
use proofline_core::cadence::CompiledCadence;
use proofline_core::model::{
    Absence, Cadence, Org, Person, PersonId, Role, Routine, RoutineId, Site, SiteId,
};
use proofline_core::store::{Event, EventPayload, apply_definition};
use uuid::Uuid;

/// UTC days of due instants a routine version keeps expanded (a push of a week's work
/// touches a few of them).
const CACHED_DAYS: usize = 16;
/// A day with more due instants than this is not kept (checked one instant at a time).
const MAX_CACHED_DUES: usize = 4096;
/// Seconds in a day.
const DAY: i64 = 86_400;

/// One version of a routine, with its cadence compiled on first use and the due instants
/// of the UTC days last asked about.
#[derive(Debug)]
pub struct RoutineVersion {
    /// The routine as defined at this version.
    pub routine: Routine,
    cadence: OnceLock<Result<CompiledCadence, String>>,
    /// `(day number, its due instants in Unix seconds, sorted)`, most recent last.
    days: Mutex<Vec<(i64, Arc<[i64]>)>>,
}

impl RoutineVersion {
    fn new(routine: Routine) -> RoutineVersion {
        RoutineVersion {
            routine,
            cadence: OnceLock::new(),
            days: Mutex::new(Vec::new()),
        }
    }

    /// Whether `due` is an occurrence of this version's cadence at `site`: whether a rule
    /// cadence yields exactly that instant. The cadence is expanded over the whole UTC day
    /// of `due` once, and the day kept, so checking a batch of completions costs one
    /// expansion per routine and day rather than one per completion. An after-completion
    /// cadence depends on the completions before it, so any due instant is accepted there
    /// (the occurrence id still has to match). `Err` says why the cadence cannot be
    /// expanded.
    pub fn is_occurrence(&self, site: &Site, due: DateTime<Utc>) -> Result<bool, String> {
        if matches!(self.routine.cadence, Cadence::AfterCompletion { .. }) {
            return Ok(true);
        }
        let compiled = self
            .cadence
            .get_or_init(|| CompiledCadence::new(&self.routine, site).map_err(|e| e.to_string()));
        let cadence = compiled.as_ref().map_err(Clone::clone)?;
        let Some(until) = due.checked_add_signed(Duration::seconds(1)) else {
            return Ok(false);
        };
        // Expansions yield whole seconds.
        if due.timestamp_subsec_nanos() != 0 {
            return Ok(false);
        }
        let secs = due.timestamp();
        let day = secs.div_euclid(DAY);
        let mut days = self.days.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, dues)) = days.iter().find(|(d, _)| *d == day) {
            return Ok(dues.binary_search(&secs).is_ok());
        }
        let whole_day = DateTime::from_timestamp(day * DAY, 0)
            .zip(DateTime::from_timestamp((day + 1) * DAY, 0));
        let Some((from, to)) = whole_day else {
            return Ok(cadence.due_times(due, until, due, &|_| None).contains(&due));
        };
        let dues: Arc<[i64]> = cadence
            .due_times(from, to, from, &|_| None)
            .iter()
            .map(DateTime::timestamp)
            .collect();
        let found = dues.binary_search(&secs).is_ok();
        if dues.len() <= MAX_CACHED_DUES {
            if days.len() >= CACHED_DAYS {
                days.remove(0);
            }
            days.push((day, dues));
        }
        Ok(found)
    }
}

/// The org and what the server tracks about its definitions.
#[derive(Debug, Clone, Default)]
pub struct OrgState {
    org: Org,
    versions: HashMap<RoutineId, BTreeMap<u32, Arc<RoutineVersion>>>,
    org_name_at: HashMap<SiteId, String>,
    person_at: HashMap<(PersonId, SiteId), Person>,
    absences_at: Vec<(SiteId, Absence)>,
}

impl OrgState {
    /// The state after `definitions`, in server order.
    pub fn from_definitions<'a>(definitions: impl IntoIterator<Item = &'a Event>) -> OrgState {
        let mut state = OrgState::default();
        for event in definitions {
            state.apply(event.site, &event.payload);
        }
        state
    }

    /// Folds one accepted event filed under `site` (work events change nothing).
    pub fn apply(&mut self, site: SiteId, payload: &EventPayload) {
        apply_definition(&mut self.org, payload);
        match payload {
            EventPayload::OrgNamed { name } => {
                self.org_name_at.insert(site, name.clone());
            }
            EventPayload::SiteDefined(defined) => {
                // The zone or calendar may have changed: recompile that site's cadences.
                for versions in self.versions.values_mut() {
                    for version in versions.values_mut() {
                        if version.routine.site == defined.id {
                            *version = Arc::new(RoutineVersion::new(version.routine.clone()));
                        }
                    }
                }
            }
            EventPayload::PersonDefined(person) => {
                self.person_at.insert((person.id, site), person.clone());
            }
            EventPayload::RoutineDefined(routine) => {
                self.versions.entry(routine.id).or_default().insert(
                    routine.version,
                    Arc::new(RoutineVersion::new(routine.clone())),
                );
            }
            EventPayload::AbsenceRecorded(absence) => {
                if !self.has_absence_at(site, absence) {
                    self.absences_at.push((site, absence.clone()));
                }
            }
            EventPayload::Completed(_)
            | EventPayload::Excused(_)
            | EventPayload::Acknowledged(_)
            | EventPayload::EscalationFired(_) => {}
        }
    }

    /// The org (current versions of everything).
    pub fn org(&self) -> &Org {
        &self.org
    }

    /// A version of a routine.
    pub fn version(&self, routine: RoutineId, version: u32) -> Option<&Arc<RoutineVersion>> {
        self.versions.get(&routine)?.get(&version)
    }

    /// Every version of a routine, oldest first.
    pub fn versions(&self, routine: RoutineId) -> impl Iterator<Item = &Arc<RoutineVersion>> {
        self.versions
            .get(&routine)
            .into_iter()
            .flat_map(|v| v.values())
    }

    /// The highest version of a routine defined so far.
    pub fn latest_version(&self, routine: RoutineId) -> Option<u32> {
        self.versions.get(&routine)?.keys().next_back().copied()
    }

    /// The site a reference names: its id (UUID) or its key.
    pub fn site_by_ref(&self, reference: &str) -> Option<&Site> {
        let reference = reference.trim();
        match Uuid::parse_str(reference) {
            Ok(id) => self.org.site(SiteId(id)),
            Err(_) => self.org.sites.iter().find(|s| s.key == reference),
        }
    }

    /// The person a reference names: their id (UUID) or their key.
    pub fn person_by_ref(&self, reference: &str) -> Option<&Person> {
        let reference = reference.trim();
        match Uuid::parse_str(reference) {
            Ok(id) => self.org.person(PersonId(id)),
            Err(_) => self.org.people.iter().find(|p| p.key == reference),
        }
    }

    /// The sites a person holds a role at.
    pub fn sites_of(&self, person: PersonId) -> Vec<SiteId> {
        self.org
            .person(person)
            .map(|p| p.roles.iter().map(|r| r.site).collect())
            .unwrap_or_default()
    }

    /// A person's role at a site.
    pub fn role_at(&self, person: PersonId, site: SiteId) -> Option<Role> {
        self.org.person(person)?.role_at(site)
    }

    /// A site's name, or its id when unknown.
    pub fn site_name(&self, site: SiteId) -> String {
        self.org
            .site(site)
            .map_or_else(|| format!("site {site}"), |s| s.name.clone())
    }

    /// The org name last filed under `site`.
    pub fn org_name_at(&self, site: SiteId) -> Option<&str> {
        self.org_name_at.get(&site).map(String::as_str)
    }

    /// The definition of `person` last filed under `site`.
    pub fn person_at(&self, person: PersonId, site: SiteId) -> Option<&Person> {
        self.person_at.get(&(person, site))
    }

    /// Every site a definition of `person` was filed under.
    pub fn sites_defining(&self, person: PersonId) -> Vec<SiteId> {
        let mut sites: Vec<SiteId> = self
            .person_at
            .keys()
            .filter(|(p, _)| *p == person)
            .map(|(_, s)| *s)
            .collect();
        sites.sort();
        sites
    }

    /// Whether this absence was filed under `site`.
    pub fn has_absence_at(&self, site: SiteId, absence: &Absence) -> bool {
        self.absences_at
            .iter()
            .any(|(s, a)| *s == site && a == absence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use proofline_core::model::{ClosedDayPolicy, RepeatFailureRule, Window};

    fn site() -> Site {
        Site {
            id: SiteId(Uuid::from_u128(1)),
            key: "harbor".into(),
            name: "Harbor Kitchen".into(),
            time_zone: chrono_tz::America::New_York,
            closed_weekdays: vec![],
            holidays: vec![],
        }
    }

    fn routine(version: u32, hour: u32) -> Routine {
        Routine {
            id: RoutineId(Uuid::from_u128(2)),
            key: "opening".into(),
            version,
            site: site().id,
            title: "Opening checks".into(),
            instructions: String::new(),
            steps: vec![],
            cadence: Cadence::Rule {
                rrule: format!("FREQ=DAILY;BYHOUR={hour};BYMINUTE=0"),
                start: NaiveDate::from_ymd_opt(2026, 1, 1)
                    .and_then(|d| d.and_hms_opt(hour, 0, 0))
                    .expect("start"),
                exdates: vec![],
            },
            closed_days: ClosedDayPolicy::Skip,
            window: Window::default(),
            owner: PersonId(Uuid::from_u128(3)),
            backup: None,
            fallback_role: Role::Supervisor,
            escalation: vec![],
            repeat_failure: RepeatFailureRule::default(),
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("instant")
            .with_timezone(&Utc)
    }

    #[test]
    fn every_version_stays_checkable_after_an_edit() {
        let mut state = OrgState::default();
        state.apply(site().id, &EventPayload::SiteDefined(site()));
        state.apply(site().id, &EventPayload::RoutineDefined(routine(1, 7)));
        state.apply(site().id, &EventPayload::RoutineDefined(routine(2, 8)));
        assert_eq!(state.latest_version(routine(1, 7).id), Some(2));
        assert_eq!(state.org().routines[0].version, 2);
        let v1 = state.version(routine(1, 7).id, 1).expect("v1");
        let v2 = state.version(routine(1, 7).id, 2).expect("v2");
        // 07:00 New York in January is 12:00 UTC.
        assert_eq!(
            v1.is_occurrence(&site(), at("2026-01-10T12:00:00Z")),
            Ok(true)
        );
        assert_eq!(
            v2.is_occurrence(&site(), at("2026-01-10T12:00:00Z")),
            Ok(false)
        );
        assert_eq!(
            v2.is_occurrence(&site(), at("2026-01-10T13:00:00Z")),
            Ok(true)
        );
        assert_eq!(
            v1.is_occurrence(&site(), at("2026-01-10T12:00:01Z")),
            Ok(false)
        );
    }

    /// The check before the day cache: expand `[due, due + 1 s)`.
    fn expanded_alone(version: &RoutineVersion, site: &Site, due: DateTime<Utc>) -> bool {
        let cadence = CompiledCadence::new(&version.routine, site).expect("cadence");
        cadence
            .due_times(due, due + Duration::seconds(1), due, &|_| None)
            .contains(&due)
    }

    #[test]
    fn the_day_cache_agrees_with_expanding_each_instant() {
        let mut closed = site();
        closed.closed_weekdays = vec![chrono::Weekday::Sun];
        let mut quarter_hourly = routine(1, 7);
        quarter_hourly.cadence = Cadence::Rule {
            rrule: "FREQ=MINUTELY;INTERVAL=15".into(),
            start: NaiveDate::from_ymd_opt(2026, 1, 1)
                .and_then(|d| d.and_hms_opt(0, 4, 0))
                .expect("start"),
            exdates: vec![],
        };
        // 02:30 does not exist in New York on 2026-03-08.
        let mut small_hours = routine(1, 2);
        small_hours.cadence = Cadence::Rule {
            rrule: "FREQ=DAILY;BYHOUR=2;BYMINUTE=30".into(),
            start: NaiveDate::from_ymd_opt(2026, 1, 1)
                .and_then(|d| d.and_hms_opt(2, 30, 0))
                .expect("start"),
            exdates: vec![],
        };
        let mut moved = routine(1, 23);
        moved.closed_days = ClosedDayPolicy::MoveLater;
        let cases = [
            (site(), routine(1, 7)),
            (site(), quarter_hourly),
            (site(), small_hours),
            (closed.clone(), routine(1, 7)),
            (closed, moved),
        ];
        let from = at("2026-03-01T00:00:00Z");
        for (site, routine) in cases {
            let version = RoutineVersion::new(routine);
            let mut instant = from;
            let mut hits = 0;
            while instant < from + Duration::days(14) {
                let cached = version.is_occurrence(&site, instant).expect("cadence");
                assert_eq!(
                    cached,
                    expanded_alone(&version, &site, instant),
                    "{} at {instant}",
                    version.routine.title
                );
                hits += usize::from(cached);
                instant += Duration::minutes(1);
            }
            assert!(hits > 0);
            let off = at("2026-03-02T12:00:00Z") + Duration::milliseconds(1);
            assert_eq!(version.is_occurrence(&site, off), Ok(false));
        }
    }

    #[test]
    fn references_are_ids_or_keys() {
        let mut state = OrgState::default();
        state.apply(site().id, &EventPayload::SiteDefined(site()));
        assert!(state.site_by_ref("harbor").is_some());
        assert!(state.site_by_ref(&site().id.to_string()).is_some());
        assert!(state.site_by_ref("bay").is_none());
    }
}
