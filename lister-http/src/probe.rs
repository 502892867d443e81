//! Single requests to an address whose forge is not known yet (`lister detect`): the
//! transport's client and rules (user agent, timeouts, no redirects followed, the body cap,
//! only the address's scheme, host and port, plain `http://` only on loopback), without
//! credentials, retries or quota waits.

use lister_core::{PageRequest, PageResponse};
use url::Url;

use crate::error::scrub;
use crate::transport::{Failure, Transport, is_transient, validate_base};
use crate::{Error, Result, TransportConfig};

/// Sends one request at a time to one address, and counts them.
///
/// It never sends a credential, whatever `TransportConfig::credentials` holds: until the
/// forge is known, no token is known to be meant for it.
#[derive(Debug)]
pub struct Prober {
    transport: Transport,
    sent: std::sync::atomic::AtomicU32,
}

impl Prober {
    /// A prober of the address `base`. Fails, before any request, on an address the
    /// transport refuses (user info, no host, plain `http://` off loopback without
    /// `allow_insecure_http`).
    pub fn new(base: &Url, config: &TransportConfig) -> Result<Prober> {
        validate_base(base, config.allow_insecure_http)?;
        let transport = Transport::new(base, "detect", &[], config)?;
        Ok(Prober {
            transport,
            sent: std::sync::atomic::AtomicU32::new(0),
        })
    }

    /// Sends `request` once (it must stay on the address's scheme, host and port) and reads
    /// the answer, whatever its status. A redirect is an answer, not followed.
    pub async fn send(&self, request: &PageRequest) -> Result<PageResponse> {
        self.transport.check(&request.url, 0)?;
        let attempts = 1 + self.sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        match self.transport.exchange(request, None, None).await {
            Ok(response) => Ok(response),
            Err(Failure::BadHeader) => Err(Error::Client {
                reason: format!(
                    "a header of the request to {} cannot be sent",
                    scrub(&request.url)
                ),
            }),
            Err(Failure::TooLarge { status }) => Err(Error::BodyTooLarge {
                url: scrub(&request.url),
                status,
                limit: self.transport.max_body(),
                attempts: 1,
            }),
            Err(Failure::Gzip { status, error }) => Err(Error::Gzip {
                url: scrub(&request.url),
                status,
                source: error,
                attempts: 1,
            }),
            Err(Failure::Http(error)) => Err(Error::Request {
                url: scrub(&request.url),
                attempts,
                retryable: is_transient(&error),
                source: error.without_url(),
            }),
        }
    }

    /// How many requests were sent.
    pub fn requests(&self) -> u32 {
        self.sent.load(std::sync::atomic::Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_off_loopback_is_refused_before_any_request() {
        let url = Url::parse("http://forge.example.org/").unwrap();
        let error = Prober::new(&url, &TransportConfig::default()).unwrap_err();
        assert!(matches!(error, Error::InsecureHttp { .. }), "{error}");
    }

    /// A loopback server answering every request with `body`, gzipped, as a file.
    async fn serving_gzipped(body: Vec<u8>) -> Url {
        use std::io::Write;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gzip.write_all(&body).unwrap();
        let gzipped = gzip.finish().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut buf = [0; 1024];
                let _ = stream.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/gzip\r\ncontent-length: {}\r\n\r\n",
                    gzipped.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&gzipped).await;
            }
        });
        Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap()
    }

    #[tokio::test]
    async fn a_gzip_body_is_decompressed_and_a_gzip_bomb_refused_naming_the_url() {
        let base = serving_gzipped(br#"{"/a.git": {"modified": 1}}"#.to_vec()).await;
        let prober = Prober::new(&base, &TransportConfig::default()).unwrap();
        let manifest = PageRequest::get(base.join("manifest.js.gz").unwrap());
        let answer = prober.send(&manifest).await.unwrap();
        assert_eq!(answer.body, r#"{"/a.git": {"modified": 1}}"#);

        // 64 MiB of zeros, about 64 KiB gzipped, against a 1 MiB cap.
        let base = serving_gzipped(vec![0; 64 << 20]).await;
        let config = TransportConfig {
            max_body_bytes: 1 << 20,
            ..TransportConfig::default()
        };
        let prober = Prober::new(&base, &config).unwrap();
        let bomb = PageRequest::get(base.join("manifest.js.gz").unwrap());
        let error = prober.send(&bomb).await.unwrap_err();
        assert!(matches!(error, Error::Gzip { .. }), "{error:?}");
        let text = error.to_string();
        assert!(
            text.contains(bomb.url.as_str()) && text.contains("1048576-byte cap"),
            "{text}"
        );
        assert!(!error.is_retryable());
    }

    #[tokio::test]
    async fn requests_off_the_address_are_refused_and_not_counted() {
        let base = Url::parse("http://127.0.0.1:9/").unwrap();
        let prober = Prober::new(&base, &TransportConfig::default()).unwrap();
        let elsewhere = PageRequest::get(Url::parse("http://127.0.0.2:9/api").unwrap());
        let error = prober.send(&elsewhere).await.unwrap_err();
        assert!(matches!(error, Error::OffHost { .. }), "{error}");
        assert_eq!(prober.requests(), 0);
    }
}
