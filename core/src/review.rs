//! Review for site leads: missed checks and compliance figures per routine and per person.
