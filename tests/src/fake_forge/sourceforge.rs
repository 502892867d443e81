//! SourceForge (Allura): the sitemap index `GET /sourceforge/allura_sitemap/sitemap.xml`, its
//! shards `…/sitemap-N.xml` (the pages of 20 projects each: each project's page, its tools'
//! pages, and its `projects/` page, which duplicates the `p/` one, all with the project's
//! `lastmod` day), and each project's REST description `GET /sourceforge/rest/{ns}/{project}`
//! (`shortname`, `name`, `status`, `private`, `tools[{name, mount_point, label, url…}]`,
//! `moved_to_url`…), as Allura writes them.
//!
//! Project `k` (from 1) is `project-k`, in the namespace `adobe` when `k % 30 == 11`, else `p`.
//! Its tools: `k % 4 == 0` git and svn (`git`, `code`); `1` git (`code`); `2` Mercurial
//! (`code`); `3` none but a wiki and tickets when `k % 8 == 3`, else svn and git (`svn`,
//! `git`); every 25th also Bazaar. Projects with `k % 15 == 4` have a subproject
//! `project-k/docs` with a git tool. Project 13's description answers 404 (deleted since the
//! sitemap was written).

use chrono::{Days, NaiveDate};
use http::{HeaderMap, Response, StatusCode};
use serde_json::{Value, json};

use super::ExpectedOrigin;
use super::faults::Fault;
use super::instance::Instance;
use super::routes::Call;
use super::server::{Body, Dropped, full, header_value};

/// Projects per shard.
pub(crate) const PER_SHARD: u64 = 20;

/// The project whose description answers 404.
pub(crate) const GONE: u64 = 13;

/// The namespace of project `k`.
fn namespace(k: u64) -> &'static str {
    if k % 30 == 11 { "adobe" } else { "p" }
}

/// The `(name, mount_point)` of project `k`'s tools, code and other.
fn tools(k: u64) -> Vec<(&'static str, &'static str)> {
    let mut tools = vec![("summary", "summary"), ("wiki", "wiki")];
    tools.extend(match k % 4 {
        0 => vec![("git", "git"), ("svn", "code")],
        1 => vec![("git", "code")],
        2 => vec![("hg", "code")],
        _ if k % 8 == 3 => vec![],
        _ => vec![("svn", "svn"), ("git", "git")],
    });
    if k.is_multiple_of(25) {
        tools.push(("bzr", "bzr"));
    }
    if has_cvs(k) {
        tools.push(("cvs", "cvs"));
    }
    tools.push(("tickets", "bugs"));
    tools
}

/// Whether project `k` has CVS, whose modules are listed at `http://project-k.cvs.sourceforge.net/`.
fn has_cvs(k: u64) -> bool {
    k % 10 == 6
}

/// The CVS modules of project `k`.
fn cvs_modules(k: u64) -> [String; 2] {
    [format!("project-{k}"), "tools".to_owned()]
}

/// The page of project `k`'s CVS modules (`host` is `project-k.cvs.sourceforge.net`), as
/// SourceForge's CVS hosts show them: a `cvs … co -P {module}` line a module, and one `rsync`
/// line for the whole repository.
pub(crate) fn cvs_page(host: &str, count: u64) -> Option<String> {
    let name = host.strip_suffix(".cvs.sourceforge.net")?;
    let k: u64 = name.strip_prefix("project-")?.parse().ok()?;
    if k == 0 || k > count || !has_cvs(k) {
        return None;
    }
    let root = format!(":pserver:anonymous@{name}.cvs.sourceforge.net:/cvsroot/{name}");
    let lines: String = cvs_modules(k)
        .iter()
        .map(|module| format!("<li><b>cvs -z3 -d{root} co -P {module}</b></li>\n"))
        .collect();
    Some(format!(
        "<!DOCTYPE html>\n<html><head><title>{name} CVS</title></head><body>\n\
         <h1>CVS repository of {name}</h1>\n<p>This project's CVS repository is read-only; \
         check a module out anonymously (press Enter at the password prompt):</p>\n\
         <ul>\n{lines}</ul>\n<p>Or copy it whole: \
         <b>rsync -ai a.cvs.sourceforge.net::cvsroot/{name}/ .</b></p>\n</body></html>\n"
    ))
}

/// How many projects of `count` have CVS (one page of modules each).
pub(crate) fn cvs_pages(count: u64) -> u64 {
    (1..=count).filter(|k| *k != GONE && has_cvs(*k)).count() as u64
}

/// Whether project `k` has the subproject `docs`.
fn has_subproject(k: u64) -> bool {
    k % 15 == 4
}

/// SourceForge projects changed since they were created (added, or touched), and the day.
pub(crate) type Touched = std::collections::BTreeMap<u64, NaiveDate>;

/// The `lastmod` day of project `k` (its subproject's is the day after), unless it was touched.
fn lastmod(k: u64, sub: bool, touched: &Touched) -> NaiveDate {
    let start = NaiveDate::from_ymd_opt(2015, 1, 1).expect("a date");
    let day = start + Days::new(k * 3 + u64::from(sub));
    touched.get(&k).copied().unwrap_or(day)
}

