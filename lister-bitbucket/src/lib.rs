//! Bitbucket Cloud for lister: every repository, through `GET /2.0/repositories?after=…`.
//!
//! The listing follows the body's `next` URL exactly (an opaque cursor) and takes the index
//! from its `after`. The saved state is the `after` cursor reached. Private repositories are
//! recorded disabled.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lister_core::{Lister, RunContext, RunOptions, Store};
//! let store = Store::open("sqlite://lister.db").await?;
//! let listing = lister_http::http_listing(lister_bitbucket::Bitbucket, "default", None, Default::default())?;
//! listing.run(&store, &RunOptions::default(), &RunContext::default()).await?;
//! # Ok(()) }
//! ```

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use lister_core::index::TimeIndex;
use lister_core::{IndexingLister, NextPage, Origin, PageResponse, ParseError};
use lister_http::next_page_at;
use serde::Deserialize;

/// The Bitbucket Cloud lister.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bitbucket;

/// The fields of a page that the listing reads (and asks for with `fields=`).
#[derive(Deserialize)]
struct Body<'a> {
    #[serde(borrow, default)]
    values: Vec<Option<Repository<'a>>>,
}

/// The page's `next` cursor alone (the values are skipped, not built).
#[derive(Deserialize)]
struct Next<'a> {
    #[serde(borrow)]
    next: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Repository<'a> {
    #[serde(borrow)]
    scm: Option<Cow<'a, str>>,
    is_private: Option<bool>,
    updated_on: Option<DateTime<Utc>>,
    #[serde(borrow)]
    links: Option<Links<'a>>,
}

#[derive(Deserialize)]
struct Links<'a> {
    #[serde(borrow, default)]
    clone: Vec<CloneLink<'a>>,
}

#[derive(Deserialize)]
struct CloneLink<'a> {
    name: Cow<'a, str>,
    href: Cow<'a, str>,
}

impl IndexingLister for Bitbucket {
    type Index = TimeIndex;
    const NAME: &'static str = "bitbucket";
    const DEFAULT_BASE_URL: &'static str = "https://api.bitbucket.org";
    const PATH_TEMPLATE: &'static str = "/2.0/repositories?pagelen=100&fields=next,values.links.clone,\
        values.scm,values.is_private,values.updated_on&after={index}";
    const VISIT_TYPE: &'static str = "git";

    fn first_index(&self) -> TimeIndex {
        TimeIndex::EPOCH
    }

    /// The clone URL named `https`, else `http`, else `ssh`; the visit type from `scm`.
    fn simplify(&self, response: &PageResponse) -> Result<Vec<Origin>, ParseError> {
        let body: Body<'_> = response.json()?;
        Ok(body
            .values
            .into_iter()
            .flatten()
            .filter_map(|repo| {
                let clone = repo.links?.clone;
                let named = |name| clone.iter().find(|link| link.name == name);
                let link = ["https", "http", "ssh"].into_iter().find_map(named)?;
                let origin = Origin::new(
                    link.href.as_ref(),
                    repo.scm.as_deref().unwrap_or(Self::VISIT_TYPE),
                );
                Some(
                    origin
                        .with_last_update(repo.updated_on)
                        .with_enabled(repo.is_private != Some(true)),
                )
            })
            .collect())
    }

    fn next_page(
        &self,
        response: &PageResponse,
    ) -> Result<Option<NextPage<TimeIndex>>, ParseError> {
        let next = response.json::<Next<'_>>()?.next;
        next.map(|url| next_page_at(url, "after")).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, StatusCode};

    const PAGE: &str = include_str!("../../tests/fixtures/bitbucket_repositories_page.json");

    fn response(body: &str) -> PageResponse {
        PageResponse {
            url: "https://api.bitbucket.org/2.0/repositories?pagelen=2"
                .parse()
                .unwrap(),
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            body: bytes::Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn simplifies_a_real_page() {
        let origins = Bitbucket.simplify(&response(PAGE)).unwrap();
        assert_eq!(origins.len(), 2);
        assert_eq!(
            origins[0].url,
            "https://bitbucket.org/opensymphony/xwork.git"
        );
        assert_eq!(origins[0].visit_type, "git");
        assert_eq!(
            origins[0].last_update.unwrap().to_rfc3339(),
            "2014-11-16T23:19:16.674082+00:00"
        );
        assert!(origins.iter().all(|o| o.enabled));
    }

    #[test]
    fn prefers_https_then_http_then_ssh_and_disables_private_repositories() {
        let body = r#"{"values": [
            {"scm": "hg", "is_private": true, "links": {"clone": [
                {"name": "ssh", "href": "ssh://hg@bitbucket.org/a/b"}, {"name": "http", "href": "http://bitbucket.org/a/b"}]}},
            {"scm": "git", "links": {"clone": [{"name": "ssh", "href": "git@bitbucket.org:a/c.git"}]}},
            {"scm": "git", "links": {}}, {"scm": "git"}, null]}"#;
        let origins = Bitbucket.simplify(&response(body)).unwrap();
        assert_eq!(origins.len(), 2);
        assert_eq!(
            (
                origins[0].url.as_str(),
                origins[0].visit_type.as_str(),
                origins[0].enabled
            ),
            ("http://bitbucket.org/a/b", "hg", false)
        );
        assert_eq!(origins[1].url, "git@bitbucket.org:a/c.git");
    }

    #[test]
    fn follows_next_exactly_and_reads_its_after() {
        let next = Bitbucket.next_page(&response(PAGE)).unwrap().unwrap();
        assert_eq!(
            next.url.as_str(),
            "https://api.bitbucket.org/2.0/repositories?pagelen=2&after=2011-06-07T02%3A25%3A57.515877%2B00%3A00"
        );
        assert_eq!(next.index.to_string(), "2011-06-07T02:25:57.515877+00:00");
        assert_eq!(
            Bitbucket.next_page(&response(r#"{"values": []}"#)).unwrap(),
            None
        );
        let opaque =
            r#"{"values": [], "next": "https://api.bitbucket.org/2.0/repositories?page=abc"}"#;
        assert!(Bitbucket.next_page(&response(opaque)).is_err());
    }

    #[test]
    fn first_page_url_encodes_the_epoch() {
        let base = url::Url::parse(Bitbucket::DEFAULT_BASE_URL).unwrap();
        let url = lister_core::page_url(&base, Bitbucket::PATH_TEMPLATE, &Bitbucket.first_index())
            .unwrap();
        assert!(
            url.as_str()
                .ends_with("&after=1970-01-01T00%3A00%3A00%2B00%3A00"),
            "{url}"
        );
        assert_eq!(
            lister_http::query_param(&url, "after").unwrap(),
            "1970-01-01T00:00:00+00:00"
        );
    }
}
