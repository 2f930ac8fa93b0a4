//! A routine's `[[routines.steps]]`: key, title, whether required, and a kind with the fields
//! only that kind takes (a reading's unit and range, a photo's count, a choice's options).

use toml::Value;

use super::error::{Entity, Label, Problem, Res, duplicate_key};
use super::fields::{Fields, label_of};
use crate::model::{Step, StepKind};

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

/// The `steps` of `routine` (labelled `label`): at least one, keys unique.
pub(super) fn build_steps(routine: &Fields<'_>, label: &Label) -> Res<Vec<Step>> {
    let mut steps: Vec<Step> = Vec::new();
    for (i, item) in routine.array("steps")?.iter().enumerate() {
        let step = build_step(routine, label, item, i + 1)?;
        if steps.iter().any(|s| s.key == step.key) {
            return Err(duplicate_key(
                |step| Entity::Step {
                    routine: label.clone(),
                    step,
                },
                step.key,
            ));
        }
        steps.push(step);
    }
    if steps.is_empty() {
        return Err(routine.fault("steps", Problem::Empty));
    }
    Ok(steps)
}

/// The step at 1-based `position`.
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
