//! A routine's `[[routines.escalation]]` chain: levels at increasing `after` durations from the
//! due time, each notifying the assignee, roles or site members, optionally again and again.

use super::error::{Entity, Label, Problem, Res};
use super::fields::Fields;
use super::people::site_member;
use super::values::{format_duration, is_valid_key};
use crate::model::{EscalationLevel, Org, Recipient, Site};

/// The `escalation` levels of `routine` (labelled `label`) at `site`; `org` has its people.
pub(super) fn build_escalation(
    routine: &Fields<'_>,
    label: &Label,
    org: &Org,
    site: &Site,
) -> Res<Vec<EscalationLevel>> {
    let mut escalation: Vec<EscalationLevel> = Vec::new();
    for (i, item) in routine.array("escalation")?.iter().enumerate() {
        let level_entity = Entity::EscalationLevel {
            routine: label.clone(),
            level: i + 1,
        };
        let e = Fields::nested(
            routine,
            &format!("escalation[{}]", i + 1),
            item,
            level_entity,
            &["after", "notify", "renotify_every"],
        )?;
        let after_min = e
            .opt_duration("after")?
            .ok_or_else(|| e.fault("after", Problem::Missing))?;
        if let Some(previous) = escalation.last()
            && after_min <= previous.after_min
        {
            return Err(e.fault(
                "after",
                Problem::EscalationOrder {
                    after: format_duration(after_min),
                    previous: format_duration(previous.after_min),
                },
            ));
        }
        let mut notify = Vec::new();
        for (j, who) in e.strings("notify")?.into_iter().enumerate() {
            let field = format!("notify[{}]", j + 1);
            let who = who.trim();
            let recipient = if who == "assignee" {
                Recipient::Assignee
            } else if let Some(role) = who.strip_prefix("role:") {
                Recipient::Role(e.role(&field, role)?)
            } else if is_valid_key(who) {
                Recipient::Person(site_member(&e, &field, who, &org.people, site)?)
            } else {
                return Err(e.fault(&field, Problem::UnknownRecipient(who.to_string())));
            };
            if !notify.contains(&recipient) {
                notify.push(recipient);
            }
        }
        if notify.is_empty() {
            return Err(e.fault("notify", Problem::Empty));
        }
        let renotify_every_min = e.opt_duration("renotify_every")?;
        if renotify_every_min == Some(0) {
            return Err(e.fault("renotify_every", Problem::TooSmall { value: 0, min: 1 }));
        }
        escalation.push(EscalationLevel {
            after_min,
            notify,
            renotify_every_min,
        });
    }
    Ok(escalation)
}