/// The number of shards for `count` projects.
pub(crate) fn shards(count: u64) -> u64 {
    count.div_ceil(PER_SHARD)
}

/// How many REST descriptions a listing of `count` projects asks for: each project and
/// subproject, the gone one included.
pub(crate) fn descriptions(count: u64) -> u64 {
    count + (1..=count).filter(|k| has_subproject(*k)).count() as u64
}

/// What a correct lister records: one origin per code tool, Mercurial on `http`, Bazaar at
/// its legacy address, with the project's `lastmod` day.
pub(crate) fn origins(count: u64, touched: &Touched) -> Vec<ExpectedOrigin> {
    let origin = |url: String, vcs: &str, day: NaiveDate| ExpectedOrigin {
        url,
        visit_type: vcs.to_owned(),
        enabled: true,
        is_fork: None,
        last_update: Some(format!("{day}T00:00:00+00:00")),
    };
    let mut origins = Vec::new();
    for k in (1..=count).filter(|k| *k != GONE) {
        let (ns, day) = (namespace(k), lastmod(k, false, touched));
        for (vcs, at) in tools(k) {
            let url = match vcs {
                "git" | "svn" => format!("https://{vcs}.code.sf.net/{ns}/project-{k}/{at}"),
                "hg" => format!("http://hg.code.sf.net/{ns}/project-{k}/{at}"),
                "bzr" => format!("http://project-{k}.bzr.sourceforge.net/bzrroot/project-{k}"),
                _ => continue,
            };
            origins.push(origin(url, vcs, day));
        }
        if has_subproject(k) {
            let url = format!("https://git.code.sf.net/{ns}/project-{k}/docs/git");
            origins.push(origin(url, "git", lastmod(k, true, touched)));
        }
        for module in cvs_modules(k).iter().filter(|_| has_cvs(k)) {
            let url = format!("rsync://a.cvs.sourceforge.net/cvsroot/project-{k}/{module}");
            origins.push(origin(url, "cvs", day));
        }
    }
    origins
}

