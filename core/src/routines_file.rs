//! Routines as code: the TOML routines file, parsed and validated into an [`Org`].
//!
//! A site lead describes an org's sites, people, absences and routines in one TOML file; this
//! module turns it into the domain model, or into one [`RoutinesFileError`] whose message is a
//! single line naming the file, the entity (site, person, routine…) and the field at fault.
//! Nothing here panics on input.
//!
//! # Format
//!
//! ```toml
//! org = "Harbor Kitchen Group"
//!
//! [[sites]]
//! key = "harbor"                      # letters, digits, '-' and '_'
//! name = "Harbor Kitchen"
//! time_zone = "America/New_York"      # IANA zone
//! closed_on = ["sun"]                 # optional weekdays (mon … sun)
//! holidays = [{ date = "2026-12-25", name = "Christmas Day" }]
//!
//! [[people]]
//! key = "maria"
//! name = "Maria Lopez"
//! roles = { harbor = "staff" }        # site key = staff | supervisor | lead | admin
//!
//! [[absences]]
//! person = "maria"
//! from = "2026-12-01T00:00"           # local time in the zone of the person's first site
//! until = "2026-12-08T00:00"          # (first in [[sites]] order), a date, or RFC 3339
//! reason = "annual leave"
//!
//! [[routines]]
//! key = "fridge-temps"
//! site = "harbor"
//! title = "Fridge temperatures"
//! instructions = "…"                  # optional
//! version = 1                         # optional, default 1
//! owner = "maria"                     # a member of the site
//! backup = "sam"                      # optional, a member of the site
//! fallback_role = "supervisor"        # optional, default supervisor
//! rrule = "FREQ=DAILY;BYHOUR=6,10,14,18,22;BYMINUTE=0"
//! start = "2026-01-01T06:00"          # local anchor in the site's zone
//! exdates = ["2026-07-04T06:00"]      # optional local times to leave out
//! # instead of rrule/exdates: after_completion = { days = 30, at = "09:00" }, with start
//! closed_days = "skip"                # skip | move_earlier | move_later | run_anyway
//! window = { opens_before = "30m", grace = "15m", closes_after = "2h" }
//! repeat_failure = { missed = 2, of_last = 5 }
//!
//! [[routines.steps]]
//! key = "walk-in"
//! title = "Walk-in cooler"
//! kind = "reading"                    # check | reading | photo | choice | text | signature
//! unit = "°C"                         # reading: unit (required), min, max
//! min = 1.0                           # photo: min_count (default 1)
//! max = 5.0                           # choice: options
//! required = true                     # optional, default true
//!
//! [[routines.escalation]]
//! after = "15m"                       # from the due time, increasing level by level
//! notify = ["assignee", "sam", "role:supervisor"]
//! renotify_every = "30m"              # optional
//! ```
//!
//! Durations are written like `15m`, `2h`, `1h30m` or `1d`. Dates and times may be TOML
//! strings or TOML date-time literals. Unknown fields are errors, so typos never go unnoticed.
//!
//! # Ids
//!
//! Ids are deterministic, so every device and the server derive the same ones from the same
//! file: UUIDv5 in [`PROOFLINE_NAMESPACE`] of `site:{site_key}` ([`SiteId`]),
//! `person:{person_key}` ([`PersonId`]) and `routine:{site_key}/{routine_key}` ([`RoutineId`]).
//! Routine keys are unique per site; site and person keys are unique in the file.

use std::fmt;
use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;
use thiserror::Error;
use toml::{Table, Value};
use uuid::Uuid;

use crate::cadence::{CadenceError, CompiledCadence};
use crate::model::{
    Absence, Cadence, ClosedDayPolicy, EscalationLevel, Holiday, Org, PROOFLINE_NAMESPACE, Person,
    PersonId, Recipient, RepeatFailureRule, Role, Routine, RoutineId, Site, SiteId, SiteRole, Step,
    StepKind, Window,
};

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

type Fault = Box<FieldFault>;

type Res<T> = Result<T, Fault>;

fn fault(entity: &Entity, field: impl Into<String>, problem: Problem) -> Fault {
    Box::new(FieldFault {
        entity: entity.clone(),
        field: field.into(),
        problem,
    })
}

/// Reads and validates a routines file. Errors name `path` as given.
pub fn load_routines_file(path: &Path) -> Result<Org, RoutinesFileError> {
    let shown = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse_routines_file(&shown, &text),
        Err(source) => Err(RoutinesFileError::Read {
            path: shown,
            source,
        }),
    }
}

/// Parses and validates the text of a routines file; `path_for_messages` names the file in
/// errors.
pub fn parse_routines_file(path_for_messages: &str, text: &str) -> Result<Org, RoutinesFileError> {
    let table: Table = toml::from_str(text).map_err(|err| {
        let offset = err.span().map(|s| s.start).unwrap_or(0);
        let (line, column) = line_column(text, offset);
        RoutinesFileError::Syntax {
            path: path_for_messages.to_string(),
            line,
            column,
            message: err.message().trim().replace('\n', " "),
        }
    })?;
    build_org(&table).map_err(|fault| RoutinesFileError::Invalid {
        path: path_for_messages.to_string(),
        fault,
    })
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let before = &text[..end];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// The id of the site with `key`: UUIDv5 of `site:{key}`.
pub fn site_id(key: &str) -> SiteId {
    SiteId(derived(&format!("site:{key}")))
}

/// The id of the person with `key`: UUIDv5 of `person:{key}`.
pub fn person_id(key: &str) -> PersonId {
    PersonId(derived(&format!("person:{key}")))
}

/// The id of routine `routine_key` at site `site_key`: UUIDv5 of `routine:{site}/{routine}`.
pub fn routine_id(site_key: &str, routine_key: &str) -> RoutineId {
    RoutineId(derived(&format!("routine:{site_key}/{routine_key}")))
}

fn derived(name: &str) -> Uuid {
    Uuid::new_v5(&PROOFLINE_NAMESPACE, name.as_bytes())
}

/// Parses a duration such as `15m`, `2h`, `1h30m`, `1d` or `0` into whole minutes.
pub fn parse_duration(text: &str) -> Option<u32> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if text == "0" {
        return Some(0);
    }
    if text.is_empty() {
        return None;
    }
    let mut total: u32 = 0;
    let mut number: Option<u32> = None;
    let mut last_unit = u32::MAX;
    for c in text.chars() {
        if let Some(d) = c.to_digit(10) {
            number = Some(number.unwrap_or(0).checked_mul(10)?.checked_add(d)?);
            continue;
        }
        let unit = match c.to_ascii_lowercase() {
            'd' => 1440,
            'h' => 60,
            'm' => 1,
            _ => return None,
        };
        // Units must come largest first, each at most once: `1h30m`, not `30m1h`.
        if unit >= last_unit {
            return None;
        }
        last_unit = unit;
        total = total.checked_add(number.take()?.checked_mul(unit)?)?;
    }
    if number.is_some() {
        return None;
    }
    Some(total)
}

