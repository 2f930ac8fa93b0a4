//! What can be wrong with a routines file, and how it is said: [`RoutinesFileError`] for the
//! file, [`FieldFault`] for one field of one [`Entity`], [`Problem`] for what is wrong with it.

use std::fmt;

use thiserror::Error;

use crate::cadence::CadenceError;

/// Why a routines file cannot be used. Its `Display` is one line.
#[derive(Debug, Error)]
pub enum RoutinesFileError {
    /// The file could not be read.
    #[error("{path}: cannot read the file: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The text is not valid TOML.
    #[error("{path}: line {line}, column {column}: invalid TOML: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the TOML parser said.
        message: String,
    },
    /// The TOML is well formed but a field is wrong.
    #[error("{path}: {fault}")]
    Invalid {
        /// The file.
        path: String,
        /// The entity, field and problem.
        fault: Box<FieldFault>,
    },
}

/// A wrong field: the entity it belongs to, its name and what is wrong. Displays as
/// `routine "fridge-temps": field rrule: invalid rrule: …`.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{}field {field}: {problem}", .entity.prefix())]
pub struct FieldFault {
    /// The entity the field belongs to.
    pub entity: Entity,
    /// The field at fault (`window.grace`, `holidays[2].date`; arrays count from 1).
    pub field: String,
    /// What is wrong with it.
    pub problem: Problem,
}

/// How an entity of the file is named in messages: by key, or by position when the key
/// itself is missing or broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Label {
    /// The entity's key.
    Key(String),
    /// 1-based position in its array.
    Position(usize),
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Label::Key(key) => write!(f, "\"{key}\""),
            Label::Position(n) => write!(f, "#{n}"),
        }
    }
}

/// The entity of the file a field belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entity {
    /// The top level of the file (`org`, `sites`, …).
    File,
    /// A `[[sites]]` entry.
    Site(Label),
    /// A `[[people]]` entry.
    Person(Label),
    /// An `[[absences]]` entry: its position (from 1) and the key of its person, if given.
    Absence {
        /// 1-based position.
        index: usize,
        /// The `person` key, when present.
        person: Option<String>,
    },
    /// A `[[routines]]` entry.
    Routine(Label),
    /// A step of a routine.
    Step {
        /// The routine.
        routine: Label,
        /// The step.
        step: Label,
    },
    /// A level of a routine's escalation chain.
    EscalationLevel {
        /// The routine.
        routine: Label,
        /// 1-based level.
        level: usize,
    },
}

