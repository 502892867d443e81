//! gitweb for lister, in two levels: the project index (`GET {url}/?a=project_index`, plain
//! text, one URL-encoded project path a line, then its owner), then each project's summary
//! page for its clone URLs and last change. A listing costs one request, plus one per project.
//!
//! The project index rather than the HTML project list: it is the same list (the projects
//! gitweb exports, `$projects_list` or a scan of `$projectroot`), with the forks the HTML list
//! folds under their parent when gitweb's `forks` feature is on, and plain text needs no
//! parsing of markup. gitweb has no paging: the index is one document, and a rerun asks it
//! again, with every summary page.
//!
//! The origin is a clone URL from the summary page's "URL" rows (`tr.metadata_url`: a
//! project's `cloneurl` file, else gitweb's `@git_base_url_list` with the project's path), as
//! Software Heritage records it: `https`, else `http`, else `git://`, never `ssh`; a path with a
//! space is kept whole (`https://host/with%20space.git`); swh-lister also rewrites `http` to
//! `https` when the instance is served over https, which lister does not (an `http` URL is
//! recorded as offered, when no `https` one is). Its last update is the summary's
//! "last change", an exact date (swh-lister reads the index's "3 months ago" instead). A
//! project whose summary shows no clone URL (neither is configured) is skipped with a warning:
//! swh-lister guesses `git://{host}/{path}` there, a git daemon the instance may not run; such an
//! instance is listed with `--base-git-url URL`, as swh-lister's `base_git_url`: each
//! project's origin is the base followed by its path (`{base}/group/repo.git`), and no summary
//! page is asked for (one request in all). gitweb is self-hosted only: `--url` is required (where gitweb
//! answers: `https://host/`, `https://host/cgi-bin/gitweb.cgi`).

use chrono::DateTime;
use lister_core::html::texts;
use lister_core::{Forge, NextCursor, Origin, PageRead, PageRequest, PageResponse, ParseError};
use lister_core::{RepositoryPath, SubPage, preferred_clone_url};
use url::Url;

/// The gitweb lister.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gitweb;

impl Forge for Gitweb {
    type Cursor = u64;
    type Item<'a> = serde::de::IgnoredAny;
    const NAME: &'static str = "gitweb";
    const WEBSITE: bool = true;
    const DEFAULT_URL: &'static str = "";
    const NEXT: NextCursor = NextCursor::None;
    const REPOSITORY_PATH: RepositoryPath = RepositoryPath::Query("p");

    /// The index beside gitweb's script (`…/gitweb.cgi?a=…`) or in its folder (`…/git/?a=…`).
    fn request(&self, api: &Url, _: &u64) -> Result<PageRequest, ParseError> {
        let url = api.join("?a=project_index");
        Ok(PageRequest::get(
            url.map_err(|e| ParseError::new(e.to_string()))?,
        ))
    }

    /// Each project of the index names its summary page, `?p={path}&a=summary`.
    fn read_page(&self, page: &PageResponse, _: &Url) -> Option<Result<PageRead, ParseError>> {
        let content_type = page.header("content-type").unwrap_or_default();
        if !content_type.starts_with("text/plain") {
            let error = "not a gitweb project index (text/plain)";
            return Some(Err(ParseError::new(error)));
        }
        let text = String::from_utf8_lossy(&page.body);
        let paths = text.lines().filter_map(|line| line.split(' ').next());
        let paths = paths.filter_map(|path| url::form_urlencoded::parse(path.as_bytes()).next());
        let summary = |(path, _): (std::borrow::Cow<'_, str>, _)| {
            let mut url = page.url.clone();
            url.query_pairs_mut().clear().append_pair("p", &path);
            url.query_pairs_mut().append_pair("a", "summary");
            url
        };
        Some(Ok(PageRead::naming(paths.map(summary))))
    }

