//! Assignee: exactly one named person per occurrence.
//!
//! The owner; the backup when an absence of the owner covers the due time; the first
//! available person with the routine's fallback role at its site when both are out; and,
//! when nobody is available, still the owner, flagged so the UI can warn. Never nobody.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{Absence, Org, PersonId, Role, Routine};

/// The one person an occurrence is assigned to, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// The assignee.
    pub person: PersonId,
    /// Why this person.
    pub reason: AssignmentReason,
}

/// Why an occurrence is assigned to its assignee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AssignmentReason {
    /// The routine's owner, available.
    Owner,
    /// The backup, because the owner is away.
    Backup {
        /// The absent owner.
        covering_for: PersonId,
    },
    /// The first available person with the fallback role, because owner and backup are away.
    RoleFallback {
        /// The fallback role.
        role: Role,
        /// The absent owner.
        covering_for: PersonId,
    },
    /// Owner, backup and every fallback-role person are away: still the owner, so a person
    /// is always named, flagged so the UI can warn.
    OwnerUnavailable,
}

/// The assignee of `routine`'s occurrence due at `due`.
pub fn assignee(org: &Org, routine: &Routine, due: DateTime<Utc>) -> Assignment {
    let owner = routine.owner;
    if !is_absent(org, owner, due) {
        return Assignment {
            person: owner,
            reason: AssignmentReason::Owner,
        };
    }
    if let Some(backup) = routine.backup
        && backup != owner
        && !is_absent(org, backup, due)
    {
        return Assignment {
            person: backup,
            reason: AssignmentReason::Backup {
                covering_for: owner,
            },
        };
    }
    let role = routine.fallback_role;
    if let Some(fallback) = org
        .people_with_role(routine.site, role)
        .find(|p| !is_absent(org, p.id, due))
    {
        return Assignment {
            person: fallback.id,
            reason: AssignmentReason::RoleFallback {
                role,
                covering_for: owner,
            },
        };
    }
    Assignment {
        person: owner,
        reason: AssignmentReason::OwnerUnavailable,
    }
}

/// The first recorded absence of `person` covering `at`.
pub fn absence_at(org: &Org, person: PersonId, at: DateTime<Utc>) -> Option<&Absence> {
    org.absences
        .iter()
        .find(|a| a.person == person && a.covers(at))
}

/// Whether an absence of `person` covers `at`.
pub fn is_absent(org: &Org, person: PersonId, at: DateTime<Utc>) -> bool {
    absence_at(org, person, at).is_some()
}
