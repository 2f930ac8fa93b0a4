//! A TOML table read as one entity's fields: typed getters whose faults name the entity and
//! the field (`window.grace`, `steps[2]`), and unknown fields rejected up front.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use toml::{Table, Value};

use super::error::{Entity, Fault, Label, Problem, Res, fault};
use super::values::{is_valid_key, parse_date, parse_duration, parse_local_datetime, parse_time};
use crate::model::Role;

/// How a TOML value's type is named in messages.
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

/// The `key` of an entry, for naming it in messages before it is validated.
pub(super) fn label_of(table: &Table, position: usize) -> Label {
    match table.get("key") {
        Some(Value::String(k)) if is_valid_key(k.trim()) => Label::Key(k.trim().to_string()),
        _ => Label::Position(position),
    }
}

/// One TOML table read as an entity's fields, with messages naming the entity and field.
pub(super) struct Fields<'a> {
    table: &'a Table,
    entity: Entity,
    /// Prepended to field names (`window.`).
    prefix: String,
}

impl<'a> Fields<'a> {
    pub(super) fn new(
        table: &'a Table,
        entity: Entity,
        prefix: &str,
        allowed: &[&str],
    ) -> Res<Self> {
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
    pub(super) fn nested(
        parent: &Fields<'_>,
        name: &str,
        value: &'a Value,
        entity: Entity,
        allowed: &[&str],
    ) -> Res<Self> {
        let table = value
            .as_table()
            .ok_or_else(|| parent.wrong(name, "a table", value))?;
        let prefix = if entity == parent.entity {
            format!("{}{name}.", parent.prefix)
        } else {
            String::new()
        };
        Fields::new(table, entity, &prefix, allowed)
    }

    /// Reads `value` (the value of field `name`) as a nested table of the same entity, whose
    /// fields are named `name.field`.
    pub(super) fn table_field(
        &self,
        name: &str,
        value: &'a Value,
        allowed: &[&str],
    ) -> Res<Fields<'a>> {
        Fields::nested(self, name, value, self.entity.clone(), allowed)
    }

    fn field_name(&self, field: &str) -> String {
        format!("{}{field}", self.prefix)
    }

    pub(super) fn fault(&self, field: &str, problem: Problem) -> Fault {
        fault(&self.entity, self.field_name(field), problem)
    }

    pub(super) fn get(&self, field: &str) -> Option<&'a Value> {
        self.table.get(field)
    }

    pub(super) fn wrong(&self, field: &str, expected: &'static str, value: &Value) -> Fault {
        self.fault(
            field,
            Problem::WrongType {
                expected,
                found: type_name(value),
            },
        )
    }

    pub(super) fn opt_str(&self, field: &str) -> Res<Option<&'a str>> {
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
    pub(super) fn text(&self, field: &str) -> Res<String> {
        let s = self.str(field)?.trim();
        if s.is_empty() {
            return Err(self.fault(field, Problem::Empty));
        }
        Ok(s.to_string())
    }

    pub(super) fn key(&self, field: &str) -> Res<String> {
        let key = self.text(field)?;
        if !is_valid_key(&key) {
            return Err(self.fault(field, Problem::BadKey(key)));
        }
        Ok(key)
    }

    /// `text`, written in `field`, as a role.
    pub(super) fn role(&self, field: &str, text: &str) -> Res<Role> {
        Role::parse(text.trim())
            .ok_or_else(|| self.fault(field, Problem::UnknownRole(text.to_string())))
    }

    pub(super) fn opt_int(&self, field: &str, min: i64, max: i64) -> Res<Option<u32>> {
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

    pub(super) fn opt_number(&self, field: &str) -> Res<Option<f64>> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Integer(n)) => Ok(Some(*n as f64)),
            Some(Value::Float(x)) if x.is_finite() => Ok(Some(*x)),
            Some(other) => Err(self.wrong(field, "a finite number", other)),
        }
    }

    pub(super) fn opt_bool(&self, field: &str) -> Res<Option<bool>> {
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

    /// Items of an array field (absent: empty).
    pub(super) fn array(&self, field: &str) -> Res<&'a [Value]> {
        Ok(self.opt_array(field)?.unwrap_or_default())
    }

    /// Items of an array field (absent: empty), each `pick`ed or else `expected`.
    fn items<T>(
        &self,
        field: &str,
        expected: &'static str,
        pick: impl Fn(&'a Value) -> Option<T>,
    ) -> Res<Vec<T>> {
        self.array(field)?
            .iter()
            .enumerate()
            .map(|(i, item)| {
                pick(item).ok_or_else(|| self.wrong(&format!("{field}[{}]", i + 1), expected, item))
            })
            .collect()
    }

    /// Strings of an array field (absent: empty).
    pub(super) fn strings(&self, field: &str) -> Res<Vec<&'a str>> {
        self.items(field, "a string", Value::as_str)
    }

    /// Tables of an array field (absent: empty), such as the top-level `[[sites]]`.
    pub(super) fn tables(&self, field: &str) -> Res<Vec<&'a Table>> {
        self.items(field, "a table", Value::as_table)
    }

    pub(super) fn opt_duration(&self, field: &str) -> Res<Option<u32>> {
        match self.opt_str(field)? {
            None => Ok(None),
            Some(s) => parse_duration(s)
                .map(Some)
                .ok_or_else(|| self.fault(field, Problem::BadDuration(s.to_string()))),
        }
    }

    /// Text of `value`, the value of `field`: a string or TOML date-time literal.
    fn datetime_text_of(&self, field: &str, value: &Value) -> Res<String> {
        match value {
            Value::String(s) => Ok(s.clone()),
            Value::Datetime(d) => Ok(d.to_string()),
            other => Err(self.wrong(field, "a date-time string", other)),
        }
    }

    /// Text of a string or TOML date-time literal.
    fn opt_datetime_text(&self, field: &str) -> Res<Option<String>> {
        self.get(field)
            .map(|value| self.datetime_text_of(field, value))
            .transpose()
    }

    /// Text of a required string or TOML date-time literal.
    pub(super) fn datetime_text(&self, field: &str) -> Res<String> {
        self.opt_datetime_text(field)?
            .ok_or_else(|| self.fault(field, Problem::Missing))
    }

    pub(super) fn opt_local_datetime(&self, field: &str) -> Res<Option<NaiveDateTime>> {
        self.get(field)
            .map(|value| self.local_datetime_value(field, value))
            .transpose()
    }

    /// `value`, the value of `field`, as a local date-time.
    pub(super) fn local_datetime_value(&self, field: &str, value: &Value) -> Res<NaiveDateTime> {
        let text = self.datetime_text_of(field, value)?;
        parse_local_datetime(&text)
            .ok_or_else(|| self.fault(field, Problem::BadLocalDateTime(text)))
    }

    pub(super) fn date(&self, field: &str) -> Res<NaiveDate> {
        let s = self.datetime_text(field)?;
        parse_date(&s).ok_or_else(|| self.fault(field, Problem::BadDate(s)))
    }

    pub(super) fn time(&self, field: &str) -> Res<NaiveTime> {
        let s = self.datetime_text(field)?;
        parse_time(&s).ok_or_else(|| self.fault(field, Problem::BadTime(s)))
    }
}
