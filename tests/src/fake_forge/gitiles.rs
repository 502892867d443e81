//! Gitiles' host index, `GET /gitiles/?format=JSON`: the whole host in one document, after
//! the XSSI guard line `)]}'`, a JSON object from each repository's name to
//! `{"name", "clone_url", "description"}`, in name order, pretty-printed and HTML-escaped as
//! Gson writes it (`<` is `\u003c`), with an `ETag` (`304` to a matching `If-None-Match`).
//! Without `format=JSON` the index is an HTML page.

use http::{HeaderMap, Response, StatusCode};

use super::ExpectedOrigin;
use super::faults::Fault;
use super::instance::Instance;
use super::routes::{Call, matches};
use super::server::{Body, Dropped, empty, full, header_value};

/// The guard line before the JSON.
pub(crate) const XSSI_GUARD: &str = ")]}'\n";

const HOST: &str = "gitiles.example.org";

/// The name of the `k`-th repository (slashes in most).
fn name(k: u64) -> String {
    match k % 3 {
        0 => format!("platform/tools/repo-{k}"),
        1 => format!("platform/repo-{k}"),
        _ => format!("repo-{k}"),
    }
}

fn clone_url(name: &str) -> String {
    format!("https://{HOST}/{name}")
}

/// Every 4th repository has no description (Gitiles omits the empty one).
fn description(k: u64) -> Option<String> {
    (!k.is_multiple_of(4)).then(|| format!("Tools & <utilities> for repo {k}: «Überprüfung» ✓"))
}

/// The repository positions in the document's order (by name).
fn ordered(count: u64) -> Vec<(String, u64)> {
    let mut names: Vec<(String, u64)> = (1..=count).map(|k| (name(k), k)).collect();
    names.sort();
    names
}

/// What a correct lister lists, in the document's order.
pub(crate) fn origins(count: u64) -> Vec<ExpectedOrigin> {
    ordered(count)
        .into_iter()
        .map(|(name, _)| ExpectedOrigin {
            url: clone_url(&name),
            visit_type: "git".to_owned(),
            enabled: true,
            is_fork: None,
            last_update: None,
        })
        .collect()
}

/// A JSON string as Gson writes it by default (HTML-safe).
fn gson_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for c in serde_json::to_string(text)
        .expect("a string serializes")
        .chars()
    {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003d"),
            '\'' => out.push_str("\\u0027"),
            c => out.push(c),
        }
    }
    out
}

/// The guard line and the JSON document of `count` repositories.
pub(crate) fn render(count: u64) -> Vec<u8> {
    let mut out = String::from(XSSI_GUARD);
    out.push('{');
    for (at, (name, k)) in ordered(count).into_iter().enumerate() {
        if at > 0 {
            out.push(',');
        }
        let key = gson_string(&name);
        out.push_str(&format!("\n  {key}: {{\n    \"name\": {key},\n"));
        out.push_str(&format!(
            "    \"clone_url\": {}",
            gson_string(&clone_url(&name))
        ));
        if let Some(description) = description(k) {
            out.push_str(&format!(
                ",\n    \"description\": {}",
                gson_string(&description)
            ));
        }
        out.push_str("\n  }");
    }
    out.push_str("\n}\n");
    out.into_bytes()
}

/// The entity tag of the document (FNV-1a of its bytes).
fn etag(body: &[u8]) -> String {
    let hash = body.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("\"{hash:016x}\"")
}

/// Serves `GET /gitiles/`.
pub(crate) async fn index(call: Call<'_>) -> Result<Response<Body>, Dropped> {
    let json = call
        .param("format")
        .is_some_and(|format| format.eq_ignore_ascii_case("json"));
    if !json {
        return Ok(full(
            StatusCode::OK,
            "text/html; charset=utf-8",
            "<!DOCTYPE html><html><head><title>Gitiles</title></head>\
             <body><h1>gitiles.example.org Git repositories</h1></body></html>",
        ));
    }
    let body = render(call.state.count(Instance::Gitiles));
    let etag = etag(&body);
    let mut headers = HeaderMap::new();
    headers.insert(http::header::ETAG, header_value(&etag));
    if matches(call.headers, &etag) {
        let mut response = empty(StatusCode::NOT_MODIFIED);
        response.headers_mut().extend(headers);
        return Ok(response);
    }
    headers.insert(
        http::header::CONTENT_TYPE,
        header_value("application/json; charset=utf-8"),
    );
    Fault::deliver(call.fault.as_ref(), StatusCode::OK, headers, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_is_guarded_escaped_json() {
        let body = render(12);
        let text = std::str::from_utf8(&body).unwrap();
        let json = text.strip_prefix(XSSI_GUARD).unwrap();
        assert!(json.contains("\\u0026 \\u003cutilities\\u003e"));
        assert!(json.contains("«Überprüfung»"));
        let object: serde_json::Value = serde_json::from_str(json).unwrap();
        let entry = &object["platform/tools/repo-3"];
        assert_eq!(entry["name"], "platform/tools/repo-3");
        assert_eq!(
            entry["clone_url"],
            "https://gitiles.example.org/platform/tools/repo-3"
        );
        assert!(entry["description"].as_str().unwrap().contains("& <"));
        assert!(object["repo-8"].get("description").is_none());
        let urls: Vec<String> = origins(12).into_iter().map(|origin| origin.url).collect();
        assert_eq!(urls.len(), 12);
        assert!(urls.windows(2).all(|pair| pair[0] < pair[1]));
    }
}
