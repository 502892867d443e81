//! Gerrit's `GET /gerrit/projects/?n=N&S=OFFSET` (also `limit` and `start`): a map from each
//! project's name to its `ProjectInfo`, sorted by name, in compact JSON after the XSSI guard
//! line `)]}'`. Without `n` the whole list comes at once; with it, the last entry of a page
//! that is not the last carries `"_more_projects": true`. As older servers do, an entry has no
//! `name` (the key is the name): its `id` is the name URL-encoded. `All-Projects` and
//! `All-Users` come first; the others are numbered, so projects added later sort last.

use http::{HeaderMap, Response, StatusCode};
use serde_json::{Map, Value, json};
use url::Url;

use super::ExpectedOrigin;
use super::faults::Fault;
use super::instance::Instance;
use super::routes::Call;
use super::server::{Body, Dropped, full, header_value};

/// The guard line before the JSON.
pub(crate) const XSSI_GUARD: &str = ")]}'\n";

/// The name of the `k`-th project (from 1): slashes, and `+` in some.
fn name(k: u64) -> String {
    match k % 4 {
        0 => format!("p{k:05}"),
        1 => format!("p{k:05}/platform/build"),
        2 => format!("p{k:05}/c++/lib"),
        _ => format!("p{k:05}/tools"),
    }
}

/// Every project's name, in the listing's order (by name).
fn names(count: u64) -> Vec<String> {
    let mut names = vec!["All-Projects".to_owned(), "All-Users".to_owned()];
    names.extend((1..=count).map(name));
    names
}

/// What a correct lister lists, in listing order, for the server at `site`.
pub(crate) fn origins(count: u64, site: &Url) -> Vec<ExpectedOrigin> {
    names(count)
        .into_iter()
        .map(|name| ExpectedOrigin {
            url: site.join(&name).expect("a name joins").to_string(),
            visit_type: "git".to_owned(),
            enabled: true,
            is_fork: None,
            last_update: None,
        })
        .collect()
}

/// The project named `name`, the `at`-th of the listing, on the server at `base`.
fn project(name: &str, at: usize, base: &str) -> Value {
    let id: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let mut info = json!({"id": id, "state": if at % 7 == 6 { "READ_ONLY" } else { "ACTIVE" }});
    if name != "All-Projects" {
        info["parent"] = json!("All-Projects");
    }
    if !at.is_multiple_of(3) {
        info["description"] = json!(format!("Project {name} — «tools» & <more>"));
    }
    info["web_links"] = json!([{"name": "gitiles", "url": format!("{base}/plugins/gitiles/{id}"), "target": "_blank"}]);
    info
}

/// The page of `limit` projects (all with `None`) from offset `start`, guard line included.
pub(crate) fn render(base: &str, start: u64, limit: Option<u64>, count: u64) -> Vec<u8> {
    let names = names(count);
    let start = (start as usize).min(names.len());
    let end = limit.map_or(names.len(), |limit| {
        (start + limit as usize).min(names.len())
    });
    let mut page = Map::new();
    for (at, name) in names[start..end].iter().enumerate() {
        page.insert(name.clone(), project(name, start + at, base));
    }
    if end < names.len() && limit.is_some() {
        let last = names[end - 1].clone();
        page[&last]["_more_projects"] = json!(true);
    }
    let mut body = XSSI_GUARD.as_bytes().to_vec();
    // serde_json's map keeps its keys sorted: the listing's order.
    body.extend(serde_json::to_vec(&Value::Object(page)).expect("a JSON value serializes"));
    body.push(b'\n');
    body
}

fn bad_request(message: &str) -> Response<Body> {
    full(
        StatusCode::BAD_REQUEST,
        "text/plain; charset=UTF-8",
        format!("{message}\n"),
    )
}

/// Serves `GET /gerrit/projects/`.
pub(crate) async fn projects(call: Call<'_>) -> Result<Response<Body>, Dropped> {
    let number = |short: &str, long: &str| {
        let value = call.param(short).or_else(|| call.param(long));
        value.map(|value| value.parse::<u64>().map_err(|_| value.to_owned()))
    };
    let start = match number("S", "start") {
        None => 0,
        Some(Ok(start)) => start,
        Some(Err(value)) => {
            return Ok(bad_request(&format!(
                "\"{value}\" is not a valid value for \"--start\""
            )));
        }
    };
    let limit = match number("n", "limit") {
        None => None,
        Some(Ok(limit)) => Some(limit).filter(|limit| *limit > 0),
        Some(Err(value)) => {
            return Ok(bad_request(&format!(
                "\"{value}\" is not a valid value for \"--limit\""
            )));
        }
    };
    let count = call.state.count(Instance::Gerrit);
    let body = render(&format!("{}/gerrit", call.base), start, limit, count);
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        header_value("application/json; charset=utf-8"),
    );
    Fault::deliver(call.fault.as_ref(), StatusCode::OK, headers, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(start: u64, limit: Option<u64>, count: u64) -> Map<String, Value> {
        let body = render("http://127.0.0.1:1/gerrit", start, limit, count);
        let text = std::str::from_utf8(&body).unwrap();
        let json = text.strip_prefix(XSSI_GUARD).unwrap();
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn pages_by_offset_with_more_projects_on_the_last_entry() {
        let first = page(0, Some(5), 10);
        let keys: Vec<&str> = first.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "All-Projects",
                "All-Users",
                "p00001/platform/build",
                "p00002/c++/lib",
                "p00003/tools"
            ]
        );
        assert_eq!(first["p00002/c++/lib"]["id"], "p00002%2Fc%2B%2B%2Flib");
        assert!(first["p00002/c++/lib"].get("name").is_none());
        assert_eq!(first["p00003/tools"]["_more_projects"], true);
        assert!(first["All-Users"].get("_more_projects").is_none());
        let last = page(10, Some(5), 10);
        assert_eq!(last.len(), 2);
        assert!(
            last.values()
                .all(|info| info.get("_more_projects").is_none())
        );
        assert_eq!(page(0, None, 10).len(), 12, "no limit: every project");
        assert!(page(20, Some(5), 10).is_empty());
        let site = Url::parse("http://127.0.0.1:1/gerrit/").unwrap();
        let urls: Vec<String> = origins(2, &site).into_iter().map(|o| o.url).collect();
        assert_eq!(urls[3], "http://127.0.0.1:1/gerrit/p00002/c++/lib");
    }
}
