//! Site plans: occurrences of a period with assignee, window, escalation and status.
