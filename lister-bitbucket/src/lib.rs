//! Bitbucket Cloud for lister: every repository, through `GET /2.0/repositories?after=…`.
//!
//! The cursor is the creation date reached, from the `after` of the body's `next` URL.
//! `--url https://bitbucket.org` reaches `https://api.bitbucket.org`. Private repositories
//! are recorded disabled.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lister_core::{Lister, RunContext, RunOptions};
//! use lister_store::Store;
//! let store = Store::open("sqlite://lister.db").await?;
//! let listing = lister_http::http_listing(lister_bitbucket::Bitbucket, None, None, Default::default())?;
//! listing.run(&store, &RunOptions::default(), &RunContext::default()).await?;
//! # Ok(()) }
//! ```

use chrono::{DateTime, Utc};
use lister_core::{Forge, NextCursor, Origin, TimeIndex};
use serde::Deserialize;

/// The Bitbucket Cloud lister.
#[derive(Debug, Clone, Copy, Default)]
pub struct Bitbucket;

/// The fields of a repository that the listing reads (and asks for with `fields=`).
#[derive(Deserialize)]
pub struct Repository {
    scm: Option<String>,
    is_private: Option<bool>,
    updated_on: Option<DateTime<Utc>>,
    #[serde(default)]
    links: Links,
}

#[derive(Deserialize, Default)]
struct Links {
    #[serde(default)]
    clone: Vec<CloneLink>,
}

#[derive(Deserialize)]
struct CloneLink {
    name: String,
    href: String,
}

impl Forge for Bitbucket {
    type Cursor = TimeIndex;
    type Item<'a> = Repository;
    const NAME: &'static str = "bitbucket";
    const DEFAULT_URL: &'static str = "https://bitbucket.org";
    const PUBLIC_API: Option<(&'static str, &'static str)> =
        Some(("bitbucket.org", "https://api.bitbucket.org"));
    const PATH: &'static str = "/2.0/repositories?pagelen=100&fields=next,values.links.clone,\
        values.scm,values.is_private,values.updated_on&after={cursor}";
    const ITEMS: &'static str = "/values";
    const NEXT: NextCursor = NextCursor::BodyUrlParam("/next", "after");
    const PARALLEL: bool = true;

    /// The clone URL named `https`, else `http`, else `ssh`; the visit type from `scm`.
    fn origin(&self, repo: Repository, _: &url::Url) -> Option<Origin> {
        let named = |name| repo.links.clone.iter().find(|link| link.name == name);
        let link = ["https", "http", "ssh"].into_iter().find_map(named)?;
        let origin = Origin::new(&link.href, repo.scm.as_deref().unwrap_or("git"));
        let enabled = repo.is_private != Some(true);
        Some(
            origin
                .with_last_update(repo.updated_on)
                .with_enabled(enabled),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{HeaderMap, StatusCode};
    use lister_core::{PageResponse, TimeIndex};
    use url::Url;

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

    fn origins(body: &str) -> Vec<Origin> {
        let read = lister_core::page_origins(
            &Bitbucket,
            &"https://forge.example.org/".parse().unwrap(),
            &response(body),
        )
        .unwrap();
        assert!(read.rejected.is_empty(), "{:?}", read.rejected);
        read.origins
    }

    #[test]
    fn reads_a_real_page() {
        let origins = origins(PAGE);
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
        let origins = origins(body);
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
    fn reads_the_after_of_next() {
        let next = Bitbucket
            .next_cursor(TimeIndex::EPOCH, &response(PAGE))
            .unwrap()
            .unwrap();
        assert_eq!(next.to_string(), "2011-06-07T02:25:57.515877+00:00");
        let end = Bitbucket.next_cursor(TimeIndex::EPOCH, &response(r#"{"values": []}"#));
        assert_eq!(end.unwrap(), None);
        let opaque =
            r#"{"values": [], "next": "https://api.bitbucket.org/2.0/repositories?page=abc"}"#;
        assert!(
            Bitbucket
                .next_cursor(TimeIndex::EPOCH, &response(opaque))
                .is_err()
        );
    }

    #[test]
    fn first_page_url_encodes_the_epoch() {
        let api = Bitbucket.api_base(&Url::parse(Bitbucket::DEFAULT_URL).unwrap());
        let request = Bitbucket.request(&api, &Bitbucket.first_cursor()).unwrap();
        let url = request.url;
        assert!(
            url.as_str()
                .starts_with("https://api.bitbucket.org/2.0/repositories?")
        );
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
