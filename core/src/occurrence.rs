//! Occurrences: deterministic ids, windows and status.
