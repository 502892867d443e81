//! A stagit site: static HTML as `stagit-index` and `stagit` (1.2) write it. The index,
//! `GET /stagit/index.html` (also `/stagit/`, as a web server serves a folder's
//! `index.html`), is `table#index`: a row a repository, its name linking `{name}/log.html`
//! (percent-encoded as stagit's `percentencode` does), its description, owner and last
//! commit (`YYYY-MM-DD HH:MM`, UTC), HTML-escaped. Each repository's `GET
//! /stagit/{name}/log.html` has the header table (its `tr.url` row "git clone URL" from the
//! repository's `url` file, when it has one) and `table#log`, newest commit first.

use http::{HeaderMap, Response, StatusCode};

use super::ExpectedOrigin;
use super::faults::Fault;
use super::instance::Instance;
use super::routes::Call;
use super::server::{Body, Dropped, full, header_value};

/// The first repository's last commit (2023-11-14 22:13 UTC); each next one is an hour later.
const EPOCH: i64 = 1_699_999_980;

/// The host the `url` files name.
const HOST: &str = "stagit.example.org";

/// The name of the `k`-th repository (its folder's, `.git` stripped).
fn name(k: u64) -> String {
    match k % 10 {
        3 => format!("caf\u{e9}-{k}"),
        7 => format!("a&b<c>-{k}"),
        _ => format!("repo-{k}"),
    }
}

/// The content of its `url` file: none for every 50th from the 5th, `git://` for every 9th
/// from the 4th, else `https`.
fn clone_url(k: u64) -> Option<String> {
    match (k % 50, k % 9) {
        (5, _) => None,
        (_, 4) => Some(format!("git://{HOST}/{}.git", name(k))),
        _ => Some(format!("https://{HOST}/{}.git", name(k))),
    }
}

/// Its last commit's time, in seconds: none for every 40th from the 10th (no commits yet).
fn last_commit(k: u64) -> Option<i64> {
    (k % 40 != 10).then(|| EPOCH + 3600 * k as i64)
}

