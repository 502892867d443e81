//! Another host, to point off-host links at: it answers `[]` to everything and records
//! every connection and request, so a test can assert that nothing reached it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use http::StatusCode;
use url::Url;

use super::server::{self, Log, RecordedRequest};

/// A tiny server on another loopback address or port.
#[derive(Debug)]
pub struct OtherHost {
    addr: SocketAddr,
    log: Arc<Log>,
    task: tokio::task::JoinHandle<()>,
}

impl OtherHost {
    /// Starts on `127.0.0.1` (another port than the forge's: another origin).
    pub async fn start() -> std::io::Result<OtherHost> {
        OtherHost::start_on(IpAddr::V4(Ipv4Addr::LOCALHOST)).await
    }

    /// Starts on `ip` (a loopback address such as `127.0.0.2`).
    pub async fn start_on(ip: IpAddr) -> std::io::Result<OtherHost> {
        let log = Arc::new(Log::default());
        let record = log.clone();
        let handler: server::Handler = Arc::new(move |request, local| {
            record.push(RecordedRequest::of(&request, local));
            Box::pin(async { Ok(server::full(StatusCode::OK, "application/json", "[]")) })
        });
        let (addr, task) = server::start(ip, log.clone(), handler).await?;
        Ok(OtherHost { addr, log, task })
    }

    /// `http://IP:PORT/`.
    pub fn base_url(&self) -> Url {
        Url::parse(&format!("http://{}/", self.addr)).expect("a socket address makes a URL")
    }

    /// `http://localhost:PORT/`: another host name for the same server.
    pub fn localhost_url(&self) -> Url {
        Url::parse(&format!("http://localhost:{}/", self.addr.port())).expect("a port makes a URL")
    }

    /// The requests received, with their headers.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.log.requests()
    }

    /// Whether anything connected at all (even without sending a request).
    pub fn was_contacted(&self) -> bool {
        self.log.connections() > 0 || !self.log.requests().is_empty()
    }
}

impl Drop for OtherHost {
    fn drop(&mut self) {
        self.task.abort();
    }
}
