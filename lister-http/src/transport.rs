//! One HTTP exchange: the client, which URLs it may fetch (the base URL's scheme, host and
//! port only), the headers it sends, and the body read under a size cap (a gzip body is
//! decompressed, under the same cap).

use std::error::Error as StdError;
use std::net::IpAddr;

use bytes::BytesMut;
use http::StatusCode;
use http::header::{
    ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH,
};
use lister_core::{PageRequest, PageResponse, RequestBody, Validators};
use url::{Host, Url};

use crate::credential::{Hidden, Presented};
use crate::error::scrub;
use crate::{Error, TransportConfig};

/// Why an exchange produced no response.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The client failed (connect, timeout, reset, body read…).
    Http(reqwest::Error),
    /// A header of the request cannot be sent (a forge's bug: not retried).
    BadHeader,
    /// The body is over the cap; it was not read further.
    TooLarge {
        /// The response's status.
        status: StatusCode,
    },
    /// The body is gzip that decompresses past the cap, or is not valid gzip.
    Gzip {
        /// The response's status.
        status: StatusCode,
        /// What was wrong.
        error: lister_core::GzipError,
    },
}

/// The HTTP client of one forge instance.
#[derive(Debug)]
pub(crate) struct Transport {
    client: reqwest::Client,
    base: Url,
    /// Host suffixes besides the base's that pages may be asked of (never with a credential).
    other_hosts: &'static [&'static str],
    max_body: u64,
}

impl Transport {
    /// A client for `base` (already validated by [`validate_base`]).
    pub(crate) fn new(
        base: &Url,
        forge: &str,
        forge_headers: &[(&str, &str)],
        config: &TransportConfig,
    ) -> Result<Transport, Error> {
        let client_error = |reason: String| Error::Client { reason };
        let mut user_agent = format!(
            "lister/{} ({forge}; +{})",
            env!("CARGO_PKG_VERSION"),
            env!("CARGO_PKG_REPOSITORY")
        );
        if let Some(suffix) = &config.user_agent_suffix {
            user_agent = format!("{user_agent} {suffix}");
        }
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        for (name, value) in forge_headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| client_error(format!("invalid forge header name `{name}`")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| client_error(format!("invalid value for forge header `{name}`")))?;
            headers.insert(name, value);
        }
        let mut builder = reqwest::Client::builder()
            .user_agent(user_agent)
            .default_headers(headers)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // A listing endpoint does not redirect; not following keeps every request (and
            // its Authorization header) on the base URL's host.
            .redirect(reqwest::redirect::Policy::none());
        if is_loopback(base) {
            // Loopback is never proxied; another host the forge names still goes through the
            // user's HTTP proxy, as it would from an instance elsewhere.
            builder = builder.no_proxy();
            let proxy = ["http_proxy", "HTTP_PROXY"]
                .iter()
                .find_map(|v| std::env::var(v).ok());
            if let Some(proxy) = proxy.and_then(|proxy| Url::parse(&proxy).ok()) {
                let off_loopback = move |url: &Url| (!is_loopback(url)).then(|| proxy.clone());
                builder = builder.proxy(reqwest::Proxy::custom(off_loopback));
            }
        }
        let client = builder
            .build()
            .map_err(|err| client_error(err.without_url().to_string()))?;
        Ok(Transport {
            client,
            base: base.clone(),
            other_hosts: &[],
            max_body: config.max_body_bytes,
        })
    }

    /// The transport, also allowed to ask plain pages of hosts ending with one of
    /// `other_hosts` ([`Forge::OTHER_HOSTS`](lister_core::Forge::OTHER_HOSTS)).
    pub(crate) fn with_other_hosts(mut self, other_hosts: &'static [&'static str]) -> Transport {
        self.other_hosts = other_hosts;
        self
    }

    /// Whether `url` is on the base URL's scheme, host and port: the only place a credential
    /// goes.
    pub(crate) fn is_base(&self, url: &Url) -> bool {
        url.origin() == self.base.origin()
    }

    /// The API base every request goes under.
    pub(crate) fn base(&self) -> &Url {
        &self.base
    }

    /// The body cap.
    pub(crate) fn max_body(&self) -> u64 {
        self.max_body
    }

    /// Refuses a URL off the base URL's scheme, host and port (or one of the other hosts the
    /// forge names), or carrying user info.
    pub(crate) fn check(&self, url: &Url, attempts: u32) -> Result<(), Error> {
        let host = url.host_str().unwrap_or_default();
        let other = matches!(url.scheme(), "http" | "https")
            && self.other_hosts.iter().any(|suffix| host.ends_with(suffix));
        if (self.is_base(url) || other) && url.username().is_empty() && url.password().is_none() {
            return Ok(());
        }
        Err(Error::OffHost {
            url: scrub(url),
            found: url.origin().ascii_serialization(),
            expected: self.base.origin().ascii_serialization(),
            attempts,
        })
    }

    /// Sends one request (conditional when `known` has validators), with the credential
    /// `presented` as the forge wants it, and reads the body.
    pub(crate) async fn exchange(
        &self,
        page: &PageRequest,
        presented: Option<&Presented>,
        known: Option<&Validators>,
    ) -> Result<PageResponse, Failure> {
        let url = &page.url;
        let mut request = self.client.request(page.method.clone(), url.clone());
        for (name, value) in &page.headers {
            let name = HeaderName::from_bytes(name.as_bytes());
            let value = HeaderValue::from_str(value);
            let (Ok(name), Ok(value)) = (name, value) else {
                return Err(Failure::BadHeader);
            };
            request = request.header(name, value);
        }
        let mut form_field = None;
        match presented {
            Some(Presented::Header(name, value)) => {
                request = request.header(name.clone(), value.clone());
            }
            Some(Presented::FormField(name, Hidden(value))) => form_field = Some((*name, value)),
            None => {}
        }
        match &page.body {
            RequestBody::Empty => {}
            RequestBody::Form(fields) => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                form.extend_pairs(fields);
                form.extend_pairs(form_field);
                request = request
                    .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(form.finish());
            }
            RequestBody::Json(document) => {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(document.to_string());
            }
        }
        let known = known.cloned().unwrap_or_default();
        let conditions = [
            (IF_NONE_MATCH, known.etag),
            (IF_MODIFIED_SINCE, known.last_modified),
        ];
        for (name, value) in conditions {
            if let Some(value) = value.and_then(|value| HeaderValue::from_str(&value).ok()) {
                request = request.header(name, value);
            }
        }
        let mut response = request.send().await.map_err(Failure::Http)?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let body = match response.content_length() {
            Some(length) if length > self.max_body => return Err(Failure::TooLarge { status }),
            // The client reads no more than a declared length: the body is bounded already.
            Some(_) => response.bytes().await.map_err(Failure::Http)?,
            None => {
                let mut body = BytesMut::new();
                while let Some(chunk) = response.chunk().await.map_err(Failure::Http)? {
                    if (body.len() + chunk.len()) as u64 > self.max_body {
                        return Err(Failure::TooLarge { status });
                    }
                    body.extend_from_slice(&chunk);
                }
                body.freeze()
            }
        };
        let mut response = PageResponse {
            url: url.clone(),
            status,
            headers,
            body,
        };
        // A file served gzipped (grokmirror's `manifest.js.gz`), read under the same cap.
        response
            .gunzip(self.max_body)
            .map_err(|error| Failure::Gzip { status, error })?;
        Ok(response)
    }
}