fn minute(at: i64) -> String {
    let at = chrono::DateTime::from_timestamp(at, 0).expect("a time");
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// stagit's `xmlencode`.
fn escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// stagit's `percentencode`: every byte below `,`, from `:` to `@`, `[`, `]` and from 127.
fn percent(text: &str) -> String {
    let encode =
        |b: u8| !(b','..127).contains(&b) || (b':'..=b'@').contains(&b) || b"[]".contains(&b);
    text.bytes()
        .map(|b| {
            if encode(b) {
                format!("%{b:02X}")
            } else {
                char::from(b).to_string()
            }
        })
        .collect()
}

fn description(k: u64) -> String {
    format!("Tree {k} \u{ab}\u{fc}\u{bb} <maintained> & more")
}

/// What a correct lister lists: each repository's clone URL, in index order.
pub(crate) fn origins(count: u64) -> Vec<ExpectedOrigin> {
    let origin = |k: u64| {
        let url = url::Url::parse(&clone_url(k)?).expect("a clone URL");
        Some(ExpectedOrigin {
            url: url.to_string(),
            visit_type: "git".to_owned(),
            enabled: true,
            is_fork: None,
            last_update: last_commit(k)
                .and_then(|at| chrono::DateTime::from_timestamp(at, 0))
                .map(|at| at.to_rfc3339()),
        })
    };
    (1..=count).filter_map(origin).collect()
}

const HEAD: &str = "<!DOCTYPE html>\n<html>\n<head>\n<meta http-equiv=\"Content-Type\" \
    content=\"text/html; charset=UTF-8\" />\n<meta name=\"viewport\" \
    content=\"width=device-width, initial-scale=1\" />\n<title>";

/// The index of `count` repositories.
pub(crate) fn index(count: u64) -> String {
    let mut html = format!(
        "{HEAD}Repositories</title>\n<link rel=\"icon\" type=\"image/png\" \
        href=\"favicon.png\" />\n<link rel=\"stylesheet\" type=\"text/css\" href=\"style.css\" \
        />\n</head>\n<body>\n<table>\n<tr><td><img src=\"logo.png\" alt=\"\" width=\"32\" \
        height=\"32\" /></td>\n<td><span class=\"desc\">Repositories</span></td></tr><tr><td>\
        </td><td>\n</td></tr>\n</table>\n<hr/>\n<div id=\"content\">\n<table id=\"index\">\
        <thead>\n<tr><td><b>Name</b></td><td><b>Description</b></td><td><b>Owner</b></td>\
        <td><b>Last commit</b></td></tr></thead><tbody>\n"
    );
    for k in 1..=count {
        let name = name(k);
        html.push_str(&format!(
            "<tr><td><a href=\"{}/log.html\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            percent(&name),
            escape(&name),
            escape(&description(k)),
            escape(&format!("Ma\u{ee}tre <{k}>")),
            last_commit(k).map(minute).unwrap_or_default(),
        ));
    }
    html.push_str("</tbody>\n</table>\n</div>\n</body>\n</html>\n");
    html
}

/// The log page of repository `k`.
pub(crate) fn log(k: u64) -> String {
    let (name, description) = (escape(&name(k)), escape(&description(k)));
    let clone = clone_url(k).map(|url| escape(&url)).map(|url| {
        format!("<tr class=\"url\"><td></td><td>git clone <a href=\"{url}\">{url}</a></td></tr>")
    });
    let mut html = format!(
        "{HEAD}{name} - {description}</title>\n<link rel=\"icon\" type=\"image/png\" \
        href=\"../favicon.png\" />\n<link rel=\"alternate\" type=\"application/atom+xml\" \
        title=\"{name} Atom Feed\" href=\"../atom.xml\" />\n<link rel=\"stylesheet\" \
        type=\"text/css\" href=\"../style.css\" />\n</head>\n<body>\n<table><tr><td><a \
        href=\"../\"><img src=\"../logo.png\" alt=\"\" width=\"32\" height=\"32\" /></a></td>\
        <td><h1>{name}</h1><span class=\"desc\">{description}</span></td></tr>{}<tr><td></td>\
        <td>\n<a href=\"log.html\">Log</a> | <a href=\"files.html\">Files</a> | <a \
        href=\"refs.html\">Refs</a></td></tr></table>\n<hr/>\n<div id=\"content\">\n<table \
        id=\"log\"><thead>\n<tr><td><b>Date</b></td><td><b>Commit message</b></td><td><b>\
        Author</b></td><td class=\"num\" align=\"right\"><b>Files</b></td><td class=\"num\" \
        align=\"right\"><b>+</b></td><td class=\"num\" align=\"right\"><b>-</b></td></tr>\n\
        </thead><tbody>\n",
        clone.unwrap_or_default()
    );
    // The last commit, then three older ones.
    for n in 0..last_commit(k).map_or(0, |_| 4) {
        let at = last_commit(k).unwrap_or_default() - 86_400 * n;
        html.push_str(&format!(
            "<tr><td>{}</td><td><a href=\"commit/{:040x}.html\">Fix &lt;parser&gt; &amp; \
            tests</a></td><td>J\u{f6}rg</td><td class=\"num\" align=\"right\">2</td><td \
            class=\"num\" align=\"right\">+5</td><td class=\"num\" align=\"right\">-1</td></tr>\n",
            minute(at),
            u128::from(k * 10 + n as u64) * 0x9e37_79b9,
        ));
    }
    html.push_str("</tbody></table></div>\n</body>\n</html>\n");
    html
}

/// The repository whose log page `rest` (a path under `/stagit`) is.
fn repository(rest: &str) -> Option<u64> {
    let folder = rest.strip_prefix('/')?.strip_suffix("/log.html")?;
    let k = folder.rsplit('-').next()?.parse().ok()?;
    (k > 0 && percent(&name(k)) == folder).then_some(k)
}

/// Whether `rest` (a path under `/stagit`) is a page the site serves.
pub(crate) fn serves(rest: &str) -> bool {
    rest == "/" || rest == "/index.html" || repository(rest).is_some()
}

/// Serves the index or a log page.
pub(crate) async fn serve(call: Call<'_>) -> Result<Response<Body>, Dropped> {
    let count = call.state.count(Instance::Stagit);
    let rest = call
        .path
        .strip_prefix(Instance::Stagit.prefix())
        .unwrap_or_default();
    let body = match repository(rest) {
        Some(k) if k <= count => log(k),
        Some(_) => {
            return Ok(full(
                StatusCode::NOT_FOUND,
                "text/html",
                "<h1>Not Found</h1>",
            ));
        }
        None => index(count),
    };
    let mut headers = HeaderMap::new();
    let html = header_value("text/html; charset=utf-8");
    headers.insert(http::header::CONTENT_TYPE, html);
    Fault::deliver(
        call.fault.as_ref(),
        StatusCode::OK,
        headers,
        body.into_bytes(),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_percent_encoded_in_links_and_escaped_in_text() {
        assert_eq!(percent("a&b<c>-7"), "a%26b%3Cc%3E-7");
        assert_eq!(percent("caf\u{e9}-3"), "caf%C3%A9-3");
        let index = index(10);
        assert!(index.contains("<a href=\"a%26b%3Cc%3E-7/log.html\">a&amp;b&lt;c&gt;-7</a>"));
        assert!(
            index.contains("<td>2023-11-14 23:13</td>"),
            "repository 1, an hour on"
        );
        assert_eq!(repository("/caf%C3%A9-3/log.html"), Some(3));
        assert_eq!(repository("/repo-3/log.html"), None);
        assert!(serves("/") && !serves("/repo-1/refs.html"));
        assert!(!log(5).contains("tr class=\"url\""), "no url file");
        assert!(log(4).contains("git clone <a href=\"git://stagit.example.org/repo-4.git\">"));
        let expected = origins(60);
        assert_eq!(expected.len(), 58, "repositories 5 and 55 have no url file");
        assert_eq!(
            expected[5].url,
            "https://stagit.example.org/a&b%3Cc%3E-7.git"
        );
        assert_eq!(
            expected[8].last_update, None,
            "repository 10 has no commits"
        );
    }
}
