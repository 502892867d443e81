//! RFC 8288 `Link` headers, read the lenient way real forges need.
//!
//! A header holds comma-separated links; several `Link` lines are one list. A link is
//! `<target>` then `;`-separated parameters in any order, with token or quoted values. The
//! target runs to the first `>`, so commas, semicolons and URI-template braces inside it
//! (GitHub's `<…/repositories{?since}>; rel="first"`) are fine. Only the first `rel`
//! parameter counts; it may list several relation types, compared case-insensitively.
//! Nothing here panics, whatever the input: what does not parse is skipped.

use http::HeaderMap;
use url::Url;

/// One link: its target as written, and its relation types (lowercased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// The target URI reference, unresolved.
    pub target: String,
    /// The relation types of the first `rel` parameter, lowercased.
    pub relations: Vec<String>,
}

impl Link {
    /// Whether the link has this relation type (case-insensitive).
    pub fn has_relation(&self, relation: &str) -> bool {
        self.relations
            .iter()
            .any(|own| own.eq_ignore_ascii_case(relation))
    }
}

/// The links of every `Link` header, in order.
pub fn links(headers: &HeaderMap) -> Vec<Link> {
    headers
        .get_all(http::header::LINK)
        .iter()
        .flat_map(|value| parse_links(&String::from_utf8_lossy(value.as_bytes())))
        .collect()
}

/// The `rel="next"` target of the `Link` headers, resolved against the request URL.
pub fn next_link(headers: &HeaderMap, request_url: &Url) -> Option<Url> {
    links(headers)
        .into_iter()
        .filter(|link| link.has_relation("next"))
        .find_map(|link| request_url.join(link.target.trim()).ok())
}

/// Parses one `Link` field value.
pub fn parse_links(value: &str) -> Vec<Link> {
    let mut cursor = Cursor { text: value, at: 0 };
    let mut links = Vec::new();
    loop {
        cursor.skip(|b| b == b',' || is_space(b));
        if cursor.done() {
            return links;
        }
        if !cursor.eat(b'<') {
            cursor.skip(|b| b != b',');
            continue;
        }
        let Some(target) = cursor.until(b'>') else {
            return links;
        };
        let mut relations = None;
        while let Some((name, value)) = cursor.param() {
            if relations.is_none() && name.eq_ignore_ascii_case("rel") {
                relations = Some(
                    value
                        .split_ascii_whitespace()
                        .map(str::to_ascii_lowercase)
                        .collect(),
                );
            }
        }
        links.push(Link {
            target: target.to_owned(),
            relations: relations.unwrap_or_default(),
        });
    }
}

fn is_space(byte: u8) -> bool {
    byte == b' ' || byte == b'\t'
}

