//! The forges this binary knows: adding a forge crate means adding one line here.

use lister_core::{Forge, Lister};
use lister_http::TransportConfig;
use url::Url;

/// Builds a runnable lister from an instance name, an address and a transport.
pub(crate) type Build =
    fn(Option<&str>, Option<Url>, TransportConfig) -> Result<Box<dyn Lister>, lister_http::Error>;

/// A forge's entry: its name, its main instance and how to build a runnable lister.
pub(crate) struct Entry {
    pub(crate) name: &'static str,
    pub(crate) default_url: &'static str,
    pub(crate) needs_credential: bool,
    pub(crate) build: Build,
}

const fn entry<F: Forge + Default>() -> Entry {
    Entry {
        name: F::NAME,
        default_url: F::DEFAULT_URL,
        needs_credential: F::NEEDS_CREDENTIAL,
        build: build::<F>,
    }
}

fn build<F: Forge + Default>(
    instance: Option<&str>,
    url: Option<Url>,
    config: TransportConfig,
) -> Result<Box<dyn Lister>, lister_http::Error> {
    let listing = lister_http::http_listing(F::default(), instance, url, config)?;
    Ok(Box::new(listing))
}

/// Every forge, in the order `lister forges` and `--help` show them.
pub(crate) const FORGES: &[Entry] = &[
    entry::<lister_github::GitHub>(),
    entry::<lister_bitbucket::Bitbucket>(),
    entry::<lister_gitlab::GitLab>(),
    entry::<lister_gitlab::Heptapod>(),
    entry::<lister_gitea::Gitea>(),
    entry::<lister_gitea::Forgejo>(),
    entry::<lister_gitea::Gogs>(),
    entry::<lister_phabricator::Phabricator>(),
    entry::<lister_phabricator::Phorge>(),
];

/// The forges' names.
pub(crate) fn names() -> Vec<&'static str> {
    FORGES.iter().map(|forge| forge.name).collect()
}

/// The forge called `name`.
pub(crate) fn find(name: &str) -> Option<&'static Entry> {
    FORGES.iter().find(|forge| forge.name == name)
}

/// `lister forges`: each forge with its main instance and the credential variables it reads.
pub(crate) fn print_forges() -> Result<std::process::ExitCode, crate::failure::Failure> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let mut lines = vec![format!("{:<12} {:<32} CREDENTIALS", "FORGE", "DEFAULT URL")];
    for forge in FORGES {
        let prefix = forge.name.to_ascii_uppercase().replace('-', "_");
        let needed = if forge.needs_credential {
            " (required)"
        } else {
            ""
        };
        lines.push(format!(
            "{:<12} {:<32} {prefix}_TOKEN, {prefix}_TOKENS or {prefix}_USERNAME + {prefix}_APP_PASSWORD{needed}",
            forge.name, forge.default_url
        ));
    }
    let written = lines.iter().try_for_each(|line| writeln!(out, "{line}"));
    crate::output::finish(written)
}
