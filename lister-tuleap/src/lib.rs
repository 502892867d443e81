//! Tuleap for lister, in two levels: the instance's projects (`GET /api/projects`), then each
//! project's git repositories (`GET /api/projects/{id}/git`), both paged by `offset` until
//! the total in `X-PAGINATION-SIZE`.
//!
//! The origin is the clone URL `{instance}/plugins/git/{path}`, as Software Heritage records
//! it, with the repository's `last_update_date`. Projects are listed in the order of their
//! ids, so a rerun resumes at the offset it reached and finds the projects created since;
//! `--full-pass` lists every project's repositories again. A project whose git service is
//! off or hidden (`403`, `404`) is skipped and counted. Subversion repositories are not
//! listed. Tuleap is self-hosted only: `--url` is required; the key, when given, goes in
//! `X-Auth-AccessKey`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lister_core::{Lister, RunContext, RunOptions, Store};
//! let url = url::Url::parse("https://tuleap.example.org")?;
//! let listing = lister_http::http_listing(lister_tuleap::Tuleap, None, Some(url), Default::default())?;
//! listing.run(&Store::open("lister.db").await?, &RunOptions::default(), &RunContext::default()).await?;
//! # Ok(()) }
//! ```

use chrono::{DateTime, Utc};
use lister_core::{
    Auth, Forge, NextCursor, Origin, PageRequest, PageResponse, ParseError, SubPage,
};
use serde::Deserialize;
use url::Url;

/// The Tuleap lister.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tuleap;

/// A project, as the listing reads it.
#[derive(Deserialize)]
pub struct Project {
    id: u64,
}

#[derive(Deserialize)]
struct Repository {
    path: String,
    last_update_date: Option<DateTime<Utc>>,
}

/// Items per page, projects and repositories alike (Tuleap's largest is 50).
const LIMIT: u64 = 50;

/// The offset after the page at `offset`, unless the page ends the listing.
fn next_offset(offset: u64, page: &PageResponse) -> Result<Option<u64>, ParseError> {
    let total = page
        .header("x-pagination-size")
        .and_then(|size| size.parse().ok());
    let total: u64 = total.ok_or_else(|| ParseError::new("no X-PAGINATION-SIZE header"))?;
    Ok(Some(offset + LIMIT).filter(|next| *next < total))
}

/// `url` asking for the page at `offset`.
fn at_offset(url: &Url, offset: u64) -> PageRequest {
    let mut url = url.clone();
    url.set_query(Some(&format!("limit={LIMIT}&offset={offset}")));
    PageRequest::get(url)
}

impl Forge for Tuleap {
    type Cursor = u64;
    type Item<'a> = Project;
    const NAME: &'static str = "tuleap";
    const DEFAULT_URL: &'static str = "";
    const API_PATH: &'static str = "api";
    const PATH: &'static str = "/projects?limit=50&offset={cursor}";
    const NEXT: NextCursor = NextCursor::None;
    const AUTH: Auth = Auth::Header("X-Auth-AccessKey");

    fn next_cursor(&self, offset: u64, page: &PageResponse) -> Result<Option<u64>, ParseError> {
        next_offset(offset, page)
    }

    fn origin(&self, _: Project, _: &Url) -> Option<Origin> {
        None
    }

    fn sub_listing(&self, project: &Project, site: &Url) -> Option<PageRequest> {
        let path = format!("/projects/{}/git", project.id);
        let url = lister_core::page_url(&self.api_base(site), &path, "").ok()?;
        Some(at_offset(&url, 0))
    }

    fn sub_page(&self, page: &PageResponse, site: &Url) -> Result<SubPage, ParseError> {
        let repositories: Vec<Repository> = page.json_at("/repositories")?;
        let origin = |repo: Repository| {
            let url = site.join(&format!("plugins/git/{}", repo.path)).ok()?;
            Some(Origin::new(url.as_str(), "git").with_last_update(repo.last_update_date))
        };
        let offset = lister_http::query_param(&page.url, "offset").and_then(|o| o.parse().ok());
        let next = next_offset(offset.unwrap_or(0), page)?.map(|next| at_offset(&page.url, next));
        Ok(SubPage {
            origins: repositories.into_iter().filter_map(origin).collect(),
            next,
        })
    }
}