/// Accepts `http(s)` base URLs without user info; plain `http` only for loopback hosts
/// unless `allow_insecure_http`.
pub(crate) fn validate_base(base: &Url, allow_insecure_http: bool) -> Result<(), Error> {
    let invalid = |reason: &str| Error::InvalidBaseUrl {
        url: scrub(base),
        reason: reason.to_owned(),
    };
    if !base.username().is_empty() || base.password().is_some() {
        return Err(invalid(
            "it holds user info; give credentials through TransportConfig::credentials",
        ));
    }
    if base.host().is_none() {
        return Err(invalid("it has no host"));
    }
    match base.scheme() {
        "https" => Ok(()),
        "http" if allow_insecure_http || is_loopback(base) => Ok(()),
        "http" => Err(Error::InsecureHttp { url: scrub(base) }),
        _ => Err(invalid("only http and https are supported")),
    }
}

/// Whether the URL's host is loopback: `127.0.0.0/8`, `::1` or `localhost`.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether a client failure is worth retrying: connection failures, resets, timeouts and
/// broken bodies, found anywhere in the `source()` chain. A reply that cannot be what was asked
/// for is not: a TLS handshake that fails (a certificate the client refuses, a server that
/// does not speak TLS), or a reply that is not HTTP; nor are builder and redirect errors.
pub(crate) fn is_transient(error: &reqwest::Error) -> bool {
    if error.is_builder() || error.is_redirect() || is_permanent(error) {
        return false;
    }
    if error.is_timeout()
        || error.is_connect()
        || error.is_body()
        || error.is_decode()
        || error.is_request()
    {
        return true;
    }
    let mut source = error.source();
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            return matches!(
                io.kind(),
                ConnectionReset
                    | ConnectionAborted
                    | ConnectionRefused
                    | BrokenPipe
                    | UnexpectedEof
                    | TimedOut
            );
        }
        source = cause.source();
    }
    false
}

