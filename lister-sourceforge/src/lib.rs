//! SourceForge (Allura) for lister, in two levels: the sitemap index
//! (`GET /allura_sitemap/sitemap.xml`) and its shards (`sitemap-N.xml`), whose pages are the
//! tools of every project (`https://sourceforge.net/{ns}/{project}/{tool}/`, with a `lastmod`
//! day); then each project's REST description (`GET /rest/{ns}/{project}`), whose `tools` name
//! its repositories. A listing costs 1 request for the index, 1 a shard and 1 a project.
//!
//! The cursor is `""` for the index, then `N/K`: shard `N` of shards `0` to `K`, as the index
//! counts them (`lister_core::sitemap::shard_request`). A shard is committed with the
//! repositories of every project on it (each project asked once however many of its tools the
//! shard lists); a page in the `projects/` namespace is skipped (it is the `p/` one again), and a
//! subproject (`/p/{project}/{sub}/{tool}/`) is a project of its own, as swh-lister reads them.
//! New projects can land in any shard, so a complete listing saves the index's cursor
//! ([`Forge::NEWEST_FIRST`]): every run reads every shard again, and a run that stops resumes
//! at its shard. A project is asked for again only when its `lastmod` is no more than a day
//! older than the start of the last complete pass ([`Forge::SKIP_UNCHANGED`], as swh-lister
//! compares each project's `lastmod` with what it listed): a rerun costs the index, the shards
//! and the projects changed since; `--full-pass` asks every project again. A `403` is SourceForge's rate limit (swh-lister retries it too):
//! the run slows down and asks again, as for a `429`, and skips the project only when the
//! waits run out; a project whose description answers `404` or `410` is skipped and counted.
//!
//! The origins are the clone URLs Software Heritage records, computed from each tool's
//! `mount_point`: `https://{git,svn}.code.sf.net/{ns}/{project}/{mount_point}`, Mercurial's on
//! `http://` (SourceForge serves it no anonymous https), Bazaar's as swh-lister computes them
//! (`http://{project}.bzr.sourceforge.net/bzrroot/{project}`), each with its visit type and the
//! project's first `lastmod` in the shard as its last update. A CVS tool's modules are on a page
//! of the project's CVS host, `http://{project}.cvs.sourceforge.net/` ([`Forge::OTHER_HOSTS`]:
//! asked without a credential, through the user's HTTP proxy if any), one `cvs … co -P
//! {module}` line each, read as swh-lister reads them: one origin per module,
//! `rsync://a.cvs.sourceforge.net/cvsroot/{project}/{module}`, visit type `cvs` (one more
//! request per CVS project). The sitemap and the REST API are for machines, not web pages:
//! `robots.txt` is not read.

use lister_core::{Forge, NextCursor, Opaque, Origin, PageRead, PageRequest, PageResponse};
use lister_core::{ParseError, SubPage, html::texts, sitemap};
use url::Url;

/// The SourceForge lister.
#[derive(Debug, Clone, Copy, Default)]
pub struct SourceForge;

/// The sitemap index, and its shards by number, under the site.
const INDEX: &str = "/allura_sitemap/sitemap.xml";
const SHARD: &str = "/allura_sitemap/sitemap-{n}.xml";

/// Where a project's CVS modules are listed: `http://{project}.cvs.sourceforge.net/`.
const CVS_HOST: &str = ".cvs.sourceforge.net";

