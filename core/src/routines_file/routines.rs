//! A `[[routines]]` entry: who owns it, its cadence (rrule or after completion), closed-day
//! policy, window, repeat-failure rule, steps and escalation chain. The cadence is compiled
//! here once, so a broken rule is reported against the file.

use toml::Table;

use super::error::{Entity, Problem, Res};
use super::escalation::build_escalation;
use super::fields::{Fields, label_of};
use super::people::site_member;
use super::routine_id;
use super::sites::find_site;
use super::steps::build_steps;
use super::values::format_duration;
use crate::cadence::{CadenceError, CompiledCadence};
use crate::model::{Cadence, ClosedDayPolicy, Org, RepeatFailureRule, Role, Routine, Window};

const ROUTINE_FIELDS: &[&str] = &[
    "key",
    "site",
    "title",
    "instructions",
    "version",
    "owner",
    "backup",
    "fallback_role",
    "rrule",
    "start",
    "exdates",
    "after_completion",
    "closed_days",
    "window",
    "repeat_failure",
    "steps",
    "escalation",
];

/// The routine of the `[[routines]]` entry at 1-based `position`; `org` has its sites and
/// people.
pub(super) fn build_routine(table: &Table, position: usize, org: &Org) -> Res<Routine> {
    let label = label_of(table, position);
    let entity = Entity::Routine(label.clone());
    let f = Fields::new(table, entity, "", ROUTINE_FIELDS)?;
    let key = f.key("key")?;
    let site_key = f.text("site")?;
    let site = find_site(&f, "site", &site_key, &org.sites)?;
    let title = f.text("title")?;
    let instructions = f.opt_str("instructions")?.unwrap_or("").trim().to_string();
    let version = f.opt_int("version", 1, i64::from(u32::MAX))?.unwrap_or(1);

    let owner_key = f.text("owner")?;
    let owner = site_member(&f, "owner", &owner_key, &org.people, site)?;
    let backup = match f.opt_str("backup")?.map(str::trim) {
        None => None,
        Some("") => return Err(f.fault("backup", Problem::Empty)),
        Some(k) if k == owner_key => {
            return Err(f.fault("backup", Problem::BackupIsOwner(owner_key.clone())));
        }
        Some(k) => Some(site_member(&f, "backup", k, &org.people, site)?),
    };
    let fallback_role = match f.opt_str("fallback_role")? {
        None => Role::Supervisor,
        Some(r) => f.role("fallback_role", r)?,
    };

    let cadence = build_cadence(&f)?;
    let closed_days = match f.opt_str("closed_days")? {
        None => ClosedDayPolicy::default(),
        Some(p) => match p.trim() {
            "skip" => ClosedDayPolicy::Skip,
            "move_earlier" => ClosedDayPolicy::MoveEarlier,
            "move_later" => ClosedDayPolicy::MoveLater,
            "run_anyway" => ClosedDayPolicy::RunAnyway,
            _ => {
                return Err(f.fault(
                    "closed_days",
                    Problem::UnknownClosedDayPolicy(p.to_string()),
                ));
            }
        },
    };
    let window = build_window(&f)?;
    let repeat_failure = build_repeat_failure(&f)?;
    let steps = build_steps(&f, &label)?;
    let escalation = build_escalation(&f, &label, org, site)?;

    let routine = Routine {
        id: routine_id(&site.key, &key),
        key,
        version,
        site: site.id,
        title,
        instructions,
        steps,
        cadence,
        closed_days,
        window,
        owner,
        backup,
        fallback_role,
        escalation,
        repeat_failure,
    };
    if let Err(err) = CompiledCadence::new(&routine, site) {
        let field = match err {
            CadenceError::Rule(_) => "rrule",
            CadenceError::ZeroDays => "after_completion.days",
        };
        return Err(f.fault(field, Problem::Cadence(err)));
    }
    Ok(routine)
}

/// `rrule` with `start` and `exdates`, or `after_completion` with `start`.
fn build_cadence(f: &Fields<'_>) -> Res<Cadence> {
    let rrule = f.opt_str("rrule")?;
    let after = f.get("after_completion");
    let start = f.opt_local_datetime("start")?;
    match (rrule, after) {
        (Some(_), Some(_)) => Err(f.fault("after_completion", Problem::TwoCadences)),
        (None, None) => Err(f.fault("rrule", Problem::NoCadence)),
        (Some(rule), None) => {
            let rule = rule.trim();
            if rule.is_empty() {
                return Err(f.fault("rrule", Problem::Empty));
            }
            let start = start.ok_or_else(|| f.fault("start", Problem::Missing))?;
            let mut exdates = Vec::new();
            for (i, item) in f.array("exdates")?.iter().enumerate() {
                exdates.push(f.local_datetime_value(&format!("exdates[{}]", i + 1), item)?);
            }
            Ok(Cadence::Rule {
                rrule: rule.to_string(),
                start,
                exdates,
            })
        }
        (None, Some(value)) => {
            if f.get("exdates").is_some() {
                return Err(f.fault("exdates", Problem::ExdatesWithoutRule));
            }
            let a = f.table_field("after_completion", value, &["days", "at"])?;
            let days = a
                .opt_int("days", 1, 3660)?
                .ok_or_else(|| a.fault("days", Problem::Missing))?;
            let at = a.time("at")?;
            let start = start.ok_or_else(|| f.fault("start", Problem::Missing))?;
            Ok(Cadence::AfterCompletion { days, at, start })
        }
    }
}

/// The optional `window`, over the default window.
fn build_window(f: &Fields<'_>) -> Res<Window> {
    let mut window = Window::default();
    let Some(value) = f.get("window") else {
        return Ok(window);
    };
    let w = f.table_field("window", value, &["opens_before", "grace", "closes_after"])?;
    if let Some(m) = w.opt_duration("opens_before")? {
        window.opens_before_min = m;
    }
    if let Some(m) = w.opt_duration("grace")? {
        window.grace_min = m;
    }
    if let Some(m) = w.opt_duration("closes_after")? {
        window.closes_after_min = m;
    }
    if window.grace_min > window.closes_after_min {
        let field = if w.get("grace").is_some() {
            "grace"
        } else {
            "closes_after"
        };
        return Err(w.fault(
            field,
            Problem::GraceAfterClose {
                grace: format_duration(window.grace_min),
                closes_after: format_duration(window.closes_after_min),
            },
        ));
    }
    Ok(window)
}

/// The optional `repeat_failure` rule, over the default rule.
fn build_repeat_failure(f: &Fields<'_>) -> Res<RepeatFailureRule> {
    let mut rule = RepeatFailureRule::default();
    let Some(value) = f.get("repeat_failure") else {
        return Ok(rule);
    };
    let r = f.table_field("repeat_failure", value, &["missed", "of_last"])?;
    if let Some(k) = r.opt_int("missed", 1, 1000)? {
        rule.missed = k;
    }
    if let Some(n) = r.opt_int("of_last", 1, 1000)? {
        rule.of_last = n;
    }
    if rule.missed > rule.of_last {
        return Err(r.fault(
            "missed",
            Problem::MissedAboveOfLast {
                missed: rule.missed,
                of_last: rule.of_last,
            },
        ));
    }
    Ok(rule)
}
