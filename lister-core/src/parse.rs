//! A page's response becomes origins: the forge's items parsed one by one ([`items`]) and
//! each turned into an origin by the forge; what does not parse is counted and logged.
//!
//! [`items`]: crate::items

use std::borrow::Cow;

use crate::forge::Forge;
use crate::items::RejectedItem;
use crate::origin_cleaner::{OriginCleaner, loggable};
use crate::page::{PageResponse, ParseError};
use crate::{Error, Origin};

/// What a forge makes of a page: the origins of its items, and the items that did not parse.
#[derive(Debug, Clone, Default)]
pub struct PageOrigins {
    /// The origins, in page order, before validation and de-duplication.
    pub origins: Vec<Origin>,
    /// The items that did not parse, with their JSON paths.
    pub rejected: Vec<RejectedItem>,
}

/// The origins `forge` makes of the items in `response` (as the run loop reads a page, but
/// without validating them): how a forge's tests check it on a real page. Fails only when the
/// page holds no list of items where the forge says ([`Forge::ITEMS`]).
pub fn page_origins<F: Forge>(
    forge: &F,
    response: &PageResponse,
) -> Result<PageOrigins, ParseError> {
    let (text, lossy) = match std::str::from_utf8(&response.body) {
        Ok(text) => (Cow::Borrowed(text), false),
        Err(_) => (String::from_utf8_lossy(&response.body), true),
    };
    let mut origins = Vec::new();
    let take = |item: F::Item<'_>| origins.extend(forge.origin(item));
    let rejected = crate::items::each_item(&text, F::ITEMS, lossy, take)?;
    Ok(PageOrigins { origins, rejected })
}

/// The origins of the items in `response`, each rejected item logged and counted.
pub(crate) fn origins<F: Forge>(
    forge: &F,
    response: &PageResponse,
    cleaner: &OriginCleaner,
) -> Result<Vec<Origin>, Error> {
    let PageOrigins { origins, rejected } =
        page_origins(forge, response).map_err(|source| Error::PageParse {
            url: response.url.to_string(),
            source,
        })?;
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
    Ok(origins)
}

/// The memory a page's origins hold, roughly: what the run's memory budget counts for them.
pub(crate) fn held_bytes(origins: &[Origin]) -> usize {
    let each = std::mem::size_of::<Origin>();
    origins
        .iter()
        .map(|origin| each + origin.url.len() + origin.visit_type.len())
        .sum()
}
