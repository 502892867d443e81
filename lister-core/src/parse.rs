//! A page's response becomes origins: the forge's items parsed one by one ([`items`]) and
//! each turned into an origin by the forge; what does not parse is counted and logged.
//!
//! [`items`]: crate::items

use std::borrow::Cow;

use url::Url;

use crate::cursor::Cursor;
use crate::forge::Forge;
use crate::items::RejectedItem;
use crate::origin_cleaner::{OriginCleaner, loggable};
use crate::page::PageResponse;
use crate::parse_error::ParseError;
use crate::read::PageRead;
use crate::request::PageRequest;
use crate::{Error, Origin};

/// What a forge makes of a page: the origins of its items, and the items that did not parse.
#[derive(Debug, Clone, Default)]
pub struct PageOrigins<C> {
    /// The origins, in page order, before validation and de-duplication.
    pub origins: Vec<Origin>,
    /// The items that did not parse, with their JSON paths.
    pub rejected: Vec<RejectedItem>,
    /// The furthest cursor the page's items stand for ([`Forge::item_cursor`]), if the forge
    /// says.
    pub furthest: Option<C>,
    /// The sub-listings the page's items name ([`Forge::sub_listing`]), in page order.
    pub sub_listings: Vec<PageRequest>,
}

/// The origins `forge` makes of the items in `response` (as the run loop reads a page, but
/// without validating them): how a forge's tests check it on a real page. Each item's
/// [`origin`](Forge::origin) comes first, then its [`aliases`](Forge::aliases). A gzip body is
/// read as the transport leaves it: [`PageResponse::gunzip`] it first. Fails only when the
/// page holds no list of items where the forge says ([`Forge::ITEMS`]).
pub fn page_origins<F: Forge>(
    forge: &F,
    site: &Url,
    response: &PageResponse,
) -> Result<PageOrigins<F::Cursor>, ParseError> {
    if let Some(read) = forge.read_page(response, site) {
        let PageRead {
            origins,
            sub_listings,
        } = read?;
        let (rejected, furthest) = (Vec::new(), None);
        return Ok(PageOrigins {
            origins,
            rejected,
            furthest,
            sub_listings,
        });
    }
    let body = &response.body[after_prefix(&response.body, F::JSON_PREFIX)..];
    let (text, lossy) = match std::str::from_utf8(body) {
        Ok(text) => (Cow::Borrowed(text), false),
        Err(_) => (String::from_utf8_lossy(body), true),
    };
    let (mut origins, mut furthest) = (Vec::new(), None::<F::Cursor>);
    let mut sub_listings = Vec::new();
    let take = |item: F::Item<'_>| {
        sub_listings.extend(forge.sub_listing(&item, site));
        if let Some(cursor) = forge.item_cursor(&item) {
            let further = furthest.as_ref().and_then(|f| cursor.compare(f));
            if furthest.is_none() || further.is_some_and(|order| order.is_gt()) {
                furthest = Some(cursor);
            }
        }
        let aliases = forge.aliases(&item, site);
        if let Some(origin) = forge.origin(item, site) {
            let same = |url| Origin {
                url,
                ..origin.clone()
            };
            let aliases: Vec<Origin> = aliases.into_iter().map(same).collect();
            origins.push(origin);
            origins.extend(aliases);
        }
    };
    let rejected = crate::items::each_item(&text, F::ITEMS, F::ITEM_KEY, lossy, take)?;
    Ok(PageOrigins {
        origins,
        rejected,
        furthest,
        sub_listings,
    })
}

