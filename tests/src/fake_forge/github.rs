//! GitHub's `GET /repositories?since=ID`: sparse ids in creation order, full "minimal
//! repository" items built from the fixture, and the `Link` header GitHub sends.

use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};
use std::ops::Range;
use std::sync::LazyLock;

use super::payload::{Template, base64, first_object, minify, push_number};

/// Repositories per page: GitHub ignores `per_page` on this endpoint.
pub(crate) const PAGE_SIZE: u64 = 100;

/// The id of the `k`-th repository (from 1): sparse and strictly increasing.
pub(crate) fn repository_id(k: u64) -> u64 {
    k * 3 + (k * 7919 % 3)
}

/// The web URL of the `k`-th repository.
pub(crate) fn html_url(k: u64) -> String {
    format!("https://github.com/user{}/repo-{k}", k % 997)
}

/// The positions (from 1) of the repositories with an id above `since`, a page of
/// `page_size` at most, out of `count`.
pub(crate) fn page_positions(since: u64, count: u64, page_size: u64) -> Range<u64> {
    if since / 3 > count {
        return count + 1..count + 1;
    }
    let mut first = (since / 3).saturating_sub(1).max(1);
    while first <= count && repository_id(first) <= since {
        first += 1;
    }
    first..(first + page_size).min(count + 1)
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Id,
    NodeId,
    Owner,
    Name,
    Fork,
}

static TEMPLATE: LazyLock<Template<Slot>> = LazyLock::new(|| {
    let fixture = minify(include_str!("../../fixtures/github_repositories_page.json"));
    let needles = [
        ("MDEwOlJlcG9zaXRvcnkxMjk2MjY5", Slot::NodeId),
        ("1296269", Slot::Id),
        ("octocat", Slot::Owner),
        ("Hello-World", Slot::Name),
        ("\"fork\":false", Slot::Fork),
    ];
    Template::split(first_object(&fixture), &needles)
});

fn render_item(out: &mut Vec<u8>, k: u64) {
    let id = repository_id(k);
    TEMPLATE.render(out, |slot, out| match slot {
        Slot::Id => push_number(out, id),
        Slot::NodeId => {
            out.extend_from_slice(base64(format!("010:Repository{id}").as_bytes()).as_bytes())
        }
        Slot::Owner => {
            out.extend_from_slice(b"user");
            push_number(out, k % 997);
        }
        Slot::Name => {
            out.extend_from_slice(b"repo-");
            push_number(out, k);
        }
        Slot::Fork => match k % 7 {
            0 => out.extend_from_slice(b"\"fork\":true"),
            _ => out.extend_from_slice(b"\"fork\":false"),
        },
    });
}

/// The JSON array of the repositories at `positions`, but the `removed` ones. With `junk`,
/// the page also holds a `null`, an item without `id` and its last item twice (all seen on
/// the real API).
pub(crate) fn render_page(
    positions: Range<u64>,
    junk: bool,
    minimal: bool,
    removed: &BTreeSet<u64>,
) -> Vec<u8> {
    if minimal {
        return render_minimal_page(positions, removed);
    }
    let mut out = Vec::with_capacity((positions.end - positions.start + 3) as usize * 4_400 + 2);
    out.push(b'[');
    if junk {
        out.extend_from_slice(b"null");
        if !positions.is_empty() {
            let mut item = Vec::new();
            render_item(&mut item, positions.start);
            let after_id = item.iter().position(|&b| b == b',').map_or(0, |at| at + 1);
            out.extend_from_slice(b",{");
            out.extend_from_slice(&item[after_id..]);
        }
    }
    for k in positions.clone().filter(|k| !removed.contains(k)) {
        if out.len() > 1 {
            out.push(b',');
        }
        render_item(&mut out, k);
    }
    if junk && !positions.is_empty() {
        out.push(b',');
        render_item(&mut out, positions.end - 1);
    }
    out.push(b']');
    out
}

/// The repositories at `positions` with only the fields a listing reads (`id`, `html_url`,
/// `fork`): the most repositories a page of a given size can hold.
fn render_minimal_page(positions: Range<u64>, removed: &BTreeSet<u64>) -> Vec<u8> {
    let mut out = Vec::with_capacity((positions.end - positions.start) as usize * 80 + 2);
    out.push(b'[');
    for k in positions.filter(|k| !removed.contains(k)) {
        if out.len() > 1 {
            out.push(b',');
        }
        let item = format!(
            "{{\"id\":{},\"html_url\":\"{}\",\"fork\":false}}",
            repository_id(k),
            html_url(k)
        );
        out.extend_from_slice(item.as_bytes());
    }
    out.push(b']');
    out
}

/// A weak ETag standing for the page's content (which its positions and the repositories
/// removed among them determine).
pub(crate) fn etag(positions: &Range<u64>, removed: &BTreeSet<u64>) -> String {
    let mut hasher = std::hash::DefaultHasher::new();
    ("github", positions.start, positions.end).hash(&mut hasher);
    removed
        .range(positions.clone())
        .for_each(|k| k.hash(&mut hasher));
    format!("W/\"{:016x}\"", hasher.finish())
}

/// The `Link` header: `next` (when given) and the `first` URI template, under `api`
/// (`http://127.0.0.1:PORT` or `…/api/v3`).
pub(crate) fn link(api: &str, next: Option<(&str, u64)>) -> String {
    let first = format!("<{api}/repositories{{?since}}>; rel=\"first\"");
    match next {
        Some((next_api, since)) => {
            format!("<{next_api}/repositories?since={since}>; rel=\"next\", {first}")
        }
        None => first,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_sparse_and_increasing() {
        let ids: Vec<u64> = (1..1000).map(repository_id).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
        assert!(ids.windows(2).any(|pair| pair[1] - pair[0] > 1));
    }

    #[test]
    fn positions_follow_since() {
        assert_eq!(page_positions(0, 250, PAGE_SIZE), 1..101);
        let last = repository_id(100);
        assert_eq!(page_positions(last, 250, PAGE_SIZE), 101..201);
        assert_eq!(page_positions(last - 1, 250, PAGE_SIZE).start, 100);
        assert_eq!(page_positions(repository_id(250), 250, PAGE_SIZE), 251..251);
        assert!(page_positions(u64::MAX, 250, PAGE_SIZE).is_empty());
    }

    #[test]
    fn items_are_full_json() {
        let page = render_page(1..8, true, false, &BTreeSet::new());
        let items: Vec<serde_json::Value> = serde_json::from_slice(&page).unwrap();
        assert_eq!(items.len(), 7 + 3);
        assert!(items[0].is_null());
        assert!(items[1].get("id").is_none());
        assert_eq!(items[2]["id"], repository_id(1));
        assert_eq!(items[2]["full_name"], "user1/repo-1");
        assert_eq!(items[2]["html_url"], html_url(1));
        assert_eq!(items[2]["owner"]["login"], "user1");
        assert_eq!(items[8]["fork"], true);
        assert_eq!(items[9]["html_url"], items[8]["html_url"]);
        let size = serde_json::to_string(&items[2]).unwrap().len();
        assert!((3_000..5_000).contains(&size), "{size}");
    }

    #[test]
    fn minimal_pages_hold_only_what_a_listing_reads() {
        let page: serde_json::Value =
            serde_json::from_slice(&render_page(1..4, false, true, &BTreeSet::new())).unwrap();
        let items = page.as_array().unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0]["id"], repository_id(1));
        assert_eq!(items[2]["html_url"], html_url(3));
        assert_eq!(items[0].as_object().unwrap().len(), 3);
    }
}
