//! Agenda: a person's checks for today and the full detail of one occurrence.
