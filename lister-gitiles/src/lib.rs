//! Gitiles for lister: every repository of a Gitiles host (googlesource.com's, and others),
//! from the one document `GET /?format=JSON` answers.
//!
//! The document maps each repository's name to its `clone_url`, behind Gitiles' `)]}'` guard
//! line. It is the whole host at once: a rerun asks for it again, conditionally (Gitiles sends
//! an `ETag`), so an unchanged host costs one request. Gitiles is self-hosted only: `--url` is
//! required.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lister_core::{Lister, RunContext, RunOptions};
//! use lister_store::Store;
//! let url = url::Url::parse("https://android.googlesource.com")?;
//! let listing = lister_http::http_listing(lister_gitiles::Gitiles, None, Some(url), Default::default())?;
//! listing.run(&Store::open("lister.db").await?, &RunOptions::default(), &RunContext::default()).await?;
//! # Ok(()) }
//! ```

use lister_core::{Forge, NextCursor, Origin};
use serde::Deserialize;

/// The Gitiles lister.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gitiles;

/// A repository of the document, as the listing reads it.
#[derive(Deserialize)]
pub struct Repository {
    clone_url: Option<String>,
}

impl Forge for Gitiles {
    /// Unused: the listing is one document.
    type Cursor = u64;
    type Item<'a> = Repository;
    const NAME: &'static str = "gitiles";
    const DEFAULT_URL: &'static str = "";
    const PATH: &'static str = "/?format=JSON";
    const JSON_PREFIX: &'static str = ")]}'";
    const NEXT: NextCursor = NextCursor::None;

    fn origin(&self, repo: Repository, _: &url::Url) -> Option<Origin> {
        Some(Origin::new(repo.clone_url?, "git"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, StatusCode};
    use lister_core::PageResponse;

    /// Shaped like android.googlesource.com's answer.
    const DOCUMENT: &str = ")]}'\n{\n  \"platform/build\": {\n    \"name\": \"platform/build\",\n    \
        \"clone_url\": \"https://android.googlesource.com/platform/build\",\n    \
        \"description\": \"Build system & tools <ü>\"\n  },\n  \"kernel/common\": {\n    \
        \"name\": \"kernel/common\",\n    \"clone_url\": \"https://android.googlesource.com/kernel/common\"\n  }\n}\n";

    #[test]
    fn reads_the_guarded_document() {
        let page = PageResponse {
            url: "https://android.googlesource.com/?format=JSON"
                .parse()
                .unwrap(),
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: bytes::Bytes::from_static(DOCUMENT.as_bytes()),
        };
        let read = lister_core::page_origins(
            &Gitiles,
            &"https://forge.example.org/".parse().unwrap(),
            &page,
        )
        .unwrap();
        let urls: Vec<&str> = read.origins.iter().map(|o| o.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://android.googlesource.com/platform/build",
                "https://android.googlesource.com/kernel/common"
            ]
        );
        assert_eq!(Gitiles.next_cursor(0, &page).unwrap(), None, "one document");
    }
}