/// The error an I/O error wraps, however deep (`io::Error`'s `source()` skips it).
fn wrapped<'a>(
    mut error: &'a (dyn std::error::Error + 'static),
) -> &'a (dyn std::error::Error + 'static) {
    while let Some(inner) = error
        .downcast_ref::<std::io::Error>()
        .and_then(std::io::Error::get_ref)
    {
        error = inner;
    }
    error
}

/// Whether the chain holds a failure that another attempt would meet again: TLS refusing the
/// server, or HTTP that does not parse.
fn is_permanent(error: &reqwest::Error) -> bool {
    let mut source = error.source();
    while let Some(cause) = source {
        let tls = wrapped(cause).downcast_ref::<rustls::Error>().is_some();
        let not_http = cause
            .downcast_ref::<hyper::Error>()
            .is_some_and(hyper::Error::is_parse);
        if tls || not_http {
            return true;
        }
        source = cause.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(url: &str, allow: bool) -> Result<(), Error> {
        validate_base(&Url::parse(url).unwrap(), allow)
    }

    #[test]
    fn plain_http_only_for_loopback_or_opt_in() {
        assert!(base("https://api.github.com", false).is_ok());
        for loopback in [
            "http://127.0.0.1:8080/",
            "http://127.3.2.1/",
            "http://[::1]:99/",
            "http://LOCALHOST/",
        ] {
            assert!(base(loopback, false).is_ok(), "{loopback}");
        }
        assert!(matches!(
            base("http://api.github.com", false),
            Err(Error::InsecureHttp { .. })
        ));
        assert!(matches!(
            base("http://128.0.0.1", false),
            Err(Error::InsecureHttp { .. })
        ));
        assert!(matches!(
            base("http://localhost.example.org", false),
            Err(Error::InsecureHttp { .. })
        ));
        assert!(base("http://forge.internal", true).is_ok());
        assert!(matches!(
            base("ftp://forge.example.org", true),
            Err(Error::InvalidBaseUrl { .. })
        ));
        let error = base("https://me:hunter2@forge.example.org", false).unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }

    #[test]
    fn urls_stay_on_the_base_origin() {
        let base = Url::parse("http://127.0.0.1:8000/api/v3").unwrap();
        let transport = Transport::new(&base, "test", &[], &TransportConfig::default()).unwrap();
        let check = |url: &str| transport.check(&Url::parse(url).unwrap(), 1);
        assert!(check("http://127.0.0.1:8000/api/v3/repositories?since=5").is_ok());
        assert!(check("http://127.0.0.1:8000/elsewhere").is_ok());
        for off in [
            "http://127.0.0.1:8001/",
            "https://127.0.0.1:8000/",
            "http://localhost:8000/",
            "http://u:p@127.0.0.1:8000/",
        ] {
            let error = check(off).unwrap_err();
            assert!(
                error.to_string().contains("http://127.0.0.1:8000"),
                "{error}"
            );
        }
        // Hosts the forge names besides its own, by suffix, without user info.
        let transport = transport.with_other_hosts(&[".cvs.example.org"]);
        let check = |url: &str| transport.check(&Url::parse(url).unwrap(), 1);
        assert!(check("http://project.cvs.example.org/").is_ok());
        assert!(!transport.is_base(&Url::parse("http://project.cvs.example.org/").unwrap()));
        for off in [
            "http://cvs.example.org.evil.test/",
            "http://u:p@project.cvs.example.org/",
            "ftp://project.cvs.example.org/",
        ] {
            assert!(check(off).is_err(), "{off}");
        }
    }

    /// A server that answers `answer` to anything, on a loopback port.
    async fn answering(answer: &'static [u8]) -> u16 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = [0; 1024];
                let _ = stream.read(&mut buf).await;
                let _ = stream.write_all(answer).await;
            }
        });
        port
    }

    #[tokio::test]
    async fn a_server_that_does_not_speak_tls_or_http_is_not_retried() {
        let http = answering(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
        let not_tls = reqwest::get(format!("https://127.0.0.1:{http}/"))
            .await
            .unwrap_err();
        assert!(!is_transient(&not_tls), "{not_tls:?}");
        let garbage = answering(b"HELLO, THIS IS NOT HTTP\r\n\r\n").await;
        let not_http = reqwest::get(format!("http://127.0.0.1:{garbage}/"))
            .await
            .unwrap_err();
        assert!(!is_transient(&not_http), "{not_http:?}");
        let closed = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let refused = reqwest::get(format!("http://127.0.0.1:{closed}/"))
            .await
            .unwrap_err();
        assert!(
            is_transient(&refused),
            "a refused connection is worth retrying"
        );
    }

    #[test]
    fn bad_forge_headers_are_reported() {
        let base = Url::parse("https://forge.example.org").unwrap();
        let error = Transport::new(
            &base,
            "test",
            &[("bad header", "x")],
            &TransportConfig::default(),
        )
        .unwrap_err();
        assert!(error.to_string().contains("bad header"));
    }
}