/// The sitemap index of `count` projects' shards.
fn index(base: &str, count: u64) -> String {
    let prefix = Instance::Sourceforge.prefix();
    let shards: String = (0..shards(count))
        .map(|n| {
            format!(
                "  <sitemap>\n    <loc>{base}{prefix}/allura_sitemap/sitemap-{n}.xml</loc>\n    \
                 <lastmod>{}</lastmod>\n  </sitemap>\n",
                lastmod(n * PER_SHARD + 1, false, &Touched::new())
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n{shards}</sitemapindex>\n"
    )
}

/// Shard `n` of `count` projects.
fn shard(base: &str, n: u64, count: u64, touched: &Touched) -> String {
    let site = format!("{base}{}", Instance::Sourceforge.prefix());
    let url = |path: String, day: NaiveDate| {
        format!(
            "  <url>\n    <loc>{site}/{path}</loc>\n    <lastmod>{day}</lastmod>\n    \
             <changefreq>daily</changefreq>\n  </url>\n"
        )
    };
    let first = n * PER_SHARD + 1;
    let mut urls = String::new();
    for k in first..=(first + PER_SHARD - 1).min(count) {
        let (ns, day) = (namespace(k), lastmod(k, false, touched));
        urls.push_str(&url(format!("projects/project-{k}/"), day));
        urls.push_str(&url(format!("{ns}/project-{k}/"), day));
        for (_, at) in tools(k) {
            urls.push_str(&url(format!("{ns}/project-{k}/{at}/"), day));
        }
        if has_subproject(k) {
            for at in ["wiki", "git"] {
                let path = format!("{ns}/project-{k}/docs/{at}/");
                urls.push_str(&url(path, lastmod(k, true, touched)));
            }
        }
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n{urls}</urlset>\n"
    )
}

/// The REST description of project `k` (its subproject `docs` when `sub`).
fn description(base: &str, k: u64, sub: bool) -> Value {
    let ns = namespace(k);
    let (path, tools) = match sub {
        true => (
            format!("{ns}/project-{k}/docs"),
            vec![("wiki", "wiki"), ("git", "git")],
        ),
        false => (format!("{ns}/project-{k}"), tools(k)),
    };
    let shortname = path.rsplit('/').next().unwrap_or_default().to_owned();
    let web = format!("{base}{}/{path}/", Instance::Sourceforge.prefix());
    let tools: Vec<Value> = tools
        .into_iter()
        .map(|(name, at)| {
            let label = name.to_uppercase();
            json!({
                "name": name, "mount_point": at, "url": format!("{web}{at}/"),
                "icons": {"24": format!("images/{name}_24.png")}, "installable": name != "summary",
                "tool_label": label, "mount_label": label, "label": label,
            })
        })
        .collect();
    json!({
        "shortname": shortname, "name": format!("Project {k} « <demo> & co »"),
        "_id": format!("{:024x}", k), "url": web, "private": false,
        "short_description": "A project", "creation_date": "2009-03-01", "summary": "",
        "external_homepage": "", "video_url": null, "socialnetworks": [],
        "status": "active", "moved_to_url": "", "preferred_support_tool": "",
        "preferred_support_url": "", "developers": [{"username": "dev", "name": "Dev", "url": "/u/dev/"}],
        "tools": tools, "labels": [], "categories": {"license": [], "os": []},
        "icon_url": null, "screenshots": [],
    })
}

/// The project (and whether it is the subproject) of a description path under the prefix
/// (`/rest/p/project-7`, `/rest/p/project-4/docs`).
fn described(rest: &str) -> Option<(u64, bool)> {
    let path = rest.strip_prefix("/rest/")?;
    let (ns, path) = path.split_once('/')?;
    let (name, sub) = match path.split_once('/') {
        Some((name, "docs")) => (name, true),
        Some(_) => return None,
        None => (path, false),
    };
    let k: u64 = name.strip_prefix("project-")?.parse().ok()?;
    (k > 0 && ns == namespace(k) && (!sub || has_subproject(k))).then_some((k, sub))
}

/// The shard number of a shard path under the prefix.
fn shard_number(rest: &str) -> Option<u64> {
    let n = rest
        .strip_prefix("/allura_sitemap/sitemap-")?
        .strip_suffix(".xml")?;
    n.parse().ok()
}

/// Whether `rest` (a path under the prefix) is a shard or a description.
pub(crate) fn serves(rest: &str) -> bool {
    shard_number(rest).is_some() || described(rest).is_some()
}

/// Serves the index, the shards and the descriptions; a project or shard that does not exist
/// is a 404.
pub(crate) async fn serve(call: Call<'_>) -> Result<Response<Body>, Dropped> {
    let count = call.state.count(Instance::Sourceforge);
    let rest = call
        .path
        .strip_prefix(Instance::Sourceforge.prefix())
        .unwrap_or_default();
    let not_found = || full(StatusCode::NOT_FOUND, "text/html", "<h1>Not Found</h1>");
    let (content_type, body) = if rest == "/allura_sitemap/sitemap.xml" {
        (
            "application/xml; charset=utf-8",
            index(&call.base, count).into_bytes(),
        )
    } else if let Some(n) = shard_number(rest) {
        if n >= shards(count) {
            return Ok(not_found());
        }
        (
            "application/xml; charset=utf-8",
            shard(&call.base, n, count, &call.state.sourceforge_touched()).into_bytes(),
        )
    } else {
        match described(rest) {
            Some((k, sub)) if k <= count && k != GONE => {
                let value = description(&call.base, k, sub);
                (
                    "application/json",
                    serde_json::to_vec(&value).expect("JSON serializes"),
                )
            }
            _ => return Ok(not_found()),
        }
    };
    let mut headers = HeaderMap::new();
    headers.insert(http::header::CONTENT_TYPE, header_value(content_type));
    Fault::deliver(call.fault.as_ref(), StatusCode::OK, headers, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sitemaps_and_descriptions_have_sourceforge_shapes() {
        let base = "http://127.0.0.1:1";
        let index = index(base, 45);
        assert_eq!(index.matches("<sitemap>").count(), 3);
        assert!(
            index
                .contains("<loc>http://127.0.0.1:1/sourceforge/allura_sitemap/sitemap-2.xml</loc>")
        );
        let shard = shard(base, 0, 45, &Touched::new());
        assert!(shard.contains("<loc>http://127.0.0.1:1/sourceforge/projects/project-1/</loc>"));
        assert!(shard.contains("<loc>http://127.0.0.1:1/sourceforge/p/project-4/docs/git/</loc>"));
        assert!(shard.contains("<loc>http://127.0.0.1:1/sourceforge/adobe/project-11/wiki/</loc>"));
        assert!(!shard.contains("project-21/"), "20 projects a shard");
        let project = description(base, 4, false);
        assert_eq!(project["shortname"], "project-4");
        assert_eq!(project["tools"][2]["name"], "git");
        assert_eq!(project["tools"][3]["mount_point"], "code");
        assert_eq!(described("/rest/p/project-4/docs"), Some((4, true)));
        assert_eq!(described("/rest/adobe/project-11"), Some((11, false)));
        assert_eq!(described("/rest/p/project-11"), None);
        assert_eq!(described("/rest/p/project-5/docs"), None);
        assert_eq!(shard_number("/allura_sitemap/sitemap-12.xml"), Some(12));
        let listed = origins(160, &Touched::new());
        assert!(listed.len() >= 200, "{}", listed.len());
        assert!(
            listed
                .iter()
                .any(|o| o.visit_type == "hg" && o.url.starts_with("http://hg."))
        );
        assert!(listed.iter().any(|o| o.visit_type == "bzr"));
        assert!(listed.iter().all(|o| !o.url.contains("project-13/")));
        assert!(origins(190, &Touched::new()).len() - listed.len() >= 25);
    }
}
