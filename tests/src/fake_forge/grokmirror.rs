//! A grokmirror manifest, `GET /grokmirror/manifest.js.gz`: the whole mirror in one gzip
//! file, a JSON object from each repository's path to its facts (`description`,
//! `fingerprint`, `forkgroup`, `head`, `modified`, `owner`, `reference`, `symlinks`), as
//! grok-manifest writes it, with `Last-Modified` (the newest `modified`) and `304` to an
//! `If-Modified-Since` that is not older.

use std::io::Write;

use http::{HeaderMap, Response, StatusCode};

use super::ExpectedOrigin;
use super::faults::Fault;
use super::instance::Instance;
use super::routes::Call;
use super::server::{Body, Dropped, empty, header_value};

/// The `modified` of the first repository (2023-11-14); each next one is a minute later.
const EPOCH: i64 = 1_700_000_000;

/// The path of the `k`-th repository.
fn path(k: u64) -> String {
    match k % 3 {
        0 => format!("/pub/scm/linux/kernel/git/dev{}/linux-{k}.git", k % 7),
        1 => format!("/pub/scm/utils/tool-{k}/tool-{k}.git"),
        _ => format!("/pub/scm/docs/doc-{k}.git"),
    }
}

fn modified(k: u64) -> i64 {
    EPOCH + 60 * k as i64
}

/// Every 5th repository shares objects with the first: a fork.
fn reference(k: u64) -> Option<String> {
    (k > 1 && k.is_multiple_of(5)).then(|| path(1))
}

/// Every 4th repository has an older path left as a symlink, every 8th two.
fn symlinks(k: u64) -> Vec<String> {
    let links = if k.is_multiple_of(8) {
        2
    } else {
        usize::from(k.is_multiple_of(4))
    };
    (0..links)
        .map(|n| format!("/pub/scm/legacy/{n}/repo-{k}.git"))
        .collect()
}

/// What a correct lister lists: each path, then its symlinks, under the mirror's address.
pub(crate) fn origins(count: u64, site: &str) -> Vec<ExpectedOrigin> {
    let origin = |k: u64, path: String| ExpectedOrigin {
        url: format!("{}{path}", site.trim_end_matches('/')),
        visit_type: "git".to_owned(),
        enabled: true,
        is_fork: reference(k).map(|_| true),
        last_update: chrono::DateTime::from_timestamp(modified(k), 0).map(|t| t.to_rfc3339()),
    };
    (1..=count)
        .flat_map(|k| {
            std::iter::once(path(k))
                .chain(symlinks(k))
                .map(move |p| (k, p))
        })
        .map(|(k, path)| origin(k, path))
        .collect()
}

/// The manifest of `count` repositories, as JSON.
pub(crate) fn render(count: u64) -> Vec<u8> {
    let manifest: serde_json::Map<String, serde_json::Value> = (1..=count)
        .map(|k| {
            let facts = serde_json::json!({
                "description": format!("Tree {k} «ü» <maintained>"),
                "fingerprint": format!("{:040x}", u128::from(k) * 0x9e37_79b9_7f4a_7c15),
                "forkgroup": reference(k).map(|_| "0b3f5c2e-1d4a-4e8b-9c7f-2a6d8e0f1b3c"),
                "head": "ref: refs/heads/master",
                "modified": modified(k),
                "owner": (k % 6 != 0).then(|| format!("Maintainer {k}")),
                "reference": reference(k),
                "symlinks": symlinks(k),
            });
            (path(k), facts)
        })
        .collect();
    serde_json::to_vec(&manifest).expect("a manifest serializes")
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).expect("gzip to memory");
    encoder.finish().expect("gzip to memory")
}

/// Serves `GET /grokmirror/manifest.js.gz`.
pub(crate) async fn manifest(call: Call<'_>) -> Result<Response<Body>, Dropped> {
    let count = call.state.count(Instance::Grokmirror);
    let newest = std::time::UNIX_EPOCH + std::time::Duration::from_secs(modified(count) as u64);
    let last_modified = httpdate::fmt_http_date(newest);
    let mut headers = HeaderMap::new();
    headers.insert(http::header::LAST_MODIFIED, header_value(&last_modified));
    let since = call
        .headers
        .get(http::header::IF_MODIFIED_SINCE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| httpdate::parse_http_date(value).ok());
    if since.is_some_and(|since| since >= newest) {
        let mut response = empty(StatusCode::NOT_MODIFIED);
        response.headers_mut().extend(headers);
        return Ok(response);
    }
    headers.insert(http::header::CONTENT_TYPE, header_value("application/gzip"));
    let body = gzip(&render(count));
    Fault::deliver(call.fault.as_ref(), StatusCode::OK, headers, body).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_is_gzipped_json_keyed_by_path() {
        let gzipped = gzip(&render(16));
        assert_eq!(&gzipped[..2], &[0x1f, 0x8b]);
        let mut json = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzipped[..]), &mut json)
            .unwrap();
        let manifest: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let fork = &manifest[path(10)];
        assert_eq!(fork["reference"], path(1));
        assert_eq!(fork["modified"], EPOCH + 600);
        assert_eq!(manifest[path(8)]["symlinks"].as_array().unwrap().len(), 2);
        assert!(manifest[path(3)]["reference"].is_null());
        let expected = origins(16, "http://127.0.0.1:1/grokmirror/");
        assert_eq!(expected.len(), 16 + 4 + 2, "paths, then every symlink");
        assert_eq!(
            expected[0].url,
            "http://127.0.0.1:1/grokmirror/pub/scm/utils/tool-1/tool-1.git"
        );
    }
}
