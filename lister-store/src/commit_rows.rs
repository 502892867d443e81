//! The plain rows a page commit writes, shared by the SQLite and the PostgreSQL commits.

use std::borrow::Cow;

use chrono::NaiveDateTime;
use diesel::{AsChangeset, Insertable};

use crate::schema::page_validators;
use lister_core::Origin;

/// An origin's loader arguments as the JSON text the store keeps. Most origins have none:
/// their `{}` is neither formatted nor allocated again for each one.
pub(crate) fn loader_arguments(origin: &Origin) -> Cow<'static, str> {
    match &origin.extra_loader_arguments {
        serde_json::Value::Object(arguments) if arguments.is_empty() => Cow::Borrowed("{}"),
        arguments => Cow::Owned(arguments.to_string()),
    }
}

#[derive(Insertable, AsChangeset)]
#[diesel(table_name = page_validators, treat_none_as_null = true, treat_none_as_default_value = false)]
pub(crate) struct PageRow {
    pub(crate) lister_id: i64,
    pub(crate) url: String,
    pub(crate) etag: Option<String>,
    pub(crate) last_modified: Option<String>,
    pub(crate) next_url: Option<String>,
    pub(crate) next_index: Option<String>,
    /// The origins the page held, as JSON `[[url, visit_type], …]` (see `commit::page_rows`).
    pub(crate) origins: Option<String>,
    pub(crate) updated: NaiveDateTime,
}

/// The page rows of a commit.
#[derive(Default)]
pub(crate) struct PageRows {
    /// Pages fetched: their rows, written.
    pub(crate) fetched: Vec<PageRow>,
    /// The URLs of pages answered `304`: their rows stay, the origins they remember are
    /// refreshed.
    pub(crate) unchanged: Vec<String>,
}

/// A refused state write: the version it expected and the one it found.
pub(crate) struct StaleVersion {
    pub(crate) expected: i64,
    pub(crate) found: i64,
}
