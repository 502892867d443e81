//! Reading HTML pages, for forges without an API (cgit, gitweb): a page parsed by `scraper`
//! (html5ever's HTML5 parser, re-exported as [`scraper`]), and what a forge asks of it: the
//! links a CSS selection holds, its texts or a date, in the whole page or within one part of it
//! (each row of a table). Markup is never matched with regular expressions.
//!
//! ```
//! use lister_core::PageResponse;
//! let page = PageResponse::ok("https://git.example.org/x/?ofs=5",
//!     "<ul class='pager'><li><a href='?ofs=10'>[3]</a></li><li><a>[4]</a></li></ul><p> a &amp; b </p>");
//! let html = page.html();
//! let links = lister_core::html::links(&html, "ul.pager a", &page.url);
//! assert_eq!(links.len(), 1, "an element without href is left out");
//! assert_eq!(links[0].1.as_str(), "https://git.example.org/x/?ofs=10");
//! assert_eq!(lister_core::html::texts(&html, "p"), ["a & b"]);
//! ```

use chrono::{DateTime, NaiveDateTime, Utc};
pub use scraper;
use scraper::{ElementRef, Html, Selector};
use url::Url;

use crate::page::PageResponse;

impl PageResponse {
    /// The body parsed as an HTML document (invalid UTF-8 replaced, as a browser does).
    pub fn html(&self) -> Html {
        Html::parse_document(&String::from_utf8_lossy(&self.body))
    }
}

/// Where a selection looks: a whole page ([`Html`]), or one element of it (a table row, whose
/// cells are then read apart from the other rows').
pub trait Scope<'a> {
    /// The elements under this scope that `selector` selects, in document order.
    fn select_all(self, selector: &Selector) -> Vec<ElementRef<'a>>;
}

impl<'a> Scope<'a> for &'a Html {
    fn select_all(self, selector: &Selector) -> Vec<ElementRef<'a>> {
        self.select(selector).collect()
    }
}

impl<'a> Scope<'a> for ElementRef<'a> {
    fn select_all(self, selector: &Selector) -> Vec<ElementRef<'a>> {
        self.select(selector).collect()
    }
}

/// The elements of `scope` that `css` selects (the rows of a table, to read each apart).
///
/// Panics when `css` is not a valid selector: it is a forge's constant, which its tests catch.
pub fn elements<'a>(scope: impl Scope<'a>, css: &str) -> Vec<ElementRef<'a>> {
    scope.select_all(&Selector::parse(css).expect("a valid CSS selector"))
}

/// The elements of `scope` (a page, or a part of it) that `css` selects and that have an
/// `href`, each with it resolved against `base` (the page's URL); an `href` that does not
/// resolve is left out.
///
/// Panics when `css` is not a valid selector, as [`elements`] does.
pub fn links<'a>(scope: impl Scope<'a>, css: &str, base: &Url) -> Vec<(ElementRef<'a>, Url)> {
    let link = |element: ElementRef<'a>| Some((element, base.join(element.attr("href")?).ok()?));
    elements(scope, css).into_iter().filter_map(link).collect()
}

/// The text of each element of `scope` (a page, or a part of it) that `css` selects, its ends
/// trimmed.
///
/// Panics when `css` is not a valid selector, as [`elements`] does.
pub fn texts<'a>(scope: impl Scope<'a>, css: &str) -> Vec<String> {
    let text = |element: ElementRef<'_>| element.text().collect::<String>().trim().to_owned();
    elements(scope, css).into_iter().map(text).collect()
}

/// The date the first element of `scope` that `css` selects holds: in its attribute `attr`, or
/// in its text when `attr` is empty, as `format` (chrono's) writes it; a date without a zone is
/// UTC. `None` when nothing is selected or the date does not read.
///
/// ```
/// use lister_core::{PageResponse, html::date};
/// let page = PageResponse::ok("https://git.example.org/",
///     "<table><tr><td><span class='age-years' title='2024-03-03 10:34:56 +0200'>3 years</span></td>\
///      <td>2024-05-01 08:00</td></tr></table>");
/// let html = page.html();
/// let idle = date(&html, "span[class^='age-']", "title", "%Y-%m-%d %H:%M:%S %z");
/// assert_eq!(idle.unwrap().to_rfc3339(), "2024-03-03T08:34:56+00:00");
/// let naive = date(&html, "td:last-child", "", "%Y-%m-%d %H:%M");
/// assert_eq!(naive.unwrap().to_rfc3339(), "2024-05-01T08:00:00+00:00");
/// assert_eq!(date(&html, "td:last-child", "", "%Y"), None);
/// ```
pub fn date<'a>(
    scope: impl Scope<'a>,
    css: &str,
    attr: &str,
    format: &str,
) -> Option<DateTime<Utc>> {
    let element = *elements(scope, css).first()?;
    let text = match attr {
        "" => element.text().collect::<String>(),
        _ => element.attr(attr)?.to_owned(),
    };
    let text = text.trim();
    match DateTime::parse_from_str(text, format) {
        Ok(date) => Some(date.to_utc()),
        Err(_) => Some(NaiveDateTime::parse_from_str(text, format).ok()?.and_utc()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_resolve_against_the_page_and_texts_are_decoded() {
        let body = "<table><tr><td class='r'><a href='/cgit/caf%c3%a9.git/'>café</a></td>\
            <td class='r'><a href='http://[bad'>x</a></td></tr></table>\
            <div id='d'>\n 3 &lt; 4 \u{e9}\n</div>";
        let page = PageResponse::ok("https://git.example.org/cgit/?ofs=0", body);
        let html = page.html();
        let links = links(&html, "td.r > a", &page.url);
        let found: Vec<(String, &str)> = links
            .iter()
            .map(|(element, url)| (element.text().collect(), url.as_str()))
            .collect();
        assert_eq!(
            found,
            [(
                "café".to_owned(),
                "https://git.example.org/cgit/caf%c3%a9.git/"
            )]
        );
        assert_eq!(texts(&html, "#d"), ["3 < 4 é"]);
        assert!(texts(&html, "span").is_empty());
    }

    #[test]
    fn a_selection_can_look_within_each_row() {
        let body = "<table><tr><td><a href='a/'>a</a></td><td class='age'>1</td></tr>\
            <tr><td><a href='b/'>b/</a></td></tr></table><p class='age'>outside</p>";
        let page = PageResponse::ok("https://hg.example.org/", body);
        let html = page.html();
        let rows: Vec<_> = elements(&html, "tr")
            .into_iter()
            .map(|row| {
                let (_, url) = links(row, "td > a", &page.url).pop().unwrap();
                (url.to_string(), texts(row, ".age"))
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("https://hg.example.org/a/".to_owned(), vec!["1".to_owned()]),
                ("https://hg.example.org/b/".to_owned(), vec![]),
            ]
        );
        assert_eq!(texts(&html, ".age"), ["1", "outside"]);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_refused() {
        let page = PageResponse::ok("https://h.example.org/", &b"<p>a\xffb</p>"[..]);
        assert_eq!(texts(&page.html(), "p"), ["a\u{fffd}b"]);
    }

    #[test]
    #[should_panic(expected = "a valid CSS selector")]
    fn an_invalid_selector_is_a_bug() {
        let _ = texts(
            &PageResponse::ok("https://h.example.org/", "<p></p>").html(),
            "p[",
        );
    }
}
