//! stagit (static git pages) for lister, in two levels: the index `stagit-index` writes
//! (`GET {url}/index.html`: `table#index`, a row a repository linking its `{name}/log.html`,
//! then its description, owner and last commit), then each repository's log page for its
//! clone URL. A listing costs one request, plus one per repository. stagit has no paging and
//! no order by age: a rerun asks the index again, with every log page.
//!
//! The origin is the clone URL of the log page's header (`tr.url`: "git clone URL"), which
//! stagit takes from the repository's `url` file, as Software Heritage records it: `https`,
//! `http` or `git://`, never `ssh`. A repository without a `url` file (no such row) is skipped
//! with a warning, as swh-lister skips it: its address is not guessed from the index's, which
//! is where its web pages are, not where it clones. Its last update is the date of the log's
//! first row, the last commit (`YYYY-MM-DD HH:MM`, UTC): the date the index shows for it, as
//! swh-lister reads it there (a sub-listing carries no facts from the page naming it); none
//! for a repository without commits. A page without `table#index` is not a stagit index: the
//! run stops saying so. stagit writes static files: `robots.txt` is obeyed, and `--url` (where
//! the index is: `https://host/git/`, or its `index.html`) is required.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lister_core::{Lister, RunContext, RunOptions};
//! use lister_store::Store;
//! let url = url::Url::parse("https://git.example.org/")?;
//! let listing = lister_http::http_listing(lister_stagit::Stagit, None, Some(url), Default::default())?;
//! listing.run(&Store::open("lister.db").await?, &RunOptions::default(), &RunContext::default()).await?;
//! # Ok(()) }
//! ```

use lister_core::html::{date, elements, links};
use lister_core::{Forge, NextCursor, Origin, PageRead, PageResponse, ParseError};
use lister_core::{SubPage, preferred_clone_url};
use url::Url;

/// The stagit lister.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stagit;

impl Forge for Stagit {
    type Cursor = u64;
    type Item<'a> = serde::de::IgnoredAny;
    const NAME: &'static str = "stagit";
    const WEBSITE: bool = true;
    const DEFAULT_URL: &'static str = "";
    /// The index, under the address a user gives (unless it names it already).
    const API_PATH: &'static str = "index.html";
    const NEXT: NextCursor = NextCursor::None;

    /// The index names each repository's log page.
    fn read_page(&self, page: &PageResponse, _: &Url) -> Option<Result<PageRead, ParseError>> {
        let html = page.html();
        if elements(&html, "table#index").is_empty() {
            return Some(Err(ParseError::new("not a stagit index (table#index)")));
        }
        let logs = links(
            &html,
            "table#index > tbody > tr > td:first-child > a",
            &page.url,
        );
        Some(Ok(PageRead::naming(logs.into_iter().map(|(_, url)| url))))
    }

