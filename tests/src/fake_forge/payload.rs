//! Payload templates: a fixture item is split once into literal text and slots, so that a
//! page is built by concatenation, never through serde.

/// One item of a fixture, cut into literal text and the places where a repository's own
/// values go.
#[derive(Debug)]
pub(crate) struct Template<S> {
    parts: Vec<Part<S>>,
}

#[derive(Debug)]
enum Part<S> {
    Text(Box<[u8]>),
    Slot(S),
}

impl<S: Copy> Template<S> {
    /// Splits `text` at every occurrence of each needle (the earliest match wins, then the
    /// longest), the needle becoming its slot.
    pub(crate) fn split(text: &str, needles: &[(&str, S)]) -> Self {
        let mut parts = Vec::new();
        let mut rest = text;
        loop {
            let found = needles
                .iter()
                .filter_map(|&(needle, slot)| rest.find(needle).map(|at| (at, needle.len(), slot)))
                .min_by_key(|&(at, len, _)| (at, usize::MAX - len));
            let Some((at, len, slot)) = found else { break };
            if at > 0 {
                parts.push(Part::Text(rest.as_bytes()[..at].into()));
            }
            parts.push(Part::Slot(slot));
            rest = &rest[at + len..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.as_bytes().into()));
        }
        Template { parts }
    }

    /// Appends the item to `out`, `fill` writing each slot's value.
    pub(crate) fn render(&self, out: &mut Vec<u8>, mut fill: impl FnMut(S, &mut Vec<u8>)) {
        for part in &self.parts {
            match part {
                Part::Text(text) => out.extend_from_slice(text),
                Part::Slot(slot) => fill(*slot, out),
            }
        }
    }
}

/// `json` without the whitespace between tokens (strings are kept as they are).
pub(crate) fn minify(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if !c.is_whitespace() {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

/// The first element of a minified JSON array of objects, as text.
pub(crate) fn first_object(array: &str) -> &str {
    let start = array.find('{').expect("the fixture holds an object");
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (at, c) in array[start..].char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth -= 1;
                if depth == 0 {
                    return &array[start..=start + at];
                }
            }
            _ => {}
        }
    }
    panic!("unterminated object in fixture")
}

/// The members of a minified JSON object, as `"key":value` texts, in order.
pub(crate) fn members(object: &str) -> Vec<&str> {
    let inner = &object[1..object.len() - 1];
    let (mut out, mut start) = (Vec::new(), 0);
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (at, c) in inner.char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&inner[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    if start < inner.len() {
        out.push(&inner[start..]);
    }
    out
}

/// The `"key":value` member of a minified JSON object.
pub(crate) fn member<'a>(object: &'a str, key: &str) -> &'a str {
    let prefix = format!("\"{key}\":");
    members(object)
        .into_iter()
        .find(|member| member.starts_with(&prefix))
        .unwrap_or_else(|| panic!("the fixture has {key}"))
}

/// The value of the `key` member of a minified JSON object.
pub(crate) fn value<'a>(object: &'a str, key: &str) -> &'a str {
    &member(object, key)[key.len() + 3..]
}

/// The object with only the members named in `keys` (in the object's order).
pub(crate) fn retain(object: &str, keys: &[&str]) -> String {
    let kept: Vec<&str> = members(object)
        .into_iter()
        .filter(|member| {
            keys.iter()
                .any(|key| member.starts_with(&format!("\"{key}\":")))
        })
        .collect();
    format!("{{{}}}", kept.join(","))
}

/// Sparse, strictly increasing ids: the `k`-th (from 1) is in `k * step .. (k + 1) * step`.
pub(crate) fn sparse_id(k: u64, step: u64) -> u64 {
    k * step + (k * 7919 % step)
}

/// The first position in `1..=count` where the monotone `holds` becomes true (`count + 1`
/// when it never does).
pub(crate) fn first_position(count: u64, holds: impl Fn(u64) -> bool) -> u64 {
    let (mut low, mut high) = (1, count + 1);
    while low < high {
        let mid = low + (high - low) / 2;
        if holds(mid) {
            high = mid
        } else {
            low = mid + 1
        }
    }
    low
}

