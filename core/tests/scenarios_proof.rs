//! Proof requirements: what a completion must contain for each kind of step, and the
//! messages a person sees when it does not.

mod common;

use common::*;
use proofline_core::completion::{ProblemKind, validate};
use proofline_core::model::{Routine, Step, StepAnswer, StepKind, StepResult};

fn step(key: &str, title: &str, required: bool, kind: StepKind) -> Step {
    Step {
        key: key.into(),
        title: title.into(),
        required,
        kind,
    }
}

fn answer(step: &str, answer: StepAnswer) -> StepResult {
    StepResult {
        step: step.into(),
        answer,
    }
}

fn reading(value: f64, corrective: Option<&str>) -> StepAnswer {
    StepAnswer::Reading {
        value,
        corrective_action: corrective.map(Into::into),
    }
}

/// A closing routine with every kind of step.
fn closing() -> Routine {
    let h = harbor();
    let mut r = daily(
        0xC1,
        h.site,
        "closing",
        "Closing checks",
        h.maria,
        "2026-03-09 22:00",
    );
    r.steps = vec![
        step(
            "walk-in",
            "Walk-in fridge",
            true,
            StepKind::Reading {
                unit: "°C".into(),
                min: Some(1.0),
                max: Some(5.0),
            },
        ),
        step(
            "freezer",
            "Freezer",
            true,
            StepKind::Reading {
                unit: "°C".into(),
                min: None,
                max: Some(-18.0),
            },
        ),
        step(
            "floor",
            "Floor photos",
            true,
            StepKind::Photo { min_count: 2 },
        ),
        step(
            "state",
            "Fryer oil",
            true,
            StepKind::Choice {
                options: vec!["Fresh".into(), "Changed".into()],
            },
        ),
        step("notes", "Notes", false, StepKind::Text),
        step("gas", "Gas off", true, StepKind::Check),
        step("sign", "Closing signature", true, StepKind::Signature),
    ];
    r
}

fn complete() -> Vec<StepResult> {
    vec![
        answer("walk-in", reading(3.0, None)),
        answer("freezer", reading(-20.0, None)),
        answer(
            "floor",
            StepAnswer::Photos {
                sha256: vec!["a1".repeat(32), "b2".repeat(32)],
            },
        ),
        answer(
            "state",
            StepAnswer::Choice {
                option: "Fresh".into(),
            },
        ),
        answer("gas", StepAnswer::Checked),
        answer(
            "sign",
            StepAnswer::Signature {
                data: "M0,0 L10,10".into(),
            },
        ),
    ]
}

/// `complete()` with one step's answer replaced (or removed with `None`).
fn with(key: &str, replacement: Option<StepAnswer>) -> Vec<StepResult> {
    let mut results: Vec<StepResult> = complete().into_iter().filter(|r| r.step != key).collect();
    if let Some(a) = replacement {
        results.push(answer(key, a));
    }
    results
}

fn messages(results: &[StepResult]) -> Vec<String> {
    match validate(&closing(), results) {
        Ok(()) => vec![],
        Err(problems) => problems.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn proof_requirements_by_step_kind() {
    let cases: Vec<(&str, Vec<StepResult>, Vec<&str>)> = vec![
        ("every requirement met is accepted", complete(), vec![]),
        ("optional step may be skipped", with("notes", None), vec![]),
        (
            "optional text may be blank",
            with("notes", Some(StepAnswer::Text { text: " ".into() })),
            vec![],
        ),
        (
            "reading out of range without corrective action is rejected",
            with("walk-in", Some(reading(7.5, None))),
            vec!["Walk-in fridge: 7.5 °C is outside 1–5 °C; add a corrective action"],
        ),
        (
            "blank corrective action does not count",
            with("walk-in", Some(reading(0.5, Some("  ")))),
            vec!["Walk-in fridge: 0.5 °C is outside 1–5 °C; add a corrective action"],
        ),
        (
            "reading out of range with corrective action is accepted",
            with(
                "walk-in",
                Some(reading(
                    7.5,
                    Some("Moved stock to the reach-in, called the technician"),
                )),
            ),
            vec![],
        ),
        (
            "reading at the range limit is accepted",
            with("walk-in", Some(reading(5.0, None))),
            vec![],
        ),
        (
            "reading above a maximum-only range is rejected",
            with("freezer", Some(reading(-12.0, None))),
            vec!["Freezer: -12 °C is above the maximum of -18 °C; add a corrective action"],
        ),
        (
            "reading that is not a number is rejected",
            with("walk-in", Some(reading(f64::NAN, None))),
            vec!["Walk-in fridge: the reading is not a number"],
        ),
        (
            "required step unanswered is rejected",
            with("gas", None),
            vec!["Gas off: required, but not answered"],
        ),
        (
            "fewer photos than required is rejected",
            with(
                "floor",
                Some(StepAnswer::Photos {
                    sha256: vec!["c3".repeat(32)],
                }),
            ),
            vec!["Floor photos: 1 photo, at least 2 needed"],
        ),
        (
            "no photo is rejected",
            with("floor", Some(StepAnswer::Photos { sha256: vec![] })),
            vec!["Floor photos: no photo, at least 2 needed"],
        ),
        (
            "empty signature is rejected",
            with(
                "sign",
                Some(StepAnswer::Signature {
                    data: String::new(),
                }),
            ),
            vec!["Closing signature: the signature is empty"],
        ),
        (
            "choice not among the options is rejected",
            with(
                "state",
                Some(StepAnswer::Choice {
                    option: "Looks fine".into(),
                }),
            ),
            vec!["Fryer oil: “Looks fine” is not one of the options (Fresh, Changed)"],
        ),
        (
            "answer of the wrong kind is rejected",
            with("walk-in", Some(StepAnswer::Checked)),
            vec!["Walk-in fridge: expected a reading, got a tick"],
        ),
        (
            "unknown step is rejected",
            [complete(), vec![answer("lights", StepAnswer::Checked)]].concat(),
            vec!["lights: no such step in this routine"],
        ),
        (
            "a step answered twice is rejected",
            [complete(), vec![answer("gas", StepAnswer::Checked)]].concat(),
            vec!["Gas off: answered more than once"],
        ),
        (
            "every unmet requirement is listed, in step order",
            vec![
                answer("extra", StepAnswer::Checked),
                answer("sign", StepAnswer::Signature { data: " ".into() }),
                answer("walk-in", reading(9.0, None)),
                answer(
                    "floor",
                    StepAnswer::Text {
                        text: "took them".into(),
                    },
                ),
            ],
            vec![
                "Walk-in fridge: 9 °C is outside 1–5 °C; add a corrective action",
                "Freezer: required, but not answered",
                "Floor photos: expected photos, got text",
                "Fryer oil: required, but not answered",
                "Gas off: required, but not answered",
                "Closing signature: the signature is empty",
                "extra: no such step in this routine",
            ],
        ),
    ];
    for (name, results, expected) in cases {
        assert_eq!(messages(&results), expected, "{name}");
    }
}

#[test]
fn problems_name_the_step_by_key() {
    let problems =
        validate(&closing(), &with("walk-in", Some(reading(7.5, None)))).expect_err("out of range");
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].step, "walk-in");
    assert_eq!(problems[0].step_title, "Walk-in fridge");
    assert_eq!(
        problems[0].problem,
        ProblemKind::OutOfRange {
            value: 7.5,
            unit: "°C".into(),
            min: Some(1.0),
            max: Some(5.0)
        }
    );
}
