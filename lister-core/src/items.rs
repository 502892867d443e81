//! Reading a page's items one by one: a malformed item is rejected and counted with its JSON
//! path, and the rest of the page stands.
//!
//! A page is parsed once, all its items together, which is the fast path every well-formed
//! page takes. Only when that fails is it read again, item by item: each item's text is cut
//! out (as a borrowed [`RawValue`]) and parsed on its own.
//!
//! The items of an object may receive their keys ([`Forge::ITEM_KEY`](crate::Forge::ITEM_KEY)):
//! each value is then deserialized as if its key were one more field of it ([`WithKey`]),
//! without copying the value.

use std::borrow::Cow;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::parse_error::ParseError;

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
    match seed_at_pointer(text, pointer, Plain::<T>(PhantomData))? {
        Some(value) => Ok(value),
        None => T::deserialize(serde_json::Value::Null),
    }
}

/// Deserializes the value at `pointer` in `text` with `seed`; `None` when it is not there.
fn seed_at_pointer<'de, S: DeserializeSeed<'de>>(
    text: &'de str,
    pointer: &str,
    seed: S,
) -> Result<Option<S::Value>, serde_json::Error> {
    let path = segments(pointer);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let found = AtPath { path: &path, seed }.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(found)
}

/// What becomes of the keys of an object of items.
#[derive(Debug, Clone, Copy)]
enum Keys {
    /// Dropped (Gitiles maps each repository's name to its description; the names are in the
    /// items too).
    Drop,
    /// Kept beside each item, to be presented to it later.
    Keep,
    /// Presented to each item as one more field, of this name.
    Field(&'static str),
}

/// An item, with its key when it was an object's value and [`Keys::Keep`] kept it.
type Entry<'de, T> = (Option<Cow<'de, str>>, T);

/// A key, borrowed from the page when its text has no escapes (`Cow`'s own `Deserialize`
/// always copies).
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyText)
    }
}

struct KeyText;

impl<'de> Visitor<'de> for KeyText {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a key")
    }

    fn visit_borrowed_str<E>(self, key: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(key)))
    }

    fn visit_str<E>(self, key: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(key.to_owned())))
    }
}

/// Reads the items of a page: a JSON array, or an object whose values are the items; `null`
/// is no items.
struct ListSeed<T> {
    keys: Keys,
    item: PhantomData<T>,
}

impl<T> ListSeed<T> {
    fn new(keys: Keys) -> Self {
        ListSeed {
            keys,
            item: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for ListSeed<T> {
    type Value = Vec<Entry<'de, T>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T: Deserialize<'de>> Visitor<'de> for ListSeed<T> {
    type Value = Vec<Entry<'de, T>>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a list of items (an array, or an object of them)")
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Vec::new())
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element()? {
            items.push((None, item));
        }
        Ok(items)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Key(key)) = map.next_key()? {
            items.push(match self.keys {
                Keys::Drop => (None, map.next_value()?),
                Keys::Keep => (Some(key), map.next_value()?),
                Keys::Field(field) => (None, map.next_value_seed(KeyedSeed::new(field, key))?),
            });
        }
        Ok(items)
    }
}

/// Deserializes a `T` from an object entry's value, its key presented as the field `field`.
struct KeyedSeed<'de, T> {
    field: &'static str,
    key: Cow<'de, str>,
    item: PhantomData<T>,
}

impl<'de, T> KeyedSeed<'de, T> {
    fn new(field: &'static str, key: Cow<'de, str>) -> Self {
        KeyedSeed {
            field,
            key,
            item: PhantomData,
        }
    }
}

impl<'de, T: Deserialize<'de>> DeserializeSeed<'de> for KeyedSeed<'de, T> {
    type Value = T;

    fn deserialize<D: Deserializer<'de>>(self, inner: D) -> Result<T, D::Error> {
        T::deserialize(WithKey {
            field: self.field,
            key: self.key,
            inner,
        })
    }
}

