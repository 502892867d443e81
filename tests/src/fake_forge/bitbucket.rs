//! Bitbucket Cloud's `GET /2.0/repositories?pagelen=N&after=ISO8601`: repositories in
//! creation order (distinct, strictly increasing `created_on`), and an opaque `next` cursor.

use std::io::Write as _;
use std::ops::Range;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};

use super::payload::{Template, first_object, minify, push_number};

/// The page length when the request names none.
pub(crate) const DEFAULT_PAGELEN: u64 = 10;
/// The largest page length served (larger requests are clamped).
pub(crate) const MAX_PAGELEN: u64 = 100;

/// 2008-07-01T00:00:00Z, in microseconds: the first repository comes 37 s later.
const START_MICROS: i64 = 1_214_870_400_000_000;

/// When the `k`-th repository (from 1) was created, in microseconds since the epoch.
pub(crate) fn created_micros(k: u64) -> i64 {
    START_MICROS + k as i64 * 37_000_000 + (k * 7919 % 1_000_000) as i64
}

/// The `full_name` of the `k`-th repository.
pub(crate) fn full_name(k: u64) -> String {
    format!("team{}/repo-{k}", k % 499)
}

/// Parses an `after` parameter into microseconds since the epoch.
pub(crate) fn parse_after(after: &str) -> Option<i64> {
    DateTime::parse_from_rfc3339(after)
        .ok()
        .map(|at| at.timestamp_micros())
}

/// The positions (from 1) of the page starting at the first repository created at or
/// after `after`, out of `count`.
pub(crate) fn page_positions(after: Option<i64>, pagelen: u64, count: u64) -> Range<u64> {
    let (mut low, mut high) = (1, count + 1);
    if let Some(after) = after {
        while low < high {
            let mid = low + (high - low) / 2;
            if created_micros(mid) >= after {
                high = mid
            } else {
                low = mid + 1
            }
        }
    }
    low..(low + pagelen).min(count + 1)
}

/// The `after` cursor of the page following `positions`: a millisecond after the last
/// item's creation, in another ISO-8601 form (`Z`, milliseconds) than the items use.
pub(crate) fn cursor_after(positions: &Range<u64>) -> String {
    let micros = created_micros(positions.end - 1) + 1_000;
    let at = DateTime::<Utc>::from_timestamp_micros(micros - micros % 1_000).unwrap_or_default();
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Owner,
    Slug,
    Uuid,
    Scm,
    Private,
    Created,
    Updated,
}

static TEMPLATE: LazyLock<Template<Slot>> = LazyLock::new(|| {
    let fixture = minify(include_str!(
        "../../fixtures/bitbucket_repositories_page.json"
    ));
    let values = &fixture[fixture.find("\"values\":").expect("fixture has values")..];
    let needles = [
        ("opensymphony", Slot::Owner),
        ("xwork", Slot::Slug),
        ("0f3c8a52-7d1e-4b6a-9c2f-1a2b3c4d5e6f", Slot::Uuid),
        ("\"scm\":\"git\"", Slot::Scm),
        ("\"is_private\":false", Slot::Private),
        ("2011-06-06T03:40:09.505792+00:00", Slot::Created),
        ("2014-11-16T23:19:16.674082+00:00", Slot::Updated),
    ];
    Template::split(first_object(values), &needles)
});

fn push_date(out: &mut Vec<u8>, micros: i64) {
    let at = DateTime::<Utc>::from_timestamp_micros(micros).unwrap_or_default();
    let _ = write!(out, "{}", at.format("%Y-%m-%dT%H:%M:%S%.6f+00:00"));
}

fn push_uuid(out: &mut Vec<u8>, k: u64) {
    let a = k.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let _ = write!(
        out,
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (a >> 40) & 0xfff,
        k & 0xffff_ffff_ffff
    );
}

fn render_value(out: &mut Vec<u8>, k: u64) {
    TEMPLATE.render(out, |slot, out| match slot {
        Slot::Owner => {
            out.extend_from_slice(b"team");
            push_number(out, k % 499);
        }
        Slot::Slug => {
            out.extend_from_slice(b"repo-");
            push_number(out, k);
        }
        Slot::Uuid => push_uuid(out, k),
        Slot::Scm if k.is_multiple_of(11) => out.extend_from_slice(b"\"scm\":\"hg\""),
        Slot::Scm => out.extend_from_slice(b"\"scm\":\"git\""),
        Slot::Private if k.is_multiple_of(13) => out.extend_from_slice(b"\"is_private\":true"),
        Slot::Private => out.extend_from_slice(b"\"is_private\":false"),
        Slot::Created => push_date(out, created_micros(k)),
        Slot::Updated => push_date(
            out,
            created_micros(k) + (k % 500 + 1) as i64 * 86_400_000_000,
        ),
    });
}

/// The page body. With `junk`, the values also hold one without `links` and a duplicate
/// of the last one.
pub(crate) fn render_page(
    positions: Range<u64>,
    pagelen: u64,
    next: Option<&str>,
    junk: bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity((positions.end - positions.start + 2) as usize * 5_000 + 256);
    out.extend_from_slice(b"{\"pagelen\":");
    push_number(&mut out, pagelen);
    out.extend_from_slice(b",\"values\":[");
    for k in positions.clone() {
        if k > positions.start {
            out.push(b',');
        }
        render_value(&mut out, k);
    }
    if junk && !positions.is_empty() {
        let k = positions.end - 1;
        out.extend_from_slice(
            b",{\"type\":\"repository\",\"full_name\":\"junk/no-links\",\"name\":\"no-links\",",
        );
        out.extend_from_slice(
            b"\"slug\":\"no-links\",\"scm\":\"git\",\"is_private\":false,\"created_on\":\"",
        );
        push_date(&mut out, created_micros(k));
        out.extend_from_slice(b"\"},");
        render_value(&mut out, k);
    }
    out.push(b']');
    if let Some(next) = next {
        out.extend_from_slice(b",\"next\":\"");
        out.extend_from_slice(next.as_bytes());
        out.push(b'"');
    }
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_after() {
        assert_eq!(page_positions(None, 10, 25), 1..11);
        let cursor = cursor_after(&(1..11));
        assert!(cursor.ends_with('Z'), "{cursor}");
        assert_eq!(page_positions(parse_after(&cursor), 10, 25), 11..21);
        assert_eq!(page_positions(Some(created_micros(11)), 10, 25), 11..21);
        assert_eq!(page_positions(Some(created_micros(11) + 1), 10, 25), 12..22);
        assert_eq!(page_positions(Some(i64::MAX), 10, 25), 26..26);
    }

    #[test]
    fn values_are_full_json() {
        let page = render_page(9..14, 5, Some("http://x/next"), true);
        let body: serde_json::Value = serde_json::from_slice(&page).unwrap();
        let values = body["values"].as_array().unwrap();
        assert_eq!(values.len(), 5 + 2);
        assert_eq!(values[0]["full_name"], full_name(9));
        assert_eq!(
            values[0]["links"]["clone"][1]["href"],
            "git@bitbucket.org:team9/repo-9.git"
        );
        assert_eq!(values[2]["scm"], "hg");
        assert_eq!(values[4]["is_private"], true);
        assert!(values[5].get("links").is_none());
        assert_eq!(values[6], values[4]);
        assert_eq!(body["next"], "http://x/next");
        let created: Vec<&str> = values[..5]
            .iter()
            .map(|v| v["created_on"].as_str().unwrap())
            .collect();
        assert!(
            created
                .windows(2)
                .all(|pair| parse_after(pair[0]) < parse_after(pair[1]))
        );
    }
}
