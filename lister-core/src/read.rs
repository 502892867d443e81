//! What a forge reads of a page it parses itself: a listing page ([`PageRead`], from
//! [`Forge::read_page`]) and a sub-listing's page ([`SubPage`], from [`Forge::sub_page`]).
//!
//! [`Forge::read_page`]: crate::Forge::read_page
//! [`Forge::sub_page`]: crate::Forge::sub_page

use crate::origin::Origin;
use crate::request::PageRequest;

/// What a forge reads on a page it parses itself
/// ([`Forge::read_page`](crate::Forge::read_page): HTML, XML).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageRead {
    /// The origins on the page.
    pub origins: Vec<Origin>,
    /// The listings the page names (a repository's summary page, a sitemap's shard…), each
    /// listed as a sub-listing ([`Forge::sub_page`](crate::Forge::sub_page)).
    pub sub_listings: Vec<PageRequest>,
}

impl PageRead {
    /// A page that holds no origins itself and names the listings at `requests` (URLs, each
    /// asked with a GET, or requests): an index naming each repository's page.
    pub fn naming<R: Into<PageRequest>>(requests: impl IntoIterator<Item = R>) -> PageRead {
        let sub_listings = requests.into_iter().map(Into::into).collect();
        PageRead {
            origins: Vec::new(),
            sub_listings,
        }
    }
}

/// One page of a sub-listing, as the forge reads it ([`Forge::sub_page`](crate::Forge::sub_page)).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubPage {
    /// The origins on the page.
    pub origins: Vec<Origin>,
    /// The request of the sub-listing's next page, if there is one.
    pub next: Option<PageRequest>,
    /// The listings this page names in turn (a tree: hgweb's sub-directories), each walked as
    /// part of the same sub-listing, after this page's [`next`](Self::next) pages, and
    /// committed with the page that named the sub-listing.
    pub more: Vec<PageRequest>,
}

impl SubPage {
    /// A page of `origins`, followed by the page `next` asks for (`None`: the last one), that
    /// names no further listings.
    pub fn new(origins: Vec<Origin>, next: Option<PageRequest>) -> SubPage {
        SubPage {
            origins,
            next,
            more: Vec::new(),
        }
    }

    /// The page, naming the further listings at `more` (URLs, each asked with a GET, or
    /// requests) besides.
    pub fn naming<R: Into<PageRequest>>(mut self, more: impl IntoIterator<Item = R>) -> SubPage {
        self.more.extend(more.into_iter().map(Into::into));
        self
    }
}

/// A page read as a whole ([`Forge::read_page`](crate::Forge::read_page): an index of
/// origins and of the listings it names) is a sub-listing page without a next page, naming
/// further listings: a tree whose every level reads alike (hgweb's directories) reads them all
/// with one function.
impl From<PageRead> for SubPage {
    fn from(read: PageRead) -> SubPage {
        SubPage {
            origins: read.origins,
            next: None,
            more: read.sub_listings,
        }
    }
}
