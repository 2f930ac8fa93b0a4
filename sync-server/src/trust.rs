//! Trust: whether an event's author may write it at its site, and whether what it names
//! exists (docs/sync.md, "Trust"). Work is re-validated the way every device validates it:
//! a completion must name a real occurrence of the routine version it was made against
//! and meet that version's proof requirements.
//!
//! Pure: the org and the event in, a [`Refusal`] with a sentence naming the person, the
//! site and the check out. Sequencing and duplicates are the chain's business
//! (`ruling`), not this module's.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use proofline_core::cadence::CompiledCadence;
use proofline_core::completion;
use proofline_core::model::{
    Absence, Acknowledgement, Completion, Excuse, Person, PersonId, Role, Routine, Site,
};
use proofline_core::store::{Event, EventPayload};
use proofline_core::sync::protocol::RejectCode;

use crate::org::OrgState;
use crate::storage::PreparedEvent;

/// Why an event is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Why, for programs.
    pub code: RejectCode,
    /// Why, for people.
    pub reason: String,
}

fn refuse(code: RejectCode, reason: impl Into<String>) -> Refusal {
    Refusal {
        code,
        reason: reason.into(),
    }
}

/// Whether `author` may write `event` (already known to be theirs, on their device's
/// chain) and whether its content holds up.
pub fn judge(state: &OrgState, author: &Person, prepared: &PreparedEvent) -> Result<(), Refusal> {
    let event = &prepared.event;
    let org = state.org();
    let Some(site) = org.site(event.site) else {
        return Err(refuse(
            RejectCode::UnknownReference,
            format!(
                "the event is filed under site {}, which this server does not know",
                event.site
            ),
        ));
    };
    let Some(role) = author.role_at(site.id) else {
        return Err(refuse(
            RejectCode::NotAllowed,
            format!(
                "{} has no role at {}; a device writes only for the sites its person belongs to",
                author.name, site.name
            ),
        ));
    };
    let judge = Judge {
        state,
        author,
        role,
        site,
        prepared,
    };
    match &event.payload {
        EventPayload::Completed(c) => judge.completion(event, c),
        EventPayload::Excused(x) => judge.excuse(x),
        EventPayload::Acknowledged(a) => judge.acknowledgement(a),
        EventPayload::AbsenceRecorded(a) => judge.absence(a),
        EventPayload::RoutineDefined(r) => judge.routine(r),
        EventPayload::OrgNamed { .. } => Err(judge.admin_only("the org's name")),
        EventPayload::SiteDefined(_) => Err(judge.admin_only("sites")),
        EventPayload::PersonDefined(_) => Err(judge.admin_only("people")),
        EventPayload::EscalationFired(_) => Err(refuse(
            RejectCode::NotAllowed,
            "only the server records that an escalation fired; a device cannot".to_string(),
        )),
    }
}

struct Judge<'a> {
    state: &'a OrgState,
    author: &'a Person,
    role: Role,
    site: &'a Site,
    prepared: &'a PreparedEvent,
}

