//! Gitea, Forgejo (Codeberg) and Gogs for lister: every repository the credential may see,
//! through `GET /api/v1/repos/search`, paged by page number.
//!
//! Gitea and Forgejo list sorted by id (`sort=id&order=asc`; their default order is by
//! name), so the cursor, the page number reached, stays meaningful: an incremental run asks
//! the last page again and goes on, and finds every repository created since. Gogs cannot
//! sort: only `q=_` lists every repository, in the database's order (in practice by id).
//! Its state is the page reached too, so a rerun finds what was added at the end; only a
//! `--full-pass` guarantees the rest. The origin is the repository's `clone_url`; private
//! and internal repositories are recorded disabled.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lister_core::{Lister, RunContext, RunOptions};
//! use lister_store::Store;
//! let listing = lister_http::http_listing(lister_gitea::Forgejo::default(), None, None, Default::default())?;
//! listing.run(&Store::open("lister.db").await?, &RunOptions::default(), &RunContext::default()).await?;
//! # Ok(()) }
//! ```

use lister_core::{Auth, Forge, NextCursor, Origin};

/// A repository, as the listing reads it (Gitea, Forgejo and Gogs share the shape).
#[derive(serde::Deserialize)]
pub struct Repository {
    clone_url: Option<String>,
    updated_at: Option<chrono::DateTime<chrono::Utc>>,
    fork: Option<bool>,
    private: Option<bool>,
    internal: Option<bool>,
}

/// The Gitea family, one API: `K` picks the forge (0 Gitea, 1 Forgejo, 2 Gogs).
#[derive(Debug, Clone, Copy, Default)]
pub struct GiteaFamily<const K: usize>;
/// The Gitea lister.
pub type Gitea = GiteaFamily<0>;
/// The Forgejo lister (Codeberg is its main instance).
pub type Forgejo = GiteaFamily<1>;
/// The Gogs lister: `q=_` (SQL's one-character wildcard) matches every repository.
pub type Gogs = GiteaFamily<2>;

/// The main instances of Gitea, Forgejo and Gogs.
const MAIN: [&str; 3] = [
    "https://gitea.com",
    "https://codeberg.org",
    "https://try.gogs.io",
];
/// Gitea's and Forgejo's listing, sorted by id.
const BY_ID: &str = "/repos/search?sort=id&order=asc&limit=50&page={cursor}";

impl<const K: usize> Forge for GiteaFamily<K> {
    type Cursor = u64;
    type Item<'a> = Repository;
    const NAME: &'static str = ["gitea", "forgejo", "gogs"][K];
    const DEFAULT_URL: &'static str = MAIN[K];
    const API_PATH: &'static str = "api/v1";
    const PATH: &'static str = [BY_ID, BY_ID, "/repos/search?q=_&limit=50&page={cursor}"][K];
    const PARALLEL: bool = K < 2;
    const ITEMS: &'static str = "/data";
    const NEXT: NextCursor = NextCursor::LinkParam("page");
    const AUTH: Auth = Auth::Token;

    fn first_cursor(&self) -> u64 {
        1
    }

    fn origin(&self, repo: Repository, _: &url::Url) -> Option<Origin> {
        // Private and internal repositories are recorded disabled.
        let open = repo.private != Some(true) && repo.internal != Some(true);
        let origin = Origin::new(repo.clone_url?, "git").with_fork(repo.fork);
        Some(origin.with_last_update(repo.updated_at).with_enabled(open))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lister_core::PageResponse;
    use url::Url;

    fn response(link: Option<&str>, body: &str) -> PageResponse {
        let page = PageResponse::ok(
            "https://codeberg.org/api/v1/repos/search?page=1",
            body.to_owned(),
        );
        match link {
            Some(link) => page.with_header("link", link),
            None => page,
        }
    }

    /// Cut from Gitea's swagger example of a repository.
    const PAGE: &str = r#"{"ok": true, "data": [
      {"id": 1, "name": "a", "full_name": "o/a", "clone_url": "https://gitea.example.org/o/a.git",
       "html_url": "https://gitea.example.org/o/a", "fork": false, "private": false, "internal": false,
       "mirror": false, "updated_at": "2024-03-01T10:20:30+01:00", "owner": {"id": 1, "login": "o"}},
      {"id": 2, "clone_url": "https://gitea.example.org/o/b.git", "fork": true, "private": true,
       "parent": {"id": 1}, "updated_at": "2024-03-02T00:00:00Z"}]}"#;

    #[test]
    fn reads_a_page() {
        let read = lister_core::page_origins(
            &Forgejo::default(),
            &"https://forge.example.org/".parse().unwrap(),
            &response(None, PAGE),
        )
        .unwrap();
        let facts: Vec<_> = read
            .origins
            .iter()
            .map(|o| (o.url.as_str(), o.is_fork, o.enabled))
            .collect();
        assert_eq!(
            facts,
            [
                ("https://gitea.example.org/o/a.git", Some(false), true),
                ("https://gitea.example.org/o/b.git", Some(true), false)
            ]
        );
        assert_eq!(
            read.origins[0].last_update.unwrap().to_rfc3339(),
            "2024-03-01T09:20:30+00:00"
        );
    }

    #[test]
    fn requests_pages_sorted_by_id_except_on_gogs() {
        let api = Gitea::default().api_base(&Url::parse("https://gitea.example.org").unwrap());
        let url = Gitea::default().request(&api, &3).unwrap().url;
        assert_eq!(
            url.as_str(),
            "https://gitea.example.org/api/v1/repos/search?sort=id&order=asc&limit=50&page=3"
        );
        let url = Gogs::default().request(&api, &1).unwrap().url;
        assert_eq!(
            url.as_str(),
            "https://gitea.example.org/api/v1/repos/search?q=_&limit=50&page=1"
        );
        let next = r#"<https://gitea.example.org/api/v1/repos/search?limit=50&page=4&sort=id>; rel="next", <https://gitea.example.org/api/v1/repos/search?page=9>; rel="last""#;
        assert_eq!(
            Gitea::default()
                .next_cursor(3, &response(Some(next), PAGE))
                .unwrap(),
            Some(4)
        );
        let last = r#"<https://gitea.example.org/api/v1/repos/search?page=1>; rel="first""#;
        assert_eq!(
            Gitea::default()
                .next_cursor(9, &response(Some(last), PAGE))
                .unwrap(),
            None
        );
    }
}
