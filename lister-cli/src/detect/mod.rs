//! `lister detect URL`: which forge software answers at an address, how sure, and why; and
//! the same for `lister run --url URL` without a forge name.
//!
//! The host is checked first (a forge's main instance needs no request). Then the probes of
//! [`probes::PROBES`] are sent one at a time, in order, until one is certain: clues from an
//! answer move the probes of the forges they name to the front, and a likely finding sends
//! only the probes that refine it. No credential is ever sent: until the forge is known, no
//! token is known to be meant for it.

mod answer;
mod probes;

use std::process::ExitCode;

use lister_core::{PageRequest, RequestBody};
use lister_http::{Prober, TransportConfig};
use url::Url;

use crate::cli::DetectArgs;
use crate::failure::Failure;
use crate::registry;
pub(crate) use probes::{Confidence, Finding};
use probes::{Known, PROBES, Probe, Verdict};

/// What detection found at an address, and what it asked.
#[derive(Debug)]
pub(crate) struct Detection {
    pub(crate) finding: Option<Finding>,
    /// Requests sent.
    pub(crate) requests: u32,
    /// Each request and its answer's status, in order.
    pub(crate) tried: Vec<String>,
}

impl Detection {
    /// The finding, if it names a forge lister lists.
    pub(crate) fn forge(&self) -> Option<&'static registry::Entry> {
        self.finding
            .as_ref()
            .and_then(|finding| registry::find(finding.software))
    }
}

/// Detects the forge at `url`. Fails on an address the transport refuses (before any
/// request) and on a request that fails below HTTP.
pub(crate) async fn detect(
    url: &Url,
    config: &TransportConfig,
) -> Result<Detection, lister_http::Error> {
    if let Some(forge) = registry::FORGES.iter().find(|f| f.is_main_instance(url)) {
        let host = url.host_str().unwrap_or_default();
        let finding = Finding {
            software: forge.name,
            confidence: Confidence::Certain,
            evidence: format!("{host} is {}'s main instance; no request sent", forge.name),
        };
        return Ok(Detection {
            finding: Some(finding),
            requests: 0,
            tried: Vec::new(),
        });
    }
    let base = base_of(url);
    let prober = Prober::new(&base, config)?;
    let mut clues: Vec<&'static str> = Vec::new();
    let mut likely: Option<Finding> = None;
    let mut sent = vec![false; PROBES.len()];
    let mut tried = Vec::new();
    while let Some(at) = next_probe(&sent, &clues, likely.as_ref()) {
        sent[at] = true;
        let probe = &PROBES[at];
        let request = request(&base, probe)?;
        let what = format!("{} {}", probe.method, path_and_query(&request.url));
        let answer = prober.send(&request).await?;
        tracing::debug!("{what}: HTTP {}", answer.status.as_u16());
        tried.push(format!("{what} (HTTP {})", answer.status.as_u16()));
        let known = Known {
            clues: &clues,
            likely: likely.as_ref(),
        };
        match (probe.read)(&answer, &what, &known) {
            Verdict::Found(finding) if finding.confidence == Confidence::Certain => {
                likely = Some(finding);
                break;
            }
            Verdict::Found(finding) => likely = Some(finding),
            Verdict::Clue(names) => clues.extend_from_slice(names),
            Verdict::Nothing => {}
        }
    }
    Ok(Detection {
        finding: likely,
        requests: prober.requests(),
        tried,
    })
}

/// The next probe to send: after a likely finding, only those refining it; else the first
/// not sent whose forges a clue names, else the first not sent.
fn next_probe(sent: &[bool], clues: &[&str], likely: Option<&Finding>) -> Option<usize> {
    let open = |at: &usize| !sent[*at];
    let mut candidates = (0..PROBES.len()).filter(open);
    if let Some(likely) = likely {
        return candidates.find(|&at| PROBES[at].refines == Some(likely.software));
    }
    let unrefined: Vec<usize> = candidates
        .filter(|&at| PROBES[at].refines.is_none())
        .collect();
    let clued = unrefined
        .iter()
        .find(|&&at| PROBES[at].forges.iter().any(|forge| clues.contains(forge)));
    clued.or(unrefined.first()).copied()
}