/// The origins of the items in `response` and the sub-listings they name, each rejected item
/// logged and counted. A next
/// cursor past the furthest item of a page whose items all parsed is refused: a hostile or
/// broken forge cannot make the state skip what it did not list.
pub(crate) fn origins<F: Forge>(
    forge: &F,
    site: &Url,
    response: &PageResponse,
    next: Option<&F::Cursor>,
    cleaner: &OriginCleaner,
) -> Result<(Vec<Origin>, Vec<PageRequest>), Error> {
    let page_error = |source| Error::PageParse {
        url: response.url.to_string(),
        source,
    };
    let read = page_origins(forge, site, response).map_err(page_error)?;
    let PageOrigins {
        origins,
        rejected,
        furthest,
        sub_listings,
    } = read;
    // A rejected item's cursor is unknown: the bound holds only when every item was read.
    if let (Some(next), Some(furthest), true) = (next, &furthest, rejected.is_empty())
        && next.compare(furthest).is_some_and(|order| order.is_gt())
    {
        let message = format!(
            "the next cursor {} jumps past the page's last item, {}",
            next.text(),
            furthest.text()
        );
        return Err(page_error(ParseError::new(message)));
    }
    for item in &rejected {
        tracing::warn!(
            lister = %cleaner.key(),
            url = %loggable(response.url.as_str()),
            path = %item.path,
            reason = %loggable(&item.message),
            "item rejected"
        );
    }
    cleaner.count_rejected_items(rejected.len() as u64);
    Ok((origins, sub_listings))
}

/// Where the JSON starts in `body`: after `prefix` and the rest of its line when the body
/// starts with it (see [`Forge::JSON_PREFIX`]), else at 0.
pub(crate) fn after_prefix(body: &[u8], prefix: &str) -> usize {
    if prefix.is_empty() || !body.trim_ascii_start().starts_with(prefix.as_bytes()) {
        return 0;
    }
    body.iter()
        .position(|&b| b == b'\n')
        .map_or(body.len(), |at| at + 1)
}

/// The memory a page's origins hold, roughly: what the run's memory budget counts for them
/// (each origin's own size, its two strings, and the allocator's due for each of them).
pub(crate) fn held_bytes(origins: &[Origin]) -> usize {
    let each = std::mem::size_of::<Origin>() + 2 * 32;
    origins
        .iter()
        .map(|origin| each + origin.url.len() + origin.visit_type.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NextCursor;

    /// A forge whose page is plain text: a clone URL per line, and `more PATH` naming a page
    /// of more of them.
    struct Lines;

    impl Forge for Lines {
        type Cursor = u64;
        type Item<'a> = serde::de::IgnoredAny;
        const NAME: &'static str = "lines";
        const DEFAULT_URL: &'static str = "https://lines.example.org";
        const NEXT: NextCursor = NextCursor::None;

        fn origin(&self, _: serde::de::IgnoredAny, _: &Url) -> Option<Origin> {
            None
        }

        fn read_page(
            &self,
            page: &PageResponse,
            site: &Url,
        ) -> Option<Result<PageRead, ParseError>> {
            let text = std::str::from_utf8(&page.body).ok()?;
            let mut read = PageRead::default();
            for line in text.lines() {
                match line.strip_prefix("more ") {
                    Some(path) => read
                        .sub_listings
                        .push(PageRequest::get(site.join(path).ok()?)),
                    None => read.origins.push(Origin::new(line, "git")),
                }
            }
            Some(Ok(read))
        }
    }

    #[test]
    fn a_forge_reads_a_page_that_is_not_json_itself() {
        let site = Url::parse("https://lines.example.org/").unwrap();
        let page = PageResponse::ok(
            "https://lines.example.org/",
            "https://lines.example.org/a.git\nmore page/2\nhttps://lines.example.org/b.git\n",
        );
        let read = page_origins(&Lines, &site, &page).unwrap();
        let urls: Vec<&str> = read.origins.iter().map(|o| o.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://lines.example.org/a.git",
                "https://lines.example.org/b.git"
            ]
        );
        assert_eq!(read.sub_listings.len(), 1);
        assert_eq!(
            read.sub_listings[0].url.as_str(),
            "https://lines.example.org/page/2"
        );
        assert!(read.rejected.is_empty());
    }

    #[test]
    fn a_page_naming_listings_asks_each_with_a_get() {
        let urls = [
            "https://h.example.org/a.git/",
            "https://h.example.org/b.git/",
        ];
        let read = PageRead::naming(urls.map(|url| Url::parse(url).unwrap()));
        assert!(read.origins.is_empty());
        let asked: Vec<_> = read
            .sub_listings
            .iter()
            .map(|r| (r.method.as_str(), r.url.as_str()))
            .collect();
        assert_eq!(asked, [("GET", urls[0]), ("GET", urls[1])]);
    }
}
