//! An `[[absences]]` entry: a person away from `from` until `until`, read in the zone of the
//! person's first site.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use toml::{Table, Value};

use super::error::{Entity, Problem, Res};
use super::fields::Fields;
use super::people::find_person;
use super::values::parse_instant;
use crate::model::{Absence, Org};

/// The absence of the `[[absences]]` entry at 1-based `index`; `org` has its people.
pub(super) fn build_absence(table: &Table, index: usize, org: &Org) -> Res<Absence> {
    let person_key = match table.get("person") {
        Some(Value::String(k)) => Some(k.trim().to_string()),
        _ => None,
    };
    let entity = Entity::Absence {
        index,
        person: person_key,
    };
    let f = Fields::new(table, entity, "", &["person", "from", "until", "reason"])?;
    let key = f.text("person")?;
    let person = find_person(&f, "person", &key, &org.people)?;
    let zone = person
        .roles
        .first()
        .and_then(|r| org.site(r.site))
        .map(|s| s.time_zone)
        .unwrap_or(Tz::UTC);
    let instant = |field: &str| -> Res<DateTime<Utc>> {
        let text = f.datetime_text(field)?;
        parse_instant(&text, zone).ok_or_else(|| f.fault(field, Problem::BadInstant(text)))
    };
    let from = instant("from")?;
    let until = instant("until")?;
    if until <= from {
        return Err(f.fault(
            "until",
            Problem::EndsBeforeStart {
                from: from.with_timezone(&zone).to_rfc3339(),
                until: until.with_timezone(&zone).to_rfc3339(),
            },
        ));
    }
    let reason = f
        .opt_str("reason")?
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    Ok(Absence {
        person: person.id,
        from,
        until,
        reason,
    })
}
