//! Sitemaps (<https://www.sitemaps.org/protocol.html>): the XML files a website publishes to
//! name its pages for crawlers, read with `quick-xml` (never with patterns over the markup).
//! A sitemap (`<urlset>`) names pages (`<url>`); a sitemap index (`<sitemapindex>`) names
//! sitemaps (`<sitemap>`); each entry has its address (`<loc>`) and may say when it last
//! changed (`<lastmod>`). SourceForge names its projects' tools this way.
//!
//! A large site splits its sitemap into numbered shards (`sitemap-0.xml`, `sitemap-1.xml`…)
//! named by an index: [`shard_request`] and [`next_shard`] make a listing of them, the index
//! first, then each shard, one page each, and [`naming`] reads a shard's pages as the listings
//! they name (a project's description…), each asked once.

use chrono::{DateTime, NaiveDate, Utc};
use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::Event;

use std::collections::HashSet;

use url::Url;

use crate::cursor::Opaque;
use crate::page::PageResponse;
use crate::parse_error::ParseError;
use crate::read::PageRead;
use crate::request::{PageRequest, page_url};

/// One entry of a sitemap: a page (`<url>`), or in a sitemap index a sitemap (`<sitemap>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SitemapEntry {
    /// Its address (`<loc>`), entities resolved and surrounding blanks trimmed.
    pub loc: String,
    /// When it last changed (`<lastmod>`, a W3C date: a day alone is midnight UTC), when it
    /// says and the date is one.
    pub lastmod: Option<DateTime<Utc>>,
}

/// A sitemap or a sitemap index, read whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sitemap {
    /// Whether it is a sitemap index (its root is `<sitemapindex>`): its entries are sitemaps.
    pub index: bool,
    /// Its entries, in document order; an entry without a `<loc>` is left out.
    pub entries: Vec<SitemapEntry>,
}

/// A W3C date as sitemaps write it: a day (`2024-05-01`, midnight UTC) or a time with its
/// offset (`2024-05-01T10:00:00+02:00`, or without seconds).
fn w3c_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return day.and_hms_opt(0, 0, 0).map(|time| time.and_utc());
    }
    let time = DateTime::parse_from_rfc3339(text);
    let time = time.or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M%:z"));
    time.ok().map(|time| time.with_timezone(&Utc))
}

