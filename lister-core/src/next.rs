//! Where a forge's next page is named: the `Link` header, a URL in the body, or a value in the
//! body. A forge says which with [`Forge::NEXT`](crate::Forge::NEXT); the framework reads it.

use url::Url;

use crate::cursor::Cursor;
use crate::link::next_link;
use crate::page::PageResponse;
use crate::parse_error::ParseError;

/// Where the next page's cursor is; none there ends the listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextCursor {
    /// A query parameter of the `Link: rel="next"` URL (GitHub's `since`, GitLab's
    /// `id_after`, Gitea's `page`).
    LinkParam(&'static str),
    /// A query parameter of a next URL in the body, at a JSON pointer (Bitbucket's `after` in
    /// `/next`).
    BodyUrlParam(&'static str, &'static str),
    /// A value in the body, at a JSON pointer (Phabricator's `/result/cursor/after`), a string
    /// or a number; `null` or absent ends the listing.
    BodyValue(&'static str),
    /// None: the listing is one document (Gitiles, grokmirror).
    None,
}

impl NextCursor {
    /// The next cursor `response` names.
    pub fn read<C: Cursor>(self, response: &PageResponse) -> Result<Option<C>, ParseError> {
        match self {
            NextCursor::None => Ok(None),
            NextCursor::LinkParam(param) => link_cursor(response, param),
            NextCursor::BodyUrlParam(pointer, param) => {
                let url: Option<std::borrow::Cow<'_, str>> = response.json_at(pointer)?;
                url.map(|url| url_cursor(&url, param)).transpose()
            }
            NextCursor::BodyValue(pointer) => {
                let value: Option<serde_json::Value> = response.json_at(pointer)?;
                let text = match value {
                    None | Some(serde_json::Value::Null) => return Ok(None),
                    Some(serde_json::Value::String(text)) => text,
                    Some(other) => other.to_string(),
                };
                let cursor = C::parse(&text);
                let error = || ParseError {
                    path: pointer.into(),
                    message: format!("`{text}` is not a cursor"),
                };
                cursor.map(Some).ok_or_else(error)
            }
        }
    }
}

/// The cursor in the query parameter `param` of the `rel="next"` link of `response`. No next
/// link ends the listing; a next link without a valid `param` is an error naming the link.
///
/// ```
/// # use lister_core::PageResponse;
/// # let response = |link: &str| PageResponse {
/// #     url: "https://api.github.com/repositories".parse().unwrap(),
/// #     status: http::StatusCode::OK,
/// #     headers: [(http::header::LINK, link.parse().unwrap())].into_iter().collect(),
/// #     body: bytes::Bytes::new(),
/// # };
/// let page = response(r#"<https://api.github.com/repositories?since=369>; rel="next""#);
/// assert_eq!(lister_core::link_cursor::<u64>(&page, "since").unwrap(), Some(369));
/// let last = response(r#"<https://api.github.com/repositories{?since}>; rel="first""#);
/// assert_eq!(lister_core::link_cursor::<u64>(&last, "since").unwrap(), None);
/// ```
pub fn link_cursor<C: Cursor>(
    response: &PageResponse,
    param: &str,
) -> Result<Option<C>, ParseError> {
    match next_link(&response.headers, &response.url) {
        Some(url) => url_cursor(url.as_str(), param).map(Some),
        None => Ok(None),
    }
}

/// The cursor in the query parameter `param` of the URL `url` (a next URL in a body). The
/// error names the URL, without its query, when it does not parse or holds no valid `param`.
///
/// ```
/// let after = "https://api.bitbucket.org/2.0/repositories?after=2011-06-07T02%3A25%3A57%2B00%3A00";
/// let cursor: lister_core::TimeIndex = lister_core::url_cursor(after, "after").unwrap();
/// assert_eq!(cursor.to_string(), "2011-06-07T02:25:57+00:00");
/// ```
pub fn url_cursor<C: Cursor>(url: &str, param: &str) -> Result<C, ParseError> {
    let url = Url::parse(url).map_err(|err| ParseError::new(format!("next URL: {err}")))?;
    let value = url.query_pairs().find(|(key, _)| key == param);
    let cursor = value.and_then(|(_, value)| C::parse(&value));
    cursor.ok_or_else(|| {
        let mut shown = url.clone();
        shown.set_query(None);
        ParseError::new(format!("next URL {shown}?… has no valid `{param}`"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Opaque;

    fn body(text: &str) -> PageResponse {
        PageResponse {
            url: "https://forge.test/api".parse().unwrap(),
            status: http::StatusCode::OK,
            headers: http::HeaderMap::new(),
            body: bytes::Bytes::from(text.to_owned()),
        }
    }

    #[test]
    fn reads_values_and_urls_in_the_body() {
        let page = body(
            r#"{"result": {"cursor": {"after": "17"}}, "next": "https://f.test/r?after=3&x=1", "n": 5}"#,
        );
        let after = NextCursor::BodyValue("/result/cursor/after");
        assert_eq!(
            after.read::<Opaque>(&page).unwrap(),
            Some(Opaque("17".into()))
        );
        assert_eq!(after.read::<u64>(&page).unwrap(), Some(17));
        assert_eq!(
            NextCursor::BodyValue("/n").read::<u64>(&page).unwrap(),
            Some(5)
        );
        assert_eq!(
            NextCursor::BodyValue("/none").read::<u64>(&page).unwrap(),
            None
        );
        let next = NextCursor::BodyUrlParam("/next", "after");
        assert_eq!(next.read::<u64>(&page).unwrap(), Some(3));
        let wrong = NextCursor::BodyUrlParam("/next", "page")
            .read::<u64>(&page)
            .unwrap_err();
        assert!(wrong.message.contains("https://f.test/r?…"), "{wrong}");
    }
}
