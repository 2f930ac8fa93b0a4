//! `Org`'s lookups by id go through an index built at the first lookup; the org's lists
//! are public and change after it (the routines-file import and event replay push into
//! them), so the answers must stay right when the index is stale.

mod common;

use common::*;
use proofline_core::model::{PersonId, Role};

#[test]
fn lookups_stay_right_when_the_lists_change_after_the_index_was_built() {
    let mut org = harbor().org;
    let maria = org.people[0].id;
    let first_name = org.people[0].name.clone();
    assert_eq!(org.person(maria).map(|p| p.name.clone()), Some(first_name));

    // A person added after the index was built is found.
    let site = org.sites[0].id;
    org.people.push(person(
        900,
        "newcomer",
        "Nia Newcomer",
        &[(site, Role::Staff)],
    ));
    let newcomer = org.people.last().map(|p| p.id).expect("pushed");
    assert_eq!(org.person_name(newcomer), "Nia Newcomer");

    // Reordered (same lengths, so the index is not rebuilt): still the right person.
    org.people.reverse();
    for p in org.people.clone() {
        assert_eq!(org.person(p.id).map(|found| &found.name), Some(&p.name));
    }
    // Renamed in place.
    org.people[0].name = "Renamed".into();
    let renamed = org.people[0].id;
    assert_eq!(org.person_name(renamed), "Renamed");

    // Removed: not found (no stale answer).
    let gone = org.people.remove(1).id;
    assert!(org.person(gone).is_none());
    assert!(org.person(PersonId(uuid::Uuid::nil())).is_none());

    // Sites and routines too.
    let routine = org.routines[0].clone();
    assert_eq!(org.routine(routine.id).map(|r| &r.key), Some(&routine.key));
    assert_eq!(org.site(site).map(|s| s.id), Some(site));
    org.routines.clear();
    assert!(org.routine(routine.id).is_none());

    // A clone answers alike, and equality ignores the index.
    let copy = org.clone();
    assert_eq!(copy, org);
    assert_eq!(copy.person_name(renamed), "Renamed");
}

#[test]
fn a_sites_people_by_role_stay_right_when_people_change_after_the_index_was_built() {
    use proofline_core::model::SiteRole;
    use proofline_core::store::{EventPayload, apply_definition};

    let mut org = harbor().org;
    let site = org.sites[0].id;
    let leads = |org: &proofline_core::model::Org, role| {
        org.people_with_role(site, role)
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
    };
    let before = leads(&org, Role::Lead);
    assert!(!before.is_empty(), "the fixture has a lead");

    // Redefined (same list length) away from the site, then back as its lead: the index
    // is dropped and rebuilt each time.
    let mut promoted = org
        .people
        .iter()
        .find(|p| p.role_at(site) == Some(Role::Staff))
        .cloned()
        .expect("staff");
    promoted.roles.retain(|r| r.site != site);
    apply_definition(&mut org, &EventPayload::PersonDefined(promoted.clone()));
    assert_eq!(leads(&org, Role::Lead), before);
    promoted.roles.push(SiteRole {
        site,
        role: Role::Lead,
    });
    apply_definition(&mut org, &EventPayload::PersonDefined(promoted.clone()));
    let after = leads(&org, Role::Lead);
    assert!(after.contains(&promoted.name), "{after:?}");
    assert_eq!(after.len(), before.len() + 1);

    // What a scan of every person finds.
    let scanned = |org: &proofline_core::model::Org| {
        org.people
            .iter()
            .filter(|p| p.role_at(site) == Some(Role::Lead))
            .map(|p| p.name.clone())
            .collect::<Vec<_>>()
    };

    // Reordered in place: still every lead, in the new order.
    org.people.reverse();
    assert_eq!(leads(&org, Role::Lead), scanned(&org));

    // Changed in place by hand, then told: found.
    let last = org.people.len() - 1;
    org.people[last].roles = vec![SiteRole {
        site,
        role: Role::Lead,
    }];
    org.index.forget();
    assert_eq!(leads(&org, Role::Lead), scanned(&org));
}
