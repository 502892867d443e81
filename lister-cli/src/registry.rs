//! The forges this binary knows: adding a forge crate means adding one line here.

use lister_core::{Forge, Lister, RepositoryPath};
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
    /// The main instance's API base, when it is on a host of its own.
    pub(crate) public_api: Option<&'static str>,
    /// Whether `--base-git-url` applies (see [`Forge::REPOSITORY_PATH`]).
    pub(crate) takes_base_git_url: bool,
    /// Whether `--parallel` applies (see [`Forge::PARALLEL`]).
    pub(crate) parallel: bool,
    pub(crate) build: Build,
}

const fn entry<F: Forge + Default>() -> Entry {
    Entry {
        name: F::NAME,
        default_url: F::DEFAULT_URL,
        needs_credential: F::NEEDS_CREDENTIAL,
        public_api: match F::PUBLIC_API {
            Some((_, api)) => Some(api),
            None => None,
        },
        takes_base_git_url: !matches!(F::REPOSITORY_PATH, RepositoryPath::Unknown),
        parallel: F::PARALLEL,
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
    entry::<lister_bitbucket_server::BitbucketServer>(),
    entry::<lister_gitlab::GitLab>(),
    entry::<lister_gitlab::Heptapod>(),
    entry::<lister_gitea::Gitea>(),
    entry::<lister_gitea::Forgejo>(),
    entry::<lister_gitea::Gogs>(),
    entry::<lister_phabricator::Phabricator>(),
    entry::<lister_phabricator::Phorge>(),
    entry::<lister_gitiles::Gitiles>(),
    entry::<lister_pagure::Pagure>(),
    entry::<lister_gerrit::Gerrit>(),
    entry::<lister_launchpad::Launchpad>(),
    entry::<lister_launchpad::LaunchpadBzr>(),
    entry::<lister_tuleap::Tuleap>(),
    entry::<lister_grokmirror::Grokmirror>(),
    entry::<lister_sourcehut::Sourcehut>(),
    entry::<lister_sourcehut::SourcehutHg>(),
    entry::<lister_cgit::Cgit>(),
    entry::<lister_gitweb::Gitweb>(),
    entry::<lister_hgweb::Hgweb>(),
    entry::<lister_stagit::Stagit>(),
    entry::<lister_sourceforge::SourceForge>(),
];

impl Entry {
    /// Whether `url` is the forge's main instance (its web host or its API's host): its
    /// instance is then `default`, as when no `--url` is given.
    pub(crate) fn is_main_instance(&self, url: &Url) -> bool {
        let hosts = [
            Some(self.default_url).filter(|url| !url.is_empty()),
            self.public_api,
        ];
        let host = |text: &str| {
            Url::parse(text)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
        };
        hosts
            .into_iter()
            .flatten()
            .any(|main| host(main).as_deref() == url.host_str())
    }
}

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
        let prefix = lister_http::credential_prefix(forge.name);
        let needed = if forge.needs_credential {
            " (required)"
        } else {
            ""
        };
        // Basic authentication is Bitbucket's app passwords; other forges take tokens.
        let basic = match forge.name {
            "bitbucket" | "bitbucket-server" => {
                format!(", or {prefix}_USERNAME + {prefix}_APP_PASSWORD")
            }
            _ => String::new(),
        };
        lines.push(format!(
            "{:<12} {:<32} {prefix}_TOKEN or {prefix}_TOKENS{basic}{needed}",
            forge.name,
            if forge.default_url.is_empty() {
                "(none: give --url)"
            } else {
                forge.default_url
            }
        ));
    }
    let written = lines.iter().try_for_each(|line| writeln!(out, "{line}"));
    crate::output::finish(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_main_instance_is_default_whichever_address_names_it() {
        let github = find("github").unwrap();
        let url = |text: &str| Url::parse(text).unwrap();
        assert!(github.is_main_instance(&url("https://github.com")));
        assert!(github.is_main_instance(&url("https://api.github.com/")));
        assert!(!github.is_main_instance(&url("https://ghe.example.org")));
        let gitlab = find("gitlab").unwrap();
        assert!(gitlab.is_main_instance(&url("https://gitlab.com/api/v4")));
        assert!(!gitlab.is_main_instance(&url("https://gitlab.example.org")));
    }
}
