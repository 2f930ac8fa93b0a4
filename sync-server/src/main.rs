//! `proofline-server`: see [`proofline_server::cli`].

fn main() -> std::process::ExitCode {
    proofline_server::cli::main()
}