/// A position in a field value. It only ever stops at ASCII bytes, so slices fall on
/// character boundaries.
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn done(&self) -> bool {
        self.at >= self.text.len()
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        self.at += usize::from(found);
        found
    }

    /// Skips bytes while `keep` holds; returns what was skipped.
    fn skip(&mut self, keep: impl Fn(u8) -> bool) -> &'a str {
        let start = self.at;
        while self.peek().is_some_and(&keep) {
            self.at += 1;
        }
        &self.text[start..self.at]
    }

    /// The text up to `end` (consumed), or `None` if `end` never comes.
    fn until(&mut self, end: u8) -> Option<&'a str> {
        let length = self.text.as_bytes()[self.at..]
            .iter()
            .position(|&b| b == end)?;
        let found = &self.text[self.at..self.at + length];
        self.at += length + 1;
        Some(found)
    }

    /// The next `; name[=value]` of the current link, or `None` at its end (a `,` or the
    /// end of the text). Stray text before the next `;` or `,` is skipped.
    fn param(&mut self) -> Option<(&'a str, String)> {
        loop {
            self.skip(|b| !matches!(b, b';' | b',' | b'"'));
            if !self.eat(b'"') {
                break;
            }
            self.quoted();
        }
        if !self.eat(b';') {
            return None;
        }
        self.skip(is_space);
        let name = self.skip(|b| !matches!(b, b'=' | b';' | b',') && !is_space(b));
        self.skip(is_space);
        if !self.eat(b'=') {
            return Some((name, String::new()));
        }
        self.skip(is_space);
        let value = if self.eat(b'"') {
            self.quoted()
        } else {
            self.skip(|b| !matches!(b, b';' | b',') && !is_space(b))
                .to_owned()
        };
        Some((name, value))
    }

    /// The rest of a quoted string whose opening quote is consumed, unescaped.
    fn quoted(&mut self) -> String {
        let mut value = String::new();
        let mut chars = self.text[self.at..].char_indices();
        while let Some((offset, c)) = chars.next() {
            match c {
                '"' => {
                    self.at += offset + 1;
                    return value;
                }
                '\\' => value.extend(chars.next().map(|(_, escaped)| escaped)),
                c => value.push(c),
            }
        }
        self.at = self.text.len();
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn next(values: &[&str]) -> Option<String> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(http::header::LINK, value.parse().unwrap());
        }
        let request = Url::parse("https://api.example.org/v1/repos?since=5").unwrap();
        next_link(&headers, &request).map(String::from)
    }

    #[test]
    fn github_header() {
        let header = "<https://api.github.com/repositories?since=1300210>; rel=\"next\", \
                      <https://api.github.com/repositories{?since}>; rel=\"first\"";
        assert_eq!(
            next(&[header]).as_deref(),
            Some("https://api.github.com/repositories?since=1300210")
        );
        let last_page = "<https://api.github.com/repositories{?since}>; rel=\"first\"";
        assert_eq!(next(&[last_page]), None);
        let links = parse_links(header);
        assert_eq!(
            links[1].target,
            "https://api.github.com/repositories{?since}"
        );
        assert!(links[1].has_relation("FIRST"));
    }

    #[test]
    fn lenient_forms() {
        let expect = Some("https://x.org/p?a=1,2;b".to_owned());
        assert_eq!(next(&["<https://x.org/p?a=1,2;b>; rel=next"]), expect);
        assert_eq!(
            next(&["<https://x.org/p?a=1,2;b>;title=\"a, b; c\";REL=\"Next Last\""]),
            expect
        );
        assert_eq!(
            next(&[
                "<https://x.org/o>; rel=\"prev\"",
                "<https://x.org/p?a=1,2;b>; rel=\"next\""
            ]),
            expect
        );
        assert_eq!(
            next(&["<https://x.org/o>; rel=\"prev\"; rel=\"next\""]),
            None,
            "only the first rel counts"
        );
        assert_eq!(next(&["<https://x.org/o>; title=\"rel=next\""]), None);
        assert_eq!(
            next(&["garbage, <https://x.org/p?a=1,2;b> ; rel = \"next\""]),
            expect
        );
        assert_eq!(
            next(&["<https://x.org/o>; title=\"unterminated, <https://x.org/n>; rel=next"]),
            None
        );
        assert_eq!(next(&["<https://x.org/o"]), None);
    }

    #[test]
    fn relative_targets_resolve_against_the_request() {
        assert_eq!(
            next(&["</v1/repos?since=9>; rel=\"next\""]).as_deref(),
            Some("https://api.example.org/v1/repos?since=9")
        );
        assert_eq!(
            next(&["<?since=9>; rel=next"]).as_deref(),
            Some("https://api.example.org/v1/repos?since=9")
        );
    }

    #[test]
    fn query_escapes_in_quoted_values() {
        let links = parse_links("<a>; rel=\"ne\\\"xt\" ; x");
        assert_eq!(links[0].relations, ["ne\"xt"]);
    }

    proptest! {
        #[test]
        fn never_panics(value in ".*") {
            let _ = parse_links(&value);
            if let Ok(header) = http::HeaderValue::from_str(&value) {
                let mut headers = HeaderMap::new();
                headers.insert(http::header::LINK, header);
                let _ = next_link(&headers, &Url::parse("https://x.org/").unwrap());
            }
        }

        #[test]
        fn never_panics_on_link_shaped_input(value in "[<>;,=\" a-z\\\\é{}]*") {
            let _ = parse_links(&value);
        }

        #[test]
        fn finds_next_among_other_links(
            target in "[a-z0-9/?=&,;{}]{0,20}",
            before in proptest::collection::vec("[a-z]{1,5}", 0..3),
            after in proptest::collection::vec("[a-z]{1,5}", 0..3),
        ) {
            let other = |rel: &String| format!("<https://o.org/{rel}>; rel=\"{rel}\"");
            let mut parts: Vec<String> = before.iter().filter(|r| *r != "next").map(other).collect();
            parts.push(format!("<https://x.org/{target}>; rel=\"next\""));
            parts.extend(after.iter().map(other));
            let links = parse_links(&parts.join(", "));
            let next = links.iter().find(|link| link.has_relation("next")).unwrap();
            prop_assert_eq!(&next.target, &format!("https://x.org/{target}"));
        }
    }
}
