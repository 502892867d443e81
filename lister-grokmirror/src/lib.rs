//! grokmirror for lister: every repository of a grokmirror manifest (git.kernel.org's, and its
//! mirrors'), from the one document `GET {url}/manifest.js.gz`.
//!
//! The manifest is a gzip file (the transport decompresses it, under its body cap) holding a
//! JSON object from each repository's path (`/pub/scm/git/git.git`) to its facts: `modified`
//! (epoch seconds), `reference` (the repository it shares objects with, set on forks),
//! `symlinks` (other paths to it), `fingerprint`, `owner`, `description`, `head`. It is the
//! whole instance at once: a rerun asks for it again with its `Last-Modified` as
//! `If-Modified-Since`, so an unchanged manifest costs one request, answered `304`.
//!
//! Origins are recorded as Software Heritage records them: `{url}{path}`, `git`, the last
//! update from `modified`, `is_fork` true where `reference` names a repository (unknown
//! elsewhere, as swh-lister leaves it), and every symlink as an origin of its
//! own (swh-lister's grokmirror lister lists them too: they are paths people clone). Where the
//! address has a path of its own (`https://example.org/mirror`), the origin keeps it, as
//! grokmirror's own `grok-pull` joins `site` and path; swh-lister's `urljoin` drops it, which
//! names URLs that do not clone. Without `--url`, the instance is `https://git.kernel.org`.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lister_core::{Lister, RunContext, RunOptions};
//! use lister_store::Store;
//! let url = url::Url::parse("https://git.kernel.org")?;
//! let listing = lister_http::http_listing(lister_grokmirror::Grokmirror, None, Some(url), Default::default())?;
//! listing.run(&Store::open("lister.db").await?, &RunOptions::default(), &RunContext::default()).await?;
//! # Ok(()) }
//! ```

use chrono::DateTime;
use lister_core::{Forge, NextCursor, Origin};
use serde::Deserialize;
use url::Url;

/// The grokmirror lister.
#[derive(Debug, Clone, Copy, Default)]
pub struct Grokmirror;

/// A repository of the manifest, as the listing reads it; `path` is its key in the manifest.
#[derive(Deserialize)]
pub struct Repository {
    path: String,
    modified: Option<i64>,
    reference: Option<String>,
    symlinks: Option<Vec<String>>,
}

/// `{site}{path}`: the instance's address (its path kept, ending with `/`) and a path.
fn under(site: &Url, path: &str) -> String {
    format!("{site}{}", path.trim_start_matches('/'))
}

impl Forge for Grokmirror {
    /// Unused: the listing is one document.
    type Cursor = u64;
    type Item<'a> = Repository;
    const NAME: &'static str = "grokmirror";
    const DEFAULT_URL: &'static str = "https://git.kernel.org";
    const PATH: &'static str = "/manifest.js.gz";
    const ITEM_KEY: &'static str = "path";
    const NEXT: NextCursor = NextCursor::None;

    /// A fork where `reference` names a repository; unknown elsewhere.
    fn origin(&self, repo: Repository, site: &Url) -> Option<Origin> {
        let fork = repo.reference.filter(|path| !path.is_empty()).map(|_| true);
        let modified = repo.modified.and_then(|t| DateTime::from_timestamp(t, 0));
        let origin = Origin::new(under(site, &repo.path), "git").with_fork(fork);
        Some(origin.with_last_update(modified))
    }

