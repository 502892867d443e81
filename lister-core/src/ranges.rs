//! Cutting a listing into ranges for a parallel run: where the listing ends now, found with
//! a few requests ([`probe`]), and the span from the saved state to there cut in equal
//! parts ([`cut`]).

use tokio_util::sync::CancellationToken;

use crate::cursor::Cursor;
use crate::forge::Forge;
use crate::progress::RunProgress;
use crate::source::Fetched;
use crate::store::NewRange;
use crate::store::StateWrite;
use crate::walk::{SavedState, Walk, remembered_next, strip_prefix};
use crate::{Error, Result};

/// What a probe found of the listing from a cursor, as positions ([`Cursor::position`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    /// Where the first page ends (its next cursor).
    pub(crate) first_page_end: u64,
    /// About a page's width: how far the second page reaches past the first.
    pub(crate) page_width: u64,
    /// A position whose page is the last now: the listing ends before it, within a page.
    pub(crate) end: u64,
}

/// Finds where the listing from `start` ends now, asking `width` pages at once (a run's
/// walks): the first two pages, then pages at positions twice as far each (from a page's
/// width to `2^width` of them) until one is the last, then the gap between the furthest page
/// with a next one and the nearest without cut in `width + 1` parts, until it is a page wide.
/// For 1,000 pages: 20 requests one at a time, or about 6 rounds of 16. Each is conditional
/// when the store knows the page. `None` when the listing from `start` ends within two
/// pages, or its cursor has no position (there is nothing to cut), or the run was cancelled.
pub(crate) async fn probe<F: Forge>(
    walk: &Walk<'_, F>,
    start: &F::Cursor,
    width: usize,
) -> Result<Option<Span>> {
    let width = width.clamp(1, 63) as u32;
    let Some(first_page_end) = next_after(walk, start).await?.and_then(|n| n.position()) else {
        return Ok(None);
    };
    let Some(second) = next_after(walk, &at::<F>(first_page_end)?).await? else {
        return Ok(None);
    };
    let second = second.position().unwrap_or(first_page_end);
    let page_width = second.saturating_sub(first_page_end).max(1);
    // `alive` has a page after it; `end` has none.
    let (mut alive, mut jump) = (first_page_end, page_width);
    let mut end = loop {
        let positions =
            (0..width).map(|power| alive.saturating_add(jump.saturating_mul(1 << power)));
        let (furthest, last) = ask_at(walk, positions.collect()).await?;
        alive = furthest.unwrap_or(alive);
        match last {
            Some(last) => break last,
            None if alive == u64::MAX => break alive,
            None => jump = jump.saturating_mul(1 << width),
        }
    };
    while end - alive > page_width {
        let gap = u128::from(end - alive);
        let parts = u128::from(width) + 1;
        let cuts = (1..parts).map(|part| alive + (gap * part / parts) as u64);
        let (furthest, last) = ask_at(walk, cuts.collect()).await?;
        alive = furthest.unwrap_or(alive);
        end = last.unwrap_or(end);
    }
    if walk.context.cancel.is_cancelled() {
        return Ok(None);
    }
    Ok(Some(Span {
        first_page_end,
        page_width,
        end,
    }))
}

/// Asks the pages at `positions` (increasing) at once: the furthest of them that names a next
/// page before the first that does not, and that first one.
async fn ask_at<F: Forge>(
    walk: &Walk<'_, F>,
    mut positions: Vec<u64>,
) -> Result<(Option<u64>, Option<u64>)> {
    positions.dedup();
    let asked = positions.iter().map(|&position| {
        let asked = async move {
            let cursor = at::<F>(position)?;
            next_after(walk, &cursor).await.map(|next| next.is_some())
        };
        // Boxed: `try_join_all` is then built once, not once for every forge.
        futures::FutureExt::boxed(asked)
    });
    let answers = futures::future::try_join_all(asked).await?;
    let last = answers.iter().position(|more| !more);
    let furthest = match last {
        Some(0) => None,
        Some(index) => Some(positions[index - 1]),
        None => positions.last().copied(),
    };
    Ok((furthest, last.map(|index| positions[index])))
}

/// The cursor at `position`.
fn at<F: Forge>(position: u64) -> Result<F::Cursor> {
    F::Cursor::at_position(position).ok_or_else(|| {
        Error::InvalidOption(format!("{} has no cursor at position {position}", F::NAME))
    })
}