    /// A log page: the repository's clone URL, and its last commit's date.
    fn sub_page(&self, page: &PageResponse, _: &Url) -> Result<SubPage, ParseError> {
        let html = page.html();
        let urls = elements(&html, "tr.url a").into_iter();
        let urls = urls.filter_map(|link| link.attr("href"));
        let origin = preferred_clone_url(urls).map(|url| Origin::new(url, Self::VISIT_TYPE));
        if origin.is_none() {
            tracing::warn!(url = %page.url, "no clone URL on a stagit log page: skipped");
        }
        let first = "table#log > tbody > tr:first-child > td:first-child";
        let last_commit = date(&html, first, "", "%Y-%m-%d %H:%M");
        let origin = origin.map(|o| o.with_last_update(last_commit));
        Ok(SubPage::new(origin.into_iter().collect(), None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // As stagit-index 1.2 writes it: names percent-encoded in links, text HTML-escaped.
    const INDEX: &str = "<!DOCTYPE html>\n<html>\n<head>\n<meta http-equiv=\"Content-Type\" \
        content=\"text/html; charset=UTF-8\" />\n<title>Repositories</title>\n</head>\n<body>\n\
        <table>\n<tr><td><img src=\"logo.png\" alt=\"\" width=\"32\" height=\"32\" /></td>\n\
        <td><span class=\"desc\">Repositories</span></td></tr><tr><td></td><td>\n</td></tr>\n\
        </table>\n<hr/>\n<div id=\"content\">\n<table id=\"index\"><thead>\n<tr><td><b>Name\
        </b></td><td><b>Description</b></td><td><b>Owner</b></td><td><b>Last commit</b></td>\
        </tr></thead><tbody>\n<tr><td><a href=\"caf%C3%A9/log.html\">caf\u{e9}</a></td><td>\
        Tools &amp; &lt;more&gt;</td><td>Hiltjo</td><td>2023-11-14 22:13</td></tr>\n\
        <tr><td><a href=\"a%26b%3Cc%3E/log.html\">a&amp;b&lt;c&gt;</a></td><td></td><td></td>\
        <td></td></tr>\n</tbody>\n</table>\n</div>\n</body>\n</html>\n";

    fn log(url_row: &str, rows: &str) -> String {
        format!(
            "<!DOCTYPE html>\n<html>\n<head>\n<title>caf\u{e9} - Tools &amp; more</title>\n\
            </head>\n<body>\n<table><tr><td><a href=\"../\"><img src=\"../logo.png\" alt=\"\" \
            width=\"32\" height=\"32\" /></a></td><td><h1>caf\u{e9}</h1><span class=\"desc\">\
            Tools &amp; more</span></td></tr>{url_row}<tr><td></td><td>\n<a href=\"log.html\">\
            Log</a> | <a href=\"files.html\">Files</a> | <a href=\"refs.html\">Refs</a></td>\
            </tr></table>\n<hr/>\n<div id=\"content\">\n<table id=\"log\"><thead>\n<tr><td><b>\
            Date</b></td><td><b>Commit message</b></td><td><b>Author</b></td><td class=\"num\" \
            align=\"right\"><b>Files</b></td><td class=\"num\" align=\"right\"><b>+</b></td>\
            <td class=\"num\" align=\"right\"><b>-</b></td></tr>\n</thead><tbody>\n{rows}\
            </tbody></table></div>\n</body>\n</html>\n"
        )
    }

    fn row(date: &str) -> String {
        format!(
            "<tr><td>{date}</td><td><a href=\"commit/0a1b.html\">Fix &lt;x&gt;</a></td>\
            <td>Hiltjo</td><td class=\"num\" align=\"right\">1</td><td class=\"num\" \
            align=\"right\">+2</td><td class=\"num\" align=\"right\">-1</td></tr>\n"
        )
    }

    fn url_row(url: &str) -> String {
        format!("<tr class=\"url\"><td></td><td>git clone <a href=\"{url}\">{url}</a></td></tr>")
    }

    fn site() -> Url {
        Url::parse("https://git.example.org/git/").unwrap()
    }

    fn sub(body: &str) -> SubPage {
        let page = PageResponse::ok(
            "https://git.example.org/git/caf%C3%A9/log.html",
            body.to_owned(),
        );
        Stagit.sub_page(&page, &site()).unwrap()
    }

    #[test]
    fn the_index_names_each_log_page() {
        for given in [
            "https://git.example.org/git",
            "https://git.example.org/git/index.html",
        ] {
            let request = Stagit.request(&Stagit.api_base(&Url::parse(given).unwrap()), &0);
            assert_eq!(
                request.unwrap().url.as_str(),
                "https://git.example.org/git/index.html"
            );
        }
        let index = PageResponse::ok("https://git.example.org/git/index.html", INDEX);
        let read = lister_core::page_origins(&Stagit, &site(), &index).unwrap();
        assert!(read.origins.is_empty());
        let urls: Vec<&str> = read.sub_listings.iter().map(|r| r.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://git.example.org/git/caf%C3%A9/log.html",
                "https://git.example.org/git/a%26b%3Cc%3E/log.html",
            ]
        );
        assert_eq!(Stagit.next_cursor(0, &index).unwrap(), None);
    }

    #[test]
    fn a_page_that_is_not_a_stagit_index_stops_the_run() {
        let page = PageResponse::ok("https://git.example.org/index.html", "<p>It works!</p>");
        let error = lister_core::page_origins(&Stagit, &site(), &page).unwrap_err();
        assert!(error.to_string().contains("table#index"), "{error}");
    }

    #[test]
    fn a_log_page_gives_its_clone_url_and_last_commit() {
        let rows = format!("{}{}", row("2023-11-14 22:13"), row("2020-01-02 03:04"));
        let page = sub(&log(
            &url_row("https://git.example.org/caf\u{e9}.git"),
            &rows,
        ));
        assert_eq!(page.next, None);
        assert_eq!(page.origins.len(), 1);
        let origin = &page.origins[0];
        assert_eq!(origin.url, "https://git.example.org/caf%C3%A9.git");
        assert_eq!(origin.visit_type, "git");
        let at = origin.last_update.unwrap().to_rfc3339();
        assert_eq!(at, "2023-11-14T22:13:00+00:00", "the first row: the newest");
        // An escaped `&` is read as one; a repository without commits has no last update.
        let page = sub(&log(&url_row("git://git.example.org/a&amp;b.git"), ""));
        assert_eq!(page.origins[0].url, "git://git.example.org/a&b.git");
        assert_eq!(page.origins[0].last_update, None);
    }

    #[test]
    fn a_repository_without_a_url_file_or_with_ssh_only_is_skipped() {
        let rows = row("2023-11-14 22:13");
        assert_eq!(sub(&log("", &rows)), SubPage::default());
        let ssh = url_row("ssh://git@git.example.org/caf\u{e9}.git");
        assert_eq!(sub(&log(&ssh, &rows)), SubPage::default());
    }
}
