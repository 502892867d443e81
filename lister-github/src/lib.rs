//! GitHub for lister: every public repository, through `GET /repositories?since={id}`.
//!
//! The listing follows the `Link: rel="next"` URL as given and takes the index from its
//! `since`. The saved state is the last repository id reached. GitHub Enterprise Server
//! works with the base URL `https://HOST/api/v3`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lister_core::{Lister, RunContext, RunOptions, Store};
//! let store = Store::open("sqlite://lister.db").await?;
//! let listing = lister_http::http_listing(lister_github::GitHub, "default", None, Default::default())?;
//! let stats = listing.run(&store, &RunOptions::default(), &RunContext::default()).await?;
//! println!("{} new origins", stats.origins_new);
//! # Ok(()) }
//! ```

use std::borrow::Cow;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lister_core::{
    Classification, IndexingLister, NextPage, Origin, PageResponse, ParseError, QuotaSignal,
};
use lister_http::{json_message, next_link, next_page_at, retry_after};
use serde::Deserialize;

/// The GitHub lister.
#[derive(Debug, Clone, Copy, Default)]
pub struct GitHub;

/// The fields of a repository object that the listing reads.
#[derive(Deserialize)]
struct Repository<'a> {
    id: Option<u64>,
    #[serde(borrow)]
    html_url: Option<Cow<'a, str>>,
    fork: Option<bool>,
    pushed_at: Option<DateTime<Utc>>,
}

impl IndexingLister for GitHub {
    type Index = u64;
    const NAME: &'static str = "github";
    const DEFAULT_BASE_URL: &'static str = "https://api.github.com";
    const PATH_TEMPLATE: &'static str = "/repositories?since={index}";
    const VISIT_TYPE: &'static str = "git";
    /// The `Link` header, and an empty page (`[]`) at the end.
    const NEXT_PAGE_FROM_HEADERS: bool = true;

    fn first_index(&self) -> u64 {
        0
    }

    /// `null` items and items without `id` or `html_url` are skipped.
    fn simplify(&self, response: &PageResponse) -> Result<Vec<Origin>, ParseError> {
        let repositories: Vec<Option<Repository<'_>>> = response.json()?;
        let origins = repositories
            .into_iter()
            .flatten()
            .filter(|repo| repo.id.is_some());
        Ok(origins
            .filter_map(|repo| {
                let origin = Origin::new(repo.html_url?, Self::VISIT_TYPE);
                Some(origin.with_fork(repo.fork).with_last_update(repo.pushed_at))
            })
            .collect())
    }

    /// The `rel="next"` link; an empty page or a link without `since` ends the listing.
    fn next_page(&self, response: &PageResponse) -> Result<Option<NextPage<u64>>, ParseError> {
        if response.body.trim_ascii() == b"[]" {
            return Ok(None);
        }
        let next = next_link(&response.headers, &response.url);
        next.map(|url| next_page_at(url, "since")).transpose()
    }

    fn request_headers(&self) -> &'static [(&'static str, &'static str)] {
        &[
            ("Accept", "application/vnd.github+json"),
            ("X-GitHub-Api-Version", "2022-11-28"),
        ]
    }

    /// Secondary rate limits (a 403 or 429 whose message says so) honour `retry-after`, else
    /// wait at least a minute; primary limits (`x-ratelimit-remaining: 0`) and real 403s are
    /// the default classifier's.
    fn classify(&self, response: &PageResponse) -> Option<Classification> {
        let limited = matches!(response.status.as_u16(), 403 | 429);
        let message = limited.then(|| json_message(&response.body)).flatten()?;
        message
            .to_ascii_lowercase()
            .contains("secondary rate limit")
            .then(|| {
                Classification::Quota(QuotaSignal::SlowDown {
                    retry_after: retry_after(&response.headers),
                    at_least: Duration::from_secs(60),
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, HeaderValue, StatusCode};

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
    fn simplifies_a_real_page() {
        let origins = GitHub.simplify(&response(200, &[], PAGE)).unwrap();
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
    fn skips_junk_and_reads_pushed_at() {
        let body = r#"[null, {"html_url": "https://github.com/no/id"}, {"id": 5},
            {"id": 6, "html_url": "https://github.com/a/b", "fork": false, "pushed_at": "2024-01-02T03:04:05Z"}]"#;
        let origins = GitHub.simplify(&response(200, &[], body)).unwrap();
        assert_eq!(origins.len(), 1);
        assert_eq!(
            origins[0].last_update.unwrap().to_rfc3339(),
            "2024-01-02T03:04:05+00:00"
        );
        let truncated = GitHub
            .simplify(&response(200, &[], &PAGE[..PAGE.len() / 2]))
            .unwrap_err();
        assert!(
            truncated.to_string().contains("unparsable body"),
            "{truncated}"
        );
    }

    #[test]
    fn follows_the_real_link_header() {
        let next = GitHub
            .next_page(&response(200, &[("link", LINK)], PAGE))
            .unwrap()
            .unwrap();
        assert_eq!(
            (next.url.as_str(), next.index),
            ("https://api.github.com/repositories?since=1300210", 1300210)
        );
        let last = "<https://api.github.com/repositories{?since}>; rel=\"first\"";
        assert_eq!(
            GitHub
                .next_page(&response(200, &[("link", last)], PAGE))
                .unwrap(),
            None
        );
        assert_eq!(
            GitHub
                .next_page(&response(200, &[("link", LINK)], " [] "))
                .unwrap(),
            None,
            "an empty page ends"
        );
        let no_since = "<https://api.github.com/repositories?page=2>; rel=\"next\"";
        assert!(
            GitHub
                .next_page(&response(200, &[("link", no_since)], PAGE))
                .is_err()
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
        assert_eq!(
            GitHub.classify(&response(403, &[("x-ratelimit-remaining", "0")], primary)),
            None
        );
        assert_eq!(
            GitHub.classify(&response(
                403,
                &[],
                r#"{"message": "Repository access blocked"}"#
            )),
            None
        );
        assert_eq!(GitHub.classify(&response(500, &[], secondary)), None);
    }
}
