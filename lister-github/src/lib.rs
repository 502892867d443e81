//! GitHub for lister: every public repository, through `GET /repositories?since={id}`.
//!
//! The cursor is the repository id reached, from the `since` of the `Link: rel="next"` URL.
//! `--url https://github.com` reaches `https://api.github.com`; any other address is a GitHub
//! Enterprise Server, whose API is under `/api/v3`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lister_core::{Lister, RunContext, RunOptions};
//! use lister_store::Store;
//! let store = Store::open("sqlite://lister.db").await?;
//! let listing = lister_http::http_listing(lister_github::GitHub, None, None, Default::default())?;
//! let stats = listing.run(&store, &RunOptions::default(), &RunContext::default()).await?;
//! println!("{} new origins", stats.origins_new);
//! # Ok(()) }
//! ```

use std::borrow::Cow;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lister_core::QuotaSignal;
use lister_core::{Auth, Classification, Forge, NextCursor, Origin, PageResponse, ParseError};
use lister_http::{json_message, retry_after};
use serde::Deserialize;

/// The GitHub lister.
#[derive(Debug, Clone, Copy, Default)]
pub struct GitHub;

/// The fields of a repository object that the listing reads (borrowed from the body: GitHub
/// is the largest listing).
#[derive(Deserialize)]
pub struct Repository<'a> {
    id: Option<u64>,
    #[serde(borrow)]
    html_url: Option<Cow<'a, str>>,
    fork: Option<bool>,
    pushed_at: Option<DateTime<Utc>>,
}

