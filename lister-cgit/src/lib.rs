//! cgit for lister, in two levels: the repository index (`GET {url}/?ofs=N`, HTML, as many
//! repositories a page as the instance's `max-repo-count`, 50 by default), then each listed
//! repository's summary page for its clone URLs. A listing costs one request per index page
//! and one per repository.
//!
//! The cursor is the offset of an index page; the next one is the smallest offset past it in
//! the index's pager (`ul.pager`). An index page is committed with the clone URLs of every
//! repository on it. The index is sorted by section and name (or as the instance's
//! `repository-sort` says), not by age: a rerun asks the last index page again, with its
//! repositories' summaries, and goes on from there; repositories added before it are found by
//! `--full-pass`. A repository gone between the index and its summary (`404`) is skipped and
//! counted (`items_rejected`); one hidden from the index (`repo.hide`) is not listed.
//!
//! The origin is the clone URL from the summary page's "Clone" rows (`a[rel=vcs-git]`), as
//! Software Heritage records it (the link as cgit writes it: `caf%c3%a9.git` keeps its
//! lowercase escapes): `https`, else `http`, else `git://`, never `ssh`. swh-lister takes the
//! first `http` or `https` one, so an instance listing `http` first gets `http` origins there.
//! Where swh-lister is wrong, lister is right: cgit splits its `clone-url` setting at spaces
//! *after* putting the repository's path in, so `with space.git` is offered as
//! `https://host/with` and `space.git`, and swh-lister records `https://host/with`. Here a row
//! that names no scheme (no `:`) continues the URL before it, joined with the space cgit split
//! at: the origin is `https://host/with%20space.git`. A repository whose page is not its
//! summary (an "about" page) is read from its "summary" tab, as swh-lister does; one whose
//! summary shows no clone URL (neither `clone-url` nor `clone-prefix` is set) is skipped with a
//! warning, as swh-lister skips it.
//!
//! A repository's last update is the index's "Idle" column (the date in its `title`), given to
//! its origin. An instance whose pages show no clone URL is listed with `--base-git-url URL`,
//! as swh-lister's `base_git_url`: each repository's origin is the base followed by its path
//! in the index (`{base}/group/repo.git`), and its summary page is not asked for (one request
//! per index page in all). cgit is self-hosted only: `--url` is required.

use lister_core::html::{date, elements, links};
use lister_core::{Forge, NextCursor, Origin, PageRead, PageRequest, PageResponse, ParseError};
use lister_core::{RepositoryPath, SubPage, preferred_clone_url};
use url::Url;

/// The cgit lister.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cgit;

impl Forge for Cgit {
    type Cursor = u64;
    type Item<'a> = serde::de::IgnoredAny;
    const NAME: &'static str = "cgit";
    const WEBSITE: bool = true;
    const DEFAULT_URL: &'static str = "";
    const PATH: &'static str = "/?ofs={cursor}";
    const NEXT: NextCursor = NextCursor::None;
    const REPOSITORY_PATH: RepositoryPath = RepositoryPath::UnderSite;

    fn next_cursor(&self, offset: u64, page: &PageResponse) -> Result<Option<u64>, ParseError> {
        let html = page.html();
        let pager = links(&html, "ul.pager a", &page.url);
        let offsets = pager
            .iter()
            .map(|(_, url)| lister_http::query_param(url, "ofs"));
        let offsets = offsets.filter_map(|ofs| ofs?.parse::<u64>().ok());
        Ok(offsets.filter(|ofs| *ofs > offset).min())
    }

    /// Each repository of the index names its summary page, dated by its "Idle" column.
    fn read_page(&self, page: &PageResponse, _: &Url) -> Option<Result<PageRead, ParseError>> {
        let (html, repository) = (page.html(), "td.toplevel-repo > a, td.sublevel-repo > a");
        let named = elements(&html, "tr").into_iter().filter_map(|row| {
            let (_, url) = links(row, repository, &page.url).pop()?;
            let idle = date(row, "span[class^='age-']", "title", "%Y-%m-%d %H:%M:%S %z");
            Some(PageRequest::get(url).with_last_update(idle))
        });
        Some(Ok(PageRead::naming(named.collect::<Vec<_>>())))
    }