/// A deserializer of an object that presents `key` as its first field, named `field`, before
/// the object's own fields (a chained [`MapAccess`]): how an object's items receive their keys
/// ([`Forge::ITEM_KEY`](crate::Forge::ITEM_KEY)). The key borrows from the page when the
/// page's text of it has no escapes. `null` reads as `None` for an `Option`; anything else
/// that is not an object is an error of the item.
pub(crate) struct WithKey<'de, D> {
    field: &'static str,
    key: Cow<'de, str>,
    inner: D,
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for WithKey<'de, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let (field, key) = (self.field, self.key);
        self.inner.deserialize_map(KeyedVisitor {
            field,
            key,
            visitor,
        })
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        let (field, key) = (self.field, self.key);
        self.inner.deserialize_option(KeyedOption {
            field,
            key,
            visitor,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

/// Hands an object's entries to `visitor` after the key's field.
struct KeyedVisitor<'de, V> {
    field: &'static str,
    key: Cow<'de, str>,
    visitor: V,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for KeyedVisitor<'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, rest: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(Chained {
            first: Some((self.field, self.key)),
            value: None,
            rest,
        })
    }
}

/// `None` for `null`; else the value with its key.
struct KeyedOption<'de, V> {
    field: &'static str,
    key: Cow<'de, str>,
    visitor: V,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for KeyedOption<'de, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.visitor.expecting(f)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<V::Value, E> {
        self.visitor.visit_none()
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<V::Value, E> {
        self.visitor.visit_none()
    }

    fn visit_some<D: Deserializer<'de>>(self, inner: D) -> Result<V::Value, D::Error> {
        let (field, key) = (self.field, self.key);
        self.visitor.visit_some(WithKey { field, key, inner })
    }
}

