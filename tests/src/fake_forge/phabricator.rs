//! Phabricator's repositories (and Phorge's) as `diffusion.repository.search` lists them,
//! built from the fixture: `vcs` git, hg or svn, optional short name and callsign, and their
//! URIs (builtin ssh and https ones, by id, short name and callsign, and observed mirrors),
//! written as PHP's `json_encode` does (served by [`conduit`](super::conduit)).

use std::sync::LazyLock;

use super::ExpectedOrigin;
use super::instance::Instance;
use super::payload::{Template, first_object, member, minify, push_number, value};

/// The id of the `k`-th repository (from 1): increasing, with a gap every 10.
pub(crate) fn repository_id(k: u64) -> u64 {
    k + k / 10
}

fn vcs(k: u64) -> &'static str {
    match k {
        _ if k.is_multiple_of(5) => "hg",
        _ if k.is_multiple_of(7) => "svn",
        _ => "git",
    }
}

/// Every 10th repository has no short name.
fn short_name(k: u64) -> Option<String> {
    (!k.is_multiple_of(10)).then(|| format!("repo-{k}"))
}

/// Every 4th repository has no callsign; the others `R` then `k` in letters.
fn callsign(k: u64) -> Option<String> {
    if k.is_multiple_of(4) {
        return None;
    }
    let (mut letters, mut n) = (Vec::new(), k);
    while n > 0 {
        n -= 1;
        letters.push(b'A' + (n % 26) as u8);
        n /= 26;
    }
    letters.push(b'R');
    letters.reverse();
    Some(String::from_utf8(letters).expect("letters are ASCII"))
}

/// Every 6th repository also observes a mirror.
fn has_mirror(k: u64) -> bool {
    k.is_multiple_of(6)
}

/// The name in clone paths: the short name, else the name in lower case.
fn clone_name(k: u64) -> String {
    short_name(k).unwrap_or_else(|| format!("repository-{k}"))
}

fn suffix(k: u64) -> &'static str {
    if vcs(k) == "git" { ".git" } else { "" }
}

/// `PHID-{kind}-` and 20 characters standing for `n`.
fn phid(kind: &str, n: u64) -> String {
    let mut state = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ kind.len() as u64;
    let tail: String = (0..20)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            b"abcdefghijklmnopqrstuvwxyz234567"[(state >> 59) as usize] as char
        })
        .collect();
    format!("PHID-{kind}-{tail}")
}

/// One URI of a repository: `(protocol, identifier)` of a builtin one, `None` for the mirror.
type Uri = Option<(&'static str, &'static str)>;

/// The repository's URIs in Phabricator's order (newest first).
fn uris(k: u64) -> Vec<Uri> {
    let mut uris = Vec::new();
    if has_mirror(k) {
        uris.push(None);
    }
    for protocol in ["https", "ssh"] {
        uris.push(Some((protocol, "id")));
        if short_name(k).is_some() {
            uris.push(Some((protocol, "shortname")));
        }
        if callsign(k).is_some() {
            uris.push(Some((protocol, "callsign")));
        }
    }
    uris
}

/// The identifier the repository shows by default: short name, else callsign, else id.
fn preferred(k: u64) -> &'static str {
    match (short_name(k), callsign(k)) {
        (Some(_), _) => "shortname",
        (None, Some(_)) => "callsign",
        (None, None) => "id",
    }
}

/// The path of a builtin URI: `/source/NAME`, `/diffusion/CALLSIGN/NAME`, `/diffusion/ID/NAME`.
fn path(k: u64, identifier: &str) -> String {
    let tail = format!("{}{}", clone_name(k), suffix(k));
    match identifier {
        "shortname" => format!("/source/{tail}"),
        "callsign" => format!("/diffusion/{}/{tail}", callsign(k).unwrap_or_default()),
        _ => format!("/diffusion/{}/{tail}", repository_id(k)),
    }
}

