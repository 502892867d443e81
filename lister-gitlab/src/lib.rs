//! GitLab (gitlab.com and self-hosted) and Heptapod for lister: every project the
//! credential may see, through `GET /api/v4/projects` with keyset pagination by id.
//!
//! The cursor is the project id reached, from the `id_after` of the `Link: rel="next"` URL,
//! so an incremental run lists only the projects created since. The origin is the project's
//! `http_url_to_repo`, as Software Heritage records it; private and internal projects are
//! recorded disabled. Anonymous requests see only public projects, in the "simple" view that
//! says neither visibility nor fork: the fork flag is then unknown.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lister_core::{Lister, RunContext, RunOptions};
//! use lister_store::Store;
//! let url = url::Url::parse("https://gitlab.example.org")?;
//! let listing = lister_http::http_listing(lister_gitlab::GitLab::default(), None, Some(url), Default::default())?;
//! listing.run(&Store::open("lister.db").await?, &RunOptions::default(), &RunContext::default()).await?;
//! # Ok(()) }
//! ```

use lister_core::{Auth, Forge, NextCursor, Origin};
use serde::de::IgnoredAny;

/// A GitLab project, as the listing reads it.
#[derive(serde::Deserialize)]
pub struct Project {
    http_url_to_repo: Option<String>,
    last_activity_at: Option<chrono::DateTime<chrono::Utc>>,
    visibility: Option<String>,
    forked_from_project: Option<IgnoredAny>,
    vcs_type: Option<String>,
}

/// GitLab and Heptapod, one API: `K` picks the forge (0 GitLab, 1 Heptapod).
#[derive(Debug, Clone, Copy, Default)]
pub struct GitLabFamily<const K: usize>;
/// The GitLab lister.
pub type GitLab = GitLabFamily<0>;
/// The Heptapod lister: GitLab's API, with each project's VCS in `vcs_type` (`hg_git`, a
/// Mercurial project mirrored to Git, is listed as `hg`).
pub type Heptapod = GitLabFamily<1>;

impl<const K: usize> Forge for GitLabFamily<K> {
    type Cursor = u64;
    type Item<'a> = Project;
    const NAME: &'static str = ["gitlab", "heptapod"][K];
    const DEFAULT_URL: &'static str = ["https://gitlab.com", "https://foss.heptapod.net"][K];
    const API_PATH: &'static str = "api/v4";
    const PATH: &'static str =
        "/projects?pagination=keyset&order_by=id&sort=asc&per_page=100&id_after={cursor}";
    const PARALLEL: bool = true;
    const NEXT: NextCursor = NextCursor::LinkParam("id_after");
    const AUTH: Auth = Auth::Header("PRIVATE-TOKEN");

    /// The fork flag and the visibility only in the full view (with a token).
    fn origin(&self, project: Project, _: &url::Url) -> Option<Origin> {
        let git = K == 0 || project.vcs_type.as_deref() == Some("git");
        let full_view = project.visibility.is_some();
        let fork = full_view.then_some(project.forked_from_project.is_some());
        let public = matches!(project.visibility.as_deref(), None | Some("public"));
        let origin = Origin::new(project.http_url_to_repo?, if git { "git" } else { "hg" });
        let origin = origin
            .with_fork(fork)
            .with_last_update(project.last_activity_at);
        Some(origin.with_enabled(public))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lister_core::PageResponse;
    use url::Url;

    fn response(link: Option<&str>, body: &str) -> PageResponse {
        let page = PageResponse::ok(
            "https://gitlab.example.org/api/v4/projects?id_after=0",
            body.to_owned(),
        );
        match link {
            Some(link) => page.with_header("link", link),
            None => page,
        }
    }

    fn origins<F: Forge>(forge: &F, body: &str) -> Vec<Origin> {
        let read = lister_core::page_origins(
            forge,
            &"https://forge.example.org/".parse().unwrap(),
            &response(None, body),
        )
        .unwrap();
        assert!(read.rejected.is_empty(), "{:?}", read.rejected);
        read.origins
    }

    /// From GitLab's documentation of `GET /projects`, cut to the fields that matter.
    const FULL_VIEW: &str = r#"[
      {"id": 4, "http_url_to_repo": "https://gitlab.example.com/diaspora/diaspora-client.git",
       "last_activity_at": "2013-09-30T13:46:02Z", "visibility": "private", "namespace": {"id": 3}},
      {"id": 6, "http_url_to_repo": "https://gitlab.example.com/brightbox/puppet.git",
       "last_activity_at": "2013-09-30T13:46:02.000Z", "visibility": "public",
       "forked_from_project": {"id": 5, "name": "puppet"}},
      {"id": 7, "http_url_to_repo": "https://gitlab.example.com/a/b.git", "visibility": "internal"}]"#;

    #[test]
    fn reads_the_full_view() {
        let origins = origins(&GitLab::default(), FULL_VIEW);
        let facts: Vec<_> = origins
            .iter()
            .map(|o| (o.url.as_str(), o.enabled, o.is_fork))
            .collect();
        assert_eq!(
            facts,
            [
                (
                    "https://gitlab.example.com/diaspora/diaspora-client.git",
                    false,
                    Some(false)
                ),
                (
                    "https://gitlab.example.com/brightbox/puppet.git",
                    true,
                    Some(true)
                ),
                ("https://gitlab.example.com/a/b.git", false, Some(false)),
            ]
        );
        assert_eq!(
            origins[0].last_update.unwrap().to_rfc3339(),
            "2013-09-30T13:46:02+00:00"
        );
    }

    #[test]
    fn the_simple_view_leaves_the_fork_flag_unknown() {
        let simple =
            r#"[{"id": 4, "http_url_to_repo": "https://gitlab.example.com/a/b.git", "path": "b"}]"#;
        let origins = origins(&GitLab::default(), simple);
        assert_eq!((origins[0].enabled, origins[0].is_fork), (true, None));
    }

    #[test]
    fn heptapod_reads_the_vcs_of_each_project() {
        let body = r#"[{"http_url_to_repo": "https://foss.heptapod.net/a/hg", "vcs_type": "hg"},
            {"http_url_to_repo": "https://foss.heptapod.net/a/mirrored", "vcs_type": "hg_git"},
            {"http_url_to_repo": "https://foss.heptapod.net/a/git.git", "vcs_type": "git"}]"#;
        let types: Vec<_> = origins(&Heptapod::default(), body)
            .into_iter()
            .map(|o| o.visit_type)
            .collect();
        assert_eq!(types, ["hg", "hg", "git"]);
    }

    #[test]
    fn pages_by_the_id_after_of_the_next_link() {
        let link = r#"<https://gitlab.example.org/api/v4/projects?id_after=42&order_by=id&pagination=keyset&per_page=100&sort=asc>; rel="next""#;
        assert_eq!(
            GitLab::default()
                .next_cursor(0, &response(Some(link), "[]"))
                .unwrap(),
            Some(42)
        );
        assert_eq!(
            GitLab::default()
                .next_cursor(42, &response(None, "[]"))
                .unwrap(),
            None
        );
        let api = GitLab::default().api_base(&Url::parse("https://gitlab.example.org").unwrap());
        let request = GitLab::default().request(&api, &42).unwrap();
        assert_eq!(
            request.url.as_str(),
            "https://gitlab.example.org/api/v4/projects?pagination=keyset&order_by=id&sort=asc&per_page=100&id_after=42"
        );
    }
}