impl Forge for SourceForge {
    type Cursor = Opaque;
    type Item<'a> = serde::de::IgnoredAny;
    const NAME: &'static str = "sourceforge";
    const DEFAULT_URL: &'static str = "https://sourceforge.net";
    const NEXT: NextCursor = NextCursor::None;
    const NEWEST_FIRST: bool = true;
    const SKIP_UNCHANGED: bool = true;
    /// Its rate limit answers `403` with a JavaScript challenge.
    const SLOW_DOWN_ON: &'static [u16] = &[403];
    const OTHER_HOSTS: &'static [&'static str] = &[CVS_HOST];

    fn request(&self, api: &Url, at: &Opaque) -> Result<PageRequest, ParseError> {
        sitemap::shard_request(api, at, INDEX, SHARD)
    }

    fn next_cursor(&self, at: Opaque, page: &PageResponse) -> Result<Option<Opaque>, ParseError> {
        sitemap::next_shard(&at, page)
    }

    /// Each project of a shard names its description, `{site}rest/{ns}/{project}`, dated by
    /// the `lastmod` of its first tool. A tool is `{ns}/{project}/{tool}/` (a
    /// subproject's, `{ns}/{project}/{sub}/{tool}/`); a project's page `{ns}/{project}/`.
    fn read_page(&self, page: &PageResponse, site: &Url) -> Option<Result<PageRead, ParseError>> {
        sitemap::naming(page, |entry| {
            let segments: Vec<&str> = entry.loc.strip_prefix(site.as_str())?.split('/').collect();
            let project = &segments.get(..segments.len().saturating_sub(2).max(2))?;
            let url = site.join(&format!("rest/{}", project.join("/"))).ok()?;
            (project[0] != "projects" && !project[1].is_empty()).then_some(url)
        })
    }

    /// A project: one origin per repository tool, and the page of its CVS modules if it has
    /// CVS; that page (`cvs … /cvsroot/{project} co -P {module}` lines): one per module.
    fn sub_page(&self, page: &PageResponse, _: &Url) -> Result<SubPage, ParseError> {
        let host = page.url.host_str().unwrap_or_default();
        if let Some(name) = host.strip_suffix(CVS_HOST) {
            let (root, marker) = ("rsync://a.cvs.sourceforge.net/cvsroot", " co -P ");
            let module = |line: String| Some(line.split_once(marker)?.1.trim().to_owned());
            let modules = texts(&page.html(), "b").into_iter().filter_map(module);
            let origin = |module| Origin::new(format!("{root}/{name}/{module}"), "cvs");
            return Ok(SubPage::new(modules.map(origin).collect(), None));
        }
        let tools: Vec<serde_json::Value> = page.json_at("/tools")?;
        let path = page.url.path().split_once("/rest/").unwrap_or_default().1;
        let name = path.split('/').nth(1).unwrap_or_default();
        let origins = tools.iter().filter_map(|tool| {
            let (vcs, at) = (tool["name"].as_str()?, tool["mount_point"].as_str()?);
            let url = match vcs {
                "git" | "svn" => format!("https://{vcs}.code.sf.net/{path}/{at}"),
                "hg" => format!("http://hg.code.sf.net/{path}/{at}"),
                "bzr" => format!("http://{name}.bzr.sourceforge.net/bzrroot/{name}"),
                _ => return None,
            };
            Some(Origin::new(url, vcs))
        });
        let cvs = tools.iter().any(|tool| tool["name"] == "cvs");
        let cvs = cvs.then(|| Url::parse(&format!("http://{name}{CVS_HOST}/")));
        Ok(SubPage::new(origins.collect(), None).naming(cvs.and_then(Result::ok)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDEX: &str = include_str!("../../tests/fixtures/sourceforge_sitemap_index.xml");
    const SHARD: &str = include_str!("../../tests/fixtures/sourceforge_sitemap_shard.xml");
    const PROJECT: &str = include_str!("../../tests/fixtures/sourceforge_project.json");
    const CVS: &str = include_str!("../../tests/fixtures/sourceforge_cvs.html");

    fn site() -> Url {
        Url::parse("https://sourceforge.net/").unwrap()
    }

    #[test]
    fn the_index_comes_first_then_each_shard() {
        let api = SourceForge.api_base(&site());
        let at = |cursor: &str| {
            let request = SourceForge.request(&api, &Opaque(cursor.into())).unwrap();
            request.url.to_string()
        };
        assert_eq!(at(""), "https://sourceforge.net/allura_sitemap/sitemap.xml");
        assert_eq!(
            at("2/2"),
            "https://sourceforge.net/allura_sitemap/sitemap-2.xml"
        );
        let index = PageResponse::ok(&at(""), INDEX);
        let next = SourceForge.next_cursor(Opaque::default(), &index).unwrap();
        assert_eq!(next, Some(Opaque("0/2".into())));
        let read = lister_core::page_origins(&SourceForge, &site(), &index).unwrap();
        assert!(read.origins.is_empty() && read.sub_listings.is_empty());
        let shard = PageResponse::ok(&at("1/2"), SHARD);
        let next = SourceForge
            .next_cursor(Opaque("1/2".into()), &shard)
            .unwrap();
        assert_eq!(next, Some(Opaque("2/2".into())));
        assert_eq!(
            SourceForge
                .next_cursor(Opaque("2/2".into()), &shard)
                .unwrap(),
            None
        );
    }

    #[test]
    fn a_shard_names_each_project_once_with_its_lastmod() {
        let shard = PageResponse::ok(
            "https://sourceforge.net/allura_sitemap/sitemap-0.xml",
            SHARD,
        );
        let read = lister_core::page_origins(&SourceForge, &site(), &shard).unwrap();
        assert!(read.origins.is_empty());
        let named: Vec<(&str, String)> = read
            .sub_listings
            .iter()
            .map(|r| {
                (
                    r.url.as_str(),
                    r.last_update.unwrap().date_naive().to_string(),
                )
            })
            .collect();
        let expected = [
            ("p/codeblocks", "2024-05-10"),
            ("adobe/adobe-cfx", "2013-03-21"),
            ("p/backapps/website", "2021-07-11"),
            ("p/backapps", "2021-07-02"),
            ("p/mercurial-eclipse", "2019-01-03"),
        ];
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(path, day)| {
                (
                    format!("https://sourceforge.net/rest/{path}"),
                    day.to_string(),
                )
            })
            .collect();
        let named: Vec<(String, String)> = named
            .into_iter()
            .map(|(url, day)| (url.to_owned(), day))
            .collect();
        assert_eq!(
            named, expected,
            "projects/ duplicates p/, the site's home page is no project"
        );
        // Not a sitemap (a rate limit's JavaScript challenge): the page fails, naming why.
        let challenge = PageResponse::ok("https://sourceforge.net/x", "<html>challenge</html>");
        assert!(lister_core::page_origins(&SourceForge, &site(), &challenge).is_err());
    }

    #[test]
    fn a_project_gives_one_origin_per_repository_tool() {
        let at = "https://sourceforge.net/rest/p/codeblocks";
        let sub = SourceForge
            .sub_page(&PageResponse::ok(at, PROJECT), &site())
            .unwrap();
        let origins: Vec<_> = sub
            .origins
            .iter()
            .map(|o| (o.url.as_str(), o.visit_type.as_str()))
            .collect();
        assert_eq!(
            origins,
            [
                ("https://svn.code.sf.net/p/codeblocks/code", "svn"),
                ("https://git.code.sf.net/p/codeblocks/git", "git"),
                ("http://hg.code.sf.net/p/codeblocks/hg-mirror", "hg"),
                (
                    "http://codeblocks.bzr.sourceforge.net/bzrroot/codeblocks",
                    "bzr"
                ),
            ],
            "wiki and tickets are not listed"
        );
        // CVS: its modules are on a page of their own, on the project's CVS host.
        let more: Vec<&str> = sub.more.iter().map(|r| r.url.as_str()).collect();
        assert_eq!(more, ["http://codeblocks.cvs.sourceforge.net/"]);
        let cvs = PageResponse::ok(more[0], CVS);
        let modules = SourceForge.sub_page(&cvs, &site()).unwrap();
        let urls: Vec<_> = modules
            .origins
            .iter()
            .map(|o| (o.url.as_str(), o.visit_type.as_str()))
            .collect();
        assert_eq!(
            urls,
            [
                (
                    "rsync://a.cvs.sourceforge.net/cvsroot/codeblocks/codeblocks",
                    "cvs"
                ),
                (
                    "rsync://a.cvs.sourceforge.net/cvsroot/codeblocks/wx-tools",
                    "cvs"
                ),
            ],
            "the rsync line names no module"
        );
        assert!(sub.origins.iter().all(|o| o.enabled) && sub.next.is_none());
        // A subproject, on an instance under a path.
        let at = "http://127.0.0.1:8080/sf/rest/p/backapps/website";
        let site = Url::parse("http://127.0.0.1:8080/sf/").unwrap();
        let sub = SourceForge
            .sub_page(&PageResponse::ok(at, PROJECT), &site)
            .unwrap();
        assert_eq!(
            sub.origins[1].url,
            "https://git.code.sf.net/p/backapps/website/git"
        );
        // A 403 is the rate limit: wait and ask again; a 404 is left to the framework.
        use lister_core::{Classification, QuotaSignal};
        let mut limited = PageResponse::ok(at, "<html>challenge</html>");
        limited.status = http::StatusCode::FORBIDDEN;
        assert!(matches!(
            SourceForge.classify(&limited),
            Some(Classification::Quota(QuotaSignal::SlowDown { .. }))
        ));
        limited.status = http::StatusCode::NOT_FOUND;
        assert_eq!(SourceForge.classify(&limited), None);
        // A project without tools is no page of projects.
        let bare = PageResponse::ok(at, r#"{"shortname": "x", "status": "deleted"}"#);
        assert!(SourceForge.sub_page(&bare, &site).is_err());
        let none = PageResponse::ok(at, r#"{"shortname": "x", "tools": []}"#);
        assert!(
            SourceForge
                .sub_page(&none, &site)
                .unwrap()
                .origins
                .is_empty()
        );
    }
}
