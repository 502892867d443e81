//! Gerrit for lister: every project an anonymous user may see on a Gerrit server, through
//! `GET /projects/?n=500&S=OFFSET`, paged by offset.
//!
//! Gerrit answers a map from each project's name to its `ProjectInfo`, sorted by name, behind
//! its `)]}'` guard line. The cursor is the offset (`S`): the next page starts after this
//! one's projects (offset plus the page's count) while the page's last project says
//! `"_more_projects": true`, and the listing ends on a page whose last project does not. The
//! listing is ordered by name, so a rerun asks the last page again and goes on, and finds the
//! projects whose names sort after the last one listed; `--full-pass` finds the others. The
//! origin is `{instance}/{name}`, the anonymous clone URL, as Software Heritage records it;
//! the name is read from the project's `id`, its URL-encoded name (the map's key; newer
//! servers repeat it as `name`, older ones do not). Gerrit is self-hosted only: `--url` is
//! required.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lister_core::{Lister, RunContext, RunOptions};
//! use lister_store::Store;
//! let url = url::Url::parse("https://gerrit-review.googlesource.com")?;
//! let listing = lister_http::http_listing(lister_gerrit::Gerrit, None, Some(url), Default::default())?;
//! listing.run(&Store::open("lister.db").await?, &RunOptions::default(), &RunContext::default()).await?;
//! # Ok(()) }
//! ```

use lister_core::{Forge, NextCursor, Origin, PageResponse, ParseError};
use serde::Deserialize;

/// The Gerrit lister.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gerrit;

/// A project's `ProjectInfo`, as the listing reads it.
#[derive(Deserialize)]
pub struct Project {
    id: Option<String>,
}

impl Forge for Gerrit {
    type Cursor = u64;
    type Item<'a> = Project;
    const NAME: &'static str = "gerrit";
    const DEFAULT_URL: &'static str = "";
    const PATH: &'static str = "/projects/?n=500&S={cursor}";
    const JSON_PREFIX: &'static str = ")]}'";
    const NEXT: NextCursor = NextCursor::None;

    /// The offset plus the page's count, while its last project says `_more_projects`.
    fn next_cursor(&self, start: u64, page: &PageResponse) -> Result<Option<u64>, ParseError> {
        let (count, last) = page.items_tally::<serde_json::Value>(Self::ITEMS)?;
        let more = last.is_some_and(|last| last["_more_projects"] == true);
        Ok(more.then_some(start + count))
    }

    /// `{instance}/{name}`, the name decoded from `id` (encoded as a form value is).
    fn origin(&self, project: Project, site: &url::Url) -> Option<Origin> {
        let id = project.id?;
        let (name, _) = url::form_urlencoded::parse(id.as_bytes()).next()?;
        Some(Origin::new(site.join(&format!("./{name}")).ok()?, "git"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    /// A page as gerrit-review.googlesource.com answers `GET /projects/?n=3`: compact JSON
    /// after the guard line, sorted by name, `_more_projects` on the last entry.
    const PAGE: &str = concat!(
        ")]}'\n",
        r#"{"All-Projects":{"id":"All-Projects","name":"All-Projects","description":"Access inherited by all other projects.","state":"ACTIVE","web_links":[{"name":"Gitiles","tooltip":"Open in Gitiles","image_url":"https://git-scm.com/favicon.ico","url":"https://gerrit.googlesource.com/All-Projects"}]},"#,
        r#""Public-Documentation":{"id":"Public-Documentation","parent":"Public-Projects","description":"Parent project for Gerrit documentation-related projects (homepage, summits, etc)","state":"ACTIVE","web_links":[{"name":"Gitiles","url":"https://gerrit.googlesource.com/Public-Documentation"}]},"#,
        r#""apps/c++ tools":{"id":"apps%2Fc%2B%2B+tools","name":"apps/c++ tools","parent":"Public-Projects","state":"READ_ONLY"},"#,
        r#""plugins/replication":{"id":"plugins%2Freplication","parent":"Public-Plugins","state":"ACTIVE","web_links":[{"name":"Gitiles","url":"https://gerrit.googlesource.com/plugins/replication"}],"_more_projects":true}}"#,
        "\n"
    );

    fn page(body: &str) -> PageResponse {
        PageResponse::ok(
            "https://gerrit-review.googlesource.com/projects/?n=500&S=500",
            body.to_owned(),
        )
    }

    #[test]
    fn projects_are_the_instance_address_and_their_names() {
        let site = Url::parse("https://gerrit-review.googlesource.com/").unwrap();
        let read = lister_core::page_origins(&Gerrit, &site, &page(PAGE)).unwrap();
        assert!(read.rejected.is_empty(), "{:?}", read.rejected);
        let urls: Vec<&str> = read.origins.iter().map(|o| o.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://gerrit-review.googlesource.com/All-Projects",
                "https://gerrit-review.googlesource.com/Public-Documentation",
                "https://gerrit-review.googlesource.com/apps/c++%20tools",
                "https://gerrit-review.googlesource.com/plugins/replication",
            ]
        );
        assert!(read.origins.iter().all(|o| o.visit_type == "git"));
        // A server under a path (`/r/`) keeps it.
        let site = Url::parse("https://review.example.org/r/").unwrap();
        let read = lister_core::page_origins(&Gerrit, &site, &page(PAGE)).unwrap();
        assert_eq!(
            read.origins[3].url,
            "https://review.example.org/r/plugins/replication"
        );
    }

    #[test]
    fn the_offset_goes_on_by_the_page_while_the_last_project_says_more() {
        // The walk removes the guard line before it asks for the next cursor.
        let unguarded = PAGE.trim_start_matches(")]}'\n");
        assert_eq!(
            Gerrit.next_cursor(500, &page(unguarded)).unwrap(),
            Some(504)
        );
        let last = unguarded.replace(r#","_more_projects":true"#, "");
        assert_eq!(Gerrit.next_cursor(500, &page(&last)).unwrap(), None);
        assert_eq!(
            Gerrit.next_cursor(504, &page("{}\n")).unwrap(),
            None,
            "past the end"
        );
        assert!(Gerrit.next_cursor(0, &page("[1")).is_err());
        let api = Gerrit.api_base(&Url::parse("https://review.example.org/r").unwrap());
        let url = Gerrit.request(&api, &504).unwrap().url;
        assert_eq!(
            url.as_str(),
            "https://review.example.org/r/projects/?n=500&S=504"
        );
    }
}
