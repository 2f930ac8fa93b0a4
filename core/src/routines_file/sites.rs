//! A `[[sites]]` entry: key, name, IANA time zone, closed weekdays and holidays.

use chrono::Weekday;
use chrono_tz::Tz;
use toml::Table;

use super::error::{Entity, Problem, Res};
use super::fields::{Fields, label_of};
use super::site_id;
use crate::model::{Holiday, Site};

/// The site of the `[[sites]]` entry at 1-based `position`.
pub(super) fn build_site(table: &Table, position: usize) -> Res<Site> {
    let entity = Entity::Site(label_of(table, position));
    let f = Fields::new(
        table,
        entity,
        "",
        &["key", "name", "time_zone", "closed_on", "holidays"],
    )?;
    let key = f.key("key")?;
    let name = f.text("name")?;
    let zone = f.text("time_zone")?;
    let time_zone: Tz = zone
        .parse()
        .map_err(|_| f.fault("time_zone", Problem::UnknownTimeZone(zone.clone())))?;
    let mut closed_weekdays = Vec::new();
    for (i, day) in f.strings("closed_on")?.into_iter().enumerate() {
        let weekday: Weekday = day.trim().parse().map_err(|_| {
            f.fault(
                &format!("closed_on[{}]", i + 1),
                Problem::UnknownWeekday(day.to_string()),
            )
        })?;
        if !closed_weekdays.contains(&weekday) {
            closed_weekdays.push(weekday);
        }
    }
    let mut holidays: Vec<Holiday> = Vec::new();
    for (i, item) in f.array("holidays")?.iter().enumerate() {
        let field = format!("holidays[{}]", i + 1);
        let h = f.table_field(&field, item, &["date", "name"])?;
        let date = h.date("date")?;
        let name = h.text("name")?;
        if holidays.iter().any(|x| x.date == date) {
            return Err(h.fault("date", Problem::Duplicate(date.to_string())));
        }
        holidays.push(Holiday { date, name });
    }
    Ok(Site {
        id: site_id(&key),
        key,
        name,
        time_zone,
        closed_weekdays,
        holidays,
    })
}

/// The site of `sites` with `key`, written in `field` of `f`.
pub(super) fn find_site<'o>(
    f: &Fields<'_>,
    field: &str,
    key: &str,
    sites: &'o [Site],
) -> Res<&'o Site> {
    sites
        .iter()
        .find(|s| s.key == key)
        .ok_or_else(|| f.fault(field, Problem::UnknownSite(key.to_string())))
}