    fn sub_page(&self, page: &PageResponse, _: &Url) -> Result<SubPage, ParseError> {
        let html = page.html();
        let urls = texts(&html, "tr.metadata_url > td:nth-child(2)");
        let changed = texts(&html, "tr#metadata_lchange span.datetime").pop();
        let changed = changed.and_then(|d| DateTime::parse_from_rfc2822(&d).ok());
        let origin = preferred_clone_url(&urls).map(|url| Origin::new(url, Self::VISIT_TYPE));
        if origin.is_none() {
            tracing::warn!(url = %page.url, "no clone URL on a gitweb summary page: skipped");
        }
        let origin = origin.map(|o| o.with_last_update(changed.map(|date| date.to_utc())));
        Ok(SubPage::new(origin.into_iter().collect(), None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = include_str!("../../tests/fixtures/gitweb_project_index.txt");
    const SPACE: &str = include_str!("../../tests/fixtures/gitweb_summary_space.html");

    fn site() -> Url {
        Url::parse("https://git.example.org/gitweb.cgi").unwrap()
    }

    fn index(content_type: &str) -> PageResponse {
        let at = "https://git.example.org/gitweb.cgi?a=project_index";
        let mut page = PageResponse::ok(at, INDEX.to_owned());
        page.headers
            .insert("content-type", content_type.parse().unwrap());
        page
    }

    #[test]
    fn the_project_index_names_each_summary_page() {
        let api = Gitweb.api_base(&site());
        let first = Gitweb.request(&api, &0).unwrap();
        assert_eq!(
            first.url.as_str(),
            "https://git.example.org/gitweb.cgi?a=project_index"
        );
        let folder = Gitweb.request(&Url::parse("https://example.org/git/").unwrap(), &0);
        assert_eq!(
            folder.unwrap().url.as_str(),
            "https://example.org/git/?a=project_index"
        );
        let read = lister_core::page_origins(&Gitweb, &site(), &index("text/plain; charset=utf-8"));
        let read = read.unwrap();
        let mut urls: Vec<&str> = read.sub_listings.iter().map(|r| r.url.as_str()).collect();
        urls.sort();
        let at = |p: &str| format!("https://git.example.org/gitweb.cgi?p={p}&a=summary");
        let expected = [
            "alpha.git",
            "caf%C3%A9.git",
            "group%2Fdeeper%2Fnested.git",
            "group%2Fsub.git",
            "hidden.git",
            "repo-b.git",
            "repo-c.git",
            "repo-d.git",
            "repo-e.git",
            "repo-f.git",
            "repo-g.git",
            "repo-h.git",
            "with+space.git",
        ];
        assert_eq!(urls, expected.map(at));
        // With a base clone URL, a summary's project path is the repository's.
        let base = Url::parse("https://git.example.org/git").unwrap();
        let nested = read
            .sub_listings
            .iter()
            .find(|r| r.url.as_str().contains("nested"));
        let nested = Gitweb::REPOSITORY_PATH.clone_url(&nested.unwrap().url, &site(), &base);
        assert_eq!(
            nested.unwrap(),
            "https://git.example.org/git/group/deeper/nested.git"
        );
        assert_eq!(Gitweb.next_cursor(0, &index("text/plain")).unwrap(), None);
    }

    #[test]
    fn an_index_that_is_not_plain_text_is_a_parse_error() {
        let read = lister_core::page_origins(&Gitweb, &site(), &index("text/html"));
        assert!(read.unwrap_err().to_string().contains("project index"));
    }

    #[test]
    fn a_summary_gives_the_https_clone_url_whole_and_the_last_change() {
        let at = "https://git.example.org/gitweb.cgi?p=with+space.git&a=summary";
        let sub = Gitweb
            .sub_page(&PageResponse::ok(at, SPACE.to_owned()), &site())
            .unwrap();
        assert_eq!(sub.origins.len(), 1);
        let origin = &sub.origins[0];
        assert_eq!(origin.url, "https://git.example.org/with%20space.git");
        assert_eq!(origin.visit_type, "git");
        assert_eq!(
            origin.last_update.unwrap().to_rfc3339(),
            "2026-12-06T16:44:43+00:00"
        );
        assert_eq!(sub.next, None);
        // Without its "URL" rows (no clone URL configured), the project is skipped.
        let bare = SPACE.replace("metadata_url", "metadata_other");
        let sub = Gitweb
            .sub_page(&PageResponse::ok(at, bare), &site())
            .unwrap();
        assert_eq!(sub, SubPage::default());
    }
}
