//! Escalation timeline: which levels fired, whom they notify, what ends the chain.
