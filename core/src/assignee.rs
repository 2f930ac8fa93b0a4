//! Assignee: exactly one named person per occurrence.
