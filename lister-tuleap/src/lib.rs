//! Tuleap for lister, in two levels: the instance's projects (`GET /api/projects`, in the order
//! of their ids), then each project's git repositories (`GET /api/projects/{id}/git`, asked in
//! the order of their paths so that a push during the listing cannot move one across a page
//! boundary), both paged by `offset`, 50 at a time (Tuleap's largest page), until the total in
//! `X-PAGINATION-SIZE`. That total counts the repositories the caller may not see: a page may
//! hold fewer than 50, or none, and the next one is still asked.
//!
//! The cursor is the offset of a page of projects. A page is committed with the repositories
//! of every project on it, so the state moves past a project only once its repositories are
//! stored. A rerun asks the last page of projects again, with their repositories, and goes on
//! to the projects created since; repositories created in older projects are found by
//! `--full-pass`. A project whose git listing is hidden or gone (`403`, `404`, `410`) is
//! skipped and counted (`items_rejected`).
//!
//! The origin is the clone URL `{instance}/plugins/git/{path}`, as Software Heritage records
//! it, with the repository's `last_update_date`. Subversion repositories are not listed.
//! Tuleap is self-hosted only: `--url` is required (the instance's address, or its `/api`);
//! the key, when given, goes in `X-Auth-AccessKey`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lister_core::{Lister, RunContext, RunOptions};
//! use lister_store::Store;
//! let url = url::Url::parse("https://tuleap.example.org")?;
//! let listing = lister_http::http_listing(lister_tuleap::Tuleap, None, Some(url), Default::default())?;
//! listing.run(&Store::open("lister.db").await?, &RunOptions::default(), &RunContext::default()).await?;
//! # Ok(()) }
//! ```

use chrono::{DateTime, Utc};
use lister_core::{Auth, Forge, NextCursor, Origin, PageRequest, PageResponse};
use lister_core::{ParseError, SubPage};
use serde::Deserialize;
use url::Url;

/// The Tuleap lister.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tuleap;

/// An entry of either level, as the listing reads it: a project (its `id`), or a git
/// repository (its `path` and `last_update_date`).
#[derive(Deserialize)]
pub struct Entry {
    id: u64,
    path: Option<String>,
    last_update_date: Option<DateTime<Utc>>,
}

/// Entries per page, projects and repositories alike (Tuleap's largest is 50).
const LIMIT: u64 = 50;

/// The offset after the page at `offset`, unless the page ends the listing.
fn next_offset(offset: u64, page: &PageResponse) -> Result<Option<u64>, ParseError> {
    match page.header("x-pagination-size").map(str::parse::<u64>) {
        Some(Ok(total)) => Ok(Some(offset + LIMIT).filter(|next| *next < total)),
        _ => Err(ParseError::new("no X-PAGINATION-SIZE total")),
    }
}

/// The page at `offset` of the git listing at `url` (a project's), by path.
fn git_page(mut url: Url, offset: u64) -> PageRequest {
    let query = format!("limit={LIMIT}&offset={offset}&order_by=path");
    url.set_query(Some(&query));
    PageRequest::get(url)
}

impl Forge for Tuleap {
    type Cursor = u64;
    type Item<'a> = Entry;
    const NAME: &'static str = "tuleap";
    const DEFAULT_URL: &'static str = "";
    const API_PATH: &'static str = "api";
    const PATH: &'static str = "/projects?limit=50&offset={cursor}";
    const NEXT: NextCursor = NextCursor::None;
    const AUTH: Auth = Auth::Header("X-Auth-AccessKey");

    fn next_cursor(&self, offset: u64, page: &PageResponse) -> Result<Option<u64>, ParseError> {
        next_offset(offset, page)
    }

    fn origin(&self, _: Entry, _: &Url) -> Option<Origin> {
        None
    }

    fn sub_listing(&self, project: &Entry, site: &Url) -> Option<PageRequest> {
        let path = format!("/projects/{}/git", project.id);
        let url = lister_core::page_url(&self.api_base(site), &path, "").ok()?;
        Some(git_page(url, 0))
    }

