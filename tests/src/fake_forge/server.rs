//! The HTTP/1.1 server under the fakes: an accept loop on a loopback port, a handler per
//! request, and the record of every request.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use futures::Stream;
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use tokio::net::TcpListener;

/// A response body: whole, empty, or streamed (a stream error aborts the connection).
pub(crate) type Body = BoxBody<Bytes, std::io::Error>;

/// A handler error: hyper closes the connection without answering.
pub(crate) type Dropped = Box<dyn std::error::Error + Send + Sync>;

/// What a handler returns.
pub(crate) type Handled = Pin<Box<dyn Future<Output = Result<Response<Body>, Dropped>> + Send>>;

/// The function serving each request, given the address it arrived on.
pub(crate) type Handler = Arc<dyn Fn(Request<Incoming>, SocketAddr) -> Handled + Send + Sync>;

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The method.
    pub method: Method,
    /// The path and query, as sent (`/repositories?since=0`).
    pub path_and_query: String,
    /// Every header.
    pub headers: HeaderMap,
    /// The local address (host and port) the request arrived on.
    pub local_addr: SocketAddr,
    /// The body (empty for a GET; a Conduit call's form).
    pub body: Bytes,
}

impl RecordedRequest {
    /// The value of a header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// The decoded value of a query parameter.
    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.path_and_query.split_once('?')?.1;
        url::form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }

    /// The decoded value of a field of a form-encoded body.
    pub fn form(&self, name: &str) -> Option<String> {
        url::form_urlencoded::parse(&self.body)
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }

    /// The request without its body (not read yet).
    pub(crate) fn of(request: &Request<Incoming>, local_addr: SocketAddr) -> Self {
        RecordedRequest {
            method: request.method().clone(),
            path_and_query: request
                .uri()
                .path_and_query()
                .map_or_else(String::new, |p| p.to_string()),
            headers: request.headers().clone(),
            local_addr,
            body: Bytes::new(),
        }
    }

    /// The request from its head and its (read) body.
    pub(crate) fn from_parts(
        parts: &http::request::Parts,
        body: Bytes,
        local_addr: SocketAddr,
    ) -> Self {
        RecordedRequest {
            method: parts.method.clone(),
            path_and_query: parts
                .uri
                .path_and_query()
                .map_or_else(String::new, |p| p.to_string()),
            headers: parts.headers.clone(),
            local_addr,
            body,
        }
    }
}

/// Requests (and accepted connections) as they arrive.
#[derive(Debug, Default)]
pub(crate) struct Log {
    requests: Mutex<Vec<RecordedRequest>>,
    connections: std::sync::atomic::AtomicU64,
}

impl Log {
    pub(crate) fn push(&self, request: RecordedRequest) {
        lock(&self.requests).push(request);
    }

    pub(crate) fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.requests).clone()
    }

    pub(crate) fn clear(&self) {
        lock(&self.requests).clear();
    }

    pub(crate) fn connections(&self) -> u64 {
        self.connections.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// Locks a mutex, ignoring poisoning (a panicking test must not hide the record).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// Binds `ip:0` and serves `handler` on every connection until the returned task is aborted.
pub(crate) async fn start(
    ip: std::net::IpAddr,
    log: Arc<Log>,
    handler: Handler,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind((ip, 0)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _peer)) = listener.accept().await else {
                continue;
            };
            log.connections
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let _ = stream.set_nodelay(true);
            let local = stream.local_addr().unwrap_or(addr);
            let handler = handler.clone();
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let service = Service { handler, local };
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    Ok((addr, task))
}

/// The hyper service of one connection.
struct Service {
    handler: Handler,
    local: SocketAddr,
}

impl hyper::service::Service<Request<Incoming>> for Service {
    type Response = Response<Body>;
    type Error = Dropped;
    type Future = Handled;

    fn call(&self, request: Request<Incoming>) -> Handled {
        (self.handler)(request, self.local)
    }
}

/// A response with a whole body.
pub(crate) fn full(
    status: StatusCode,
    content_type: &str,
    body: impl Into<Bytes>,
) -> Response<Body> {
    let body = Full::new(body.into())
        .map_err(|never: Infallible| match never {})
        .boxed();
    let mut response = Response::new(body);
    *response.status_mut() = status;
    if !content_type.is_empty() {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, header_value(content_type));
    }
    response
}

/// A response without a body.
pub(crate) fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(
        Empty::new()
            .map_err(|never: Infallible| match never {})
            .boxed(),
    );
    *response.status_mut() = status;
    response
}

/// A streamed body.
pub(crate) fn streamed(
    chunks: impl Stream<Item = std::io::Result<Bytes>> + Send + Sync + 'static,
) -> Body {
    use futures::StreamExt as _;
    BodyExt::boxed(StreamBody::new(chunks.map(|chunk| chunk.map(Frame::data))))
}

/// A header value from text the fake itself wrote.
pub(crate) fn header_value(text: &str) -> http::HeaderValue {
    http::HeaderValue::from_str(text).expect("the fake writes valid header values")
}
