//! What a page commit writes, as the SQLite and the PostgreSQL commits take it: the commit
//! itself and the plain rows of its pages.

use std::borrow::Cow;

use chrono::NaiveDateTime;
use diesel::{AsChangeset, Insertable};

use crate::schema::page_validators;
use lister_core::Origin;
use lister_core::store::{HeldOrigins, PageRecord, StateWrite};

/// A page commit, as [`Store::commit_page`](crate::Store::commit_page) hands it to the
/// backend.
pub(crate) struct Commit<'a> {
    pub(crate) lister_id: i64,
    /// The commit's time.
    pub(crate) at: NaiveDateTime,
    /// The lister's advanced state, if it moved.
    pub(crate) state: Option<StateWrite>,
    /// The pages' origins, in page order.
    pub(crate) origins: Vec<Origin>,
    /// The pages' records (see [`page_rows`]).
    pub(crate) pages: &'a [PageRecord],
}

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
    /// The origins the page held, as JSON `[[url, visit_type], …]` (see [`page_rows`]).
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

/// The most origins the store remembers of one page. A page's origins are made into one JSON
/// value during its commit, beside the page's own origins and outside the run's memory budget:
/// at the transport's body cap (400,000 origins a page) that was 25 MiB more per page, and 20
/// MiB more peak memory for six such pages. A larger page is asked unconditionally by a full
/// pass, and its `304` in another run counts nothing as seen. (A page of a forge's API holds
/// at most a few hundred origins; a whole host in one document, as Gitiles and grokmirror
/// serve it, a few thousand.)
pub(crate) const MAX_REMEMBERED: usize = 50_000;

/// The rows of `pages`, one per URL (the last record given for it): the pages fetched, each
/// with the origins it held when the store should remember them, and the pages answered
/// `304`, whose remembered origins the commit refreshes.
pub(crate) fn page_rows(
    lister_id: i64,
    at: NaiveDateTime,
    pages: &[PageRecord],
    origins: &[Origin],
) -> PageRows {
    let mut rows = PageRows::default();
    let mut offset = 0;
    for page in pages {
        rows.fetched.retain(|row| row.url != page.url);
        rows.unchanged.retain(|url| *url != page.url);
        let held = page.origins.in_write();
        let own = origins.get(offset..offset + held).unwrap_or_default();
        offset += held;
        let remembered = match page.origins {
            HeldOrigins::Unchanged => {
                rows.unchanged.push(page.url.clone());
                continue;
            }
            // Only a page with validators can be answered `304`.
            HeldOrigins::Held(n) if n <= MAX_REMEMBERED && !page.validators.is_empty() => {
                Some(origin_keys(own))
            }
            _ => None,
        };
        rows.fetched.push(PageRow {
            lister_id,
            url: page.url.clone(),
            etag: page.validators.etag.clone(),
            last_modified: page.validators.last_modified.clone(),
            next_url: page.next_url.clone(),
            next_index: page.next_index.clone(),
            origins: remembered,
            updated: at,
        });
    }
    rows
}

/// The origins a page held as the store remembers them: `[[url, visit_type], …]`.
fn origin_keys(origins: &[Origin]) -> String {
    struct Keys<'a>(&'a [Origin]);
    impl serde::Serialize for Keys<'_> {
        fn serialize<S: serde::Serializer>(
            &self,
            serializer: S,
        ) -> std::result::Result<S::Ok, S::Error> {
            let keys = self.0.iter().map(|o| (&o.url, &o.visit_type));
            serializer.collect_seq(keys)
        }
    }
    // `["url","visit_type"],` for each, unless a URL needs escaping.
    let size: usize = origins
        .iter()
        .map(|o| o.url.len() + o.visit_type.len() + 8)
        .sum();
    let mut json = Vec::with_capacity(size + 2);
    serde_json::to_writer(&mut json, &Keys(origins)).expect("pairs of strings serialize");
    String::from_utf8(json).expect("JSON is UTF-8")
}
