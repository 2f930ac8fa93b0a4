//! Reminders: what the shell should schedule as local notifications while offline.
