//! A website's `robots.txt`, over real HTTP on loopback: a page it disallows is never asked
//! for, its `Crawl-delay` paces the run, and a server that fails to give it is not crawled.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lister_core::{Fetched, Forge, NextCursor, Origin, PageRequest, RunContext};
use lister_http::{Error, HttpSource, TransportConfig, VirtualClock};
use url::Url;

/// A website forge (its pages are whatever the test asks for).
struct Site;

impl Forge for Site {
    type Cursor = u64;
    type Item<'a> = serde::de::IgnoredAny;
    const NAME: &'static str = "site";
    const DEFAULT_URL: &'static str = "";
    const NEXT: NextCursor = NextCursor::None;
    const WEBSITE: bool = true;

    fn origin(&self, _: serde::de::IgnoredAny, _: &Url) -> Option<Origin> {
        None
    }
}

/// A server answering `robots.txt` with `robots` (status, body) and any other path with a
/// small page; returns its base URL and the paths it was asked for.
fn serve(robots: (u16, &'static str)) -> (Url, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let asked = Arc::new(Mutex::new(Vec::new()));
    let log = asked.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let path = line
                .split_whitespace()
                .nth(1)
                .unwrap_or_default()
                .to_owned();
            while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                line.clear();
            }
            let (status, body) = match path.as_str() {
                "/robots.txt" => robots,
                _ => (200, "<html>a page</html>"),
            };
            log.lock().unwrap().push(path);
            let answer = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            stream.write_all(answer.as_bytes()).unwrap();
        }
    });
    (base, asked)
}

fn site_source(base: &Url, clock: Arc<VirtualClock>) -> HttpSource<Site> {
    let config = TransportConfig {
        max_attempts: 1,
        clock,
        ..TransportConfig::default()
    };
    HttpSource::new(Arc::new(Site), base, config).unwrap()
}

async fn fetch(source: &HttpSource<Site>, base: &Url, path: &str) -> Result<Fetched, Error> {
    let request = PageRequest::get(base.join(path).unwrap());
    source
        .fetch_page(&request, None, &RunContext::default())
        .await
}

#[tokio::test]
async fn a_disallowed_page_is_never_asked_for_and_the_crawl_delay_paces() {
    let (base, asked) = serve((200, "User-agent: *\nDisallow: /secret\nCrawl-delay: 3\n"));
    let clock = Arc::new(VirtualClock::new());
    let source = site_source(&base, clock.clone());
    assert!(fetch(&source, &base, "/index").await.is_ok());
    let refused = fetch(&source, &base, "/secret/repo").await.unwrap_err();
    assert!(matches!(refused, Error::Robots { .. }), "{refused}");
    assert!(
        refused.to_string().contains("its robots.txt disallows it"),
        "{refused}"
    );
    assert!(!refused.is_retryable());
    assert!(fetch(&source, &base, "/other").await.is_ok());
    assert_eq!(
        *asked.lock().unwrap(),
        ["/robots.txt", "/index", "/other"],
        "read once"
    );
    let paced = clock
        .sleeps()
        .iter()
        .any(|sleep| *sleep > Duration::from_millis(2_900));
    assert!(
        paced,
        "three seconds between requests: {:?}",
        clock.sleeps()
    );
}

#[tokio::test]
async fn a_missing_robots_txt_allows_everything_and_a_failing_one_nothing() {
    let (base, asked) = serve((404, "not found"));
    let source = site_source(&base, Arc::new(VirtualClock::new()));
    assert!(fetch(&source, &base, "/secret").await.is_ok());
    assert_eq!(asked.lock().unwrap().len(), 2);

    let (base, asked) = serve((503, "busy"));
    let source = site_source(&base, Arc::new(VirtualClock::new()));
    let refused = fetch(&source, &base, "/index").await.unwrap_err();
    assert!(
        refused.to_string().contains("could not be read (HTTP 503)"),
        "{refused}"
    );
    assert_eq!(
        *asked.lock().unwrap(),
        ["/robots.txt"],
        "nothing else is asked for"
    );
}