impl Forge for GitHub {
    type Cursor = u64;
    type Item<'a> = Repository<'a>;
    const NAME: &'static str = "github";
    const DEFAULT_URL: &'static str = "https://github.com";
    const API_PATH: &'static str = "api/v3";
    const PUBLIC_API: Option<(&'static str, &'static str)> =
        Some(("github.com", "https://api.github.com"));
    const PATH: &'static str = "/repositories?since={cursor}";
    const NEXT: NextCursor = NextCursor::LinkParam("since");
    const PARALLEL: bool = true;
    const AUTH: Auth = Auth::Token;
    const HEADERS: &'static [(&'static str, &'static str)] = &[
        ("Accept", "application/vnd.github+json"),
        ("X-GitHub-Api-Version", "2022-11-28"),
    ];

    /// The `since` of the `rel="next"` link; an empty page (`[]`) ends the listing.
    fn next_cursor(&self, _: u64, page: &PageResponse) -> Result<Option<u64>, ParseError> {
        match page.body.trim_ascii() == b"[]" {
            true => Ok(None),
            false => Self::NEXT.read(page),
        }
    }

    /// Items without `id` or `html_url` are skipped.
    fn origin(&self, repo: Repository<'_>, _: &url::Url) -> Option<Origin> {
        repo.id?;
        let origin = Origin::new(repo.html_url?, "git").with_fork(repo.fork);
        Some(origin.with_last_update(repo.pushed_at))
    }

    fn item_cursor(&self, repo: &Repository<'_>) -> Option<u64> {
        repo.id
    }

    /// Secondary rate limits (a 403 or 429 whose message says so) honour `retry-after`, else
    /// wait at least a minute; primary limits (`x-ratelimit-remaining: 0`) and real 403s are
    /// the default classifier's.
    fn classify(&self, response: &PageResponse) -> Option<Classification> {
        let limited = matches!(response.status.as_u16(), 403 | 429);
        let message = limited.then(|| json_message(&response.body)).flatten()?;
        let secondary = message
            .to_ascii_lowercase()
            .contains("secondary rate limit");
        secondary.then_some(Classification::Quota(QuotaSignal::SlowDown {
            retry_after: retry_after(&response.headers),
            at_least: Duration::from_secs(60),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue, StatusCode};
    use url::Url;

    fn forge_origins(forge: &GitHub, page: &PageResponse) -> (Vec<Origin>, usize) {
        let read =
            lister_core::page_origins(forge, &"https://forge.example.org/".parse().unwrap(), page)
                .unwrap();
        (read.origins, read.rejected.len())
    }

    const PAGE: &str = include_str!("../../tests/fixtures/github_repositories_page.json");
    const LINK: &str = "<https://api.github.com/repositories?since=1300210>; rel=\"next\", \
                        <https://api.github.com/repositories{?since}>; rel=\"first\"";

    fn response(status: u16, headers: &[(&'static str, &str)], body: &str) -> PageResponse {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        PageResponse {
            url: "https://api.github.com/repositories?since=0"
                .parse()
                .unwrap(),
            status: StatusCode::from_u16(status).unwrap(),
            headers: map,
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn reads_a_real_page() {
        let (origins, rejected) = forge_origins(&GitHub, &response(200, &[], PAGE));
        assert_eq!(rejected, 0);
        let urls: Vec<&str> = origins.iter().map(|o| o.url.as_str()).collect();
        assert_eq!(urls[0], "https://github.com/octocat/Hello-World");
        assert_eq!(origins.len(), 3);
        assert_eq!(
            origins.iter().map(|o| o.is_fork).collect::<Vec<_>>(),
            [Some(false), Some(false), Some(true)]
        );
        assert!(
            origins
                .iter()
                .all(|o| o.visit_type == "git" && o.last_update.is_none())
        );
    }

    #[test]
    fn skips_junk_rejects_malformed_items_and_reads_pushed_at() {
        let body = r#"[null, {"html_url": "https://github.com/no/id"}, {"id": 5},
            {"id": -1, "html_url": "https://github.com/a/negative"},
            {"id": 7, "html_url": "https://github.com/a/c", "fork": "yes"},
            {"id": 6, "html_url": "https://github.com/a/b", "fork": false, "pushed_at": "2024-01-02T03:04:05Z"}]"#;
        let (origins, rejected) = forge_origins(&GitHub, &response(200, &[], body));
        assert_eq!((origins.len(), rejected), (1, 2));
        assert_eq!(
            origins[0].last_update.unwrap().to_rfc3339(),
            "2024-01-02T03:04:05+00:00"
        );
    }

    #[test]
    fn a_page_names_its_last_id_as_the_next_cursor() {
        let read = lister_core::page_origins(
            &GitHub,
            &"https://forge.example.org/".parse().unwrap(),
            &response(200, &[], PAGE),
        )
        .unwrap();
        assert_eq!(read.furthest, Some(1300210));
    }

    #[test]
    fn follows_the_real_link_header() {
        let next = GitHub.next_cursor(0, &response(200, &[("link", LINK)], PAGE));
        assert_eq!(next.unwrap(), Some(1300210));
        let last = "<https://api.github.com/repositories{?since}>; rel=\"first\"";
        assert_eq!(
            GitHub
                .next_cursor(0, &response(200, &[("link", last)], PAGE))
                .unwrap(),
            None
        );
        let empty = GitHub.next_cursor(0, &response(200, &[("link", LINK)], " [] "));
        assert_eq!(empty.unwrap(), None, "an empty page ends");
        let no_since = "<https://api.github.com/repositories?page=2>; rel=\"next\"";
        assert!(
            GitHub
                .next_cursor(0, &response(200, &[("link", no_since)], PAGE))
                .is_err()
        );
    }

    #[test]
    fn reaches_the_api_from_the_address_a_user_knows() {
        let api = |text: &str| GitHub.api_base(&Url::parse(text).unwrap()).to_string();
        assert_eq!(api("https://github.com"), "https://api.github.com/");
        assert_eq!(api("https://api.github.com/"), "https://api.github.com/");
        assert_eq!(
            api("https://ghe.example.org"),
            "https://ghe.example.org/api/v3"
        );
        assert_eq!(
            api("https://ghe.example.org/api/v3"),
            "https://ghe.example.org/api/v3"
        );
    }

    #[test]
    fn tells_secondary_limits_from_primary_limits_and_real_403s() {
        let secondary = r#"{"message": "You have exceeded a secondary rate limit. Please wait."}"#;
        let with_retry = GitHub.classify(&response(403, &[("retry-after", "30")], secondary));
        let expected = QuotaSignal::SlowDown {
            retry_after: Some(Duration::from_secs(30)),
            at_least: Duration::from_secs(60),
        };
        assert_eq!(with_retry, Some(Classification::Quota(expected)));
        let without = GitHub.classify(&response(429, &[], secondary));
        assert!(matches!(
            without,
            Some(Classification::Quota(QuotaSignal::SlowDown {
                retry_after: None,
                ..
            }))
        ));
        let primary = r#"{"message": "API rate limit exceeded for 1.2.3.4."}"#;
        let headers = [("x-ratelimit-remaining", "0")];
        assert_eq!(GitHub.classify(&response(403, &headers, primary)), None);
        let blocked = r#"{"message": "Repository access blocked"}"#;
        assert_eq!(GitHub.classify(&response(403, &[], blocked)), None);
        assert_eq!(GitHub.classify(&response(500, &[], secondary)), None);
    }
}
