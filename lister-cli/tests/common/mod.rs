//! Running the real `lister` binary in tests.

#![allow(dead_code, unreachable_pub)]

use std::process::Output;

use lister_core::testing::TestDatabase;

/// The outcome of one `lister` invocation.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The `--json` summary printed on stdout.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|err| panic!("no JSON summary ({err}): {self:?}"))
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// A `lister` command with a database and no ambient configuration or credentials.
pub fn lister(database: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_lister"));
    command.arg("--database-url").arg(database);
    for var in ["LISTER_DATABASE_URL", "RUST_LOG", "GITHUB_TOKEN", "GITHUB_TOKENS", "BITBUCKET_TOKEN",
        "BITBUCKET_USERNAME", "BITBUCKET_APP_PASSWORD"] {
        command.env_remove(var);
    }
    // No config file from the machine: point the config directory at an empty one.
    command.env("XDG_CONFIG_HOME", std::env::temp_dir().join("lister-e2e-no-config"));
    command.kill_on_drop(true);
    command
}

/// Runs `command` to completion.
pub async fn run(command: &mut tokio::process::Command) -> Run {
    let output: Output = command.output().await.expect("run lister");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `lister origins --format jsonl`, parsed.
pub async fn exported(database: &str, lister_name: &str) -> Vec<serde_json::Value> {
    let out = run(lister(database).args(["origins", "--lister", lister_name])).await;
    assert_eq!(out.code, 0, "{out:?}");
    out.stdout.lines().map(|line| serde_json::from_str(line).expect("a JSON line")).collect()
}

/// The databases to run end-to-end tests on.
pub async fn databases() -> Vec<TestDatabase> {
    TestDatabase::all().await
}