/// The cursor the page at `cursor` names next, asked as the walk asks a page (none once the
/// run is cancelled).
async fn next_after<F: Forge>(walk: &Walk<'_, F>, cursor: &F::Cursor) -> Result<Option<F::Cursor>> {
    let cancel: &CancellationToken = &walk.context.cancel;
    if cancel.is_cancelled() {
        return Ok(None);
    }
    let (request, known) = walk.request_at(cursor).await?;
    let validators = known.as_ref().map(|known| &known.validators);
    let fetched = tokio::select! {
        fetched = walk.source.fetch(&request, validators, walk.context) => fetched,
        () = cancel.cancelled() => return Ok(None),
    };
    match fetched.map_err(Error::Fetch)? {
        Fetched::Page(mut response) => {
            strip_prefix(&mut response, F::JSON_PREFIX);
            let next = walk.forge.next_cursor(cursor.clone(), &response);
            next.map_err(|source| Error::PageParse {
                url: response.url.to_string(),
                source,
            })
        }
        Fetched::NotModified => {
            RunProgress::add(&walk.context.progress.not_modified, 1);
            remembered_next(&known.unwrap_or_default())
        }
    }
}

/// The fewest pages a range holds, when the listing is too short for four ranges a walk: a
/// range's last page reaches into the next one, and asks again what that one's first lists.
const MIN_PAGES: u64 = 8;

/// The ranges of `span` from `start`, for `walks` at once: four a walk, so that walks that
/// finish early take more; fewer when a range would hold under [`MIN_PAGES`] (but one a
/// walk, each then at least a page wide). The first runs from `start` to the first cut, the
/// last to `span.end`. Fewer than two: not worth cutting (the usual walk lists it).
pub(crate) fn cut<C: Cursor>(start: &C, span: Span, walks: usize) -> Result<Vec<NewRange>> {
    let width = span.end.saturating_sub(span.first_page_end);
    let pages = width / span.page_width;
    let walks = walks.max(1) as u64;
    let per_walk = (pages / (walks * MIN_PAGES)).clamp(1, 4);
    let count = (walks * per_walk).min(pages).max(1);
    let state = |cursor: &C| StateWrite::encode(&SavedState { cursor });
    let mut ranges = Vec::new();
    let mut from = state(start)?;
    for part in 1..=count {
        let cut =
            span.first_page_end + (u128::from(width) * u128::from(part) / u128::from(count)) as u64;
        let Some(cursor) = C::at_position(cut) else {
            continue;
        };
        let to = state(&cursor)?;
        ranges.push(NewRange {
            start_state: std::mem::replace(&mut from, to.clone()),
            end_state: to,
        });
    }
    Ok(ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_the_span_in_equal_parts_after_the_first_page() {
        let span = Span {
            first_page_end: 300,
            page_width: 300,
            end: 30_300,
        };
        let ranges = cut(&0u64, span, 1).unwrap();
        let ends: Vec<&str> = ranges.iter().map(|r| r.end_state.as_str()).collect();
        assert_eq!(
            ends,
            [
                r#"{"cursor":7800}"#,
                r#"{"cursor":15300}"#,
                r#"{"cursor":22800}"#,
                r#"{"cursor":30300}"#
            ]
        );
        assert_eq!(ranges[0].start_state, r#"{"cursor":0}"#);
        for pair in ranges.windows(2) {
            assert_eq!(pair[0].end_state, pair[1].start_state, "ranges meet");
        }
    }

    #[test]
    fn a_short_listing_is_cut_in_fewer_ranges() {
        let span = Span {
            first_page_end: 100,
            page_width: 100,
            end: 20_100,
        };
        assert_eq!(cut(&0u64, span, 4).unwrap().len(), 16, "four a walk");
        assert_eq!(
            cut(&0u64, span, 16).unwrap().len(),
            16,
            "one a walk, not 8 pages each"
        );
        assert_eq!(
            cut(&0u64, span, 8).unwrap().len(),
            24,
            "three a walk, over 8 pages each"
        );
        let short = Span { end: 400, ..span };
        assert_eq!(
            cut(&0u64, short, 16).unwrap().len(),
            3,
            "a page each at least"
        );
        let narrow = Span { end: 150, ..span };
        assert_eq!(
            cut(&0u64, narrow, 16).unwrap().len(),
            1,
            "not worth cutting"
        );
    }
}
