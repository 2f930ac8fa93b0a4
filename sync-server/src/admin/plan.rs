//! Planning definitions: what the server's own chain must write so every site's devices
//! learn what an import (or an admin edit) changes, and nothing more. Importing the same
//! file twice plans nothing.
//!
//! Where each definition is filed (which site's devices pull it): a site under itself;
//! the org's name once under every site; a person under every site they hold a role at
//! (and every site that had their earlier definition, so a removed role is seen there
//! too); a routine under its site; an absence under every site of the absent person.
//!
//! Pure: works on a copy of the org state, applying each planned definition so later
//! steps see earlier ones.

use proofline_core::model::{Absence, Org, Person, Routine, Site, SiteId};
use proofline_core::store::EventPayload;

use crate::org::OrgState;

/// Plans definitions against a working copy of the org.
#[derive(Debug)]
pub struct Planner {
    working: OrgState,
    planned: Vec<(SiteId, EventPayload)>,
}

impl Planner {
    /// A planner starting from `state`.
    pub fn new(state: &OrgState) -> Planner {
        Planner {
            working: state.clone(),
            planned: Vec::new(),
        }
    }

    /// The org as it will be once the plan is written.
    pub fn working(&self) -> &OrgState {
        &self.working
    }

    /// The definitions to write, in order.
    pub fn finish(self) -> Vec<(SiteId, EventPayload)> {
        self.planned
    }

    fn write(&mut self, site: SiteId, payload: EventPayload) {
        self.working.apply(site, &payload);
        self.planned.push((site, payload));
    }

    /// Everything a routines file defines.
    pub fn import(&mut self, file: &Org) {
        for site in &file.sites {
            self.site(site);
        }
        self.org_name(&file.name);
        for person in &file.people {
            self.person(person);
        }
        for routine in &file.routines {
            self.routine(routine);
        }
        for absence in &file.absences {
            self.absence(absence);
        }
    }

    /// A site, new or changed; a new site also gets the org's name.
    pub fn site(&mut self, site: &Site) {
        if self.working.org().site(site.id) != Some(site) {
            self.write(site.id, EventPayload::SiteDefined(site.clone()));
        }
        let name = self.working.org().name.clone();
        if !name.is_empty() && self.working.org_name_at(site.id) != Some(name.as_str()) {
            self.write(site.id, EventPayload::OrgNamed { name });
        }
    }

    /// The org's name, under every site that does not have it yet.
    pub fn org_name(&mut self, name: &str) {
        if name.is_empty() {
            return;
        }
        let sites: Vec<SiteId> = self.working.org().sites.iter().map(|s| s.id).collect();
        for site in sites {
            if self.working.org_name_at(site) != Some(name) {
                self.write(
                    site,
                    EventPayload::OrgNamed {
                        name: name.to_string(),
                    },
                );
            }
        }
    }

    /// A person, under each of their sites whose definition differs.
    pub fn person(&mut self, person: &Person) {
        let mut sites: Vec<SiteId> = person.roles.iter().map(|r| r.site).collect();
        for site in self.working.sites_defining(person.id) {
            if !sites.contains(&site) {
                sites.push(site);
            }
        }
        for site in sites {
            if self.working.person_at(person.id, site) != Some(person) {
                self.write(site, EventPayload::PersonDefined(person.clone()));
            }
        }
    }

    /// A routine: new at the version given, or, when changed, at the next version.
    pub fn routine(&mut self, routine: &Routine) {
        let Some(latest) = self.working.latest_version(routine.id) else {
            let mut new = routine.clone();
            new.version = new.version.max(1);
            self.write(new.site, EventPayload::RoutineDefined(new));
            return;
        };
        let unchanged = self
            .working
            .version(routine.id, latest)
            .is_some_and(|current| same_apart_from_version(&current.routine, routine));
        if unchanged {
            return;
        }
        let mut edited = routine.clone();
        edited.version = routine.version.max(latest.saturating_add(1));
        self.write(edited.site, EventPayload::RoutineDefined(edited));
    }

    /// An absence, under every site of the absent person that lacks it.
    pub fn absence(&mut self, absence: &Absence) {
        for site in self.working.sites_of(absence.person) {
            if !self.working.has_absence_at(site, absence) {
                self.write(site, EventPayload::AbsenceRecorded(absence.clone()));
            }
        }
    }
}

fn same_apart_from_version(a: &Routine, b: &Routine) -> bool {
    let mut b = b.clone();
    b.version = a.version;
    *a == b
}

#[cfg(test)]
mod tests {
    use super::*;
    use proofline_core::routines_file::parse_routines_file;

    const FILE: &str = include_str!("../../../examples/restaurant.toml");

    fn applied(state: &OrgState, plan: &[(SiteId, EventPayload)]) -> OrgState {
        let mut state = state.clone();
        for (site, payload) in plan {
            state.apply(*site, payload);
        }
        state
    }

    #[test]
    fn importing_the_same_file_twice_plans_nothing_the_second_time() {
        let file = parse_routines_file("restaurant.toml", FILE).expect("example parses");
        let mut first = Planner::new(&OrgState::default());
        first.import(&file);
        let plan = first.finish();
        let kinds: Vec<&str> = plan.iter().map(|(_, p)| p.kind()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "site_defined").count(), 1);
        assert_eq!(kinds.iter().filter(|k| **k == "org_named").count(), 1);
        assert_eq!(
            kinds.iter().filter(|k| **k == "person_defined").count(),
            file.people.len()
        );
        assert_eq!(
            kinds.iter().filter(|k| **k == "routine_defined").count(),
            file.routines.len()
        );
        let state = applied(&OrgState::default(), &plan);
        assert_eq!(state.org().name, file.name);
        let mut second = Planner::new(&state);
        second.import(&file);
        assert!(second.finish().is_empty());
    }

    #[test]
    fn a_changed_routine_gets_the_next_version() {
        let file = parse_routines_file("restaurant.toml", FILE).expect("example parses");
        let mut first = Planner::new(&OrgState::default());
        first.import(&file);
        let state = applied(&OrgState::default(), &first.finish());
        let mut edited = file.clone();
        edited.routines[0].title = "Opening checks (new)".into();
        let mut second = Planner::new(&state);
        second.import(&edited);
        let plan = second.finish();
        assert_eq!(plan.len(), 1);
        match &plan[0].1 {
            EventPayload::RoutineDefined(r) => {
                assert_eq!(r.version, 2);
                assert_eq!(r.title, "Opening checks (new)");
            }
            other => panic!("expected a routine, got {}", other.kind()),
        }
    }
}
