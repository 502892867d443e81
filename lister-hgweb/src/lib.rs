//! hgweb (Mercurial's `hgwebdir`, as `hg serve --web-conf` or `hgweb.cgi` serve it) for lister:
//! the repository index (`GET {url}/?style=json`), walked as a tree. An index entry is a
//! repository or a directory (a `[collections]` folder, or a sub-directory of `[paths] dir/** =
//! …`, shown as such with `web.collapse`; without it, nested repositories are entries of the top
//! index); each directory is an index of its own, asked the same way (`{directory}?style=json`)
//! as a sub-listing whose directories are walked in turn ([`lister_core::SubPage::more`]), all
//! committed with the top index. A listing costs one request, plus one per directory, and a
//! rerun asks them all again: hgweb has no paging and no order by age.
//!
//! JSON where hgweb answers it (the `json` style, in every Mercurial since 3.x): each entry's
//! `name`, relative to its directory (a directory's ends with `/`), and `lastchange`
//! (`[epoch, offset]`, the repository's last change on disk), recorded as the origin's last
//! update. An hgweb without that style answers its HTML index instead (an unknown style falls
//! back to the configured one): the first cell's link of each row, a directory when its text
//! ends with `/`, and the RFC 822 date of its `td.age` cell, as Mercurial's templates write them.
//!
//! The origin is the repository's URL as the index links it, trailing slash included, as
//! Software Heritage records it (`https://hg.example.org/group/repo/`), visit type `hg`. The
//! JSON of released Mercurial carries no URL: it is built as hgweb builds its links, the
//! directory's URL and the name escaped as Python's `quote` escapes it (`with%20space/`,
//! `caf%C3%A9/`, `odd%2Bname%26%281%29/`), which the unit tests check against the HTML index of
//! the same server. swh-lister reads the JSON only when its entries carry a `url` (an
//! unreleased Mercurial change), so on every released hgweb it reads the HTML index: the same
//! URLs, with its dates. Not listed, by either: repositories hidden from the index
//! (`web.hidden`), and those under a sub-directory of an index that does not descend
//! (`web.descend = false`: no page links them). hg.mozilla.org's customized JSON style leaves
//! its directories out (swh-lister reads that host's HTML); lister does not special-case it.
//! hgweb is a website: its `robots.txt` is obeyed. It is self-hosted only: `--url` is required.

use chrono::{DateTime, Utc};
use lister_core::html::{elements, links, texts};
use lister_core::{Forge, NextCursor, Origin, PageRead, PageRequest, PageResponse, ParseError};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use url::Url;

/// The bytes hgweb escapes in a name: all but those Python's `urllib.parse.quote` keeps.
const SAFE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'_').remove(b'.').remove(b'-');
const QUOTED: &AsciiSet = &SAFE.remove(b'~').remove(b'/');

/// The hgweb lister.
#[derive(Debug, Clone, Copy, Default)]
pub struct Hgweb;

/// An entry of the JSON index: its name, and its last change as `[epoch, offset]`.
#[derive(serde::Deserialize)]
struct Entry {
    name: String,
    lastchange: Option<(f64, i64)>,
}

/// Adds an index entry to `read`: a directory (its name ends with `/`), whose index is walked
/// in turn, or a repository.
fn add(read: &mut PageRead, url: Option<Url>, name: &str, at: Option<DateTime<Utc>>) {
    let Some(url) = url else { return };
    let index = url.join("?style=json").ok().map(PageRequest::get);
    let origin = Origin::new(url, "hg").with_last_update(at);
    match index {
        Some(index) if name.trim_end().ends_with('/') => read.sub_listings.push(index),
        _ => read.origins.push(origin),
    }
}

/// The repositories and directories of an index page, as JSON or else as HTML.
fn index(page: &PageResponse) -> Result<PageRead, ParseError> {
    let mut read = PageRead::default();
    if page.is_json() {
        let epoch = |(at, _): (f64, i64)| DateTime::from_timestamp(at as i64, 0);
        for entry in page.json_at::<Vec<Entry>>("/entries")? {
            let path = utf8_percent_encode(entry.name.trim_end_matches('/'), QUOTED);
            let url = page.url.join(&format!("{path}/")).ok();
            let at = entry.lastchange.and_then(epoch);
            add(&mut read, url, &entry.name, at);
        }
        return Ok(read);
    }
    let html = page.html();
    for row in elements(&html, "tr") {
        if let Some((link, url)) = links(row, "td:first-child > a", &page.url).pop() {
            let age = texts(row, "td.age").pop().unwrap_or_default();
            let at = DateTime::parse_from_rfc2822(&age).ok().map(|d| d.to_utc());
            add(&mut read, Some(url), &link.text().collect::<String>(), at);
        }
    }
    Ok(read)
}

impl Forge for Hgweb {
    type Cursor = u64;
    type Item<'a> = serde::de::IgnoredAny;
    const NAME: &'static str = "hgweb";
    const DEFAULT_URL: &'static str = "";
    const PATH: &'static str = "/?style=json";
    const NEXT: NextCursor = NextCursor::None;
    const WEBSITE: bool = true;