/// Reads a sitemap or a sitemap index. Elements are known by their local names, whatever
/// their namespace prefix; other elements (images, news, alternates) are ignored. Fails on a
/// document that is not well-formed XML, or whose root is neither `urlset` nor
/// `sitemapindex`.
///
/// ```
/// let index = br#"<?xml version="1.0" encoding="UTF-8"?>
/// <sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
///   <sitemap><loc>https://example.org/sitemap-0.xml</loc><lastmod>2024-05-01</lastmod></sitemap>
/// </sitemapindex>"#;
/// let read = lister_core::sitemap::read(index).unwrap();
/// assert!(read.index);
/// assert_eq!(read.entries[0].loc, "https://example.org/sitemap-0.xml");
/// assert_eq!(read.entries[0].lastmod.unwrap().to_rfc3339(), "2024-05-01T00:00:00+00:00");
/// ```
pub fn read(body: &[u8]) -> Result<Sitemap, ParseError> {
    let failed = |error: &dyn std::fmt::Display| ParseError::new(format!("sitemap: {error}"));
    let mut reader = Reader::from_reader(body);
    reader.config_mut().expand_empty_elements = true;
    let (mut sitemap, mut rooted) = (Sitemap::default(), false);
    // How deep the reader is (the root is at 1, an entry at 2, its fields at 3), the entry
    // being read (its `loc` and `lastmod` texts), and the field of it whose text comes.
    let (mut depth, mut entry, mut field) = (0_usize, None::<(String, String)>, None::<bool>);
    let mut buffer = Vec::new();
    loop {
        match reader
            .read_event_into(&mut buffer)
            .map_err(|e| failed(&e))?
        {
            Event::Start(element) => {
                depth += 1;
                field = None;
                let name = element.local_name();
                match (depth, name.as_ref()) {
                    (1, b"urlset" | b"sitemapindex") => {
                        sitemap.index = name.as_ref() == b"sitemapindex";
                        rooted = true;
                    }
                    (1, other) => {
                        let other = String::from_utf8_lossy(other);
                        return Err(failed(&format!("the root is <{other}>")));
                    }
                    (2, b"url" | b"sitemap") => entry = Some(Default::default()),
                    (3, b"loc") => field = Some(true),
                    (3, b"lastmod") => field = Some(false),
                    _ => {}
                }
            }
            Event::Text(text) => append(
                &mut entry,
                field,
                &text.xml10_content().map_err(|e| failed(&e))?,
            ),
            Event::CData(data) => {
                append(&mut entry, field, &data.decode().map_err(|e| failed(&e))?)
            }
            Event::GeneralRef(reference) => {
                let name = reference.decode().map_err(|e| failed(&e))?;
                let resolved = match reference.resolve_char_ref().map_err(|e| failed(&e))? {
                    Some(character) => character.to_string(),
                    None => resolve_predefined_entity(&name)
                        .ok_or_else(|| failed(&format!("unknown entity &{name};")))?
                        .to_owned(),
                };
                append(&mut entry, field, &resolved);
            }
            Event::End(_) => {
                if depth == 2
                    && let Some((loc, lastmod)) = entry.take()
                    && !loc.trim().is_empty()
                {
                    let (loc, lastmod) = (loc.trim().to_owned(), w3c_date(&lastmod));
                    sitemap.entries.push(SitemapEntry { loc, lastmod });
                }
                (depth, field) = (depth.saturating_sub(1), None);
            }
            Event::Eof if rooted && depth == 0 => return Ok(sitemap),
            Event::Eof => return Err(failed(&"no <urlset> or <sitemapindex>, or it is cut short")),
            _ => {}
        }
        buffer.clear();
    }
}

/// The shard a cursor of a sharded listing names, and the last shard; `None` for the index.
fn shard(cursor: &Opaque) -> Option<(u64, u64)> {
    let (n, k) = cursor.0.split_once('/')?;
    Some((n.parse().ok()?, k.parse().ok()?))
}

/// The request of a page of a sharded sitemap listing, whose cursor is `""` for the index,
/// then `N/K` for shard `N` of shards `0` to `K`: a GET of `index`, or of `shard` with `{n}`
/// replaced by `N`, under the API base. For [`Forge::request`](crate::Forge::request).
///
/// ```
/// use lister_core::{Opaque, sitemap::shard_request};
/// let api = url::Url::parse("https://example.org").unwrap();
/// let at = |cursor: &str| {
///     let request = shard_request(&api, &Opaque(cursor.into()), "/sitemap.xml", "/sitemap-{n}.xml");
///     request.unwrap().url.to_string()
/// };
/// assert_eq!(at(""), "https://example.org/sitemap.xml");
/// assert_eq!(at("3/7"), "https://example.org/sitemap-3.xml");
/// ```
pub fn shard_request(
    api: &Url,
    cursor: &Opaque,
    index: &str,
    shard_path: &str,
) -> Result<PageRequest, ParseError> {
    let url = match shard(cursor) {
        Some((n, _)) => page_url(api, &shard_path.replace("{n}", &n.to_string()), "")?,
        None => page_url(api, index, "")?,
    };
    Ok(PageRequest::get(url))
}

/// The cursor after the page at `cursor` of a sharded sitemap listing ([`shard_request`]):
/// after the index, its first shard (`0/K`, `K + 1` being how many sitemaps it names; `None`
/// when it names none); after shard `N`, shard `N + 1` until the last. Only the index is read.
/// For [`Forge::next_cursor`](crate::Forge::next_cursor).
pub fn next_shard(cursor: &Opaque, page: &PageResponse) -> Result<Option<Opaque>, ParseError> {
    let next = match shard(cursor) {
        Some((n, k)) => (n < k).then_some((n + 1, k)),
        None => {
            let count = read(&page.body)?.entries.len() as u64;
            count.checked_sub(1).map(|k| (0, k))
        }
    };
    Ok(next.map(|(n, k)| Opaque(format!("{n}/{k}"))))
}

