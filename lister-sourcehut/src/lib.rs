//! sourcehut for lister: git.sr.ht and hg.sr.ht, through their GraphQL API (`POST /query`).
//!
//! sourcehut has no list of every repository, and no list of its users: the API lists the
//! repositories of the account whose OAuth token is given (`me { repositories }`), public,
//! unlisted and private, 25 a page behind an opaque cursor, most recently updated first. So a
//! sourcehut listing is the token owner's repositories, and an archive lists an account's
//! repositories with that account's token. The origin is `{instance}/~owner/name`, as
//! sourcehut shows it; private repositories are recorded disabled. A token is required
//! (`SOURCEHUT_TOKEN`, `SOURCEHUT_HG_TOKEN`). New and updated repositories come first, so a
//! run that reached the end starts the next one over from the first page
//! ([`Forge::NEWEST_FIRST`]): a rerun costs one request a page of the account's repositories.
//! GraphQL errors come inside a `200`: they stop the run with sourcehut's message.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lister_core::{Lister, RunContext, RunOptions};
//! use lister_store::Store;
//! let config = lister_http::TransportConfig {
//!     credentials: vec![lister_http::Credential::token("a-sourcehut-oauth-token")],
//!     ..Default::default()
//! };
//! let listing = lister_http::http_listing(lister_sourcehut::Sourcehut::default(), None, None, config)?;
//! listing.run(&Store::open("lister.db").await?, &RunOptions::default(), &RunContext::default()).await?;
//! # Ok(()) }
//! ```

use lister_core::{Forge, NextCursor, Opaque, Origin};
use serde_json::Value;
use url::Url;

/// git.sr.ht and hg.sr.ht, one API: `K` picks the service (0 git, 1 Mercurial).
#[derive(Debug, Clone, Copy, Default)]
pub struct SourcehutFamily<const K: usize>;
/// The git.sr.ht lister.
pub type Sourcehut = SourcehutFamily<0>;
/// The hg.sr.ht lister.
pub type SourcehutHg = SourcehutFamily<1>;

/// The query of one page of the token owner's repositories.
const QUERY: &str = "query repositories($cursor: Cursor) { me { repositories(cursor: $cursor) { \
    cursor results { name visibility updated owner { canonicalName } } } } }";

impl<const K: usize> Forge for SourcehutFamily<K> {
    type Cursor = Opaque;
    type Item<'a> = Value;
    const NAME: &'static str = ["sourcehut", "sourcehut-hg"][K];
    const DEFAULT_URL: &'static str = ["https://git.sr.ht", "https://hg.sr.ht"][K];
    const API_PATH: &'static str = "query";
    const ITEMS: &'static str = "/data/me/repositories/results";
    const NEXT: NextCursor = NextCursor::BodyValue("/data/me/repositories/cursor");
    const VISIT_TYPE: &'static str = ["git", "hg"][K];
    const NEEDS_CREDENTIAL: bool = true;
    const NEWEST_FIRST: bool = true;
    const GRAPHQL: &'static str = QUERY;

    /// A repository: `{name, visibility, updated, owner {canonicalName}}`.
    fn origin(&self, repo: Value, site: &Url) -> Option<Origin> {
        let path = format!(
            "{}/{}",
            repo["owner"]["canonicalName"].as_str()?,
            repo["name"].as_str()?
        );
        let updated = repo["updated"].as_str().and_then(|time| time.parse().ok());
        let origin = Origin::new(site.join(&path).ok()?.as_str(), Self::VISIT_TYPE);
        Some(
            origin
                .with_last_update(updated)
                .with_enabled(repo["visibility"] != "PRIVATE"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lister_core::{PageResponse, RequestBody};

    /// A page as git.sr.ht's GraphQL API answers it (`me { repositories }`).
    const PAGE: &str = r#"{"data": {"me": {"repositories": {
        "cursor": "cmVwb3NpdG9yeTo0Mg==",
        "results": [
            {"id": 40, "name": "scdoc", "visibility": "PUBLIC",
             "updated": "2024-03-01T10:20:30.123456Z", "owner": {"canonicalName": "~sircmpwn"}},
            {"id": 41, "name": "notes", "visibility": "PRIVATE",
             "updated": "2023-01-02T03:04:05Z", "owner": {"canonicalName": "~sircmpwn"}},
            {"id": 42, "name": "wip.d", "visibility": "UNLISTED",
             "updated": null, "owner": {"canonicalName": "~sircmpwn"}}
        ]}}}}"#;

    fn site(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn repositories_are_owner_and_name_under_the_instance() {
        let page = PageResponse::ok("https://git.sr.ht/query", PAGE);
        let read =
            lister_core::page_origins(&Sourcehut::default(), &site("https://git.sr.ht/"), &page)
                .unwrap();
        let seen: Vec<_> = read
            .origins
            .iter()
            .map(|o| (o.url.as_str(), o.visit_type.as_str(), o.enabled))
            .collect();
        assert_eq!(
            seen,
            [
                ("https://git.sr.ht/~sircmpwn/scdoc", "git", true),
                ("https://git.sr.ht/~sircmpwn/notes", "git", false),
                ("https://git.sr.ht/~sircmpwn/wip.d", "git", true),
            ]
        );
        assert_eq!(
            read.origins[0].last_update.unwrap().to_rfc3339(),
            "2024-03-01T10:20:30.123456+00:00"
        );
        let hg =
            lister_core::page_origins(&SourcehutHg::default(), &site("https://hg.sr.ht/"), &page)
                .unwrap();
        assert_eq!(hg.origins[0].url, "https://hg.sr.ht/~sircmpwn/scdoc");
        assert_eq!(hg.origins[0].visit_type, "hg");
    }

    #[test]
    fn the_cursor_goes_in_the_query_variables_until_it_is_null() {
        let forge = Sourcehut::default();
        let api = forge.api_base(&site("https://git.sr.ht"));
        assert_eq!(api.as_str(), "https://git.sr.ht/query");
        let first = forge.request(&api, &Opaque::default()).unwrap();
        let RequestBody::Json(body) = &first.body else {
            panic!("a JSON body: {first:?}")
        };
        assert_eq!(body["variables"]["cursor"], serde_json::Value::Null);
        assert!(
            body["query"]
                .as_str()
                .unwrap()
                .contains("me { repositories(cursor: $cursor)")
        );
        let page = PageResponse::ok("https://git.sr.ht/query", PAGE);
        let next = forge
            .next_cursor(Opaque::default(), &page)
            .unwrap()
            .unwrap();
        let second = forge.request(&api, &next).unwrap();
        let RequestBody::Json(body) = &second.body else {
            panic!("a JSON body")
        };
        assert_eq!(body["variables"]["cursor"], "cmVwb3NpdG9yeTo0Mg==");
        let last = PageResponse::ok(
            "https://git.sr.ht/query",
            r#"{"data": {"me": {"repositories": {"cursor": null, "results": []}}}}"#,
        );
        assert_eq!(forge.next_cursor(next, &last).unwrap(), None);
    }

    #[test]
    fn graphql_errors_in_a_200_stop_the_run_with_their_message() {
        let page = PageResponse::ok(
            "https://git.sr.ht/query",
            r#"{"errors": [{"message": "Access denied: missing scope REPOSITORIES:RO"}], "data": null}"#,
        );
        let verdict = Sourcehut::default().classify(&page);
        assert!(
            format!("{verdict:?}").contains("missing scope REPOSITORIES:RO"),
            "{verdict:?}"
        );
        assert!(
            Sourcehut::default()
                .classify(&PageResponse::ok("https://git.sr.ht/query", PAGE))
                .is_none()
        );
    }
}
