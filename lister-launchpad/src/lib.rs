//! Launchpad for lister: its git repositories (`launchpad`) and its Bazaar branches
//! (`launchpad-bzr`), through the web service's named operations
//! `GET https://api.launchpad.net/devel/+git?ws.op=getRepositories` and
//! `GET https://api.launchpad.net/devel/branches?ws.op=getBranches`, anonymously.
//!
//! Both are asked `order_by=most neglected first` (oldest `date_last_modified` first) with
//! `modified_since_date`, in batches of `ws.size=300` from `ws.start`. The cursor is a
//! [`TimeKey`]: a date and how many items of that date earlier pages listed. The next page
//! starts at the date of this page's last item, skipping the items of that date already listed
//! (so a page of items that share one date still advances); the listing ends on a batch
//! without `next_collection_link`. The saved key is incremental: an item created or modified
//! since the last run sorts after it, so a rerun asks the last page again and finds exactly
//! what changed since. `--first-id`/`--last-id` take dates.
//!
//! Git repositories and Bazaar branches are two listings, with their state each, because a
//! saved state is one cursor: one listing walking git to its end, then bzr, would end in bzr,
//! and its reruns would never go back to git. The origin is, as Software Heritage records it,
//! a repository's `git_https_url` (visit type `git`) or a branch's `web_link` (`bzr`), with
//! `date_last_modified`; items whose URL is not `https` are skipped (a private repository's
//! `git_https_url` is `null`). Launchpad's OAuth 1.0 signing is not supported: the listing is
//! anonymous, as Software Heritage's is.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lister_core::{Lister, RunContext, RunOptions};
//! use lister_store::Store;
//! let listing = lister_http::http_listing(lister_launchpad::Launchpad::default(), None, None, Default::default())?;
//! listing.run(&Store::open("lister.db").await?, &RunOptions::default(), &RunContext::default()).await?;
//! # Ok(()) }
//! ```

use chrono::{DateTime, Utc};
use lister_core::{Forge, NextCursor, Origin, PageResponse, ParseError, TimeKey};
use serde::Deserialize;

/// A git repository or a Bazaar branch, as the listing reads it.
#[derive(Deserialize)]
pub struct Entry {
    git_https_url: Option<String>,
    web_link: Option<String>,
    date_last_modified: Option<DateTime<Utc>>,
}

/// Launchpad's two listings: `K` picks the collection (0 git repositories, 1 Bazaar branches).
#[derive(Debug, Clone, Copy, Default)]
pub struct LaunchpadFamily<const K: usize>;
/// Launchpad's git repositories.
pub type Launchpad = LaunchpadFamily<0>;
/// Launchpad's Bazaar branches.
pub type LaunchpadBzr = LaunchpadFamily<1>;

/// Each collection's operation: the items modified since the key's date, oldest first, less
/// those of that date already listed.
const PATHS: [&str; 2] = [
    "/+git?ws.op=getRepositories&order_by=most%20neglected%20first&modified_since_date={time}&ws.size=300&ws.start={skip}",
    "/branches?ws.op=getBranches&order_by=most%20neglected%20first&modified_since_date={time}&ws.size=300&ws.start={skip}",
];

impl<const K: usize> Forge for LaunchpadFamily<K> {
    type Cursor = TimeKey;
    type Item<'a> = Entry;
    const NAME: &'static str = ["launchpad", "launchpad-bzr"][K];
    const DEFAULT_URL: &'static str = "https://launchpad.net";
    const API_PATH: &'static str = "devel";
    const PUBLIC_API: Option<(&'static str, &'static str)> =
        Some(("launchpad.net", "https://api.launchpad.net/devel"));
    const PATH: &'static str = PATHS[K];
    const ITEMS: &'static str = "/entries";
    const NEXT: NextCursor = NextCursor::BodyUrlParam("/next_collection_link", "ws.start");
    const VISIT_TYPE: &'static str = ["git", "bzr"][K];

    /// After the date of the page's last item, while the batch names a next one.
    fn next_cursor(&self, at: TimeKey, page: &PageResponse) -> Result<Option<TimeKey>, ParseError> {
        let more: Option<u64> = Self::NEXT.read(page)?;
        Ok(more.and(at.after_page(page, Self::ITEMS, "date_last_modified")?))
    }

