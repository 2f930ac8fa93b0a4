//! Completion validation: proof requirements of a routine's steps.
//!
//! A completion only counts when its step results meet every requirement. [`validate`]
//! lists every unmet one, so the check screen can show them all at once rather than one
//! per attempt.

use std::fmt;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::model::{Routine, Step, StepAnswer, StepKind, StepResult};

/// One unmet proof requirement of one step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Error)]
#[error("{step_title}: {problem}")]
pub struct ProofProblem {
    /// The step's key (or the unknown key answered).
    pub step: String,
    /// The step's title (the key itself for an unknown step).
    pub step_title: String,
    /// What is wrong.
    pub problem: ProblemKind,
}

/// What is wrong with a step's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProblemKind {
    /// A required step has no answer (or only blank text).
    Unanswered,
    /// A reading is outside its allowed range and has no corrective action.
    OutOfRange {
        /// The value read.
        value: f64,
        /// Its unit.
        unit: String,
        /// Lowest allowed value.
        min: Option<f64>,
        /// Highest allowed value.
        max: Option<f64>,
    },
    /// A reading is not a finite number.
    NotANumber,
    /// Fewer photos than required.
    TooFewPhotos {
        /// Photos given.
        given: usize,
        /// Photos required.
        min_count: u32,
    },
    /// A signature with no data.
    EmptySignature,
    /// A choice that is not one of the step's options.
    NotAnOption {
        /// The option given.
        option: String,
        /// The allowed options.
        options: Vec<String>,
    },
    /// The answer is of another kind than the step (e.g. a photo for a reading).
    WrongKind {
        /// The step's kind (`check`, `reading`, `photo`, `choice`, `text`, `signature`).
        expected: String,
        /// The answer's kind (`checked`, `reading`, `photos`, `choice`, `text`, `signature`).
        given: String,
    },
    /// An answer to a step the routine does not have.
    UnknownStep,
    /// The same step answered more than once.
    AnsweredTwice,
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::Unanswered => f.write_str("required, but not answered"),
            ProblemKind::OutOfRange {
                value,
                unit,
                min,
                max,
            } => {
                let value = with_unit(*value, unit);
                match (min, max) {
                    (Some(lo), Some(hi)) => {
                        write!(f, "{value} is outside {lo}–{}", with_unit(*hi, unit))?
                    }
                    (Some(lo), None) => write!(
                        f,
                        "{value} is below the minimum of {}",
                        with_unit(*lo, unit)
                    )?,
                    (None, Some(hi)) => write!(
                        f,
                        "{value} is above the maximum of {}",
                        with_unit(*hi, unit)
                    )?,
                    (None, None) => write!(f, "{value} is out of range")?,
                }
                f.write_str("; add a corrective action")
            }
            ProblemKind::NotANumber => f.write_str("the reading is not a number"),
            ProblemKind::TooFewPhotos { given, min_count } => {
                let photos = match given {
                    0 => "no photo".to_string(),
                    1 => "1 photo".to_string(),
                    n => format!("{n} photos"),
                };
                write!(f, "{photos}, at least {min_count} needed")
            }
            ProblemKind::EmptySignature => f.write_str("the signature is empty"),
            ProblemKind::NotAnOption { option, options } => write!(
                f,
                "\u{201c}{option}\u{201d} is not one of the options ({})",
                options.join(", ")
            ),
            ProblemKind::WrongKind { expected, given } => write!(
                f,
                "expected {}, got {}",
                step_kind_phrase(expected),
                answer_kind_phrase(given)
            ),
            ProblemKind::UnknownStep => f.write_str("no such step in this routine"),
            ProblemKind::AnsweredTwice => f.write_str("answered more than once"),
        }
    }
}

