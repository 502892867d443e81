//! Reading a page's items one by one: a malformed item is rejected and counted with its JSON
//! path, and the rest of the page stands.
//!
//! A page is parsed once, all its items together, which is the fast path every well-formed
//! page takes. Only when that fails is it read again, item by item: each item's text is cut
//! out (as a borrowed [`RawValue`]) and parsed on its own.

use std::borrow::Cow;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::page::ParseError;

/// A JSON pointer's segments (`/result/data` → `result`, `data`).
pub(crate) fn segments(pointer: &str) -> Vec<&str> {
    pointer.split('/').filter(|part| !part.is_empty()).collect()
}

/// Deserializes the value at a path of object keys with `seed`, skipping everything else
/// without building it; `None` when the path is not in the document.
pub(crate) struct AtPath<'p, S> {
    pub(crate) path: &'p [&'p str],
    pub(crate) seed: S,
}

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for AtPath<'_, S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        match self.path.split_first() {
            None => self.seed.deserialize(deserializer).map(Some),
            Some((key, rest)) => deserializer.deserialize_any(KeyVisitor {
                key,
                rest,
                seed: Some(self.seed),
            }),
        }
    }
}

struct KeyVisitor<'p, S> {
    key: &'p str,
    rest: &'p [&'p str],
    seed: Option<S>,
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for KeyVisitor<'_, S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an object with `{}`", self.key)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match self.seed.take() {
                Some(seed) if key == self.key => {
                    let path = self.rest;
                    found = map.next_value_seed(AtPath { path, seed })?;
                }
                seed => {
                    self.seed = seed;
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }
}

/// The seed of a plain `Deserialize` type.
pub(crate) struct Plain<T>(pub(crate) PhantomData<T>);

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for Plain<T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<T, D::Error> {
        T::deserialize(deserializer)
    }
}

/// Deserializes the value at `pointer` in `text`; a missing value reads as JSON `null`.
pub(crate) fn at_pointer<'de, T: Deserialize<'de>>(
    text: &'de str,
    pointer: &str,
) -> Result<T, serde_json::Error> {
    let path = segments(pointer);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let seed = AtPath {
        path: &path,
        seed: Plain::<T>(PhantomData),
    };
    let found = seed.deserialize(&mut deserializer)?;
    deserializer.end()?;
    match found {
        Some(value) => Ok(value),
        None => T::deserialize(serde_json::Value::Null),
    }
}

/// The items of a page: a JSON array, or an object whose values are the items (Gitiles maps
/// each repository's name to its description; the names are in the items too).
struct List<T>(Vec<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ListVisitor(PhantomData))
    }
}

struct ListVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ListVisitor<T> {
    type Value = List<T>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of items (an array, or an object of them)")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<List<T>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<List<T>, A::Error> {
        let mut items = Vec::new();
        while let Some((_, item)) = map.next_entry::<IgnoredAny, T>()? {
            items.push(item);
        }
        Ok(List(items))
    }
}

/// How many items a list holds (an array, or an object of items), and the last one's text,
/// without building any of them: [`PageResponse::items_tally`](crate::PageResponse::items_tally).
pub(crate) struct Tally<'a> {
    pub(crate) count: u64,
    pub(crate) last: Option<&'a RawValue>,
}

impl<'de> Deserialize<'de> for Tally<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TallyVisitor)
    }
}

struct TallyVisitor;

impl<'de> Visitor<'de> for TallyVisitor {
    type Value = Tally<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of items (an array, or an object of them)")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Tally<'de>, A::Error> {
        let mut tally = Tally {
            count: 0,
            last: None,
        };
        while let Some(item) = seq.next_element::<&'de RawValue>()? {
            tally.count += 1;
            tally.last = Some(item);
        }
        Ok(tally)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tally<'de>, A::Error> {
        let mut tally = Tally {
            count: 0,
            last: None,
        };
        while let Some((_, item)) = map.next_entry::<IgnoredAny, &'de RawValue>()? {
            tally.count += 1;
            tally.last = Some(item);
        }
        Ok(tally)
    }
}

/// An item the page held but that did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedItem {
    /// Its JSON path in the page (`/data[3].fork`).
    pub path: String,
    /// What was wrong.
    pub message: String,
}

/// Parses the items at `pointer` in `text` and hands each to `take`, in order; `null` items
/// are skipped. Returns the items that did not parse; fails only when the page itself does not
/// hold a list of items there. With `lossy`, the text was not UTF-8 and its bad bytes were
/// replaced: an item holding a replacement character is rejected.
pub(crate) fn each_item<'t, T: Deserialize<'t>>(
    text: &'t str,
    pointer: &str,
    lossy: bool,
    mut take: impl FnMut(T),
) -> Result<Vec<RejectedItem>, ParseError> {
    if !lossy && let Ok(items) = at_pointer::<Option<List<Option<T>>>>(text, pointer) {
        items
            .into_iter()
            .flat_map(|list| list.0)
            .flatten()
            .for_each(take);
        return Ok(Vec::new());
    }
    let raw: Option<List<&'t RawValue>> = at_pointer(text, pointer).map_err(|err| ParseError {
        path: pointer_or_root(pointer),
        message: err.to_string(),
    })?;
    let mut rejected = Vec::new();
    for (position, item) in raw.into_iter().flat_map(|list| list.0).enumerate() {
        let reject = |at: String, message: String| RejectedItem {
            path: format!("{pointer}[{position}]{at}"),
            message,
        };
        if lossy && item.get().contains(char::REPLACEMENT_CHARACTER) {
            rejected.push(reject(String::new(), "bytes that are not UTF-8".into()));
            continue;
        }
        let mut deserializer = serde_json::Deserializer::from_str(item.get());
        match serde_path_to_error::deserialize::<_, Option<T>>(&mut deserializer) {
            Ok(Some(item)) => take(item),
            Ok(None) => {}
            Err(err) => {
                let at = err.path().to_string();
                let at = if at == "." {
                    String::new()
                } else {
                    format!(".{at}")
                };
                rejected.push(reject(at, err.into_inner().to_string()));
            }
        }
    }
    Ok(rejected)
}