/// The key's field, then the object's own entries.
struct Chained<'de, A> {
    first: Option<(&'static str, Cow<'de, str>)>,
    value: Option<Cow<'de, str>>,
    rest: A,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Chained<'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        match self.first.take() {
            Some((field, key)) => {
                self.value = Some(key);
                seed.deserialize(BorrowedStrDeserializer::new(field))
                    .map(Some)
            }
            None => self.rest.next_key_seed(seed),
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        match self.value.take() {
            Some(Cow::Borrowed(key)) => seed.deserialize(BorrowedStrDeserializer::new(key)),
            Some(Cow::Owned(key)) => seed.deserialize(StringDeserializer::new(key)),
            None => self.rest.next_value_seed(seed),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        let first = usize::from(self.first.is_some());
        self.rest.size_hint().map(|rest| rest + first)
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
/// are skipped. With a `key_field`, the items of an object receive their keys as that field
/// (see [`WithKey`]). Returns the items that did not parse; fails only when the page itself
/// does not hold a list of items there. With `lossy`, the text was not UTF-8 and its bad bytes
/// were replaced: an item holding a replacement character is rejected.
pub(crate) fn each_item<'t, T: Deserialize<'t>>(
    text: &'t str,
    pointer: &str,
    key_field: &'static str,
    lossy: bool,
    mut take: impl FnMut(T),
) -> Result<Vec<RejectedItem>, ParseError> {
    let field = (!key_field.is_empty()).then_some(key_field);
    let keys = field.map_or(Keys::Drop, Keys::Field);
    if !lossy && let Ok(items) = seed_at_pointer(text, pointer, ListSeed::<Option<T>>::new(keys)) {
        items
            .into_iter()
            .flatten()
            .filter_map(|e| e.1)
            .for_each(take);
        return Ok(Vec::new());
    }
    let keys = field.map_or(Keys::Drop, |_| Keys::Keep);
    let raw = seed_at_pointer(text, pointer, ListSeed::<&'t RawValue>::new(keys));
    let raw = raw.map_err(|err| ParseError {
        path: pointer_or_root(pointer),
        message: err.to_string(),
    })?;
    let mut rejected = Vec::new();
    for (position, (key, item)) in raw.into_iter().flatten().enumerate() {
        let reject = |at: String, message: String| RejectedItem {
            path: format!("{pointer}[{position}]{at}"),
            message,
        };
        if lossy && item.get().contains(char::REPLACEMENT_CHARACTER) {
            rejected.push(reject(String::new(), "bytes that are not UTF-8".into()));
            continue;
        }
        let mut deserializer = serde_json::Deserializer::from_str(item.get());
        let parsed = match (field, key) {
            (Some(field), Some(key)) => serde_path_to_error::deserialize::<_, Option<T>>(WithKey {
                field,
                key,
                inner: &mut deserializer,
            }),
            _ => serde_path_to_error::deserialize::<_, Option<T>>(&mut deserializer),
        };
        match parsed {
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
        let rejected =
            each_item(text, pointer, "", lossy, |repo: Repo<'_>| ids.push(repo.id)).unwrap();
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

    /// An item whose path is its key in an object of items (grokmirror's manifest).
    #[derive(Deserialize, Debug, PartialEq)]
    struct Keyed<'a> {
        #[serde(borrow)]
        path: Cow<'a, str>,
        modified: Option<u64>,
    }

    /// A keyed item's path, whether it borrows from the page, and its date.
    type KeyedFacts = (String, bool, Option<u64>);

    fn keyed(text: &str, lossy: bool) -> (Vec<KeyedFacts>, Vec<RejectedItem>) {
        let mut items = Vec::new();
        let rejected = each_item(text, "", "path", lossy, |item: Keyed<'_>| {
            let borrowed = matches!(item.path, Cow::Borrowed(_));
            items.push((item.path.into_owned(), borrowed, item.modified));
        })
        .unwrap();
        (items, rejected)
    }

    #[test]
    fn the_items_of_an_object_receive_their_keys() {
        let page = r#"{"/pub/a.git": {"modified": 7, "symlinks": ["/b.git"]},
            "/pub/\u00e9.git": {}, "/none.git": null}"#;
        let (items, rejected) = keyed(page, false);
        assert!(rejected.is_empty(), "{rejected:?}");
        assert_eq!(
            items,
            [
                ("/pub/a.git".to_owned(), true, Some(7)),
                ("/pub/é.git".to_owned(), false, None)
            ],
            "borrowed when the key has no escapes; a null item is skipped"
        );
        // An array's items have no key: they are read as they are.
        let (items, _) = keyed(r#"[{"path": "/c.git"}]"#, false);
        assert_eq!(items, [("/c.git".to_owned(), true, None)]);
    }

    #[test]
    fn a_malformed_keyed_item_is_rejected_and_the_rest_keep_their_keys() {
        let page = r#"{"/a.git": {"modified": 1}, "/b.git": {"modified": "yesterday"},
            "/c.git": "not an object", "/d.git": {"path": "/twice.git"}, "/e.git": {"modified": 5}}"#;
        let (items, rejected) = keyed(page, false);
        let paths: Vec<&str> = items.iter().map(|item| item.0.as_str()).collect();
        assert_eq!(paths, ["/a.git", "/e.git"]);
        assert_eq!(items[1].2, Some(5));
        let at: Vec<&str> = rejected.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(at, ["[1].modified", "[2]", "[3]"]);
        assert!(
            rejected[2].message.contains("duplicate field"),
            "{rejected:?}"
        );
        // Lossy text: the item with a bad byte is rejected, the others keep their keys.
        let body =
            b"{\"/x.git\": {\"modified\": 1, \"d\": \"\xff\"}, \"/y.git\": {\"modified\": 2}}";
        let text = String::from_utf8_lossy(body);
        let (items, rejected) = keyed(&text, true);
        assert_eq!(items, [("/y.git".to_owned(), true, Some(2))]);
        assert_eq!(rejected[0].path, "[0]");
    }

    #[test]
    fn a_page_that_is_no_list_of_items_fails() {
        let mut ignore = |_: Repo<'_>| {};
        let error = each_item(r#"{"data": 5}"#, "/data", "", false, &mut ignore).unwrap_err();
        assert_eq!(error.path, "/data");
        assert!(each_item(r#"[{"id": 1, "name": "a"}"#, "", "", false, &mut ignore).is_err());
        assert!(each_item("<html>", "", "", false, &mut ignore).is_err());
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
