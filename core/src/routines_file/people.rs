//! A `[[people]]` entry: key, name and a role at each of their sites.

use toml::Table;

use super::error::{Entity, Problem, Res};
use super::fields::{Fields, label_of};
use super::person_id;
use super::sites::find_site;
use crate::model::{Person, PersonId, Site, SiteRole};

/// The person of the `[[people]]` entry at 1-based `position`; `sites` are the org's sites.
pub(super) fn build_person(table: &Table, position: usize, sites: &[Site]) -> Res<Person> {
    let entity = Entity::Person(label_of(table, position));
    let f = Fields::new(table, entity, "", &["key", "name", "roles"])?;
    let key = f.key("key")?;
    let name = f.text("name")?;
    let roles_value = f
        .get("roles")
        .ok_or_else(|| f.fault("roles", Problem::Missing))?;
    let roles_table = roles_value.as_table().ok_or_else(|| {
        f.wrong(
            "roles",
            "a table such as { harbor = \"staff\" }",
            roles_value,
        )
    })?;
    if roles_table.is_empty() {
        return Err(f.fault("roles", Problem::Empty));
    }
    let mut roles = Vec::new();
    for (site_key, role_value) in roles_table {
        let field = format!("roles.{site_key}");
        let site = find_site(&f, &field, site_key, sites)?;
        let role_text = role_value
            .as_str()
            .ok_or_else(|| f.wrong(&field, "a string", role_value))?;
        let role = f.role(&field, role_text)?;
        roles.push(SiteRole {
            site: site.id,
            role,
        });
    }
    // In the file's site order, so "the person's first site" is well defined.
    roles.sort_by_key(|r| sites.iter().position(|s| s.id == r.site));
    Ok(Person {
        id: person_id(&key),
        key,
        name,
        roles,
    })
}

/// The person of `people` with `key`, written in `field` of `f`.
pub(super) fn find_person<'o>(
    f: &Fields<'_>,
    field: &str,
    key: &str,
    people: &'o [Person],
) -> Res<&'o Person> {
    people
        .iter()
        .find(|p| p.key == key)
        .ok_or_else(|| f.fault(field, Problem::UnknownPerson(key.to_string())))
}

/// The person of `people` with `key`, written in `field` of `f`, who must be a member of
/// `site`.
pub(super) fn site_member(
    f: &Fields<'_>,
    field: &str,
    key: &str,
    people: &[Person],
    site: &Site,
) -> Res<PersonId> {
    let person = find_person(f, field, key, people)?;
    if person.role_at(site.id).is_none() {
        return Err(f.fault(
            field,
            Problem::NotMember {
                person: key.to_string(),
                site: site.key.clone(),
            },
        ));
    }
    Ok(person.id)
}
