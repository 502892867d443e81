//! Running the real `lister` binary in tests.

#![allow(dead_code, unreachable_pub)]

use std::process::Output;

/// The outcome of one `lister` invocation.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The `--json` summary printed on stdout.
    pub fn summary(&self) -> serde_json::Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|err| panic!("no JSON summary ({err}): {self:?}"))
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A `lister` command with a database and no ambient configuration or credentials.
pub fn lister(database: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_lister"));
    command.arg("--database-url").arg(database);
    for var in [
        "LISTER_DATABASE_URL",
        "RUST_LOG",
        "GITHUB_TOKEN",
        "GITHUB_TOKENS",
        "BITBUCKET_TOKEN",
        "BITBUCKET_USERNAME",
        "BITBUCKET_APP_PASSWORD",
        "GITHUB_APP_ID",
        "GITHUB_APP_INSTALLATION_ID",
        "GITHUB_APP_PRIVATE_KEY_FILE",
    ] {
        command.env_remove(var);
    }
    // No config file from the machine: point the config directory at an empty one.
    command.env(
        "XDG_CONFIG_HOME",
        std::env::temp_dir().join("lister-e2e-no-config"),
    );
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
    out.stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

/// The cursor the first lister instance saved, as `lister listers --json` shows it.
pub async fn saved_cursor(db: &str) -> Option<u64> {
    let out = run(lister(db).args(["listers", "--json"])).await;
    let row: serde_json::Value = serde_json::from_str(out.stdout.lines().next()?).ok()?;
    row["state"]["cursor"].as_u64()
}

/// Which forge a scenario lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forge {
    GitHub,
    Bitbucket,
}

impl Forge {
    pub fn name(self) -> &'static str {
        match self {
            Forge::GitHub => "github",
            Forge::Bitbucket => "bitbucket",
        }
    }

    pub fn url(self, forge: &lister_tests::fake_forge::FakeForge) -> String {
        match self {
            Forge::GitHub => forge.github_url().to_string(),
            Forge::Bitbucket => forge.bitbucket_url().to_string(),
        }
    }

    /// Every origin URL the fake forge holds for this forge.
    pub fn expected_urls(
        self,
        forge: &lister_tests::fake_forge::FakeForge,
    ) -> std::collections::BTreeSet<String> {
        match self {
            Forge::GitHub => forge.github_html_urls().into_iter().collect(),
            Forge::Bitbucket => forge
                .bitbucket_full_names()
                .into_iter()
                .map(|name| format!("https://bitbucket.org/{name}.git"))
                .collect(),
        }
    }
}

/// A run of `lister run FORGE --json` bounded in time: a hang fails the test.
pub async fn list(
    db: &str,
    forge: Forge,
    fake: &lister_tests::fake_forge::FakeForge,
    args: &[&str],
    env: &[(&str, &str)],
) -> Run {
    let url = forge.url(fake);
    let mut command = lister(db);
    command
        .args(["run", forge.name(), "--url", &url, "--json"])
        .args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    tokio::time::timeout(std::time::Duration::from_secs(120), run(&mut command))
        .await
        .expect("lister must never hang")
}

/// Asserts a complete listing: exit 0, every repository exactly once.
pub async fn assert_complete(
    db: &str,
    forge: Forge,
    fake: &lister_tests::fake_forge::FakeForge,
    out: &Run,
) {
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.summary()["stopped"], "end_of_listing", "{out:?}");
    let listed = exported(db, forge.name()).await;
    let urls: std::collections::BTreeSet<String> = listed
        .iter()
        .map(|o| o["url"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(urls.len(), listed.len(), "an origin listed twice");
    assert_eq!(
        urls,
        forge.expected_urls(fake),
        "the listing is incomplete or has strays"
    );
}
