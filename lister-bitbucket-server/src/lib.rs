//! Bitbucket Data Center (formerly Bitbucket Server) for lister: every repository the
//! credential may see, through `GET /rest/api/1.0/repos`, paged by offset.
//!
//! The listing ends on `isLastPage: true`; a page that is not the last must name the next
//! one's `nextPageStart`. The cursor is the offset reached. The listing is ordered by project
//! and name, so a rerun from there finds the repositories that come after it, and
//! `--full-pass` the others. The origin is the clone link named `http`; repositories that are
//! not public are recorded disabled. Bitbucket Data Center is self-hosted only: `--url` is
//! required.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lister_core::{Lister, RunContext, RunOptions};
//! use lister_store::Store;
//! let url = url::Url::parse("https://bitbucket.example.org")?;
//! let listing = lister_http::http_listing(lister_bitbucket_server::BitbucketServer, None, Some(url), Default::default())?;
//! listing.run(&Store::open("lister.db").await?, &RunOptions::default(), &RunContext::default()).await?;
//! # Ok(()) }
//! ```

use lister_core::{Forge, NextCursor, Origin, PageResponse, ParseError};
use serde::Deserialize;
use serde_json::Value;

/// The Bitbucket Data Center lister.
#[derive(Debug, Clone, Copy, Default)]
pub struct BitbucketServer;

/// A repository, as the listing reads it.
#[derive(Deserialize)]
pub struct Repository {
    public: Option<bool>,
    #[serde(default)]
    links: Value,
}

impl Forge for BitbucketServer {
    type Cursor = u64;
    type Item<'a> = Repository;
    const NAME: &'static str = "bitbucket-server";
    const DEFAULT_URL: &'static str = "";
    const PATH: &'static str = "/rest/api/1.0/repos?limit=1000&start={cursor}";
    const ITEMS: &'static str = "/values";
    const NEXT: NextCursor = NextCursor::BodyValue("/nextPageStart");

    /// `nextPageStart`, until `isLastPage` is true; a page that is not the last must name it.
    fn next_cursor(&self, _: u64, page: &PageResponse) -> Result<Option<u64>, ParseError> {
        match (page.json_at("/isLastPage")?, Self::NEXT.read(page)?) {
            (Some(true), _) => Ok(None),
            (_, Some(next)) => Ok(Some(next)),
            (_, None) => Err(ParseError::new("no nextPageStart before the last page")),
        }
    }

    /// The clone link named `http`; repositories that are not public are recorded disabled.
    fn origin(&self, repo: Repository, _: &url::Url) -> Option<Origin> {
        let clone = repo.links["clone"].as_array()?;
        let http = clone.iter().find(|link| link["name"] == "http")?;
        let origin = Origin::new(http["href"].as_str()?, "git");
        Some(origin.with_enabled(repo.public != Some(false)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, StatusCode};

    fn response(body: &str) -> PageResponse {
        PageResponse {
            url: "https://bb.example.org/rest/api/1.0/repos?start=0"
                .parse()
                .unwrap(),
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn data_center_pages_by_offset_until_the_last_page() {
        let page = |body: &str| response(body);
        let values = r#"[{"slug": "a", "public": true, "links": {"clone": [
            {"href": "ssh://git@bb.example.org:7999/p/a.git", "name": "ssh"},
            {"href": "https://bb.example.org/scm/p/a.git", "name": "http"}]}},
            {"slug": "b", "public": false, "links": {"clone": [{"href": "https://bb.example.org/scm/p/b.git", "name": "http"}]}}]"#;
        let first = page(&format!(
            r#"{{"size": 2, "limit": 2, "isLastPage": false, "values": {values}, "start": 0, "nextPageStart": 2}}"#
        ));
        assert_eq!(BitbucketServer.next_cursor(0, &first).unwrap(), Some(2));
        let read = lister_core::page_origins(
            &BitbucketServer,
            &"https://forge.example.org/".parse().unwrap(),
            &first,
        )
        .unwrap();
        let facts: Vec<_> = read
            .origins
            .iter()
            .map(|o| (o.url.as_str(), o.enabled))
            .collect();
        assert_eq!(
            facts,
            [
                ("https://bb.example.org/scm/p/a.git", true),
                ("https://bb.example.org/scm/p/b.git", false)
            ]
        );
        let last = page(r#"{"size": 0, "limit": 2, "isLastPage": true, "values": [], "start": 2}"#);
        assert_eq!(BitbucketServer.next_cursor(2, &last).unwrap(), None);
        let broken =
            page(r#"{"size": 0, "limit": 2, "isLastPage": false, "values": [], "start": 2}"#);
        assert!(
            BitbucketServer.next_cursor(2, &broken).is_err(),
            "not the last page, no next"
        );
    }
}