/// Writes whole minutes back as a duration: `15m`, `2h`, `1h30m`, `1d`, `0m`.
pub fn format_duration(minutes: u32) -> String {
    if minutes == 0 {
        return "0m".to_string();
    }
    let (days, rest) = (minutes / 1440, minutes % 1440);
    let (hours, mins) = (rest / 60, rest % 60);
    let mut out = String::new();
    if days > 0 {
        out.push_str(&format!("{days}d"));
    }
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if mins > 0 {
        out.push_str(&format!("{mins}m"));
    }
    out
}

/// Parses a naive local date-time: `2026-03-01T07:00`, `2026-03-01T07:00:00` (a space instead
/// of `T` is accepted too).
pub fn parse_local_datetime(text: &str) -> Option<NaiveDateTime> {
    const FORMATS: [&str; 4] = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ];
    let text = text.trim();
    FORMATS
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    let text = text.trim();
    NaiveTime::parse_from_str(text, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M:%S"))
        .ok()
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a number",
        Value::Boolean(_) => "true/false",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// One TOML table read as an entity's fields, with messages naming the entity and field.
struct Fields<'a> {
    table: &'a Table,
    entity: Entity,
    /// Prepended to field names (`window.`).
    prefix: String,
}

impl<'a> Fields<'a> {
    fn new(table: &'a Table, entity: Entity, prefix: &str, allowed: &[&str]) -> Res<Self> {
        let fields = Fields {
            table,
            entity,
            prefix: prefix.to_string(),
        };
        if let Some(unknown) = table.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(fields.fault(
                unknown,
                Problem::UnknownField {
                    allowed: allowed.join(", "),
                },
            ));
        }
        Ok(fields)
    }

    /// Reads `value` (the value of field `name` of `parent`) as a nested table.
    fn nested(
        parent: &Fields<'_>,
        name: &str,
        value: &'a Value,
        entity: Entity,
        allowed: &[&str],
    ) -> Res<Self> {
        let table = value.as_table().ok_or_else(|| {
            parent.fault(
                name,
                Problem::WrongType {
                    expected: "a table",
                    found: type_name(value),
                },
            )
        })?;
        let prefix = if entity == parent.entity {
            format!("{}{name}.", parent.prefix)
        } else {
            String::new()
        };
        Fields::new(table, entity, &prefix, allowed)
    }

    fn field_name(&self, field: &str) -> String {
        format!("{}{field}", self.prefix)
    }

    fn fault(&self, field: &str, problem: Problem) -> Fault {
        fault(&self.entity, self.field_name(field), problem)
    }

    fn get(&self, field: &str) -> Option<&'a Value> {
        self.table.get(field)
    }

    fn wrong(&self, field: &str, expected: &'static str, value: &Value) -> Fault {
        self.fault(
            field,
            Problem::WrongType {
                expected,
                found: type_name(value),
            },
        )
    }

    fn opt_str(&self, field: &str) -> Res<Option<&'a str>> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(other) => Err(self.wrong(field, "a string", other)),
        }
    }

    fn str(&self, field: &str) -> Res<&'a str> {
        self.opt_str(field)?
            .ok_or_else(|| self.fault(field, Problem::Missing))
    }

    /// A required string that is not blank.
    fn text(&self, field: &str) -> Res<String> {
        let s = self.str(field)?.trim();
        if s.is_empty() {
            return Err(self.fault(field, Problem::Empty));
        }
        Ok(s.to_string())
    }

    fn key(&self, field: &str) -> Res<String> {
        let key = self.text(field)?;
        if !is_valid_key(&key) {
            return Err(self.fault(field, Problem::BadKey(key)));
        }
        Ok(key)
    }

    fn opt_int(&self, field: &str, min: i64, max: i64) -> Res<Option<u32>> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Integer(n)) if *n < min => {
                Err(self.fault(field, Problem::TooSmall { value: *n, min }))
            }
            Some(Value::Integer(n)) => u32::try_from(*n)
                .ok()
                .filter(|v| i64::from(*v) <= max)
                .map(Some)
                .ok_or_else(|| self.fault(field, Problem::TooLarge { value: *n, max })),
            Some(other) => Err(self.wrong(field, "a whole number", other)),
        }
    }

    fn opt_number(&self, field: &str) -> Res<Option<f64>> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Integer(n)) => Ok(Some(*n as f64)),
            Some(Value::Float(x)) if x.is_finite() => Ok(Some(*x)),
            Some(other) => Err(self.wrong(field, "a finite number", other)),
        }
    }

    fn opt_bool(&self, field: &str) -> Res<Option<bool>> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Boolean(b)) => Ok(Some(*b)),
            Some(other) => Err(self.wrong(field, "true or false", other)),
        }
    }

    fn opt_array(&self, field: &str) -> Res<Option<&'a [Value]>> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Array(items)) => Ok(Some(items.as_slice())),
            Some(other) => Err(self.wrong(field, "an array", other)),
        }
    }

    fn array(&self, field: &str) -> Res<&'a [Value]> {
        Ok(self.opt_array(field)?.unwrap_or_default())
    }

    /// Strings of an array field (absent: empty).
    fn strings(&self, field: &str) -> Res<Vec<&'a str>> {
        let mut out = Vec::new();
        for (i, item) in self.array(field)?.iter().enumerate() {
            match item {
                Value::String(s) => out.push(s.as_str()),
                other => {
                    return Err(self.wrong(&format!("{field}[{}]", i + 1), "a string", other));
                }
            }
        }
        Ok(out)
    }

    fn opt_duration(&self, field: &str) -> Res<Option<u32>> {
        match self.opt_str(field)? {
            None => Ok(None),
            Some(s) => parse_duration(s)
                .map(Some)
                .ok_or_else(|| self.fault(field, Problem::BadDuration(s.to_string()))),
        }
    }

    /// Text of a string or TOML date-time literal.
    fn opt_datetime_text(&self, field: &str) -> Res<Option<String>> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Datetime(d)) => Ok(Some(d.to_string())),
            Some(other) => Err(self.wrong(field, "a date-time string", other)),
        }
    }

    fn opt_local_datetime(&self, field: &str) -> Res<Option<NaiveDateTime>> {
        match self.opt_datetime_text(field)? {
            None => Ok(None),
            Some(s) => parse_local_datetime(&s)
                .map(Some)
                .ok_or_else(|| self.fault(field, Problem::BadLocalDateTime(s))),
        }
    }

    fn local_datetime_value(&self, field: &str, value: &Value) -> Res<NaiveDateTime> {
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Datetime(d) => d.to_string(),
            other => return Err(self.wrong(field, "a date-time string", other)),
        };
        parse_local_datetime(&text)
            .ok_or_else(|| self.fault(field, Problem::BadLocalDateTime(text)))
    }

    fn date(&self, field: &str) -> Res<NaiveDate> {
        let s = self
            .opt_datetime_text(field)?
            .ok_or_else(|| self.fault(field, Problem::Missing))?;
        parse_date(&s).ok_or_else(|| self.fault(field, Problem::BadDate(s)))
    }

    fn time(&self, field: &str) -> Res<NaiveTime> {
        let s = self
            .opt_datetime_text(field)?
            .ok_or_else(|| self.fault(field, Problem::Missing))?;
        parse_time(&s).ok_or_else(|| self.fault(field, Problem::BadTime(s)))
    }
}

