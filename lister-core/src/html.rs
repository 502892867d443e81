//! Reading HTML pages, for forges without an API (cgit, gitweb): a page parsed by `scraper`
//! (html5ever's HTML5 parser, re-exported as [`scraper`]), and what a forge asks of it: the
//! links a CSS selection holds, or its texts. Markup is never matched with regular expressions.
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

/// The elements of `html` that `css` selects and that have an `href`, each with it resolved
/// against `base` (the page's URL); an `href` that does not resolve is left out.
///
/// Panics when `css` is not a valid selector: it is a forge's constant, which its tests catch.
pub fn links<'a>(html: &'a Html, css: &str, base: &Url) -> Vec<(ElementRef<'a>, Url)> {
    let selector = Selector::parse(css).expect("a valid CSS selector");
    let link = |element: ElementRef<'a>| Some((element, base.join(element.attr("href")?).ok()?));
    html.select(&selector).filter_map(link).collect()
}

/// The text of each element of `html` that `css` selects, its ends trimmed.
///
/// Panics when `css` is not a valid selector, as [`links`] does.
pub fn texts(html: &Html, css: &str) -> Vec<String> {
    let selector = Selector::parse(css).expect("a valid CSS selector");
    let text = |element: ElementRef<'_>| element.text().collect::<String>().trim().to_owned();
    html.select(&selector).map(text).collect()
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