    /// Each symlink is another path to the repository: an origin of its own.
    fn aliases(&self, repo: &Repository, site: &Url) -> Vec<String> {
        repo.symlinks
            .iter()
            .flatten()
            .map(|link| under(site, link))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use lister_core::PageResponse;

    /// Shaped like git.kernel.org's manifest (grokmirror 2): a fork sharing objects with its
    /// `reference`, symlinks, `null` facts, an escaped description.
    const MANIFEST: &str = r#"{
 "/pub/scm/git/git.git": {"description": "Git - the stupid content tracker", "fingerprint": "5e9c4a1f0b5b0d8c2f1a7e3d9b6c4a2e1f0d9c8b", "forkgroup": "0b3f5c2e-1d4a-4e8b-9c7f-2a6d8e0f1b3c", "head": "ref: refs/heads/master", "modified": 1714600000, "owner": "Junio C Hamano", "reference": null, "symlinks": []},
 "/pub/scm/linux/kernel/git/torvalds/linux.git": {"description": "Linux kernel source tree", "fingerprint": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "forkgroup": "9f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b", "head": "ref: refs/heads/master", "modified": 1714700000, "owner": "Linus Torvalds", "reference": null, "symlinks": ["/pub/scm/linux/kernel/git/torvalds/linux-2.6.git"]},
 "/pub/scm/linux/kernel/git/stable/linux.git": {"description": "Linux kernel stable tree", "fingerprint": "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c", "forkgroup": "9f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b", "head": "ref: refs/heads/master", "modified": 1714800000, "owner": "Greg Kroah-Hartman", "reference": "/pub/scm/linux/kernel/git/torvalds/linux.git", "symlinks": ["/pub/scm/linux/kernel/git/stable/linux-stable.git", "/pub/scm/linux/kernel/git/stable/linux-2.6-stable.git"]},
 "/pub/scm/docs/man-pages/man-pages.git": {"description": "Linux man pages \u00ab\u00bb", "fingerprint": "1234567890abcdef1234567890abcdef12345678", "head": "ref: refs/heads/master", "modified": 1714500000, "owner": null},
 "/pub/scm/broken.git": {"modified": "last week"}
}"#;

    fn gzipped(text: &str) -> Vec<u8> {
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gzip.write_all(text.as_bytes()).unwrap();
        gzip.finish().unwrap()
    }

    /// The manifest as the transport leaves it: decompressed under its body cap.
    fn page(url: &str) -> PageResponse {
        let mut page = PageResponse::ok(url, gzipped(MANIFEST));
        let cap = lister_http::TransportConfig::default().max_body_bytes;
        page.gunzip(cap).unwrap();
        page
    }

    type Facts = (String, Option<bool>, Option<i64>);

    fn facts(site: &str) -> (Vec<Facts>, usize) {
        let page = page("https://git.kernel.org/manifest.js.gz");
        let read = lister_core::page_origins(&Grokmirror, &site.parse().unwrap(), &page).unwrap();
        let facts = read.origins.iter().map(|o| {
            assert_eq!(o.visit_type, "git");
            (
                o.url.clone(),
                o.is_fork,
                o.last_update.map(|t| t.timestamp()),
            )
        });
        (facts.collect(), read.rejected.len())
    }

    #[test]
    fn every_path_and_symlink_of_the_manifest_is_an_origin() {
        let (facts, rejected) = facts("https://git.kernel.org/");
        let kernel = |path: &str| format!("https://git.kernel.org/pub/scm/{path}");
        let expected: Vec<Facts> = vec![
            (kernel("git/git.git"), None, Some(1714600000)),
            (
                kernel("linux/kernel/git/torvalds/linux.git"),
                None,
                Some(1714700000),
            ),
            (
                kernel("linux/kernel/git/torvalds/linux-2.6.git"),
                None,
                Some(1714700000),
            ),
            (
                kernel("linux/kernel/git/stable/linux.git"),
                Some(true),
                Some(1714800000),
            ),
            (
                kernel("linux/kernel/git/stable/linux-stable.git"),
                Some(true),
                Some(1714800000),
            ),
            (
                kernel("linux/kernel/git/stable/linux-2.6-stable.git"),
                Some(true),
                Some(1714800000),
            ),
            (
                kernel("docs/man-pages/man-pages.git"),
                None,
                Some(1714500000),
            ),
        ];
        assert_eq!(facts, expected);
        assert_eq!(
            rejected, 1,
            "`modified: \"last week\"` rejects its item alone"
        );
    }

    #[test]
    fn an_address_with_a_path_keeps_it_and_the_manifest_is_one_document() {
        let (facts, _) = facts("https://mirror.example.org/kernel/");
        assert_eq!(
            facts[0].0,
            "https://mirror.example.org/kernel/pub/scm/git/git.git"
        );
        let api = Grokmirror.api_base(&"https://mirror.example.org/kernel".parse().unwrap());
        let request = Grokmirror.request(&api, &0).unwrap();
        assert_eq!(
            request.url.as_str(),
            "https://mirror.example.org/kernel/manifest.js.gz"
        );
        assert!(
            request.is_cacheable(),
            "a GET: asked again with If-Modified-Since"
        );
        let page = page("https://git.kernel.org/manifest.js.gz");
        assert_eq!(
            Grokmirror.next_cursor(0, &page).unwrap(),
            None,
            "one document"
        );
    }
}
