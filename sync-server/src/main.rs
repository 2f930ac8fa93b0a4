//! `proofline-server`.
fn main() {}
