//! The real `proofline-server`, built as a binary of the end-to-end test crate so the
//! integration tests can start it as a child process (`CARGO_BIN_EXE_e2e-server`).

use std::process::ExitCode;

fn main() -> ExitCode {
    proofline_server::cli::main()
}
