//! The file's top level: the org's name, then its sites, people, absences and routines in that
//! order (each may refer only to what comes before), with keys checked for uniqueness.

use toml::Table;

use super::absences::build_absence;
use super::error::{Entity, Problem, Res, duplicate_key};
use super::fields::Fields;
use super::people::build_person;
use super::routines::build_routine;
use super::sites::build_site;
use crate::model::Org;

/// The org described by the file's top-level table.
pub(super) fn build_org(table: &Table) -> Res<Org> {
    let root = Fields::new(
        table,
        Entity::File,
        "",
        &["org", "sites", "people", "absences", "routines"],
    )?;
    let name = root.text("org")?;
    let mut org = Org {
        name,
        ..Org::default()
    };
    for (i, t) in root.tables("sites")?.into_iter().enumerate() {
        let site = build_site(t, i + 1)?;
        if org.sites.iter().any(|s| s.key == site.key) {
            return Err(duplicate_key(Entity::Site, site.key));
        }
        org.sites.push(site);
    }
    if org.sites.is_empty() {
        return Err(root.fault("sites", Problem::Empty));
    }
    for (i, t) in root.tables("people")?.into_iter().enumerate() {
        let person = build_person(t, i + 1, &org.sites)?;
        if org.people.iter().any(|p| p.key == person.key) {
            return Err(duplicate_key(Entity::Person, person.key));
        }
        org.people.push(person);
    }
    for (i, t) in root.tables("absences")?.into_iter().enumerate() {
        let absence = build_absence(t, i + 1, &org)?;
        org.absences.push(absence);
    }
    for (i, t) in root.tables("routines")?.into_iter().enumerate() {
        let routine = build_routine(t, i + 1, &org)?;
        if org
            .routines
            .iter()
            .any(|r| r.site == routine.site && r.key == routine.key)
        {
            return Err(duplicate_key(Entity::Routine, routine.key));
        }
        org.routines.push(routine);
    }
    Ok(org)
}