    /// The origins are under the instance's root, which the page's URL names
    /// (`{root}/api/projects/{id}/git`), whether `--url` was the instance or its API.
    fn sub_page(&self, page: &PageResponse, _: &Url) -> Result<SubPage, ParseError> {
        let repositories: Vec<Entry> = page.json_at("/repositories")?;
        let origin = |repo: Entry| {
            let path = format!("../../../plugins/git/{}", repo.path?);
            let url = page.url.join(&path).ok()?;
            Some(Origin::new(url.as_str(), "git").with_last_update(repo.last_update_date))
        };
        let offset = lister_http::query_param(&page.url, "offset").and_then(|o| o.parse().ok());
        let next = next_offset(offset.unwrap_or(0), page)?;
        let next = next.map(|next| git_page(page.url.clone(), next));
        let origins = repositories.into_iter().filter_map(origin).collect();
        Ok(SubPage::new(origins, next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROJECTS: &str = include_str!("../../tests/fixtures/tuleap_projects_page.json");
    const GIT: &str = include_str!("../../tests/fixtures/tuleap_git_page.json");

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    /// An answer of Tuleap's at `at`, with `X-PAGINATION-SIZE: size` when given.
    fn page(at: &str, body: &str, size: Option<&str>) -> PageResponse {
        let mut page = PageResponse::ok(at, body.to_owned());
        let headers = [
            ("x-pagination-limit", Some("50")),
            ("x-pagination-size", size),
        ];
        let headers = headers
            .into_iter()
            .chain([("x-pagination-limit-max", Some("50"))]);
        for (name, value) in headers.filter_map(|(name, value)| Some((name, value?))) {
            page.headers.insert(name, value.parse().unwrap());
        }
        page
    }

    fn urls(requests: &[PageRequest]) -> Vec<&str> {
        requests
            .iter()
            .map(|request| request.url.as_str())
            .collect()
    }

    #[test]
    fn a_page_of_projects_names_each_git_listing_and_the_next_offset() {
        let site = url("https://tuleap.example.org/");
        let api = Tuleap.api_base(&site);
        assert_eq!(
            Tuleap.request(&api, &0).unwrap().url.as_str(),
            "https://tuleap.example.org/api/projects?limit=50&offset=0"
        );
        let at = "https://tuleap.example.org/api/projects?limit=50&offset=0";
        let projects = page(at, PROJECTS, Some("120"));
        let read = lister_core::page_origins(&Tuleap, &site, &projects).unwrap();
        assert!(read.origins.is_empty() && read.rejected.is_empty());
        assert_eq!(
            urls(&read.sub_listings),
            [
                "https://tuleap.example.org/api/projects/101/git?limit=50&offset=0&order_by=path",
                "https://tuleap.example.org/api/projects/138/git?limit=50&offset=0&order_by=path",
            ]
        );
        assert!(read.sub_listings.iter().all(PageRequest::is_cacheable));
        // 120 projects: the pages at 0, 50 and 100.
        assert_eq!(Tuleap.next_cursor(0, &projects).unwrap(), Some(50));
        assert_eq!(Tuleap.next_cursor(50, &projects).unwrap(), Some(100));
    }

    #[test]
    fn the_last_page_of_projects_ends_the_listing() {
        let at = "https://tuleap.example.org/api/projects?limit=50&offset=100";
        assert_eq!(
            Tuleap
                .next_cursor(100, &page(at, PROJECTS, Some("120")))
                .unwrap(),
            None
        );
        // A total that the pages fill exactly, and no project at all.
        assert_eq!(
            Tuleap
                .next_cursor(50, &page(at, PROJECTS, Some("100")))
                .unwrap(),
            None
        );
        assert_eq!(
            Tuleap.next_cursor(0, &page(at, "[]", Some("0"))).unwrap(),
            None
        );
    }

    #[test]
    fn a_page_of_repositories_gives_their_clone_urls_and_last_updates() {
        let at = "https://tuleap.example.org/api/projects/101/git?limit=50&offset=0&order_by=path";
        let sub = Tuleap.sub_page(
            &page(at, GIT, Some("2")),
            &url("https://tuleap.example.org/"),
        );
        let sub = sub.unwrap();
        let facts: Vec<_> = sub
            .origins
            .iter()
            .map(|o| {
                (
                    o.url.as_str(),
                    o.visit_type.as_str(),
                    o.last_update.map(|t| t.to_rfc3339()),
                )
            })
            .collect();
        assert_eq!(
            facts,
            [
                (
                    "https://tuleap.example.org/plugins/git/guinea-pig/repo.git",
                    "git",
                    Some("2021-03-12T09:33:13+00:00".to_owned())
                ),
                (
                    "https://tuleap.example.org/plugins/git/guinea-pig/tuleap/rhel6/stable.git",
                    "git",
                    Some("2024-12-01T04:59:59+00:00".to_owned())
                ),
            ]
        );
        assert_eq!(sub.next, None, "2 repositories: one page");
    }

    #[test]
    fn the_api_base_as_url_gives_the_same_requests_and_origins() {
        for given in [
            "https://tuleap.example.org/api",
            "https://tuleap.example.org/api/",
        ] {
            let site = url(given);
            let project = Entry {
                id: 101,
                path: None,
                last_update_date: None,
            };
            let first = Tuleap.sub_listing(&project, &site).unwrap();
            assert_eq!(
                first.url.as_str(),
                "https://tuleap.example.org/api/projects/101/git?limit=50&offset=0&order_by=path"
            );
            let sub = Tuleap
                .sub_page(&page(first.url.as_str(), GIT, Some("2")), &site)
                .unwrap();
            assert_eq!(
                sub.origins[0].url.as_str(),
                "https://tuleap.example.org/plugins/git/guinea-pig/repo.git"
            );
        }
        // An instance under a path keeps it.
        let site = url("https://example.org/tuleap/");
        let project = Entry {
            id: 7,
            path: None,
            last_update_date: None,
        };
        let first = Tuleap.sub_listing(&project, &site).unwrap();
        let sub = Tuleap
            .sub_page(&page(first.url.as_str(), GIT, Some("2")), &site)
            .unwrap();
        assert_eq!(
            sub.origins[0].url.as_str(),
            "https://example.org/tuleap/plugins/git/guinea-pig/repo.git"
        );
    }

    #[test]
    fn a_sub_listing_goes_on_to_the_total_even_past_short_pages() {
        let site = url("https://tuleap.example.org/");
        let at = |offset| {
            format!(
                "https://tuleap.example.org/api/projects/101/git?limit=50&offset={offset}&order_by=path"
            )
        };
        // Two repositories shown, 120 counted (the caller may not see the others): the next
        // page is asked all the same.
        let first = Tuleap
            .sub_page(&page(&at(0), GIT, Some("120")), &site)
            .unwrap();
        assert_eq!(first.origins.len(), 2);
        let next = first.next.unwrap();
        assert_eq!(next.url.as_str(), at(50));
        assert!(next.is_cacheable());
        let empty = r#"{"repositories": []}"#;
        let second = Tuleap
            .sub_page(&page(&at(50), empty, Some("120")), &site)
            .unwrap();
        assert!(second.origins.is_empty());
        assert_eq!(second.next.unwrap().url.as_str(), at(100));
        let last = Tuleap
            .sub_page(&page(&at(100), GIT, Some("120")), &site)
            .unwrap();
        assert_eq!(last.next, None);
    }

    #[test]
    fn a_missing_or_broken_total_is_a_clear_parse_error() {
        let at = "https://tuleap.example.org/api/projects?limit=50&offset=0";
        for size in [None, Some("many")] {
            let error = Tuleap
                .next_cursor(0, &page(at, PROJECTS, size))
                .unwrap_err();
            assert!(error.to_string().contains("X-PAGINATION-SIZE"), "{error}");
            let git = "https://tuleap.example.org/api/projects/101/git?limit=50&offset=0";
            let site = url("https://tuleap.example.org/");
            let error = Tuleap.sub_page(&page(git, GIT, size), &site).unwrap_err();
            assert!(error.to_string().contains("X-PAGINATION-SIZE"), "{error}");
        }
        // A body that is not a list of repositories is one too.
        let git = "https://tuleap.example.org/api/projects/101/git?limit=50&offset=0";
        let site = url("https://tuleap.example.org/");
        let error = Tuleap.sub_page(&page(git, r#"{"repositories": 3}"#, Some("1")), &site);
        assert!(error.unwrap_err().to_string().contains("/repositories"));
    }
}