/// Checks step results against the routine's proof requirements, listing every unmet one:
/// in step order, then unknown steps in the order answered.
pub fn validate(routine: &Routine, results: &[StepResult]) -> Result<(), Vec<ProofProblem>> {
    let mut problems = Vec::new();
    for step in &routine.steps {
        let mut answers = results.iter().filter(|r| r.step == step.key);
        let Some(first) = answers.next() else {
            if step.required {
                problems.push(problem(step, ProblemKind::Unanswered));
            }
            continue;
        };
        let rest: Vec<_> = answers.collect();
        if !rest.is_empty() {
            problems.push(problem(step, ProblemKind::AnsweredTwice));
        }
        for answer in std::iter::once(first).chain(rest) {
            if let Some(kind) = check_answer(step, &answer.answer) {
                problems.push(problem(step, kind));
            }
        }
    }
    let mut unknown: Vec<&str> = Vec::new();
    for r in results {
        if !routine.steps.iter().any(|s| s.key == r.step) && !unknown.contains(&r.step.as_str()) {
            unknown.push(&r.step);
            problems.push(ProofProblem {
                step: r.step.clone(),
                step_title: r.step.clone(),
                problem: ProblemKind::UnknownStep,
            });
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

fn problem(step: &Step, problem: ProblemKind) -> ProofProblem {
    ProofProblem {
        step: step.key.clone(),
        step_title: step.title.clone(),
        problem,
    }
}

/// The problem with one answer to `step`, if any.
fn check_answer(step: &Step, answer: &StepAnswer) -> Option<ProblemKind> {
    match (&step.kind, answer) {
        (StepKind::Check, StepAnswer::Checked) => None,
        (
            StepKind::Reading { unit, min, max },
            StepAnswer::Reading {
                value,
                corrective_action,
            },
        ) => {
            if !value.is_finite() {
                return Some(ProblemKind::NotANumber);
            }
            let in_range = min.is_none_or(|lo| *value >= lo) && max.is_none_or(|hi| *value <= hi);
            let corrected = corrective_action
                .as_deref()
                .is_some_and(|a| !a.trim().is_empty());
            (!in_range && !corrected).then(|| ProblemKind::OutOfRange {
                value: *value,
                unit: unit.clone(),
                min: *min,
                max: *max,
            })
        }
        (StepKind::Photo { min_count }, StepAnswer::Photos { sha256 }) => {
            let given = sha256.len();
            let needed = usize::try_from(*min_count).unwrap_or(usize::MAX);
            (given < needed).then_some(ProblemKind::TooFewPhotos {
                given,
                min_count: *min_count,
            })
        }
        (StepKind::Choice { options }, StepAnswer::Choice { option }) => {
            (!options.contains(option)).then(|| ProblemKind::NotAnOption {
                option: option.clone(),
                options: options.clone(),
            })
        }
        (StepKind::Text, StepAnswer::Text { text }) => {
            (step.required && text.trim().is_empty()).then_some(ProblemKind::Unanswered)
        }
        (StepKind::Signature, StepAnswer::Signature { data }) => data
            .trim()
            .is_empty()
            .then_some(ProblemKind::EmptySignature),
        (kind, answer) => Some(ProblemKind::WrongKind {
            expected: step_kind_name(kind).to_string(),
            given: answer_kind_name(answer).to_string(),
        }),
    }
}

fn step_kind_name(kind: &StepKind) -> &'static str {
    match kind {
        StepKind::Check => "check",
        StepKind::Reading { .. } => "reading",
        StepKind::Photo { .. } => "photo",
        StepKind::Choice { .. } => "choice",
        StepKind::Text => "text",
        StepKind::Signature => "signature",
    }
}

fn answer_kind_name(answer: &StepAnswer) -> &'static str {
    match answer {
        StepAnswer::Checked => "checked",
        StepAnswer::Reading { .. } => "reading",
        StepAnswer::Photos { .. } => "photos",
        StepAnswer::Choice { .. } => "choice",
        StepAnswer::Text { .. } => "text",
        StepAnswer::Signature { .. } => "signature",
    }
}

fn step_kind_phrase(name: &str) -> &str {
    match name {
        "check" => "a tick",
        "reading" => "a reading",
        "photo" => "photos",
        "choice" => "a choice",
        "text" => "text",
        "signature" => "a signature",
        other => other,
    }
}

fn answer_kind_phrase(name: &str) -> &str {
    match name {
        "checked" => "a tick",
        "reading" => "a reading",
        "photos" => "photos",
        "choice" => "a choice",
        "text" => "text",
        "signature" => "a signature",
        other => other,
    }
}

/// `7.5 °C`; no space when the unit is empty.
fn with_unit(value: f64, unit: &str) -> String {
    if unit.is_empty() {
        value.to_string()
    } else {
        format!("{value} {unit}")
    }
}
