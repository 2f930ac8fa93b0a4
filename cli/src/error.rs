//! The CLI's error: bad input (exit 2) or a failure (exit 1), printed as one line.

use std::fmt;

/// Why a command did not succeed.
#[derive(Debug)]
pub enum CliError {
    /// Something the user typed, or a file they gave, is wrong: exit 2.
    BadInput(String),
    /// The command could not do its work: exit 1.
    Failed(String),
}

impl CliError {
    /// A bad-input error about a flag: `--tz: unknown time zone "X"`.
    pub fn flag(flag: &str, problem: impl fmt::Display) -> CliError {
        CliError::BadInput(format!("{flag}: {problem}"))
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::BadInput(_) => 2,
            CliError::Failed(_) => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            CliError::BadInput(m) | CliError::Failed(m) => m,
        };
        // Always one line, whatever the source said.
        let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
        if let Some(first) = lines.next() {
            f.write_str(first)?;
        }
        for line in lines {
            write!(f, " {line}")?;
        }
        Ok(())
    }
}
