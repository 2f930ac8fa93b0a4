//! `proofline`: the admin and headless-device command line.
fn main() {}
