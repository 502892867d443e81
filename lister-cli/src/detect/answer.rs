//! Reading an answer for signs of a forge: a JSON body (behind an XSSI guard or not), a
//! header, a cookie, an HTML `<meta>` tag, and quoting what was read in a message.

use lister_core::PageResponse;

/// Gerrit's and Gitiles' guard against cross-site script inclusion, on the body's first line.
const XSSI_GUARD: &str = ")]}'";

/// The body as text (lossy: a sign is ASCII).
pub(super) fn text(answer: &PageResponse) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(&answer.body)
}

/// The body as JSON, after an XSSI guard line if there is one; `guarded` says whether there
/// was.
pub(super) fn json(answer: &PageResponse) -> Option<(serde_json::Value, bool)> {
    let body = answer.body.as_ref();
    let trimmed = body.trim_ascii_start();
    match trimmed.strip_prefix(XSSI_GUARD.as_bytes()) {
        Some(rest) => {
            let rest = rest
                .iter()
                .position(|&b| b == b'\n')
                .map(|at| &rest[at..])?;
            Some((serde_json::from_slice(rest).ok()?, true))
        }
        None => Some((serde_json::from_slice(trimmed).ok()?, false)),
    }
}

/// A header's value as text.
pub(super) fn header<'a>(answer: &'a PageResponse, name: &str) -> Option<&'a str> {
    answer
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
}

/// Whether the answer sets a cookie called `name`.
pub(super) fn sets_cookie(answer: &PageResponse, name: &str) -> bool {
    answer
        .headers
        .get_all(http::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|cookie| {
            cookie
                .split_once('=')
                .is_some_and(|(key, _)| key.trim() == name)
        })
}

/// The `content` of the HTML `<meta name="NAME" content="…">` tags (attributes in either
/// order, either quote), as written.
pub(super) fn meta<'a>(html: &'a str, name: &str) -> Vec<&'a str> {
    let mut found = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("<meta") {
        let start = from + at;
        let end = lower[start..]
            .find('>')
            .map_or(lower.len(), |end| start + end);
        let tag = &html[start..end];
        if attribute(tag, "name").is_some_and(|value| value.eq_ignore_ascii_case(name))
            && let Some(content) = attribute(tag, "content")
        {
            found.push(content);
        }
        from = end;
    }
    found
}

/// The value of attribute `name` in one tag's text.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find(name) {
        let start = from + at;
        from = start + name.len();
        let before = lower[..start].chars().next_back();
        if !before.is_some_and(char::is_whitespace) {
            continue;
        }
        let rest = tag[from..].trim_start();
        let Some(rest) = rest.strip_prefix('=') else {
            continue;
        };
        let rest = rest.trim_start();
        let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
        let value = &rest[1..];
        return value.find(quote).map(|end| &value[..end]);
    }
    None
}

/// Text from the forge, quoted for a message: escaped (no terminal control reaches the
/// output) and cut to 80 characters.
pub(super) fn quote(text: &str) -> String {
    let cut: String = text.chars().take(80).collect();
    let ellipsis = if cut.len() < text.len() { "…" } else { "" };
    format!("{cut:?}{ellipsis}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &str) -> PageResponse {
        PageResponse::ok("https://forge.example.org/", body.to_owned())
    }

    #[test]
    fn json_behind_a_guard_or_not() {
        let (value, guarded) = json(&answer(")]}'\n{\"a\": {\"name\": \"a\"}}")).unwrap();
        assert!(guarded);
        assert_eq!(value["a"]["name"], "a");
        let (value, guarded) = json(&answer("  \"3.9.1\"")).unwrap();
        assert!(!guarded);
        assert_eq!(value, "3.9.1");
        assert!(json(&answer("<html>")).is_none());
        assert!(json(&answer(")]}'")).is_none());
    }

    #[test]
    fn meta_tags_in_any_shape() {
        let html = "<head><META content='cgit v1.2.3' name='generator'/>\
            <meta name=\"author\" content=\"Gogs\" /><meta name=\"keywords\" content=\"a, gogs\">\
            <meta property=\"og:site_name\" content=\"GitLab\"><meta data-name=\"generator\" content=\"x\">";
        assert_eq!(meta(html, "generator"), ["cgit v1.2.3"]);
        assert_eq!(meta(html, "author"), ["Gogs"]);
        assert_eq!(meta(html, "keywords"), ["a, gogs"]);
        assert!(meta(html, "og:site_name").is_empty());
    }

    #[test]
    fn quotes_are_escaped_and_cut() {
        assert_eq!(quote("7.0.0+gitea-1.22.0"), "\"7.0.0+gitea-1.22.0\"");
        assert_eq!(quote("\u{1b}[31mred"), "\"\\u{1b}[31mred\"");
        assert!(quote(&"x".repeat(200)).ends_with("\"…"));
    }

    #[test]
    fn cookies_by_name() {
        let page = answer("").with_header("set-cookie", "i_like_gogs=abc; Path=/; HttpOnly");
        assert!(sets_cookie(&page, "i_like_gogs"));
        assert!(!sets_cookie(&page, "i_like_gitea"));
    }
}
