//! The listed-origin model: what a forge reports ([`Origin`]) and what the store keeps
//! ([`ListedOrigin`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One repository as a forge reports it, before the store adds its bookkeeping.
///
/// Build it with [`Origin::new`] and the `with_*` methods:
///
/// ```
/// use lister_core::Origin;
/// let origin = Origin::new("https://github.com/octocat/Hello-World", "git").with_fork(Some(false));
/// assert!(origin.enabled);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Origin {
    /// Where the repository can be fetched from (validated by the run loop).
    pub url: String,
    /// How to fetch it: `git`, `hg`, `svn`…
    pub visit_type: String,
    /// When the forge says the repository last changed, if it says.
    pub last_update: Option<DateTime<Utc>>,
    /// Whether the forge says the repository is a fork, if it says.
    pub is_fork: Option<bool>,
    /// Whether consumers should visit it (private repositories are recorded disabled).
    pub enabled: bool,
    /// Extra arguments for the loader that will visit it (a JSON object, often empty).
    pub extra_loader_arguments: serde_json::Value,
}

impl Origin {
    /// An enabled origin with no optional facts.
    pub fn new(url: impl Into<String>, visit_type: impl Into<String>) -> Self {
        Origin {
            url: url.into(),
            visit_type: visit_type.into(),
            last_update: None,
            is_fork: None,
            enabled: true,
            extra_loader_arguments: serde_json::Value::Object(Default::default()),
        }
    }

    /// Sets when the forge says the repository last changed.
    pub fn with_last_update(mut self, last_update: Option<DateTime<Utc>>) -> Self {
        self.last_update = last_update;
        self
    }

    /// Sets whether the repository is a fork.
    pub fn with_fork(mut self, is_fork: Option<bool>) -> Self {
        self.is_fork = is_fork;
        self
    }

    /// Sets whether consumers should visit the repository.
    pub fn with_enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Sets the extra loader arguments.
    pub fn with_loader_arguments(mut self, arguments: serde_json::Value) -> Self {
        self.extra_loader_arguments = arguments;
        self
    }
}

/// Names one lister instance: the forge's lister name and the instance (`github` / `default`,
/// `gitlab` / `gitlab.example.org`…).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ListerKey {
    /// The lister's name, e.g. `github`.
    pub name: String,
    /// The instance, e.g. `default` or the host of an enterprise server.
    pub instance: String,
}

impl ListerKey {
    /// A key from its two parts.
    pub fn new(name: impl Into<String>, instance: impl Into<String>) -> Self {
        ListerKey {
            name: name.into(),
            instance: instance.into(),
        }
    }
}

impl std::fmt::Display for ListerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.name, self.instance)
    }
}

/// An origin as the store keeps it: the lister instance it belongs to, the forge's facts, and
/// when the store first and last saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListedOrigin {
    /// The lister instance that listed it.
    pub lister: ListerKey,
    /// The forge's facts, as last listed.
    #[serde(flatten)]
    pub origin: Origin,
    /// When a listing first saw it (set once).
    pub first_seen: DateTime<Utc>,
    /// When a listing last saw it (refreshed at every sighting).
    pub last_seen: DateTime<Utc>,
}
