//! Routines as code: the TOML routines file, parsed and validated into an Org.