impl Judge<'_> {
    fn completion(&self, event: &Event, c: &Completion) -> Result<(), Refusal> {
        self.acts_as_self(c.by, "completes checks")?;
        plausible("due time", c.due)?;
        if c.id != event.id {
            return Err(refuse(
                RejectCode::Invalid,
                format!(
                    "the completion carries id {} but its event is {}; they must be the same",
                    c.id, event.id
                ),
            ));
        }
        let current = self.state.org().routine(c.routine);
        let Some(version) = self.state.version(c.routine, c.routine_version) else {
            let reason = match (current, self.state.latest_version(c.routine)) {
                (Some(r), Some(latest)) => format!(
                    "{} has no version {}; the latest is version {latest}",
                    self.subject(r),
                    c.routine_version
                ),
                _ => format!("no routine {} is defined at {}", c.routine, self.site.name),
            };
            return Err(refuse(RejectCode::UnknownReference, reason));
        };
        let routine = &version.routine;
        self.runs_here(routine)?;
        self.names_the_occurrence(routine, self.prepared.names_its_occurrence(), c.due)?;
        match version.is_occurrence(self.site, c.due) {
            Ok(true) => {}
            Ok(false) => {
                return Err(refuse(
                    RejectCode::NotAnOccurrence,
                    format!(
                        "{} (version {}) is not due at {}",
                        self.subject(routine),
                        routine.version,
                        when(self.site.time_zone, c.due)
                    ),
                ));
            }
            Err(cadence) => {
                return Err(refuse(
                    RejectCode::Invalid,
                    format!(
                        "the cadence of {} (version {}) cannot be expanded: {cadence}",
                        self.subject(routine),
                        routine.version
                    ),
                ));
            }
        }
        completion::validate(routine, &c.results).map_err(|problems| {
            let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
            refuse(
                RejectCode::ProofIncomplete,
                format!(
                    "the proof for {} (due {}) is incomplete: {}",
                    self.subject(routine),
                    when(self.site.time_zone, c.due),
                    problems.join("; ")
                ),
            )
        })
    }

    fn excuse(&self, x: &Excuse) -> Result<(), Refusal> {
        self.requires(Role::Supervisor, "excusing a check")?;
        self.acts_as_self(x.by, "excuses checks")?;
        let Some(routine) = self.state.org().routine(x.routine) else {
            return Err(refuse(
                RejectCode::UnknownReference,
                format!("no routine {} is defined at {}", x.routine, self.site.name),
            ));
        };
        self.runs_here(routine)?;
        plausible("due time", x.due)?;
        if x.reason.trim().is_empty() {
            return Err(refuse(
                RejectCode::Invalid,
                format!(
                    "excusing {} (due {}) needs a reason",
                    self.subject(routine),
                    when(self.site.time_zone, x.due)
                ),
            ));
        }
        self.names_the_occurrence(routine, self.prepared.names_its_occurrence(), x.due)?;
        // An excuse names no version: an occurrence of any version will do.
        let due_somewhere = self
            .state
            .versions(x.routine)
            .any(|v| v.is_occurrence(self.site, x.due).unwrap_or(false));
        if !due_somewhere {
            return Err(refuse(
                RejectCode::NotAnOccurrence,
                format!(
                    "{} is not due at {}, so there is nothing to excuse",
                    self.subject(routine),
                    when(self.site.time_zone, x.due)
                ),
            ));
        }
        Ok(())
    }

    fn acknowledgement(&self, a: &Acknowledgement) -> Result<(), Refusal> {
        self.acts_as_self(a.by, "acknowledges escalations")
    }

    fn absence(&self, a: &Absence) -> Result<(), Refusal> {
        let Some(away) = self.state.org().person(a.person) else {
            return Err(refuse(
                RejectCode::UnknownReference,
                format!(
                    "no person {} is defined, so their absence cannot be recorded",
                    a.person
                ),
            ));
        };
        let action = format!("recording an absence of {}", away.name);
        if away.roles.is_empty() {
            return Err(refuse(
                RejectCode::Invalid,
                format!(
                    "{} has no role at any site, so an absence changes nothing",
                    away.name
                ),
            ));
        }
        for held in &away.roles {
            let role = self.author.role_at(held.site);
            if role.is_none_or(|r| r < Role::Supervisor) {
                return Err(self.not_allowed(role, held.site, Role::Supervisor, &action));
            }
        }
        if a.until <= a.from {
            return Err(refuse(
                RejectCode::Invalid,
                format!(
                    "the absence of {} must end ({}) after it starts ({})",
                    away.name,
                    when(self.site.time_zone, a.until),
                    when(self.site.time_zone, a.from)
                ),
            ));
        }
        Ok(())
    }

    fn routine(&self, r: &Routine) -> Result<(), Refusal> {
        self.requires(Role::Lead, "defining a routine")?;
        if r.site != self.site.id {
            return Err(refuse(
                RejectCode::Invalid,
                format!(
                    "routine {} runs at {} but its definition is filed under {}",
                    r.title,
                    self.state.site_name(r.site),
                    self.site.name
                ),
            ));
        }
        if r.version == 0 {
            return Err(refuse(
                RejectCode::Invalid,
                format!("{}: versions start at 1", self.subject(r)),
            ));
        }
        if let Some(latest) = self.state.latest_version(r.id)
            && r.version <= latest
        {
            return Err(refuse(
                RejectCode::Invalid,
                format!(
                    "{} is already at version {latest}; an edit must be version {} or later",
                    self.subject(r),
                    latest.saturating_add(1)
                ),
            ));
        }
        for (what, person) in
            std::iter::once(("owner", Some(r.owner))).chain([("backup", r.backup)])
        {
            if let Some(person) = person
                && self.state.org().person(person).is_none()
            {
                return Err(refuse(
                    RejectCode::UnknownReference,
                    format!(
                        "the {what} of {} is person {person}, who is not defined",
                        self.subject(r)
                    ),
                ));
            }
        }
        CompiledCadence::new(r, self.site).map_err(|e| {
            refuse(
                RejectCode::Invalid,
                format!("the cadence of {} cannot be used: {e}", self.subject(r)),
            )
        })?;
        Ok(())
    }

    fn admin_only(&self, what: &str) -> Refusal {
        refuse(
            RejectCode::NotAllowed,
            format!(
                "{} cannot define {what} from a device; {what} are defined through the admin API",
                self.author.name
            ),
        )
    }

    fn requires(&self, min: Role, action: &str) -> Result<(), Refusal> {
        if self.role >= min {
            Ok(())
        } else {
            Err(self.not_allowed(Some(self.role), self.site.id, min, action))
        }
    }

    fn not_allowed(
        &self,
        role: Option<Role>,
        site: proofline_core::model::SiteId,
        min: Role,
        action: &str,
    ) -> Refusal {
        let name = &self.author.name;
        let site_name = self.state.site_name(site);
        let needed = roles_from(min);
        refuse(
            RejectCode::NotAllowed,
            match role {
                Some(role) => {
                    format!("{name} is {role} at {site_name}; {action} needs {needed} there")
                }
                None => format!("{name} has no role at {site_name}; {action} needs {needed} there"),
            },
        )
    }

    fn acts_as_self(&self, by: PersonId, verb: &str) -> Result<(), Refusal> {
        if by == self.author.id {
            return Ok(());
        }
        Err(refuse(
            RejectCode::NotAllowed,
            format!(
                "the event says {} did it, but {} wrote it; a person {verb} only as themselves",
                self.state.org().person_name(by),
                self.author.name
            ),
        ))
    }

    fn runs_here(&self, routine: &Routine) -> Result<(), Refusal> {
        if routine.site == self.site.id {
            return Ok(());
        }
        Err(refuse(
            RejectCode::UnknownReference,
            format!(
                "{} runs at {}, not at {}",
                routine.title,
                self.state.site_name(routine.site),
                self.site.name
            ),
        ))
    }

    fn names_the_occurrence(
        &self,
        routine: &Routine,
        matches: bool,
        due: DateTime<Utc>,
    ) -> Result<(), Refusal> {
        if matches {
            return Ok(());
        }
        Err(refuse(
            RejectCode::NotAnOccurrence,
            format!(
                "the occurrence id does not match {} due at {}",
                self.subject(routine),
                when(self.site.time_zone, due)
            ),
        ))
    }

    /// "Fridge temperatures (Harbor Kitchen)".
    fn subject(&self, routine: &Routine) -> String {
        format!("{} ({})", routine.title, self.state.site_name(routine.site))
    }
}

/// Instants a cadence is expanded around must lie in years 1970 to 9000: far outside,
/// they can only be garbage, and expanding them is not worth the risk.
fn plausible(what: &str, at: DateTime<Utc>) -> Result<(), Refusal> {
    use chrono::Datelike;
    if (1970..=9000).contains(&at.year()) {
        Ok(())
    } else {
        Err(refuse(
            RejectCode::Invalid,
            format!("the {what} {at} is not a plausible instant"),
        ))
    }
}

/// "2026-03-09 07:00 EDT".
fn when(tz: Tz, at: DateTime<Utc>) -> String {
    at.with_timezone(&tz)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// "supervisor, lead or admin": `min` and every role above it.
pub fn roles_from(min: Role) -> String {
    let roles: Vec<&str> = [Role::Staff, Role::Supervisor, Role::Lead, Role::Admin]
        .into_iter()
        .filter(|r| *r >= min)
        .map(Role::as_str)
        .collect();
    match roles.as_slice() {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}
