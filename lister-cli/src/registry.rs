//! The forges this binary knows: adding a forge crate means adding one line here.

use lister_core::{IndexingLister, Lister};
use lister_http::TransportConfig;
use url::Url;

/// Builds a runnable lister from an instance name, an API base URL and a transport.
pub(crate) type Build =
    fn(&str, Option<Url>, TransportConfig) -> Result<Box<dyn Lister>, lister_http::Error>;

/// A forge's entry: its name and how to build a runnable lister for an instance.
pub(crate) struct Forge {
    pub(crate) name: &'static str,
    pub(crate) build: Build,
}

const fn forge<L: IndexingLister + Default + Clone>() -> Forge {
    Forge {
        name: L::NAME,
        build: build::<L>,
    }
}

fn build<L: IndexingLister + Default + Clone>(
    instance: &str,
    base_url: Option<Url>,
    config: TransportConfig,
) -> Result<Box<dyn Lister>, lister_http::Error> {
    Ok(Box::new(lister_http::http_listing(
        L::default(),
        instance,
        base_url,
        config,
    )?))
}

/// Every forge, in the order `--help` shows them.
pub(crate) const FORGES: &[Forge] = &[
    forge::<lister_github::GitHub>(),
    forge::<lister_bitbucket::Bitbucket>(),
];

/// The forges' names.
pub(crate) fn names() -> Vec<&'static str> {
    FORGES.iter().map(|forge| forge.name).collect()
}

/// The forge called `name`.
pub(crate) fn find(name: &str) -> Option<&'static Forge> {
    FORGES.iter().find(|forge| forge.name == name)
}
