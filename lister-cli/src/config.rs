//! The TOML configuration file: a default database and per-instance settings.
//!
//! ```toml
//! database_url = "postgres://lister@db.example.org/lister"
//!
//! [listers.github.default]
//! tokens = ["ghp_…", "ghp_…"]
//!
//! [listers.github.ghe]
//! url = "https://ghe.example.org/api/v3"
//! token_file = "/etc/lister/ghe.tokens"
//!
//! [listers.bitbucket.default]
//! username = "me"
//! app_password = "…"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};
use serde::Deserialize;
use url::Url;

/// The whole file. Unknown keys are errors, so a typo never silently does nothing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// The database to use when neither --database-url nor LISTER_DATABASE_URL is given.
    pub(crate) database_url: Option<String>,
    /// Settings per forge, then per instance.
    #[serde(default)]
    pub(crate) listers: BTreeMap<String, BTreeMap<String, InstanceConfig>>,
}

/// Settings of one lister instance.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstanceConfig {
    /// The API base URL.
    pub(crate) url: Option<Url>,
    /// Tokens, used in turn as their quotas run out.
    #[serde(default)]
    pub(crate) tokens: Vec<String>,
    /// A file of tokens, one per line.
    pub(crate) token_file: Option<PathBuf>,
    /// A user name for basic authentication (Bitbucket app passwords).
    pub(crate) username: Option<String>,
    /// The app password going with `username`.
    pub(crate) app_password: Option<String>,
    /// Default --max-pages.
    pub(crate) max_pages: Option<u64>,
    /// Default --base-git-url.
    pub(crate) base_git_url: Option<Url>,
    /// A GitHub App's id (with `app_installation_id` and `app_private_key_file`).
    pub(crate) app_id: Option<String>,
    /// The app's installation that lists.
    pub(crate) app_installation_id: Option<u64>,
    /// The app's private key (PEM).
    pub(crate) app_private_key_file: Option<PathBuf>,
}

impl std::fmt::Debug for InstanceConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstanceConfig")
            .field("url", &self.url.as_ref().map(Url::as_str))
            .field("tokens", &format_args!("[{} hidden]", self.tokens.len()))
            .field("token_file", &self.token_file)
            .field("username", &self.username)
            .field("app_password", &self.app_password.as_ref().map(|_| "***"))
            .field("max_pages", &self.max_pages)
            .field("base_git_url", &self.base_git_url.as_ref().map(Url::as_str))
            .field("app_id", &self.app_id)
            .field("app_installation_id", &self.app_installation_id)
            .field("app_private_key_file", &self.app_private_key_file)
            .finish()
    }
}

/// Where the configuration file is looked for when --config is not given.
pub(crate) fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "lister")
        .map(|dirs| dirs.config_dir().join("config.toml"))
}

impl Config {
    /// Reads `explicit` (which must exist), else the default file if there is one.
    pub(crate) fn load(explicit: Option<&Path>) -> anyhow::Result<Config> {
        let path = match explicit {
            Some(path) => path.to_owned(),
            None => match default_path().filter(|path| path.exists()) {
                Some(path) => path,
                None => return Ok(Config::default()),
            },
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).map_err(|err| {
            let line = err
                .span()
                .map(|span| text[..span.start].matches('\n').count() + 1);
            let at = line
                .map(|line| format!(" (line {line})"))
                .unwrap_or_default();
            anyhow!(
                "config file {}{at}: {}",
                path.display(),
                err.message().trim()
            )
        })
    }

    /// The settings of one instance (empty if the file has none).
    pub(crate) fn instance(&mut self, forge: &str, instance: &str) -> InstanceConfig {
        self.listers
            .get_mut(forge)
            .and_then(|instances| instances.remove(instance))
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<Config> {
        let dir = std::env::temp_dir().join(format!("lister-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{}.toml", text.len()));
        std::fs::write(&path, text)?;
        Config::load(Some(&path))
    }

    #[test]
    fn reads_instances() {
        let mut config = parse("[listers.github.ghe]\nurl = \"https://ghe.example.org/api/v3\"\ntokens = [\"a\", \"b\"]\n").unwrap();
        let ghe = config.instance("github", "ghe");
        assert_eq!(ghe.tokens, ["a", "b"]);
        assert!(
            !format!("{ghe:?}").contains("\"a\""),
            "tokens hidden from Debug"
        );
        assert!(config.instance("github", "default").tokens.is_empty());
    }

    #[test]
    fn the_readme_example_is_read_as_it_says() {
        let readme = include_str!("../../README.md");
        let example = readme.split("```toml\n").nth(1).unwrap();
        let example = example.split("```").next().unwrap();
        let mut config = parse(example).unwrap();
        let cgit = config.instance("cgit", "git.example.org");
        let base = cgit.base_git_url.map(String::from);
        assert_eq!(base.as_deref(), Some("https://git.example.org/git"));
        assert_eq!(config.instance("github", "ghe").max_pages, Some(1000));
    }

    #[test]
    fn unknown_keys_are_one_line_errors_with_the_line() {
        let err = parse("database_url = \"x\"\n[listers.github.default]\ntokenz = []\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("(line 3)") && err.contains("tokenz"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}