impl Entity {
    /// The entity as a message prefix (`routine "fridge-temps": `), empty for the top level.
    pub fn prefix(&self) -> String {
        match self {
            Entity::File => String::new(),
            other => format!("{other}: "),
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entity::File => f.write_str("file"),
            Entity::Site(label) => write!(f, "site {label}"),
            Entity::Person(label) => write!(f, "person {label}"),
            Entity::Absence {
                index,
                person: Some(person),
            } => write!(f, "absence #{index} (person \"{person}\")"),
            Entity::Absence {
                index,
                person: None,
            } => write!(f, "absence #{index}"),
            Entity::Routine(label) => write!(f, "routine {label}"),
            Entity::Step { routine, step } => write!(f, "routine {routine}: step {step}"),
            Entity::EscalationLevel { routine, level } => {
                write!(f, "routine {routine}: escalation level {level}")
            }
        }
    }
}

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum Problem {
    /// A required field is absent.
    #[error("missing")]
    Missing,
    /// A field this entity does not have (often a typo).
    #[error("unknown field (expected one of: {allowed})")]
    UnknownField {
        /// The fields allowed here, comma-separated.
        allowed: String,
    },
    /// The value has the wrong TOML type.
    #[error("expected {expected}, found {found}")]
    WrongType {
        /// What was expected ("a string").
        expected: &'static str,
        /// What was found ("an integer").
        found: &'static str,
    },
    /// A text field or list is empty.
    #[error("must not be empty")]
    Empty,
    /// A key with characters outside letters, digits, `-` and `_`.
    #[error("\"{0}\" is not a valid key (use letters, digits, '-' and '_')")]
    BadKey(String),
    /// The same key (or date) twice.
    #[error("\"{0}\" is defined more than once")]
    Duplicate(String),
    /// Not an IANA time zone.
    #[error("unknown time zone \"{0}\"")]
    UnknownTimeZone(String),
    /// Not a weekday name.
    #[error("unknown weekday \"{0}\" (expected mon, tue, wed, thu, fri, sat or sun)")]
    UnknownWeekday(String),
    /// Not a role name.
    #[error("unknown role \"{0}\" (expected staff, supervisor, lead or admin)")]
    UnknownRole(String),
    /// Not a closed-day policy.
    #[error(
        "unknown closed-day policy \"{0}\" (expected skip, move_earlier, move_later or run_anyway)"
    )]
    UnknownClosedDayPolicy(String),
    /// Not a step kind.
    #[error(
        "unknown step kind \"{0}\" (expected check, reading, photo, choice, text or signature)"
    )]
    UnknownStepKind(String),
    /// A reference to a person key that is not defined.
    #[error("unknown person \"{0}\"")]
    UnknownPerson(String),
    /// A reference to a site key that is not defined.
    #[error("unknown site \"{0}\"")]
    UnknownSite(String),
    /// A person referenced by a routine does not belong to the routine's site.
    #[error("person \"{person}\" is not a member of site \"{site}\"")]
    NotMember {
        /// The person's key.
        person: String,
        /// The site's key.
        site: String,
    },
    /// The backup is the owner.
    #[error("the backup must be someone other than the owner \"{0}\"")]
    BackupIsOwner(String),
    /// Not a duration.
    #[error("\"{0}\" is not a duration (use e.g. 15m, 2h, 1h30m or 1d)")]
    BadDuration(String),
    /// Not a date.
    #[error("\"{0}\" is not a date (use YYYY-MM-DD)")]
    BadDate(String),
    /// Not a time of day.
    #[error("\"{0}\" is not a time of day (use HH:MM)")]
    BadTime(String),
    /// Not a local date-time.
    #[error("\"{0}\" is not a local date-time (use YYYY-MM-DDTHH:MM, without offset)")]
    BadLocalDateTime(String),
    /// Not a local date-time, date or RFC 3339 instant.
    #[error(
        "\"{0}\" is not a date-time (use YYYY-MM-DDTHH:MM in the person's site zone, a date, or RFC 3339 with offset)"
    )]
    BadInstant(String),
    /// An absence that ends before it starts.
    #[error("the absence ends before it starts ({until} is not after {from})")]
    EndsBeforeStart {
        /// Start.
        from: String,
        /// End.
        until: String,
    },
    /// The cadence does not compile (broken rrule, zero days).
    #[error("{0}")]
    Cadence(CadenceError),
    /// Both `rrule` and `after_completion`.
    #[error("give either rrule or after_completion, not both")]
    TwoCadences,
    /// Neither `rrule` nor `after_completion`.
    #[error("missing (a routine needs rrule or after_completion)")]
    NoCadence,
    /// `exdates` with an `after_completion` cadence.
    #[error("only rrule cadences take exdates")]
    ExdatesWithoutRule,
    /// A whole number below its minimum.
    #[error("{value} is too small (at least {min})")]
    TooSmall {
        /// The value given.
        value: i64,
        /// The smallest allowed value.
        min: i64,
    },
    /// A whole number above its maximum.
    #[error("{value} is too large (at most {max})")]
    TooLarge {
        /// The value given.
        value: i64,
        /// The largest allowed value.
        max: i64,
    },
    /// A reading range whose min is above its max.
    #[error("min {min} is above max {max}")]
    MinAboveMax {
        /// Lowest allowed value.
        min: f64,
        /// Highest allowed value.
        max: f64,
    },
    /// A reading step without unit.
    #[error("missing (a reading step needs a unit, e.g. \"°C\")")]
    ReadingWithoutUnit,
    /// A choice step without options.
    #[error("missing (a choice step needs at least one option)")]
    ChoiceWithoutOptions,
    /// A field that only other step kinds take.
    #[error("a {kind} step does not take this field")]
    NotForStepKind {
        /// The step's kind.
        kind: &'static str,
    },
    /// A window whose grace ends after it closes.
    #[error("grace {grace} is longer than closes_after {closes_after}")]
    GraceAfterClose {
        /// The grace, as written back (`30m`).
        grace: String,
        /// When the window closes (`15m`).
        closes_after: String,
    },
    /// An escalation level not after the previous one.
    #[error("{after} must be later than the previous level's {previous}")]
    EscalationOrder {
        /// This level's `after`.
        after: String,
        /// The previous level's `after`.
        previous: String,
    },
    /// A repeat-failure rule with more misses than occurrences looked at.
    #[error("missed {missed} is more than of_last {of_last}")]
    MissedAboveOfLast {
        /// K.
        missed: u32,
        /// N.
        of_last: u32,
    },
    /// A recipient that is neither `assignee`, `role:ROLE` nor a person key.
    #[error("unknown recipient \"{0}\" (use \"assignee\", \"role:ROLE\" or a person key)")]
    UnknownRecipient(String),
}

/// A field fault, boxed to keep `Result`s small.
pub(super) type Fault = Box<FieldFault>;

/// The result of reading one part of the file.
pub(super) type Res<T> = Result<T, Fault>;

/// The fault of `field` of `entity`.
pub(super) fn fault(entity: &Entity, field: impl Into<String>, problem: Problem) -> Fault {
    Box::new(FieldFault {
        entity: entity.clone(),
        field: field.into(),
        problem,
    })
}

/// The fault of a `key` defined twice: `entity` names the entity by that key.
pub(super) fn duplicate_key(entity: impl FnOnce(Label) -> Entity, key: String) -> Fault {
    fault(
        &entity(Label::Key(key.clone())),
        "key",
        Problem::Duplicate(key),
    )
}