/// Reads a top-level array of tables (`[[sites]]`).
fn entries<'a>(root: &Fields<'a>, field: &str) -> Res<Vec<&'a Table>> {
    let mut out = Vec::new();
    for (i, item) in root.array(field)?.iter().enumerate() {
        match item {
            Value::Table(t) => out.push(t),
            other => {
                return Err(root.wrong(&format!("{field}[{}]", i + 1), "a table", other));
            }
        }
    }
    Ok(out)
}

/// The `key` of an entry, for naming it in messages before it is validated.
fn label_of(table: &Table, position: usize) -> Label {
    match table.get("key") {
        Some(Value::String(k)) if is_valid_key(k.trim()) => Label::Key(k.trim().to_string()),
        _ => Label::Position(position),
    }
}

fn build_org(table: &Table) -> Res<Org> {
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
    for (i, t) in entries(&root, "sites")?.into_iter().enumerate() {
        let site = build_site(t, i + 1)?;
        if org.sites.iter().any(|s| s.key == site.key) {
            return Err(fault(
                &Entity::Site(Label::Key(site.key.clone())),
                "key",
                Problem::Duplicate(site.key),
            ));
        }
        org.sites.push(site);
    }
    if org.sites.is_empty() {
        return Err(root.fault("sites", Problem::Empty));
    }
    for (i, t) in entries(&root, "people")?.into_iter().enumerate() {
        let person = build_person(t, i + 1, &org.sites)?;
        if org.people.iter().any(|p| p.key == person.key) {
            return Err(fault(
                &Entity::Person(Label::Key(person.key.clone())),
                "key",
                Problem::Duplicate(person.key),
            ));
        }
        org.people.push(person);
    }
    for (i, t) in entries(&root, "absences")?.into_iter().enumerate() {
        let absence = build_absence(t, i + 1, &org)?;
        org.absences.push(absence);
    }
    for (i, t) in entries(&root, "routines")?.into_iter().enumerate() {
        let routine = build_routine(t, i + 1, &org)?;
        if org
            .routines
            .iter()
            .any(|r| r.site == routine.site && r.key == routine.key)
        {
            return Err(fault(
                &Entity::Routine(Label::Key(routine.key.clone())),
                "key",
                Problem::Duplicate(routine.key),
            ));
        }
        org.routines.push(routine);
    }
    Ok(org)
}