fn pointer_or_root(pointer: &str) -> String {
    if pointer.is_empty() {
        ".".into()
    } else {
        pointer.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Debug, PartialEq)]
    struct Repo<'a> {
        id: u64,
        #[serde(borrow)]
        name: Cow<'a, str>,
    }

    fn parse(text: &str, pointer: &str, lossy: bool) -> (Vec<u64>, Vec<RejectedItem>) {
        let mut ids = Vec::new();
        let rejected = each_item(text, pointer, lossy, |repo: Repo<'_>| ids.push(repo.id)).unwrap();
        (ids, rejected)
    }

    #[test]
    fn a_well_formed_page_yields_every_item() {
        let page = r#"{"ok": true, "data": [{"id": 1, "name": "a"}, null, {"id": 2, "name": "b", "x": [1]}]}"#;
        assert_eq!(parse(page, "/data", false), (vec![1, 2], vec![]));
        assert_eq!(
            parse(r#"[{"id": 3, "name": "c"}]"#, "", false),
            (vec![3], vec![])
        );
        assert_eq!(parse(r#"{"ok": true}"#, "/data", false), (vec![], vec![]));
    }

    #[test]
    fn a_malformed_item_is_rejected_with_its_path_and_the_rest_stands() {
        let page = r#"{"result": {"data": [{"id": 1, "name": "a"}, {"id": -4, "name": "b"},
            {"id": 3, "name": 7}, {"id": 1e3, "name": "d"}, "text", {"id": 5, "name": "e"}]}}"#;
        let (ids, rejected) = parse(page, "/result/data", false);
        assert_eq!(ids, [1, 5]);
        let paths: Vec<&str> = rejected.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "/result/data[1].id",
                "/result/data[2].name",
                "/result/data[3].id",
                "/result/data[4]"
            ]
        );
    }

    #[test]
    fn an_object_of_items_is_a_list_too() {
        let page = r#"{"b/c": {"id": 2, "name": "b/c"}, "a": {"id": 1, "name": "a"}, "x": null}"#;
        assert_eq!(parse(page, "", false), (vec![2, 1], vec![]));
        let bad = r#"{"a": {"id": 1, "name": "a"}, "b": {"id": "two", "name": "b"}}"#;
        let (ids, rejected) = parse(bad, "", false);
        assert_eq!((ids, rejected[0].path.as_str()), (vec![1], "[1].id"));
    }

    #[test]
    fn a_page_that_is_no_list_of_items_fails() {
        let mut ignore = |_: Repo<'_>| {};
        let error = each_item(r#"{"data": 5}"#, "/data", false, &mut ignore).unwrap_err();
        assert_eq!(error.path, "/data");
        assert!(each_item(r#"[{"id": 1, "name": "a"}"#, "", false, &mut ignore).is_err());
        assert!(each_item("<html>", "", false, &mut ignore).is_err());
    }

    #[test]
    fn bytes_that_are_not_utf8_reject_their_item_only() {
        let body = b"[{\"id\": 1, \"name\": \"a\xff\"}, {\"id\": 2, \"name\": \"b\"}]";
        let text = String::from_utf8_lossy(body);
        let (ids, rejected) = parse(&text, "", true);
        assert_eq!(ids, [2]);
        assert_eq!(rejected[0].path, "[0]");
    }

    #[test]
    fn a_tally_counts_items_and_keeps_the_last_one_unparsed() {
        let page = r#"{"data": [{"id": 1}, null, {"id": 3, "more": true}], "map": {"a": 1, "b": {"x": 2}}}"#;
        let tally: Tally<'_> = at_pointer(page, "/data").unwrap();
        assert_eq!(
            (tally.count, tally.last.unwrap().get()),
            (3, r#"{"id": 3, "more": true}"#)
        );
        let tally: Tally<'_> = at_pointer(page, "/map").unwrap();
        assert_eq!((tally.count, tally.last.unwrap().get()), (2, r#"{"x": 2}"#));
        let tally: Option<Tally<'_>> = at_pointer(page, "/none").unwrap();
        assert!(tally.is_none());
        assert!(at_pointer::<Tally<'_>>(r#"{"data": 5}"#, "/data").is_err());
    }

    #[test]
    fn values_at_pointers() {
        let page = r#"{"result": {"cursor": {"after": "12", "x": {}}, "data": []}}"#;
        assert_eq!(
            at_pointer::<Option<&str>>(page, "/result/cursor/after").unwrap(),
            Some("12")
        );
        assert_eq!(
            at_pointer::<Option<&str>>(page, "/result/cursor/before").unwrap(),
            None
        );
        assert!(at_pointer::<bool>(page, "/result/more").is_err());
    }
}