    fn sub_page(&self, page: &PageResponse, _: &Url) -> Result<SubPage, ParseError> {
        let html = page.html();
        let mut urls: Vec<String> = Vec::new();
        for (link, _) in links(&html, "a[rel~='vcs-git']", &page.url) {
            let href = link.attr("href").unwrap_or_default();
            match urls.last_mut() {
                Some(last) if !href.contains(':') => *last = format!("{last} {href}"),
                _ => urls.push(href.to_owned()),
            }
        }
        let origin = preferred_clone_url(&urls).map(|url| Origin::new(url, Self::VISIT_TYPE));
        let tabs = links(&html, "table.tabs a:not(.active)", &page.url);
        let summary = tabs.into_iter().find(|(tab, _)| tab.text().eq(["summary"]));
        let next = summary
            .filter(|_| origin.is_none())
            .map(|(_, url)| PageRequest::get(url));
        if origin.is_none() && next.is_none() {
            tracing::warn!(url = %page.url, "no clone URL on a cgit summary page: skipped");
        }
        Ok(SubPage::new(origin.into_iter().collect(), next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX_0: &str = include_str!("../../tests/fixtures/cgit_index_0.html");
    const INDEX_10: &str = include_str!("../../tests/fixtures/cgit_index_10.html");
    const SPACE: &str = include_str!("../../tests/fixtures/cgit_summary_space.html");
    const CAFE: &str = include_str!("../../tests/fixtures/cgit_summary_cafe.html");

    fn site() -> Url {
        Url::parse("https://git.example.org/cgit.cgi/").unwrap()
    }

    fn page(at: &str, body: &str) -> PageResponse {
        PageResponse::ok(
            &format!("https://git.example.org/cgit.cgi/{at}"),
            body.to_owned(),
        )
    }

    fn urls(requests: &[PageRequest]) -> Vec<&str> {
        requests
            .iter()
            .map(|request| request.url.as_str())
            .collect()
    }

    #[test]
    fn an_index_page_names_each_repository_summary_and_the_next_offset() {
        let api = Cgit.api_base(&site());
        let first = Cgit.request(&api, &0).unwrap();
        assert_eq!(
            first.url.as_str(),
            "https://git.example.org/cgit.cgi/?ofs=0"
        );
        let index = page("?ofs=0", INDEX_0);
        let read = lister_core::page_origins(&Cgit, &site(), &index).unwrap();
        assert!(read.origins.is_empty() && read.rejected.is_empty());
        assert_eq!(
            urls(&read.sub_listings),
            [
                "https://git.example.org/cgit.cgi/alpha.git/",
                "https://git.example.org/cgit.cgi/caf%c3%a9.git/",
                "https://git.example.org/cgit.cgi/repo-b.git/",
                "https://git.example.org/cgit.cgi/repo-c.git/",
                "https://git.example.org/cgit.cgi/repo-d.git/",
            ]
        );
        let idle = read.sub_listings[0].last_update.map(|t| t.to_rfc3339());
        assert_eq!(idle.as_deref(), Some("2024-03-03T10:34:56+00:00"));
        // With a base clone URL, the summary's path under the instance is the repository's.
        let base = Url::parse("https://git.example.org/git/").unwrap();
        let path = Cgit::REPOSITORY_PATH;
        let origin = path.clone_url(&read.sub_listings[1].url, &site(), &base);
        assert_eq!(origin.unwrap(), "https://git.example.org/git/caf%c3%a9.git");
        // The pager names the pages at 0, 5 and 10.
        assert_eq!(Cgit.next_cursor(0, &index).unwrap(), Some(5));
        assert_eq!(Cgit.next_cursor(5, &index).unwrap(), Some(10));
        assert_eq!(Cgit.next_cursor(10, &index).unwrap(), None);
    }

    #[test]
    fn the_last_index_page_has_sections_and_ends_the_listing() {
        let index = page("?ofs=10", INDEX_10);
        let read = lister_core::page_origins(&Cgit, &site(), &index).unwrap();
        assert_eq!(
            urls(&read.sub_listings),
            [
                "https://git.example.org/cgit.cgi/group/deeper/nested.git/",
                "https://git.example.org/cgit.cgi/group/sub.git/",
            ]
        );
        assert_eq!(Cgit.next_cursor(10, &index).unwrap(), None);
        // A page without a pager (one page of repositories, or none) ends it too.
        assert_eq!(
            Cgit.next_cursor(0, &page("", "<html></html>")).unwrap(),
            None
        );
    }

    #[test]
    fn a_clone_url_cgit_split_at_a_space_is_joined_again() {
        let sub = Cgit
            .sub_page(&page("with%20space.git/", SPACE), &site())
            .unwrap();
        let origins: Vec<_> = sub
            .origins
            .iter()
            .map(|o| (o.url.as_str(), o.visit_type.as_str()))
            .collect();
        assert_eq!(
            origins,
            [("https://git.example.org/with%20space.git", "git")]
        );
        assert_eq!(sub.next, None);
    }

    #[test]
    fn https_is_preferred_and_escapes_are_kept() {
        let sub = Cgit
            .sub_page(&page("caf%c3%a9.git/", CAFE), &site())
            .unwrap();
        assert_eq!(sub.origins.len(), 1);
        assert_eq!(sub.origins[0].url, "https://git.example.org/caf%c3%a9.git");
    }

    #[test]
    fn a_page_without_clone_urls_goes_to_the_summary_tab_or_is_skipped() {
        // The summary page without its "Clone" rows, shown as another tab (an "about" page).
        let about = CAFE.replace("rel='vcs-git'", "rel='nofollow'");
        let about = about.replace(
            "<a class='active' href='/cgit.cgi/caf%c3%a9.git/'>summary",
            "<a href='/cgit.cgi/caf%c3%a9.git/summary'>summary",
        );
        let sub = Cgit
            .sub_page(&page("caf%c3%a9.git/about/", &about), &site())
            .unwrap();
        assert!(sub.origins.is_empty());
        assert_eq!(
            sub.next.unwrap().url.as_str(),
            "https://git.example.org/cgit.cgi/caf%c3%a9.git/summary"
        );
        // The summary itself without them: nothing to record, nothing to follow.
        let bare = CAFE.replace("rel='vcs-git'", "rel='nofollow'");
        let sub = Cgit
            .sub_page(&page("caf%c3%a9.git/", &bare), &site())
            .unwrap();
        assert_eq!(sub, SubPage::default());
    }
}