    /// An index, the top one or a directory's (a sub-listing, read alike by default): its
    /// repositories, and its directories, walked in turn.
    fn read_page(&self, page: &PageResponse, _: &Url) -> Option<Result<PageRead, ParseError>> {
        Some(index(page))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Captured from `hg serve --web-conf` (Mercurial 6.3.2), as `tests/hgweb.rs` sets it up.
    const INDEX_JSON: &str = include_str!("../../tests/fixtures/hgweb_index.json");
    const GROUP_JSON: &str = include_str!("../../tests/fixtures/hgweb_group.json");
    const INDEX_HTML: &str = include_str!("../../tests/fixtures/hgweb_index.html");

    fn site() -> Url {
        Url::parse("https://hg.example.org/").unwrap()
    }

    fn page(at: &str, body: &str, content_type: &str) -> PageResponse {
        let url = format!("https://hg.example.org/{at}");
        PageResponse::ok(&url, body.to_owned()).with_header("content-type", content_type)
    }

    /// The origins (URL, visit type, last update) and the directories a page names.
    fn read(page: &PageResponse) -> (Vec<(String, String, String)>, Vec<String>) {
        let read = lister_core::page_origins(&Hgweb, &site(), page).unwrap();
        let origin = |o: &Origin| {
            let at = o.last_update.map(|d| d.to_rfc3339()).unwrap_or_default();
            (o.url.clone(), o.visit_type.clone(), at)
        };
        let origins = read.origins.iter().map(origin).collect();
        let listings = read.sub_listings.iter().map(|r| r.url.to_string());
        (origins, listings.collect())
    }

    const REPOSITORIES: [&str; 5] = [
        "https://hg.example.org/alpha/",
        "https://hg.example.org/caf%C3%A9/",
        "https://hg.example.org/odd%2Bname%26%281%29/",
        "https://hg.example.org/with%20space/",
        "https://hg.example.org/coll-top/",
    ];

    const DIRECTORIES: [&str; 2] = [
        "https://hg.example.org/group/?style=json",
        "https://hg.example.org/cdir/?style=json",
    ];

    #[test]
    fn the_json_index_names_repositories_as_served_and_directories_to_walk() {
        let first = Hgweb.request(&Hgweb.api_base(&site()), &0).unwrap();
        assert_eq!(first.url.as_str(), "https://hg.example.org/?style=json");
        let (origins, directories) = read(&page("?style=json", INDEX_JSON, "application/json"));
        let urls: Vec<&str> = origins.iter().map(|(url, ..)| url.as_str()).collect();
        assert_eq!(urls, REPOSITORIES);
        assert!(origins.iter().all(|(_, visit_type, _)| visit_type == "hg"));
        // `lastchange` is `[1796576679, 0]`: seconds since the epoch, UTC.
        assert_eq!(origins[0].2, "2026-12-06T17:04:39+00:00");
        assert_eq!(directories, DIRECTORIES);
    }

    #[test]
    fn a_directory_is_read_alike_and_its_own_directories_walked_in_turn() {
        let at = "group/?style=json";
        let sub = Hgweb.sub_page(&page(at, GROUP_JSON, "application/json"), &site());
        let sub = sub.unwrap();
        assert_eq!(sub.next, None);
        let urls: Vec<&str> = sub.origins.iter().map(|o| o.url.as_str()).collect();
        assert_eq!(urls, ["https://hg.example.org/group/sub/"]);
        let more: Vec<&str> = sub.more.iter().map(|r| r.url.as_str()).collect();
        assert_eq!(more, ["https://hg.example.org/group/deeper/?style=json"]);
    }

    #[test]
    fn an_hgweb_without_the_json_style_is_read_from_its_html_index_alike() {
        // An unknown style falls back to the configured one: the same index, in HTML.
        let html = page("?style=json", INDEX_HTML, "text/html; charset=UTF-8");
        let (origins, directories) = read(&html);
        let urls: Vec<&str> = origins.iter().map(|(url, ..)| url.as_str()).collect();
        assert_eq!(urls, REPOSITORIES);
        assert_eq!(directories, DIRECTORIES);
        assert_eq!(
            origins[0].2, "2026-12-06T17:04:39+00:00",
            "its RFC 822 date"
        );
        let json = read(&page("?style=json", INDEX_JSON, "application/json"));
        assert_eq!((origins, directories), json);
    }

    #[test]
    fn a_flat_index_names_nested_repositories_and_odd_answers_are_errors() {
        // Without `web.collapse`, nested repositories are entries of the top index.
        let flat = r#"{"entries": [{"name": "group/deeper/nested", "lastchange": [0, 0]},
            {"name": "a:b", "lastchange": null}]}"#;
        let (origins, directories) = read(&page("", flat, "application/json"));
        let urls: Vec<&str> = origins.iter().map(|(url, ..)| url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://hg.example.org/group/deeper/nested/",
                "https://hg.example.org/a%3Ab/"
            ]
        );
        assert!(directories.is_empty());
        // A repository's own JSON (no `entries`): not an index, the page fails.
        let repository = page(
            "alpha/?style=json",
            r#"{"node": "47586f"}"#,
            "application/json",
        );
        let error = lister_core::page_origins(&Hgweb, &site(), &repository).unwrap_err();
        assert!(error.to_string().contains("entries"), "{error}");
    }
}