    /// A repository's `git_https_url` or a branch's `web_link`, when it is `https`.
    fn origin(&self, entry: Entry, _: &url::Url) -> Option<Origin> {
        let url = [entry.git_https_url, entry.web_link].into_iter().nth(K)??;
        let origin = Origin::new(url, Self::VISIT_TYPE).with_last_update(entry.date_last_modified);
        origin.url.starts_with("https://").then_some(origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    /// A git repository as `getRepositories` answers it.
    fn repository(path: &str, modified: &str, https: bool) -> String {
        let https_url = match https {
            true => format!("\"https://git.launchpad.net/{path}\""),
            false => "null".to_owned(),
        };
        format!(
            r#"{{"self_link": "https://api.launchpad.net/devel/{path}", "web_link": "https://code.launchpad.net/{path}",
              "resource_type_link": "https://api.launchpad.net/devel/#git_repository",
              "registrant_link": "https://api.launchpad.net/devel/~owner", "owner_link": "https://api.launchpad.net/devel/~owner",
              "target_link": "https://api.launchpad.net/devel/project", "name": "repo", "unique_name": "{path}",
              "id": 12345, "date_created": "2015-02-01T10:00:00.123456+00:00", "date_last_modified": "{modified}",
              "git_identity": "lp:{path}", "git_https_url": {https_url}, "git_ssh_url": "git+ssh://git.launchpad.net/{path}",
              "private": {}, "information_type": "Public", "repository_type": "Hosted", "description": null,
              "http_etag": "\"abc-def\""}}"#,
            !https
        )
    }