/// A sitemap page read as the listings it names ([`Forge::read_page`](crate::Forge::read_page)):
/// each entry's listing as `name` says (`None` skips the entry), each listing once however many
/// entries name it, with the `lastmod` of the first entry naming it as its
/// [`last_update`](PageRequest::last_update); an index names none.
pub fn naming(
    page: &PageResponse,
    mut name: impl FnMut(SitemapEntry) -> Option<Url>,
) -> Option<Result<PageRead, ParseError>> {
    let sitemap = match read(&page.body) {
        Ok(sitemap) => sitemap,
        Err(error) => return Some(Err(error)),
    };
    let mut named = HashSet::new();
    let entries = sitemap.entries.into_iter().filter(|_| !sitemap.index);
    let requests = entries.filter_map(|entry| {
        let lastmod = entry.lastmod;
        let url = name(entry).filter(|url| named.insert(url.clone()))?;
        Some(PageRequest::get(url).with_last_update(lastmod))
    });
    Some(Ok(PageRead::naming(requests.collect::<Vec<_>>())))
}

/// Adds text to the field of the entry being read (`Some(true)`: its `loc`, `Some(false)`: its
/// `lastmod`), if any.
fn append(entry: &mut Option<(String, String)>, field: Option<bool>, text: &str) {
    if let (Some((loc, lastmod)), Some(is_loc)) = (entry.as_mut(), field) {
        match is_loc {
            true => loc.push_str(text),
            false => lastmod.push_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sitemap_names_its_pages_with_their_dates() {
        let body = br#"<?xml version="1.0" encoding="utf-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc> https://example.org/p/a/git/ </loc>
    <lastmod>2024-05-01</lastmod>
    <changefreq>daily</changefreq>
    <image:image><image:loc>https://example.org/logo.png</image:loc></image:image>
  </url>
  <url><loc>https://example.org/search?q=a&amp;b=&#233;&#x41;</loc></url>
  <url><loc><![CDATA[https://example.org/cdata/]]></loc><lastmod>2024-05-01T10:30:00+02:00</lastmod></url>
  <url><loc>https://example.org/short/</loc><lastmod>2024-05-01T10:30+00:00</lastmod></url>
  <url><loc>https://example.org/bad-date/</loc><lastmod>yesterday</lastmod></url>
  <url><lastmod>2024-05-01</lastmod></url>
</urlset>"#;
        let read = super::read(body).unwrap();
        assert!(!read.index);
        let entries: Vec<_> = read
            .entries
            .iter()
            .map(|e| (e.loc.as_str(), e.lastmod.map(|t| t.to_rfc3339())))
            .collect();
        let day = Some("2024-05-01T00:00:00+00:00".to_owned());
        assert_eq!(
            entries,
            [
                ("https://example.org/p/a/git/", day),
                ("https://example.org/search?q=a&b=éA", None),
                (
                    "https://example.org/cdata/",
                    Some("2024-05-01T08:30:00+00:00".to_owned())
                ),
                (
                    "https://example.org/short/",
                    Some("2024-05-01T10:30:00+00:00".to_owned())
                ),
                ("https://example.org/bad-date/", None),
            ],
            "the image's <loc> is not a page; an entry without <loc> is left out"
        );
    }

    #[test]
    fn an_index_names_sitemaps_and_other_documents_are_refused() {
        let index = br#"<sm:sitemapindex xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9">
<sm:sitemap><sm:loc>https://example.org/sitemap-0.xml</sm:loc></sm:sitemap>
<sm:sitemap><sm:loc>https://example.org/sitemap-1.xml</sm:loc></sm:sitemap></sm:sitemapindex>"#;
        let read = super::read(index).unwrap();
        assert!(read.index);
        assert_eq!(read.entries.len(), 2);
        assert_eq!(read.entries[1].loc, "https://example.org/sitemap-1.xml");
        for empty in [&b"<urlset></urlset>"[..], b"<?xml version='1.0'?><urlset/>"] {
            assert_eq!(super::read(empty).unwrap(), Sitemap::default());
        }
        for broken in [
            &b"<html><body>challenge</body></html>"[..],
            b"",
            b"<?xml version='1.0'?>",
            b"<urlset><url><loc>https://example.org/</loc></url>",
            b"<urlset><url><loc>a</url></urlset>",
            b"<urlset><url><loc>&bogus;</loc></url></urlset>",
        ] {
            assert!(
                super::read(broken).is_err(),
                "{}",
                String::from_utf8_lossy(broken)
            );
        }
    }

    #[test]
    fn a_sharded_listing_goes_from_the_index_through_every_shard() {
        let index = PageResponse::ok(
            "https://example.org/sitemap.xml",
            "<sitemapindex><sitemap><loc>https://example.org/sitemap-0.xml</loc></sitemap>\
             <sitemap><loc>https://example.org/sitemap-1.xml</loc></sitemap></sitemapindex>",
        );
        let next = |cursor: &str, page: &PageResponse| {
            let next = next_shard(&Opaque(cursor.into()), page).unwrap();
            next.map(|cursor| cursor.0)
        };
        assert_eq!(next("", &index).as_deref(), Some("0/1"));
        // A shard is not read: its cursor says where the listing goes.
        let shard = PageResponse::ok("https://example.org/sitemap-0.xml", "not read");
        assert_eq!(next("0/1", &shard).as_deref(), Some("1/1"));
        assert_eq!(next("1/1", &shard), None);
        let empty = PageResponse::ok("https://example.org/sitemap.xml", "<sitemapindex/>");
        assert_eq!(next("", &empty), None);
        let broken = PageResponse::ok("https://example.org/sitemap.xml", "<html>busy</html>");
        assert!(next_shard(&Opaque::default(), &broken).is_err());
    }

    #[test]
    fn a_shard_names_each_listing_once_and_an_index_none() {
        let shard = PageResponse::ok(
            "https://example.org/sitemap-0.xml",
            "<urlset><url><loc>https://example.org/a/wiki/</loc><lastmod>2024-05-01</lastmod></url>\
             <url><loc>https://example.org/a/git/</loc><lastmod>2024-05-02</lastmod></url>\
             <url><loc>https://example.org/skipped/</loc></url>\
             <url><loc>https://example.org/b/svn/</loc></url></urlset>",
        );
        let read = naming(&shard, |entry| {
            let project = entry
                .loc
                .strip_prefix("https://example.org/")?
                .split('/')
                .next()?;
            let url = Url::parse(&format!("https://example.org/rest/{project}")).ok()?;
            (project != "skipped").then_some(url)
        });
        let read = read.unwrap().unwrap();
        let named: Vec<(&str, Option<String>)> = read
            .sub_listings
            .iter()
            .map(|r| (r.url.as_str(), r.last_update.map(|t| t.to_rfc3339())))
            .collect();
        assert_eq!(
            named,
            [
                (
                    "https://example.org/rest/a",
                    Some("2024-05-01T00:00:00+00:00".to_owned())
                ),
                ("https://example.org/rest/b", None)
            ],
            "the first entry of a listing names it, with its date"
        );
        let index = PageResponse::ok(
            "https://example.org/sitemap.xml",
            "<sitemapindex><sitemap><loc>https://example.org/a/</loc></sitemap></sitemapindex>",
        );
        let read = naming(&index, |entry| Url::parse(&entry.loc).ok());
        assert_eq!(read.unwrap().unwrap(), PageRead::default());
        let broken = PageResponse::ok("https://example.org/sitemap-0.xml", "<urlset>");
        assert!(naming(&broken, |_| None).unwrap().is_err());
    }
}