/// Appends an RFC 3339 time: `seconds` since the epoch, with `millis` digits when given,
/// `Z` for a zero `offset_minutes` and `+HH:MM` otherwise.
pub(crate) fn push_time(out: &mut Vec<u8>, seconds: i64, millis: Option<u32>, offset_minutes: i32) {
    use std::io::Write as _;
    let offset = chrono::FixedOffset::east_opt(offset_minutes * 60).expect("a sane offset");
    let at = chrono::DateTime::from_timestamp(seconds, millis.unwrap_or(0) * 1_000_000)
        .unwrap_or_default()
        .with_timezone(&offset);
    let _ = write!(out, "{}", at.format("%Y-%m-%dT%H:%M:%S"));
    if millis.is_some() {
        let _ = write!(out, "{}", at.format("%.3f"));
    }
    if offset_minutes == 0 {
        out.push(b'Z');
    } else {
        let _ = write!(out, "{}", at.format("%:z"));
    }
}

/// [`push_time`] as text.
pub(crate) fn time_text(seconds: i64, millis: Option<u32>, offset_minutes: i32) -> String {
    let mut out = Vec::new();
    push_time(&mut out, seconds, millis, offset_minutes);
    String::from_utf8(out).expect("times are ASCII")
}

/// Standard base64 (with padding), as GitHub's node ids and Basic credentials use it.
pub(crate) fn base64(input: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(input)
}

/// Appends the decimal form of `n`.
pub(crate) fn push_number(out: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_render_round_trip() {
        let template = Template::split("a-x-yy-x", &[("x", 1), ("yy", 2)]);
        let mut out = Vec::new();
        template.render(&mut out, |slot, out| {
            out.extend_from_slice(if slot == 1 { b"X" } else { b"Y" })
        });
        assert_eq!(out, b"a-X-Y-X");
    }

    #[test]
    fn minify_keeps_strings() {
        assert_eq!(
            minify("[ { \"a b\" : \"c \\\" d\" } ]"),
            "[{\"a b\":\"c \\\" d\"}]"
        );
        assert_eq!(
            first_object("[{\"a\":{\"b\":\"}\"}},{}]"),
            "{\"a\":{\"b\":\"}\"}}"
        );
    }

    #[test]
    fn base64_matches_github_node_ids() {
        assert_eq!(
            base64(b"010:Repository1296269"),
            "MDEwOlJlcG9zaXRvcnkxMjk2MjY5"
        );
        assert_eq!(base64(b"ab"), "YWI=");
    }

    #[test]
    fn members_and_retain() {
        let object = "{\"a\":1,\"b\":{\"c\":[1,2]},\"d\":\"x,y\"}";
        assert_eq!(
            members(object),
            ["\"a\":1", "\"b\":{\"c\":[1,2]}", "\"d\":\"x,y\""]
        );
        assert_eq!(value(object, "b"), "{\"c\":[1,2]}");
        assert_eq!(retain(object, &["d", "a"]), "{\"a\":1,\"d\":\"x,y\"}");
    }

    #[test]
    fn sparse_ids_and_positions() {
        let ids: Vec<u64> = (1..500).map(|k| sparse_id(k, 5)).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(first_position(10, |k| sparse_id(k, 5) > sparse_id(4, 5)), 5);
        assert_eq!(first_position(10, |_| false), 11);
        assert_eq!(time_text(0, Some(5), 0), "1970-01-01T00:00:00.005Z");
        assert_eq!(time_text(0, None, 60), "1970-01-01T01:00:00+01:00");
    }

    #[test]
    fn numbers() {
        let mut out = Vec::new();
        push_number(&mut out, 0);
        push_number(&mut out, u64::MAX);
        assert_eq!(out, b"018446744073709551615");
    }
}
