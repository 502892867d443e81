//! Two-level listings: an item of a page names a listing of its own (Tuleap: a project's git
//! repositories), whose pages hold the origins. A sub-listing may be a tree: a page of it can
//! name further listings of its own ([`SubPage::more`]: hgweb's directories, each an index of
//! repositories and directories), walked depth first within the same sub-listing.
//!
//! A page is committed together with the origins of every sub-listing its items name, and the
//! state moves past the page only then: a crash or an error loses nothing, and a rerun fetches
//! that page and its sub-listings again (never more than the page in progress and the pages
//! parsing beside it). A sub-listing the forge says is not there (`404`, `410`) or not to be
//! shown (`403`) is skipped, logged and counted as a rejected item, so that one project cannot
//! stop the listing, and so is the rest of a sub-listing whose page does not parse (a
//! deterministic failure that would otherwise stop every later run at the same page); any
//! other failure fails the page, as a page's own failure does.
//!
//! [`SubPage::more`]: crate::SubPage::more

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use url::Url;

use crate::forge::Forge;
use crate::origin_cleaner::loggable;
use crate::parse_error::ParseError;
use crate::progress::{RunContext, RunProgress};
use crate::request::PageRequest;
use crate::source::{Fetched, PageSource};
use crate::{Error, Origin, Result};

/// The most pages one sub-listing may take (a tree: all its branches); one that asks for more,
/// or for a page it already listed, is taken for a loop.
const MAX_SUB_PAGES: usize = 10_000;

/// Logs and counts a sub-listing page that does not parse: like a malformed item, it is
/// rejected (with what it already gave), and the listing goes on.
fn skipped(context: &RunContext, url: &Url, error: &ParseError) {
    tracing::warn!(url = %loggable(url.as_str()), reason = %loggable(&error.to_string()),
        "a sub-listing page does not parse: the rest of that sub-listing is skipped");
    RunProgress::add(&context.progress.items_rejected, 1);
}

/// What a run asks of each sub-listing, besides the forge's own reading.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SubListingRules<'a> {
    /// See [`RunOptions::clone_base`](crate::RunOptions::clone_base).
    pub(crate) clone_base: Option<&'a Url>,
    /// When the instance's last complete pass started, unless this run is a full pass: a
    /// [`Forge::SKIP_UNCHANGED`] forge's sub-listing dated before it is not asked again.
    pub(crate) last_pass_started: Option<DateTime<Utc>>,
}

impl SubListingRules<'_> {
    /// Whether the sub-listing `first` names is unchanged since the last complete pass listed
    /// it: dated more than a day before that pass started (a sitemap's `lastmod` is a day).
    fn unchanged<F: Forge>(&self, first: &PageRequest) -> bool {
        let (Some(update), Some(pass)) = (first.last_update, self.last_pass_started) else {
            return false;
        };
        F::SKIP_UNCHANGED && update + TimeDelta::days(1) <= pass
    }
}