fn build_site(table: &Table, position: usize) -> Res<Site> {
    let entity = Entity::Site(label_of(table, position));
    let f = Fields::new(
        table,
        entity.clone(),
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
        let h = Fields::nested(&f, &field, item, entity.clone(), &["date", "name"])?;
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

fn build_person(table: &Table, position: usize, sites: &[Site]) -> Res<Person> {
    let entity = Entity::Person(label_of(table, position));
    let f = Fields::new(table, entity.clone(), "", &["key", "name", "roles"])?;
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
        let site = sites
            .iter()
            .find(|s| &s.key == site_key)
            .ok_or_else(|| f.fault(&field, Problem::UnknownSite(site_key.clone())))?;
        let role_text = role_value
            .as_str()
            .ok_or_else(|| f.wrong(&field, "a string", role_value))?;
        let role = Role::parse(role_text.trim())
            .ok_or_else(|| f.fault(&field, Problem::UnknownRole(role_text.to_string())))?;
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

fn build_absence(table: &Table, index: usize, org: &Org) -> Res<Absence> {
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
    let person = org
        .people
        .iter()
        .find(|p| p.key == key)
        .ok_or_else(|| f.fault("person", Problem::UnknownPerson(key.clone())))?;
    let zone = person
        .roles
        .first()
        .and_then(|r| org.site(r.site))
        .map(|s| s.time_zone)
        .unwrap_or(Tz::UTC);
    let instant = |field: &str| -> Res<DateTime<Utc>> {
        let text = f
            .opt_datetime_text(field)?
            .ok_or_else(|| f.fault(field, Problem::Missing))?;
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

/// RFC 3339 with offset, else a local date-time or date (midnight) in `zone`.
fn parse_instant(text: &str, zone: Tz) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    let local = parse_local_datetime(text)
        .or_else(|| parse_date(text).and_then(|d| d.and_hms_opt(0, 0, 0)))?;
    Some(crate::zone::local_to_instant(zone, local))
}

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

fn build_routine(table: &Table, position: usize, org: &Org) -> Res<Routine> {
    let label = label_of(table, position);
    let entity = Entity::Routine(label.clone());
    let f = Fields::new(table, entity.clone(), "", ROUTINE_FIELDS)?;
    let key = f.key("key")?;
    let site_key = f.text("site")?;
    let site = org
        .sites
        .iter()
        .find(|s| s.key == site_key)
        .ok_or_else(|| f.fault("site", Problem::UnknownSite(site_key.clone())))?;
    let title = f.text("title")?;
    let instructions = f.opt_str("instructions")?.unwrap_or("").trim().to_string();
    let version = f.opt_int("version", 1, i64::from(u32::MAX))?.unwrap_or(1);

    let member = |field: &str, person_key: &str| -> Res<PersonId> {
        let person = org
            .people
            .iter()
            .find(|p| p.key == person_key)
            .ok_or_else(|| f.fault(field, Problem::UnknownPerson(person_key.to_string())))?;
        if person.role_at(site.id).is_none() {
            return Err(f.fault(
                field,
                Problem::NotMember {
                    person: person_key.to_string(),
                    site: site.key.clone(),
                },
            ));
        }
        Ok(person.id)
    };
    let owner_key = f.text("owner")?;
    let owner = member("owner", &owner_key)?;
    let backup = match f.opt_str("backup")?.map(str::trim) {
        None => None,
        Some("") => return Err(f.fault("backup", Problem::Empty)),
        Some(k) if k == owner_key => {
            return Err(f.fault("backup", Problem::BackupIsOwner(owner_key.clone())));
        }
        Some(k) => Some(member("backup", k)?),
    };
    let fallback_role = match f.opt_str("fallback_role")? {
        None => Role::Supervisor,
        Some(r) => Role::parse(r.trim())
            .ok_or_else(|| f.fault("fallback_role", Problem::UnknownRole(r.to_string())))?,
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

    let mut steps: Vec<Step> = Vec::new();
    for (i, item) in f.array("steps")?.iter().enumerate() {
        let step = build_step(&f, &label, item, i + 1)?;
        if steps.iter().any(|s| s.key == step.key) {
            return Err(fault(
                &Entity::Step {
                    routine: label.clone(),
                    step: Label::Key(step.key.clone()),
                },
                "key",
                Problem::Duplicate(step.key),
            ));
        }
        steps.push(step);
    }
    if steps.is_empty() {
        return Err(f.fault("steps", Problem::Empty));
    }

    let mut escalation: Vec<EscalationLevel> = Vec::new();
    for (i, item) in f.array("escalation")?.iter().enumerate() {
        let level_entity = Entity::EscalationLevel {
            routine: label.clone(),
            level: i + 1,
        };
        let e = Fields::nested(
            &f,
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
                Recipient::Role(
                    Role::parse(role.trim())
                        .ok_or_else(|| e.fault(&field, Problem::UnknownRole(role.to_string())))?,
                )
            } else if is_valid_key(who) {
                let person = org
                    .people
                    .iter()
                    .find(|p| p.key == who)
                    .ok_or_else(|| e.fault(&field, Problem::UnknownPerson(who.to_string())))?;
                if person.role_at(site.id).is_none() {
                    return Err(e.fault(
                        &field,
                        Problem::NotMember {
                            person: who.to_string(),
                            site: site.key.clone(),
                        },
                    ));
                }
                Recipient::Person(person.id)
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
            let a = Fields::nested(
                f,
                "after_completion",
                value,
                f.entity.clone(),
                &["days", "at"],
            )?;
            let days = a
                .opt_int("days", 1, 3660)?
                .ok_or_else(|| a.fault("days", Problem::Missing))?;
            let at = a.time("at")?;
            let start = start.ok_or_else(|| f.fault("start", Problem::Missing))?;
            Ok(Cadence::AfterCompletion { days, at, start })
        }
    }
}

fn build_window(f: &Fields<'_>) -> Res<Window> {
    let mut window = Window::default();
    let Some(value) = f.get("window") else {
        return Ok(window);
    };
    let w = Fields::nested(
        f,
        "window",
        value,
        f.entity.clone(),
        &["opens_before", "grace", "closes_after"],
    )?;
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

fn build_repeat_failure(f: &Fields<'_>) -> Res<RepeatFailureRule> {
    let mut rule = RepeatFailureRule::default();
    let Some(value) = f.get("repeat_failure") else {
        return Ok(rule);
    };
    let r = Fields::nested(
        f,
        "repeat_failure",
        value,
        f.entity.clone(),
        &["missed", "of_last"],
    )?;
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

const STEP_FIELDS: &[&str] = &[
    "key",
    "title",
    "kind",
    "required",
    "unit",
    "min",
    "max",
    "min_count",
    "options",
];

fn build_step(routine: &Fields<'_>, label: &Label, value: &Value, position: usize) -> Res<Step> {
    let step_label = match value {
        Value::Table(t) => label_of(t, position),
        _ => Label::Position(position),
    };
    let entity = Entity::Step {
        routine: label.clone(),
        step: step_label,
    };
    let s = Fields::nested(
        routine,
        &format!("steps[{position}]"),
        value,
        entity,
        STEP_FIELDS,
    )?;
    let key = s.key("key")?;
    let title = s.text("title")?;
    let required = s.opt_bool("required")?.unwrap_or(true);
    let kind_text = s.text("kind")?;
    let kind_name: &'static str = match kind_text.as_str() {
        "check" => "check",
        "reading" => "reading",
        "photo" => "photo",
        "choice" => "choice",
        "text" => "text",
        "signature" => "signature",
        _ => return Err(s.fault("kind", Problem::UnknownStepKind(kind_text))),
    };
    let takes: &[&str] = match kind_name {
        "reading" => &["unit", "min", "max"],
        "photo" => &["min_count"],
        "choice" => &["options"],
        _ => &[],
    };
    for field in ["unit", "min", "max", "min_count", "options"] {
        if s.get(field).is_some() && !takes.contains(&field) {
            return Err(s.fault(field, Problem::NotForStepKind { kind: kind_name }));
        }
    }
    let kind = match kind_name {
        "reading" => {
            let unit = match s.opt_str("unit")?.map(str::trim) {
                None | Some("") => return Err(s.fault("unit", Problem::ReadingWithoutUnit)),
                Some(u) => u.to_string(),
            };
            let min = s.opt_number("min")?;
            let max = s.opt_number("max")?;
            if let (Some(min), Some(max)) = (min, max)
                && min > max
            {
                return Err(s.fault("max", Problem::MinAboveMax { min, max }));
            }
            StepKind::Reading { unit, min, max }
        }
        "photo" => StepKind::Photo {
            min_count: s.opt_int("min_count", 1, 100)?.unwrap_or(1),
        },
        "choice" => {
            let mut options: Vec<String> = Vec::new();
            for (i, option) in s.strings("options")?.into_iter().enumerate() {
                let field = format!("options[{}]", i + 1);
                let option = option.trim();
                if option.is_empty() {
                    return Err(s.fault(&field, Problem::Empty));
                }
                if options.iter().any(|o| o == option) {
                    return Err(s.fault(&field, Problem::Duplicate(option.to_string())));
                }
                options.push(option.to_string());
            }
            if options.is_empty() {
                return Err(s.fault("options", Problem::ChoiceWithoutOptions));
            }
            StepKind::Choice { options }
        }
        "text" => StepKind::Text,
        "signature" => StepKind::Signature,
        _ => StepKind::Check,
    };
    Ok(Step {
        key,
        title,
        required,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
org = "Harbor Kitchen Group"

[[sites]]
key = "harbor"
name = "Harbor Kitchen"
time_zone = "America/New_York"
closed_on = ["sun"]
holidays = [{ date = "2026-12-25", name = "Christmas Day" }]

[[people]]
key = "maria"
name = "Maria Lopez"
roles = { harbor = "staff" }

[[people]]
key = "sam"
name = "Sam Reed"
roles = { harbor = "supervisor" }

[[absences]]
person = "maria"
from = "2026-12-01T00:00"
until = "2026-12-08T00:00"
reason = "annual leave"

[[routines]]
key = "fridge-temps"
site = "harbor"
title = "Fridge temperatures"
owner = "maria"
backup = "sam"
rrule = "FREQ=DAILY;BYHOUR=6,10,14,18,22;BYMINUTE=0"
start = "2026-01-01T06:00"
window = { opens_before = "30m", grace = "15m", closes_after = "2h" }

[[routines.steps]]
key = "walk-in"
title = "Walk-in cooler"
kind = "reading"
unit = "°C"
min = 1
max = 5

[[routines.escalation]]
after = "15m"
notify = ["assignee"]

[[routines.escalation]]
after = "30m"
notify = ["sam", "role:supervisor"]
renotify_every = "30m"
"#;

    fn parse(text: &str) -> Result<Org, RoutinesFileError> {
        parse_routines_file("examples/bad.toml", text)
    }

    /// The error message of `BASE` with `from` replaced by `to`.
    fn error_with(from: &str, to: &str) -> String {
        assert!(BASE.contains(from), "test edit {from:?} does not apply");
        match parse(&BASE.replacen(from, to, 1)) {
            Ok(_) => panic!("expected an error after replacing {from:?} with {to:?}"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn base_file_parses_with_deterministic_ids() {
        let org = parse(BASE).expect("base file is valid");
        assert_eq!(org.name, "Harbor Kitchen Group");
        assert_eq!(org.sites[0].id, site_id("harbor"));
        assert_eq!(
            org.sites[0].id.0,
            Uuid::new_v5(&PROOFLINE_NAMESPACE, b"site:harbor")
        );
        assert_eq!(
            org.routines[0].id.0,
            Uuid::new_v5(&PROOFLINE_NAMESPACE, b"routine:harbor/fridge-temps")
        );
        assert_eq!(org.people[1].id, person_id("sam"));
        assert_eq!(org.routines[0].version, 1);
        assert_eq!(org.routines[0].backup, Some(person_id("sam")));
        assert_eq!(org.routines[0].escalation[1].renotify_every_min, Some(30));
        assert_eq!(
            org.routines[0].escalation[1].notify,
            vec![
                Recipient::Person(person_id("sam")),
                Recipient::Role(Role::Supervisor)
            ]
        );
        assert_eq!(
            org.routines[0].steps[0].kind,
            StepKind::Reading {
                unit: "°C".into(),
                min: Some(1.0),
                max: Some(5.0)
            }
        );
        // Local midnight in New York (EST, UTC-5).
        assert_eq!(
            org.absences[0].from.to_rfc3339(),
            "2026-12-01T05:00:00+00:00"
        );
        assert_eq!(org.sites[0].closed_weekdays, vec![Weekday::Sun]);
    }

    #[test]
    fn toml_literals_and_offsets_are_accepted() {
        let text = BASE
            .replace("from = \"2026-12-01T00:00\"", "from = 2026-12-01T00:00:00Z")
            .replace(
                "start = \"2026-01-01T06:00\"",
                "start = 2026-01-01T06:00:00",
            )
            .replace("date = \"2026-12-25\"", "date = 2026-12-25");
        let org = parse(&text).expect("valid");
        assert_eq!(
            org.absences[0].from.to_rfc3339(),
            "2026-12-01T00:00:00+00:00"
        );
    }

    #[test]
    fn after_completion_cadence() {
        let org = parse(&BASE.replace(
            "rrule = \"FREQ=DAILY;BYHOUR=6,10,14,18,22;BYMINUTE=0\"",
            "after_completion = { days = 30, at = \"09:00\" }",
        ))
        .expect("valid");
        assert!(matches!(
            org.routines[0].cadence,
            Cadence::AfterCompletion { days: 30, .. }
        ));
    }

    #[test]
    fn durations_round_trip() {
        assert_eq!(parse_duration("15m"), Some(15));
        assert_eq!(parse_duration("1h30m"), Some(90));
        assert_eq!(parse_duration("1d"), Some(1440));
        assert_eq!(parse_duration("0"), Some(0));
        assert_eq!(parse_duration("30m1h"), None);
        assert_eq!(parse_duration("15"), None);
        assert_eq!(parse_duration("m"), None);
        assert_eq!(parse_duration("99999999999m"), None);
        assert_eq!(format_duration(90), "1h30m");
        assert_eq!(format_duration(60), "1h");
        assert_eq!(format_duration(1440), "1d");
        assert_eq!(format_duration(0), "0m");
    }

    #[test]
    fn error_syntax_with_line() {
        assert_eq!(
            error_with("title = \"Fridge temperatures\"", "title = \"Fridge"),
            "examples/bad.toml: line 30, column 16: invalid TOML: invalid basic string, expected `\"`"
        );
    }

    #[test]
    fn error_unreadable_file() {
        let err = load_routines_file(Path::new("/nonexistent/proofline.toml"))
            .expect_err("no such file")
            .to_string();
        assert!(
            err.starts_with("/nonexistent/proofline.toml: cannot read the file: "),
            "{err}"
        );
    }

    #[test]
    fn error_missing_org() {
        assert_eq!(
            error_with("org = \"Harbor Kitchen Group\"", ""),
            "examples/bad.toml: field org: missing"
        );
    }

    #[test]
    fn error_unknown_top_level_field() {
        assert_eq!(
            error_with("org = \"Harbor Kitchen Group\"", "org = \"X\"\nsite = 1"),
            "examples/bad.toml: field site: unknown field (expected one of: org, sites, people, absences, routines)"
        );
    }

    #[test]
    fn error_unknown_time_zone() {
        assert_eq!(
            error_with("America/New_York", "America/Nowhere"),
            "examples/bad.toml: site \"harbor\": field time_zone: unknown time zone \"America/Nowhere\""
        );
    }

    #[test]
    fn error_bad_key() {
        assert_eq!(
            error_with("key = \"harbor\"", "key = \"harbor kitchen\""),
            "examples/bad.toml: site #1: field key: \"harbor kitchen\" is not a valid key (use letters, digits, '-' and '_')"
        );
    }

    #[test]
    fn error_wrong_type() {
        assert_eq!(
            error_with("name = \"Harbor Kitchen\"", "name = 5"),
            "examples/bad.toml: site \"harbor\": field name: expected a string, found an integer"
        );
    }

    #[test]
    fn error_unknown_weekday() {
        assert_eq!(
            error_with(
                "closed_on = [\"sun\"]",
                "closed_on = [\"sunday\", \"funday\"]"
            ),
            "examples/bad.toml: site \"harbor\": field closed_on[2]: unknown weekday \"funday\" (expected mon, tue, wed, thu, fri, sat or sun)"
        );
    }

    #[test]
    fn error_bad_holiday_date() {
        assert_eq!(
            error_with("2026-12-25", "2026-12-32"),
            "examples/bad.toml: site \"harbor\": field holidays[1].date: \"2026-12-32\" is not a date (use YYYY-MM-DD)"
        );
    }

    #[test]
    fn error_duplicate_site() {
        let text = BASE.replacen(
            "[[people]]",
            "[[sites]]\nkey = \"harbor\"\nname = \"Again\"\ntime_zone = \"UTC\"\n\n[[people]]",
            1,
        );
        assert_eq!(
            parse(&text).expect_err("duplicate").to_string(),
            "examples/bad.toml: site \"harbor\": field key: \"harbor\" is defined more than once"
        );
    }

    #[test]
    fn error_duplicate_person() {
        assert_eq!(
            error_with("key = \"sam\"", "key = \"maria\""),
            "examples/bad.toml: person \"maria\": field key: \"maria\" is defined more than once"
        );
    }

    #[test]
    fn error_person_unknown_site() {
        assert_eq!(
            error_with(
                "roles = { harbor = \"staff\" }",
                "roles = { pier = \"staff\" }"
            ),
            "examples/bad.toml: person \"maria\": field roles.pier: unknown site \"pier\""
        );
    }

    #[test]
    fn error_person_unknown_role() {
        assert_eq!(
            error_with(
                "roles = { harbor = \"staff\" }",
                "roles = { harbor = \"chef\" }"
            ),
            "examples/bad.toml: person \"maria\": field roles.harbor: unknown role \"chef\" (expected staff, supervisor, lead or admin)"
        );
    }

    #[test]
    fn error_absence_unknown_person() {
        assert_eq!(
            error_with("person = \"maria\"", "person = \"mario\""),
            "examples/bad.toml: absence #1 (person \"mario\"): field person: unknown person \"mario\""
        );
    }

    #[test]
    fn error_absence_bad_date() {
        assert_eq!(
            error_with("until = \"2026-12-08T00:00\"", "until = \"next week\""),
            "examples/bad.toml: absence #1 (person \"maria\"): field until: \"next week\" is not a date-time (use YYYY-MM-DDTHH:MM in the person's site zone, a date, or RFC 3339 with offset)"
        );
    }

    #[test]
    fn error_absence_ends_before_start() {
        assert_eq!(
            error_with("until = \"2026-12-08T00:00\"", "until = \"2026-11-30\""),
            "examples/bad.toml: absence #1 (person \"maria\"): field until: the absence ends before it starts (2026-11-30T00:00:00-05:00 is not after 2026-12-01T00:00:00-05:00)"
        );
    }

    #[test]
    fn error_broken_rrule() {
        assert_eq!(
            error_with("BYMINUTE=0\"", "BYMINUTE=0;BYMONTHDAY=32\""),
            "examples/bad.toml: routine \"fridge-temps\": field rrule: invalid rrule: BYMONTHDAY: 32 is out of range (1..31 or -31..-1)"
        );
    }

    #[test]
    fn error_no_cadence() {
        assert_eq!(
            error_with("rrule = \"FREQ=DAILY;BYHOUR=6,10,14,18,22;BYMINUTE=0\"", ""),
            "examples/bad.toml: routine \"fridge-temps\": field rrule: missing (a routine needs rrule or after_completion)"
        );
    }

    #[test]
    fn error_two_cadences() {
        assert_eq!(
            error_with(
                "start = \"2026-01-01T06:00\"",
                "start = \"2026-01-01T06:00\"\nafter_completion = { days = 30, at = \"09:00\" }"
            ),
            "examples/bad.toml: routine \"fridge-temps\": field after_completion: give either rrule or after_completion, not both"
        );
    }

    #[test]
    fn error_bad_start() {
        assert_eq!(
            error_with(
                "start = \"2026-01-01T06:00\"",
                "start = \"2026-01-01T25:00\""
            ),
            "examples/bad.toml: routine \"fridge-temps\": field start: \"2026-01-01T25:00\" is not a local date-time (use YYYY-MM-DDTHH:MM, without offset)"
        );
    }

    #[test]
    fn error_bad_exdate() {
        assert_eq!(
            error_with(
                "start = \"2026-01-01T06:00\"",
                "start = \"2026-01-01T06:00\"\nexdates = [\"2026-07-04T06:00\", \"July 5\"]"
            ),
            "examples/bad.toml: routine \"fridge-temps\": field exdates[2]: \"July 5\" is not a local date-time (use YYYY-MM-DDTHH:MM, without offset)"
        );
    }

    #[test]
    fn error_after_completion_zero_days() {
        assert_eq!(
            error_with(
                "rrule = \"FREQ=DAILY;BYHOUR=6,10,14,18,22;BYMINUTE=0\"",
                "after_completion = { days = 0, at = \"09:00\" }"
            ),
            "examples/bad.toml: routine \"fridge-temps\": field after_completion.days: 0 is too small (at least 1)"
        );
    }

    #[test]
    fn error_after_completion_bad_time() {
        assert_eq!(
            error_with(
                "rrule = \"FREQ=DAILY;BYHOUR=6,10,14,18,22;BYMINUTE=0\"",
                "after_completion = { days = 30, at = \"9am\" }"
            ),
            "examples/bad.toml: routine \"fridge-temps\": field after_completion.at: \"9am\" is not a time of day (use HH:MM)"
        );
    }

    #[test]
    fn error_unknown_site() {
        assert_eq!(
            error_with("site = \"harbor\"", "site = \"pier\""),
            "examples/bad.toml: routine \"fridge-temps\": field site: unknown site \"pier\""
        );
    }

    #[test]
    fn error_unknown_owner() {
        assert_eq!(
            error_with("owner = \"maria\"", "owner = \"dana\""),
            "examples/bad.toml: routine \"fridge-temps\": field owner: unknown person \"dana\""
        );
    }

    #[test]
    fn error_backup_not_member() {
        let text = BASE
            .replacen(
                "[[people]]",
                "[[sites]]\nkey = \"pier\"\nname = \"Pier\"\ntime_zone = \"UTC\"\n\n[[people]]",
                1,
            )
            .replace(
                "roles = { harbor = \"supervisor\" }",
                "roles = { pier = \"supervisor\" }",
            );
        assert_eq!(
            parse(&text).expect_err("not a member").to_string(),
            "examples/bad.toml: routine \"fridge-temps\": field backup: person \"sam\" is not a member of site \"harbor\""
        );
    }

    #[test]
    fn error_backup_is_owner() {
        assert_eq!(
            error_with("backup = \"sam\"", "backup = \"maria\""),
            "examples/bad.toml: routine \"fridge-temps\": field backup: the backup must be someone other than the owner \"maria\""
        );
    }

    #[test]
    fn error_duplicate_routine() {
        let second = "\n[[routines]]\nkey = \"fridge-temps\"\nsite = \"harbor\"\ntitle = \"Again\"\nowner = \"sam\"\nrrule = \"FREQ=DAILY\"\nstart = \"2026-01-01T06:00\"\n[[routines.steps]]\nkey = \"ok\"\ntitle = \"OK\"\nkind = \"check\"\n";
        assert_eq!(
            parse(&format!("{BASE}{second}"))
                .expect_err("duplicate")
                .to_string(),
            "examples/bad.toml: routine \"fridge-temps\": field key: \"fridge-temps\" is defined more than once"
        );
    }

    #[test]
    fn error_unknown_routine_field() {
        let err = error_with("title = \"Fridge temperatures\"", "titel = \"Fridge\"");
        assert!(
            err.starts_with(
                "examples/bad.toml: routine \"fridge-temps\": field titel: unknown field (expected one of: key, site, title,"
            ),
            "{err}"
        );
    }

    #[test]
    fn error_unknown_closed_day_policy() {
        assert_eq!(
            error_with(
                "start = \"2026-01-01T06:00\"",
                "start = \"2026-01-01T06:00\"\nclosed_days = \"never\""
            ),
            "examples/bad.toml: routine \"fridge-temps\": field closed_days: unknown closed-day policy \"never\" (expected skip, move_earlier, move_later or run_anyway)"
        );
    }

    #[test]
    fn error_bad_duration() {
        assert_eq!(
            error_with("grace = \"15m\"", "grace = \"15 minutes\""),
            "examples/bad.toml: routine \"fridge-temps\": field window.grace: \"15 minutes\" is not a duration (use e.g. 15m, 2h, 1h30m or 1d)"
        );
    }

    #[test]
    fn error_grace_after_close() {
        assert_eq!(
            error_with("grace = \"15m\"", "grace = \"3h\""),
            "examples/bad.toml: routine \"fridge-temps\": field window.grace: grace 3h is longer than closes_after 2h"
        );
    }

    #[test]
    fn error_repeat_failure() {
        assert_eq!(
            error_with(
                "start = \"2026-01-01T06:00\"",
                "start = \"2026-01-01T06:00\"\nrepeat_failure = { missed = 6, of_last = 5 }"
            ),
            "examples/bad.toml: routine \"fridge-temps\": field repeat_failure.missed: missed 6 is more than of_last 5"
        );
    }

    #[test]
    fn error_unknown_fallback_role() {
        assert_eq!(
            error_with(
                "start = \"2026-01-01T06:00\"",
                "start = \"2026-01-01T06:00\"\nfallback_role = \"boss\""
            ),
            "examples/bad.toml: routine \"fridge-temps\": field fallback_role: unknown role \"boss\" (expected staff, supervisor, lead or admin)"
        );
    }

    #[test]
    fn error_version_zero() {
        assert_eq!(
            error_with(
                "start = \"2026-01-01T06:00\"",
                "start = \"2026-01-01T06:00\"\nversion = 0"
            ),
            "examples/bad.toml: routine \"fridge-temps\": field version: 0 is too small (at least 1)"
        );
    }

    #[test]
    fn error_unknown_step_kind() {
        assert_eq!(
            error_with("kind = \"reading\"", "kind = \"number\""),
            "examples/bad.toml: routine \"fridge-temps\": step \"walk-in\": field kind: unknown step kind \"number\" (expected check, reading, photo, choice, text or signature)"
        );
    }

    #[test]
    fn error_reading_min_above_max() {
        assert_eq!(
            error_with("min = 1", "min = 8"),
            "examples/bad.toml: routine \"fridge-temps\": step \"walk-in\": field max: min 8 is above max 5"
        );
    }

    #[test]
    fn error_reading_without_unit() {
        assert_eq!(
            error_with("unit = \"°C\"", ""),
            "examples/bad.toml: routine \"fridge-temps\": step \"walk-in\": field unit: missing (a reading step needs a unit, e.g. \"°C\")"
        );
    }

    #[test]
    fn error_field_not_for_kind() {
        assert_eq!(
            error_with("kind = \"reading\"", "kind = \"check\""),
            "examples/bad.toml: routine \"fridge-temps\": step \"walk-in\": field unit: a check step does not take this field"
        );
    }

    #[test]
    fn error_choice_without_options() {
        assert_eq!(
            error_with(
                "kind = \"reading\"\nunit = \"°C\"\nmin = 1\nmax = 5",
                "kind = \"choice\"\noptions = []"
            ),
            "examples/bad.toml: routine \"fridge-temps\": step \"walk-in\": field options: missing (a choice step needs at least one option)"
        );
    }

    #[test]
    fn error_photo_min_count_zero() {
        assert_eq!(
            error_with(
                "kind = \"reading\"\nunit = \"°C\"\nmin = 1\nmax = 5",
                "kind = \"photo\"\nmin_count = 0"
            ),
            "examples/bad.toml: routine \"fridge-temps\": step \"walk-in\": field min_count: 0 is too small (at least 1)"
        );
    }

    #[test]
    fn error_duplicate_step() {
        let text = BASE.replacen(
            "[[routines.escalation]]",
            "[[routines.steps]]\nkey = \"walk-in\"\ntitle = \"Again\"\nkind = \"check\"\n\n[[routines.escalation]]",
            1,
        );
        assert_eq!(
            parse(&text).expect_err("duplicate").to_string(),
            "examples/bad.toml: routine \"fridge-temps\": step \"walk-in\": field key: \"walk-in\" is defined more than once"
        );
    }

    #[test]
    fn error_no_steps() {
        let start = BASE.find("[[routines.steps]]").unwrap_or(0);
        let end = BASE.find("[[routines.escalation]]").unwrap_or(0);
        let text = format!("{}{}", &BASE[..start], &BASE[end..]);
        assert_eq!(
            parse(&text).expect_err("no steps").to_string(),
            "examples/bad.toml: routine \"fridge-temps\": field steps: must not be empty"
        );
    }

    #[test]
    fn error_escalation_out_of_order() {
        assert_eq!(
            error_with("after = \"30m\"", "after = \"10m\""),
            "examples/bad.toml: routine \"fridge-temps\": escalation level 2: field after: 10m must be later than the previous level's 15m"
        );
    }

    #[test]
    fn error_escalation_unknown_person() {
        assert_eq!(
            error_with("notify = [\"sam\",", "notify = [\"dana\","),
            "examples/bad.toml: routine \"fridge-temps\": escalation level 2: field notify[1]: unknown person \"dana\""
        );
    }

    #[test]
    fn error_escalation_unknown_role() {
        assert_eq!(
            error_with("role:supervisor", "role:manager"),
            "examples/bad.toml: routine \"fridge-temps\": escalation level 2: field notify[2]: unknown role \"manager\" (expected staff, supervisor, lead or admin)"
        );
    }

    #[test]
    fn error_escalation_empty_notify() {
        assert_eq!(
            error_with("notify = [\"assignee\"]", "notify = []"),
            "examples/bad.toml: routine \"fridge-temps\": escalation level 1: field notify: must not be empty"
        );
    }

    #[test]
    fn example_files_parse() {
        for (name, text) in [
            (
                "examples/restaurant.toml",
                include_str!("../../examples/restaurant.toml"),
            ),
            (
                "examples/clinic.toml",
                include_str!("../../examples/clinic.toml"),
            ),
        ] {
            let org = match parse_routines_file(name, text) {
                Ok(org) => org,
                Err(err) => panic!("{err}"),
            };
            assert!(!org.routines.is_empty(), "{name}");
            assert!(!org.absences.is_empty(), "{name}");
            assert!(
                org.routines.iter().any(|r| r.escalation.len() >= 3),
                "{name}"
            );
        }
    }
}
