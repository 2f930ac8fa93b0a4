//! Attention feed: what needs a person now, most urgent first.