    /// A Bazaar branch as `getBranches` answers it.
    fn branch(path: &str, modified: &str) -> String {
        format!(
            r#"{{"self_link": "https://api.launchpad.net/devel/{path}", "web_link": "https://code.launchpad.net/{path}",
              "resource_type_link": "https://api.launchpad.net/devel/#branch", "bzr_identity": "lp:{path}",
              "unique_name": "{path}", "name": "trunk", "display_name": "lp:{path}", "branch_type": "Hosted",
              "lifecycle_status": "Development", "private": false, "information_type": "Public",
              "date_created": "2009-01-01T00:00:00+00:00", "date_last_modified": "{modified}",
              "revision_count": 42, "last_scanned_id": "me@example.org-20090101-abc"}}"#
        )
    }

    /// A lazr.restful batch of `entries` at `ws.start=start`, with a next link when `more`.
    fn batch(operation: &str, start: u64, more: bool, entries: &[String]) -> PageResponse {
        let api = "https://api.launchpad.net/devel";
        let next = format!(
            r#""next_collection_link": "{api}{operation}&memo=300&order_by=most%20neglected%20first&ws.size=300&ws.start={}","#,
            start + 300
        );
        let body = format!(
            r#"{{"total_size_link": "{api}{operation}&ws.show=total_size", "start": {start}, {}
              "prev_collection_link": "{api}{operation}&direction=backwards&ws.start=0",
              "entries": [{}], "resource_type_link": "{api}/#git_repository-page-resource"}}"#,
            if more { next } else { String::new() },
            entries.join(",")
        );
        PageResponse::ok(&format!("{api}{operation}&ws.start={start}"), body)
    }

    fn key(time: &str, skip: u64) -> TimeKey {
        TimeKey {
            time: time.parse().unwrap(),
            skip,
        }
    }

    #[test]
    fn git_repositories_are_their_https_clone_urls_by_date() {
        let entries = [
            repository("~a/proj/+git/one", "2020-01-01T00:00:00.5+00:00", true),
            repository("~b/proj/+git/private", "2020-01-02T00:00:00+00:00", false),
            repository("~c/+git/dotfiles", "2020-01-02T00:00:00+00:00", true),
        ];
        let page = batch("/+git?ws.op=getRepositories", 300, true, &entries);
        let site = Url::parse("https://launchpad.net/").unwrap();
        let read = lister_core::page_origins(&Launchpad::default(), &site, &page).unwrap();
        let facts: Vec<_> = read
            .origins
            .iter()
            .map(|o| {
                (
                    o.url.as_str(),
                    o.visit_type.as_str(),
                    o.last_update.map(|t| t.to_rfc3339()),
                )
            })
            .collect();
        let first = "2020-01-01T00:00:00.500+00:00".to_owned();
        let second = "2020-01-02T00:00:00+00:00".to_owned();
        assert_eq!(
            facts,
            [
                (
                    "https://git.launchpad.net/~a/proj/+git/one",
                    "git",
                    Some(first)
                ),
                (
                    "https://git.launchpad.net/~c/+git/dotfiles",
                    "git",
                    Some(second)
                ),
            ]
        );
        // The next page starts at the last date, past the two items of that date.
        let at = key("2019-12-31T00:00:00+00:00", 7);
        let next = Launchpad::default().next_cursor(at, &page).unwrap();
        assert_eq!(next, Some(key("2020-01-02T00:00:00+00:00", 2)));
        // A page whose items all have the key's date goes on past them.
        let same = batch("/+git?ws.op=getRepositories", 0, true, &entries[1..]);
        let next = Launchpad::default().next_cursor(key("2020-01-02T00:00:00Z", 5), &same);
        assert_eq!(next.unwrap(), Some(key("2020-01-02T00:00:00Z", 7)));
        // The last batch has no next link.
        let last = batch("/+git?ws.op=getRepositories", 600, false, &entries);
        assert_eq!(Launchpad::default().next_cursor(at, &last).unwrap(), None);
    }

    #[test]
    fn bazaar_branches_are_their_web_links() {
        let entries = [
            branch("~bzr/bzr/trunk", "2008-05-06T07:08:09.123456+00:00"),
            branch(
                "~ubuntu-branches/ubuntu/jaunty/hello/jaunty",
                "2009-01-01T00:00:00+00:00",
            ),
        ];
        let page = batch("/branches?ws.op=getBranches", 0, false, &entries);
        let site = Url::parse("https://launchpad.net/").unwrap();
        let read = lister_core::page_origins(&LaunchpadBzr::default(), &site, &page).unwrap();
        let urls: Vec<_> = read
            .origins
            .iter()
            .map(|o| (o.url.as_str(), o.visit_type.as_str()))
            .collect();
        assert_eq!(
            urls,
            [
                ("https://code.launchpad.net/~bzr/bzr/trunk", "bzr"),
                (
                    "https://code.launchpad.net/~ubuntu-branches/ubuntu/jaunty/hello/jaunty",
                    "bzr"
                ),
            ]
        );
        assert_eq!(
            LaunchpadBzr::default()
                .next_cursor(TimeKey::default(), &page)
                .unwrap(),
            None
        );
    }

    #[test]
    fn pages_are_asked_on_the_api_host_with_the_date_encoded() {
        let api = Launchpad::default().api_base(&Url::parse("https://launchpad.net").unwrap());
        assert_eq!(api.as_str(), "https://api.launchpad.net/devel");
        let at = key("2020-01-02T03:04:05.678901+00:00", 3);
        let url = Launchpad::default().request(&api, &at).unwrap().url;
        assert_eq!(
            url.as_str(),
            "https://api.launchpad.net/devel/+git?ws.op=getRepositories&order_by=most%20neglected%20first\
             &modified_since_date=2020-01-02T03%3A04%3A05.678901%2B00%3A00&ws.size=300&ws.start=3"
        );
        let (name, value) = url
            .query_pairs()
            .find(|(k, _)| k == "modified_since_date")
            .unwrap();
        assert_eq!(
            (name.as_ref(), value.as_ref()),
            ("modified_since_date", "2020-01-02T03:04:05.678901+00:00")
        );
        let local = Url::parse("http://127.0.0.1:8080/launchpad/").unwrap();
        let api = LaunchpadBzr::default().api_base(&local);
        let url = LaunchpadBzr::default()
            .request(&api, &TimeKey::default())
            .unwrap()
            .url;
        assert!(
            url.as_str()
                .starts_with("http://127.0.0.1:8080/launchpad/devel/branches?ws.op=getBranches&"),
            "{url}"
        );
        assert!(url.as_str().ends_with("&ws.start=0"), "{url}");
    }
}