/// The address as a directory (`…/`), without query or fragment: probe paths join under it.
fn base_of(url: &Url) -> Url {
    let mut base = url.clone();
    base.set_query(None);
    base.set_fragment(None);
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    base
}

fn path_and_query(url: &Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}

fn request(base: &Url, probe: &Probe) -> Result<PageRequest, lister_http::Error> {
    let url = base
        .join(probe.path)
        .map_err(|err| lister_http::Error::InvalidBaseUrl {
            url: lister_http::scrub(base),
            reason: err.to_string(),
        })?;
    let mut request = PageRequest::get(url).with_header("accept", probe.accept);
    if probe.method == http::Method::POST {
        request.method = http::Method::POST;
        request.body = RequestBody::Form(Vec::new());
    }
    Ok(request)
}

/// The transport of detection: the run's timeouts and plain-http rule, no credentials.
pub(crate) fn transport(
    timeout: std::time::Duration,
    allow_insecure_http: bool,
) -> TransportConfig {
    TransportConfig {
        request_timeout: timeout,
        connect_timeout: timeout.min(TransportConfig::default().connect_timeout),
        allow_insecure_http,
        ..TransportConfig::default()
    }
}

/// One line for a person: `forgejo (certain: …)`.
pub(crate) fn describe(finding: &Finding) -> String {
    let unsupported = if registry::find(finding.software).is_none() {
        format!("; lister cannot list {} yet", finding.software)
    } else {
        String::new()
    };
    format!(
        "{} ({}: {}){unsupported}",
        finding.software, finding.confidence, finding.evidence
    )
}

/// The error when nothing was found.
pub(crate) fn nothing_found(url: &Url, detection: &Detection) -> anyhow::Error {
    anyhow::anyhow!(
        "no forge software lister knows answers at {}; tried {} request{}: {}",
        lister_http::scrub(url),
        detection.requests,
        if detection.requests == 1 { "" } else { "s" },
        detection.tried.join(", ")
    )
}