/// What a correct lister lists: the builtin https URI by short name, else callsign, else id.
pub(crate) fn origins(instance: Instance, count: u64) -> Vec<ExpectedOrigin> {
    (1..=count)
        .map(|k| ExpectedOrigin {
            url: format!("https://{}{}", instance.host(), path(k, preferred(k))),
            visit_type: vcs(k).to_owned(),
            enabled: true,
            is_fork: None,
            last_update: None,
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Id,
    Phid,
    Name,
    Vcs,
    Callsign,
    ShortName,
    DefaultBranch,
    Created,
    Modified,
    Attachments,
    UriId,
    UriPhid,
    Uri,
    Io,
    Display,
    Builtin,
}

/// The repository's template and the URI's.
static TEMPLATES: LazyLock<[Template<Slot>; 2]> = LazyLock::new(|| {
    let fixture = minify(include_str!(
        "../../fixtures/phabricator_repository_search.json"
    ));
    let repository = first_object(value(value(&fixture, "result"), "data"));
    let fields = value(repository, "fields");
    let repository_phid = value(repository, "phid").trim_matches('"');
    let needles = [
        ("{\"id\":3,", Slot::Id),
        (repository_phid, Slot::Phid),
        (member(fields, "name"), Slot::Name),
        (member(fields, "vcs"), Slot::Vcs),
        (member(fields, "callsign"), Slot::Callsign),
        (member(fields, "shortName"), Slot::ShortName),
        (member(fields, "defaultBranch"), Slot::DefaultBranch),
        (member(fields, "dateCreated"), Slot::Created),
        (member(fields, "dateModified"), Slot::Modified),
        (member(repository, "attachments"), Slot::Attachments),
    ];
    let uri = first_object(value(
        value(value(repository, "attachments"), "uris"),
        "uris",
    ));
    let uri_fields = value(uri, "fields");
    let uri_needles = [
        (member(uri, "id"), Slot::UriId),
        (value(uri, "phid").trim_matches('"'), Slot::UriPhid),
        (repository_phid, Slot::Phid),
        (member(uri_fields, "uri"), Slot::Uri),
        (member(uri_fields, "io"), Slot::Io),
        (member(uri_fields, "display"), Slot::Display),
        (member(uri_fields, "builtin"), Slot::Builtin),
    ];
    [
        Template::split(repository, &needles),
        Template::split(uri, &uri_needles),
    ]
});

/// Text as PHP's `json_encode` writes it inside a string (`\/`, `\u003c`, `\u003e`).
pub(crate) fn php(text: &str) -> String {
    text.replace('/', "\\/")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
}

pub(crate) fn push_text(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(text.as_bytes());
}

pub(crate) fn string_or_null(value: Option<String>) -> String {
    value.map_or_else(|| "null".to_owned(), |value| format!("\"{value}\""))
}

/// Appends the URI at `at` in [`uris`]`(k)`.
fn render_uri(out: &mut Vec<u8>, instance: Instance, k: u64, at: usize, uri: Uri) {
    let id = repository_id(k);
    let uri_id = id * 8 + 7 - at as u64;
    let host = instance.host();
    TEMPLATES[1].render(out, |slot, out| match slot {
        Slot::UriId => push_text(out, &format!("\"id\":\"{uri_id}\"")),
        Slot::UriPhid => push_text(out, &phid("RURI", uri_id)),
        Slot::Phid => push_text(out, &phid("REPO", id)),
        Slot::Uri => {
            let (raw, effective, normalized) = match uri {
                None => {
                    let url = format!("https://github.com/upstream/{}{}", clone_name(k), suffix(k));
                    (url.clone(), url, format!("github.com/upstream/{}", clone_name(k)))
                }
                Some((protocol, identifier)) => {
                    let user = if protocol == "ssh" { "git@" } else { "" };
                    let path = path(k, identifier);
                    let normalized = path.trim_end_matches(".git").rsplit_once('/').map_or(
                        path.clone(),
                        |(head, name)| if identifier == "shortname" { format!("{head}/{name}") } else { head.to_owned() },
                    );
                    (
                        format!("{protocol}://{identifier}"),
                        format!("{protocol}://{user}{host}{path}"),
                        format!("<base-uri>{normalized}"),
                    )
                }
            };
            let (raw, effective, normalized) = (php(&raw), php(&effective), php(&normalized));
            push_text(
                out,
                &format!("\"uri\":{{\"raw\":\"{raw}\",\"display\":\"{effective}\",\"effective\":\"{effective}\",\"normalized\":\"{normalized}\"}}"),
            );
        }
        Slot::Io => {
            let (default, effective) = match uri {
                None => ("none", "observe"),
                Some(_) if has_mirror(k) => ("read", "read"),
                Some(_) => ("readwrite", "readwrite"),
            };
            let raw = if uri.is_none() { "observe" } else { "default" };
            push_text(out, &format!("\"io\":{{\"raw\":\"{raw}\",\"default\":\"{default}\",\"effective\":\"{effective}\"}}"));
        }
        Slot::Display => {
            let shown = matches!(uri, Some((_, identifier)) if identifier == preferred(k));
            let display = if shown { "always" } else { "never" };
            push_text(out, &format!("\"display\":{{\"raw\":\"default\",\"default\":\"{display}\",\"effective\":\"{display}\"}}"));
        }
        Slot::Builtin => {
            let (protocol, identifier) = match uri {
                Some((protocol, identifier)) => (format!("\"{protocol}\""), format!("\"{identifier}\"")),
                None => ("null".to_owned(), "null".to_owned()),
            };
            push_text(out, &format!("\"builtin\":{{\"protocol\":{protocol},\"identifier\":{identifier}}}"));
        }
        _ => {}
    });
}

fn created(k: u64) -> u64 {
    1_300_000_000 + k * 25_200
}

/// Appends the `k`-th repository, with its URIs when `with_uris`.
pub(crate) fn render_repository(out: &mut Vec<u8>, instance: Instance, k: u64, with_uris: bool) {
    let id = repository_id(k);
    TEMPLATES[0].render(out, |slot, out| match slot {
        Slot::Id => {
            push_text(out, "{\"id\":");
            push_number(out, id);
            out.push(b',');
        }
        Slot::Phid => push_text(out, &phid("REPO", id)),
        Slot::Name => push_text(out, &format!("\"name\":\"Repository {k}\"")),
        Slot::Vcs => push_text(out, &format!("\"vcs\":\"{}\"", vcs(k))),
        Slot::Callsign => push_text(
            out,
            &format!("\"callsign\":{}", string_or_null(callsign(k))),
        ),
        Slot::ShortName => push_text(
            out,
            &format!("\"shortName\":{}", string_or_null(short_name(k))),
        ),
        Slot::DefaultBranch => {
            let branch = match vcs(k) {
                "git" => Some("master".to_owned()),
                "hg" => Some("default".to_owned()),
                _ => None,
            };
            push_text(
                out,
                &format!("\"defaultBranch\":{}", string_or_null(branch)),
            );
        }
        Slot::Created => push_text(out, &format!("\"dateCreated\":{}", created(k))),
        Slot::Modified => push_text(
            out,
            &format!("\"dateModified\":{}", created(k) + (k % 900 + 1) * 86_400),
        ),
        Slot::Attachments if !with_uris => push_text(out, "\"attachments\":[]"),
        Slot::Attachments => {
            push_text(out, "\"attachments\":{\"uris\":{\"uris\":[");
            for (at, uri) in uris(k).into_iter().enumerate() {
                if at > 0 {
                    out.push(b',');
                }
                render_uri(out, instance, k, at, uri);
            }
            push_text(out, "]}}");
        }
        _ => {}
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repository(k: u64) -> serde_json::Value {
        let mut out = Vec::new();
        render_repository(&mut out, Instance::Phabricator, k, true);
        serde_json::from_slice(&out).unwrap()
    }

    #[test]
    fn repositories_carry_their_uris() {
        let six = repository(6);
        assert_eq!(six["id"], 6);
        assert_eq!(six["fields"]["vcs"], "git");
        assert_eq!(six["fields"]["shortName"], "repo-6");
        assert_eq!(six["fields"]["callsign"], "RF");
        let uris = six["attachments"]["uris"]["uris"].as_array().unwrap();
        assert_eq!(uris.len(), 7);
        assert_eq!(
            uris[0]["fields"]["builtin"]["protocol"],
            serde_json::Value::Null
        );
        assert_eq!(uris[0]["fields"]["io"]["effective"], "observe");
        assert_eq!(
            uris[0]["fields"]["uri"]["effective"],
            "https://github.com/upstream/repo-6.git"
        );
        assert_eq!(
            uris[2]["fields"]["uri"]["effective"],
            "https://phabricator.example.org/source/repo-6.git"
        );
        assert_eq!(
            uris[2]["fields"]["uri"]["normalized"],
            "<base-uri>/source/repo-6"
        );
        assert_eq!(uris[2]["fields"]["display"]["effective"], "always");
        assert_eq!(
            uris[4]["fields"]["uri"]["effective"],
            "ssh://git@phabricator.example.org/diffusion/6/repo-6.git"
        );
        assert_eq!(uris[0]["fields"]["repositoryPHID"], six["phid"]);

        let twenty = repository(20);
        assert_eq!(twenty["id"], 22);
        assert_eq!(twenty["fields"]["vcs"], "hg");
        assert!(twenty["fields"]["shortName"].is_null());
        assert!(twenty["fields"]["callsign"].is_null());
        let expected = &origins(Instance::Phabricator, 20)[19];
        assert_eq!(
            expected.url,
            "https://phabricator.example.org/diffusion/22/repository-20"
        );
        assert_eq!(expected.visit_type, "hg");
        assert_eq!(
            origins(Instance::Phabricator, 30)[29].url,
            "https://phabricator.example.org/diffusion/RAD/repository-30"
        );
    }

    #[test]
    fn slashes_are_escaped_as_php_does() {
        let mut out = Vec::new();
        render_repository(&mut out, Instance::Phorge, 1, true);
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("https:\\/\\/phorge.example.org\\/source\\/repo-1.git"),
            "{text}"
        );
        assert!(!text.contains("://phorge"));
    }
}
