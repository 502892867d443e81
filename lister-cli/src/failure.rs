//! How a command fails: a usage problem (exit 2) or a failure of the work (exit 1).

use std::process::ExitCode;

/// A failed command, with the exit code it maps to.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad arguments, configuration or credentials: exit 2, nothing was written.
    Usage(anyhow::Error),
    /// The work failed: exit 1.
    Failed(anyhow::Error),
}

impl Failure {
    pub(crate) fn usage(error: impl Into<anyhow::Error>) -> Failure {
        Failure::Usage(error.into())
    }

    pub(crate) fn failed(error: impl Into<anyhow::Error>) -> Failure {
        Failure::Failed(error.into())
    }

    /// Prints the error on one line and returns the exit code.
    pub(crate) fn report(self) -> ExitCode {
        let (error, code) = match self {
            Failure::Usage(error) => (error, 2),
            Failure::Failed(error) => (error, 1),
        };
        // `{:#}` joins the context chain on one line.
        eprintln!("error: {error:#}");
        ExitCode::from(code)
    }
}

/// Exit code of a run interrupted by Ctrl-C or SIGTERM.
pub(crate) const INTERRUPTED: u8 = 130;