/// The origins of the sub-listing that starts at `first`, every page of it, and of the
/// listings its pages name in turn ([`more`](crate::SubPage::more)), depth first. A page that
/// is absent or does not parse ends its own chain of pages (and the branches it would have
/// named); the branches named before it are still walked.
///
/// With a `clone_base`, a sub-listing whose URL names its repository's path
/// ([`Forge::REPOSITORY_PATH`]) is that repository, cloned under the base: nothing is
/// fetched. One unchanged since the last complete pass ([`Forge::SKIP_UNCHANGED`]) is not
/// asked again (counted with the pages answered `304`): its origins are known already. The
/// origins take the request's [`last_update`](PageRequest::last_update) where they carry none.
pub(crate) async fn list_sub<F: Forge>(
    forge: &F,
    site: &Url,
    source: &dyn PageSource,
    first: PageRequest,
    context: &RunContext,
    rules: SubListingRules<'_>,
) -> Result<Vec<Origin>> {
    let listed_update = first.last_update;
    let base = rules.clone_base;
    let computed = base.and_then(|base| F::REPOSITORY_PATH.clone_url(&first.url, site, base));
    if let Some(url) = computed {
        return Ok(vec![
            Origin::new(url, F::VISIT_TYPE).with_last_update(listed_update),
        ]);
    }
    if rules.unchanged::<F>(&first) {
        RunProgress::add(&context.progress.not_modified, 1);
        return Ok(Vec::new());
    }
    let (mut origins, mut requested) = (Vec::new(), HashSet::new());
    // The requests still to make, the next one last.
    let mut pending = vec![first];
    while let Some(request) = pending.pop() {
        let asked = format!("{} {:?}", request.url, request.body);
        if requested.len() >= MAX_SUB_PAGES || !requested.insert(asked) {
            let message = format!(
                "the sub-listing at {} comes back or never ends",
                request.url
            );
            return Err(Error::PaginationLoop(message));
        }
        let mut response = match source.fetch(&request, None, context).await {
            Ok(Fetched::Page(response)) => response,
            Ok(Fetched::NotModified) => continue,
            Err(error) if source.is_absent(&error) => {
                tracing::warn!(error = %loggable(&error.to_string()), "a sub-listing is skipped");
                RunProgress::add(&context.progress.items_rejected, 1);
                continue;
            }
            Err(error) => return Err(Error::Fetch(error)),
        };
        let start = crate::parse::after_prefix(&response.body, F::JSON_PREFIX);
        response.body = response.body.slice(start..);
        let page = match forge.sub_page(&response, site) {
            Ok(page) => page,
            Err(error) => {
                skipped(context, &response.url, &error);
                continue;
            }
        };
        let dated = |origin: Origin| match origin.last_update {
            Some(_) => origin,
            None => origin.with_last_update(listed_update),
        };
        origins.extend(page.origins.into_iter().map(dated));
        // Depth first, in the order the page names them: the last pushed is asked first.
        pending.extend(page.more.into_iter().rev());
        pending.extend(page.next);
    }
    Ok(origins)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use async_trait::async_trait;

    use super::*;
    use crate::page::PageResponse;
    use crate::source::FetchError;
    use crate::{NextCursor, PageRequest, RepositoryPath, SubPage};

    /// Pages by URL: a body, or "absent" (the forge's 404).
    struct Pages(HashMap<&'static str, &'static str>);

    #[derive(Debug, thiserror::Error)]
    #[error("404 at {0}")]
    struct Absent(String);

    #[async_trait]
    impl PageSource for Pages {
        async fn fetch(
            &self,
            request: &PageRequest,
            _: Option<&crate::page::Validators>,
            _: &RunContext,
        ) -> Result<Fetched, FetchError> {
            match self.0.get(request.url.as_str()) {
                Some(&"absent") | None => Err(Box::new(Absent(request.url.to_string()))),
                Some(body) => Ok(Fetched::Page(PageResponse::ok(request.url.as_str(), *body))),
            }
        }

        fn is_absent(&self, error: &FetchError) -> bool {
            error.downcast_ref::<Absent>().is_some()
        }
    }

    /// A sub-listing page: `url url … [next PATH] [dir PATH]…`, or `garbage`.
    struct Words;

    impl Forge for Words {
        type Cursor = u64;
        type Item<'a> = serde::de::IgnoredAny;
        const NAME: &'static str = "words";
        const DEFAULT_URL: &'static str = "https://words.example.org";
        const NEXT: NextCursor = NextCursor::None;
        const REPOSITORY_PATH: RepositoryPath = RepositoryPath::UnderSite;
        const SKIP_UNCHANGED: bool = true;

        fn origin(&self, _: serde::de::IgnoredAny, _: &Url) -> Option<Origin> {
            None
        }

        fn sub_page(&self, page: &PageResponse, site: &Url) -> Result<SubPage, ParseError> {
            let text =
                std::str::from_utf8(&page.body).map_err(|e| ParseError::new(e.to_string()))?;
            let mut words = text.split_whitespace();
            let mut read = SubPage::default();
            while let Some(word) = words.next() {
                match word {
                    "garbage" => return Err(ParseError::new("not a page")),
                    "next" => {
                        let path = words.next().unwrap_or_default();
                        read.next = Some(PageRequest::get(site.join(path).unwrap()));
                    }
                    "dir" => {
                        let path = words.next().unwrap_or_default();
                        read.more.push(PageRequest::get(site.join(path).unwrap()));
                    }
                    url => read.origins.push(Origin::new(url, "git")),
                }
            }
            Ok(read)
        }
    }

    async fn listed(
        pages: &[(&'static str, &'static str)],
        first: &str,
    ) -> (Result<Vec<String>>, u64) {
        let source = Pages(pages.iter().copied().collect());
        let context = RunContext::default();
        let site = Url::parse("https://words.example.org/").unwrap();
        let first = PageRequest::get(site.join(first).unwrap());
        let listed = list_sub(&Words, &site, &source, first, &context, Default::default()).await;
        let urls = listed.map(|origins| origins.into_iter().map(|o| o.url).collect());
        (urls, RunProgress::get(&context.progress.items_rejected))
    }

    #[tokio::test]
    async fn every_page_of_a_sub_listing_is_listed() {
        let pages = [
            (
                "https://words.example.org/p/1",
                "https://h/a https://h/b next p/2",
            ),
            ("https://words.example.org/p/2", "https://h/c"),
        ];
        let (urls, rejected) = listed(&pages, "p/1").await;
        assert_eq!(urls.unwrap(), ["https://h/a", "https://h/b", "https://h/c"]);
        assert_eq!(rejected, 0);
    }

    #[tokio::test]
    async fn an_absent_or_unparsable_page_skips_the_rest_and_is_counted() {
        let pages = [
            ("https://words.example.org/p/1", "https://h/a next p/2"),
            ("https://words.example.org/p/2", "garbage"),
        ];
        let (urls, rejected) = listed(&pages, "p/1").await;
        assert_eq!(urls.unwrap(), ["https://h/a"], "what came before is kept");
        assert_eq!(rejected, 1);
        let (urls, rejected) = listed(&[("https://words.example.org/p/1", "absent")], "p/1").await;
        assert_eq!((urls.unwrap().len(), rejected), (0, 1));
    }

    #[tokio::test]
    async fn a_tree_is_walked_depth_first_and_a_broken_branch_skips_only_itself() {
        let pages = [
            (
                "https://words.example.org/",
                "https://h/a dir d1/ dir d2/ dir gone/ next p/2",
            ),
            ("https://words.example.org/p/2", "https://h/b"),
            ("https://words.example.org/d1/", "https://h/d1/x dir d1/e/"),
            ("https://words.example.org/d1/e/", "https://h/d1/e/y"),
            ("https://words.example.org/d2/", "garbage"),
            ("https://words.example.org/gone/", "absent"),
        ];
        let (urls, rejected) = listed(&pages, "").await;
        assert_eq!(
            urls.unwrap(),
            [
                "https://h/a",
                "https://h/b",
                "https://h/d1/x",
                "https://h/d1/e/y"
            ]
        );
        assert_eq!(rejected, 2, "the unparsable and the absent directory");
        // A branch named twice is a loop, as a page asked again is.
        let pages = [
            ("https://words.example.org/", "dir d1/"),
            ("https://words.example.org/d1/", "https://h/x dir ../"),
        ];
        let (urls, _) = listed(&pages, "").await;
        assert!(matches!(urls, Err(Error::PaginationLoop(_))), "{urls:?}");
    }

    #[tokio::test]
    async fn a_sub_listing_that_comes_back_is_a_loop() {
        let pages = [
            ("https://words.example.org/p/1", "https://h/a next p/2"),
            ("https://words.example.org/p/2", "https://h/b next p/1"),
        ];
        let (urls, _) = listed(&pages, "p/1").await;
        let error = urls.unwrap_err();
        assert!(matches!(error, Error::PaginationLoop(_)), "{error}");
        assert!(
            error.to_string().contains("https://words.example.org/p/1"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn the_naming_page_dates_what_its_listing_holds() {
        let source = Pages([("https://words.example.org/p/1", "https://h/a")].into());
        let context = RunContext::default();
        let site = Url::parse("https://words.example.org/").unwrap();
        let day = "2024-05-01T00:00:00Z".parse().ok();
        let first = PageRequest::get(site.join("p/1").unwrap()).with_last_update(day);
        let listed = list_sub(
            &Words,
            &site,
            &source,
            first.clone(),
            &context,
            Default::default(),
        )
        .await;
        let origins = listed.unwrap();
        assert_eq!(origins.len(), 1);
        assert_eq!(origins[0].last_update, day);
        // Under a base clone URL, nothing is fetched: the page's path is the repository's.
        let empty = Pages(HashMap::new());
        let base = Url::parse("https://clone.example.org/git/").unwrap();
        let rules = SubListingRules {
            clone_base: Some(&base),
            ..Default::default()
        };
        let listed = list_sub(&Words, &site, &empty, first.clone(), &context, rules).await;
        let origins = listed.unwrap();
        let found: Vec<_> = origins
            .iter()
            .map(|o| (o.url.as_str(), o.last_update))
            .collect();
        assert_eq!(found, [("https://clone.example.org/git/p/1", day)]);
        // Dated more than a day before the last complete pass started: not asked again.
        let day = day.unwrap();
        let pass = |hours| SubListingRules {
            last_pass_started: Some(day + TimeDelta::hours(hours)),
            ..Default::default()
        };
        let listed = list_sub(&Words, &site, &empty, first.clone(), &context, pass(24)).await;
        assert!(listed.unwrap().is_empty());
        assert_eq!(RunProgress::get(&context.progress.not_modified), 1);
        // Changed on the day the pass started: asked again.
        let listed = list_sub(&Words, &site, &source, first, &context, pass(23)).await;
        assert_eq!(listed.unwrap().len(), 1);
    }
}