/// `lister detect URL`.
pub(crate) async fn command(args: &DetectArgs) -> Result<ExitCode, Failure> {
    let timeout = crate::cli::seconds("--timeout", args.timeout)?;
    let config = transport(timeout, args.allow_insecure_http);
    let outcome = detect(&args.url, &config).await;
    let url = lister_http::scrub(&args.url);
    let (detection, error) = match outcome {
        Ok(detection) if detection.finding.is_some() => (Some(detection), None),
        Ok(detection) => {
            let error = nothing_found(&args.url, &detection);
            (Some(detection), Some(error))
        }
        Err(
            error @ (lister_http::Error::InvalidBaseUrl { .. }
            | lister_http::Error::InsecureHttp { .. }),
        ) => {
            return Err(Failure::usage(error));
        }
        Err(error) => (
            None,
            Some(anyhow::Error::new(error).context(format!("cannot detect the forge at {url}"))),
        ),
    };
    if args.json {
        let finding = detection.as_ref().and_then(|d| d.finding.as_ref());
        let summary = serde_json::json!({
            "url": url,
            "forge": finding.map(|f| f.software),
            "confidence": finding.map(|f| f.confidence),
            "evidence": finding.map(|f| f.evidence.as_str()),
            "supported": finding.map(|f| registry::find(f.software).is_some()),
            "requests": detection.as_ref().map_or(0, |d| d.requests),
            "tried": detection.as_ref().map_or(&[][..], |d| &d.tried[..]),
            "error": error.as_ref().map(|e| format!("{e:#}")),
        });
        let written = crate::output::json_line(&mut std::io::stdout().lock(), &summary);
        crate::output::finish(written)?;
    } else if let Some(finding) = detection.as_ref().and_then(|d| d.finding.as_ref()) {
        let line = describe(finding);
        crate::output::finish(std::io::Write::write_all(
            &mut std::io::stdout().lock(),
            format!("{line}\n").as_bytes(),
        ))?;
    }
    match error {
        Some(error) => Err(Failure::failed(error)),
        None => Ok(ExitCode::SUCCESS),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn likely(software: &'static str) -> Finding {
        Finding {
            software,
            confidence: Confidence::Likely,
            evidence: String::new(),
        }
    }

    #[test]
    fn probes_in_order_clued_ones_first_refiners_only_after_their_forge() {
        let none = vec![false; PROBES.len()];
        let path = |at: Option<usize>| at.map(|at| PROBES[at].path);
        assert_eq!(path(next_probe(&none, &[], None)), Some("?format=JSON"));
        let mut sent = none.clone();
        sent[0] = true;
        assert_eq!(path(next_probe(&sent, &[], None)), Some("api/v1/version"));
        assert_eq!(
            path(next_probe(&sent, &["phorge"], None)),
            Some("api/conduit.ping")
        );
        assert_eq!(
            path(next_probe(&sent, &["bitbucket-server"], None)),
            Some("rest/api/1.0/application-properties")
        );
        sent[1] = true;
        let gitea = likely("gitea");
        assert_eq!(
            path(next_probe(&sent, &[], Some(&gitea))),
            Some("api/forgejo/v1/version")
        );
        // The refining probe is never sent without its forge.
        assert_eq!(
            path(next_probe(&sent, &[], None)),
            Some("api/v4/projects?per_page=1&simple=true")
        );
        let gitlab = likely("gitlab");
        assert_eq!(next_probe(&sent, &[], Some(&gitlab)), None);
        assert_eq!(next_probe(&vec![true; PROBES.len()], &[], None), None);
    }

    #[test]
    fn probe_paths_join_under_the_address() {
        let url = Url::parse("https://forge.example.org/git?x=1#top").unwrap();
        let base = base_of(&url);
        assert_eq!(base.as_str(), "https://forge.example.org/git/");
        let gitiles = request(&base, &PROBES[0]).unwrap();
        assert_eq!(
            gitiles.url.as_str(),
            "https://forge.example.org/git/?format=JSON"
        );
        let conduit = PROBES
            .iter()
            .find(|p| p.path == "api/conduit.ping")
            .unwrap();
        let conduit = request(&base, conduit).unwrap();
        assert_eq!(conduit.method, http::Method::POST);
        assert_eq!(
            conduit.url.as_str(),
            "https://forge.example.org/git/api/conduit.ping"
        );
    }

    #[tokio::test]
    async fn a_main_instance_is_known_by_its_host_without_a_request() {
        let config = transport(std::time::Duration::from_secs(1), false);
        for (url, forge) in [
            ("https://github.com/", "github"),
            ("https://api.github.com", "github"),
            ("https://bitbucket.org/workspace", "bitbucket"),
            ("https://codeberg.org", "forgejo"),
            ("https://gitlab.com/", "gitlab"),
        ] {
            let detection = detect(&Url::parse(url).unwrap(), &config).await.unwrap();
            let finding = detection.finding.unwrap();
            assert_eq!((finding.software, detection.requests), (forge, 0), "{url}");
            assert!(
                finding.evidence.contains("main instance"),
                "{}",
                finding.evidence
            );
        }
    }

    #[test]
    fn unsupported_software_is_said_so() {
        let fossil = Finding {
            software: "fossil",
            confidence: Confidence::Certain,
            evidence: "GET / is a page generated by Fossil".into(),
        };
        assert!(describe(&fossil).ends_with("lister cannot list fossil yet"));
        let cgit = Finding {
            software: "cgit",
            confidence: Confidence::Certain,
            evidence: "GET /?format=JSON is a page generated by \"cgit v1.2.3\"".into(),
        };
        assert!(
            !describe(&cgit).contains("cannot list"),
            "cgit is listed now"
        );
        assert!(describe(&likely("gitlab")).starts_with("gitlab (likely: "));
    }
}
