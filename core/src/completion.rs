//! Completion validation: proof requirements of a routine's steps.
