//! GitLab's projects (and Heptapod's): sparse increasing ids, visibility, forks, Heptapod's
//! `vcs_type`, and the full and "simple" views built from the fixture (served by
//! [`gitlab_route`](super::gitlab_route)).

use std::sync::LazyLock;

use super::ExpectedOrigin;
use super::instance::Instance;
use super::payload::{
    Template, first_object, minify, push_number, push_time, retain, sparse_id, time_text,
};

/// The fields of the "simple" view (anonymous requests, `simple=true`).
const SIMPLE_FIELDS: [&str; 19] = [
    "id",
    "description",
    "name",
    "name_with_namespace",
    "path",
    "path_with_namespace",
    "created_at",
    "default_branch",
    "tag_list",
    "topics",
    "ssh_url_to_repo",
    "http_url_to_repo",
    "web_url",
    "readme_url",
    "avatar_url",
    "forks_count",
    "star_count",
    "last_activity_at",
    "namespace",
];

/// The id of the `k`-th project (from 1): sparse and strictly increasing.
pub(crate) fn project_id(instance: Instance, k: u64) -> u64 {
    match instance {
        Instance::Heptapod => sparse_id(k, 2),
        _ => sparse_id(k, 5),
    }
}

/// `private` for every 11th project, `internal` for every 13th, `public` otherwise.
pub(crate) fn visibility(k: u64) -> &'static str {
    match k {
        _ if k.is_multiple_of(11) => "private",
        _ if k.is_multiple_of(13) => "internal",
        _ => "public",
    }
}

/// Every 7th project is a fork (of the `k / 7`-th).
fn is_fork(k: u64) -> bool {
    k.is_multiple_of(7)
}

/// Heptapod's `vcs_type` (`None` on GitLab).
fn vcs_type(instance: Instance, k: u64) -> Option<&'static str> {
    (instance == Instance::Heptapod).then(|| ["git", "hg", "hg_git"][(k % 3) as usize])
}

fn is_hg(instance: Instance, k: u64) -> bool {
    vcs_type(instance, k).is_some_and(|vcs| vcs != "git")
}

/// `group{k%97}/project-{k}`.
fn full_path(k: u64) -> String {
    format!("group{}/project-{k}", k % 97)
}

/// The `http_url_to_repo` of the `k`-th project (no `.git` for Heptapod's hg projects).
pub(crate) fn http_url(instance: Instance, k: u64) -> String {
    let suffix = if is_hg(instance, k) { "" } else { ".git" };
    format!("https://{}/{}{suffix}", instance.host(), full_path(k))
}

fn ssh_url(instance: Instance, k: u64) -> String {
    match is_hg(instance, k) {
        true => format!("ssh://hg@{}/{}", instance.host(), full_path(k)),
        false => format!("git@{}:{}.git", instance.host(), full_path(k)),
    }
}

fn created(k: u64) -> (i64, u32) {
    (
        1_380_000_000 + k as i64 * 18_000 + (k * 7919 % 3_600) as i64,
        (k * 37 % 1_000) as u32,
    )
}

fn last_activity(k: u64) -> (i64, u32) {
    let (at, _) = created(k);
    (
        at + (k % 400 + 1) as i64 * 86_400 + (k % 3_000) as i64,
        (k * 53 % 1_000) as u32,
    )
}

/// What a correct lister lists, in listing order.
pub(crate) fn origins(instance: Instance, count: u64, authenticated: bool) -> Vec<ExpectedOrigin> {
    (1..=count)
        .filter(|&k| authenticated || visibility(k) == "public")
        .map(|k| {
            let (at, millis) = last_activity(k);
            ExpectedOrigin {
                url: http_url(instance, k),
                visit_type: if is_hg(instance, k) { "hg" } else { "git" }.to_owned(),
                enabled: visibility(k) == "public",
                is_fork: authenticated.then_some(is_fork(k)),
                last_update: Some(time_text(at, Some(millis), 0)),
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
enum Slot {
    Id,
    NameField,
    ProjectName,
    GroupName,
    ProjectPath,
    GroupPath,
    SshUrl,
    HttpUrl,
    Host,
    DefaultBranch,
    Blob,
    Created,
    LastActivity,
    NamespaceId,
    Visibility,
    ImportStatus,
    LinkId,
}

/// The full view's template and the simple view's.
static TEMPLATES: LazyLock<[Template<Slot>; 2]> = LazyLock::new(|| {
    let fixture = minify(include_str!("../../fixtures/gitlab_projects_page.json"));
    let full = first_object(&fixture);
    let needles = [
        ("{\"id\":4,", Slot::Id),
        ("\"name\":\"Diaspora Client\"", Slot::NameField),
        ("Diaspora Client", Slot::ProjectName),
        ("Diaspora", Slot::GroupName),
        ("diaspora-client", Slot::ProjectPath),
        ("diaspora", Slot::GroupPath),
        (
            "\"ssh_url_to_repo\":\"git@gitlab.example.com:diaspora/diaspora-client.git\"",
            Slot::SshUrl,
        ),
        (
            "\"http_url_to_repo\":\"https://gitlab.example.com/diaspora/diaspora-client.git\"",
            Slot::HttpUrl,
        ),
        ("gitlab.example.com", Slot::Host),
        ("\"default_branch\":\"main\"", Slot::DefaultBranch),
        ("/-/blob/main/", Slot::Blob),
        ("2013-09-30T13:46:02.000Z", Slot::Created),
        ("2020-04-24T13:57:28.102Z", Slot::LastActivity),
        ("\"namespace\":{\"id\":3,", Slot::NamespaceId),
        ("\"visibility\":\"public\"", Slot::Visibility),
        ("\"import_status\":\"none\"", Slot::ImportStatus),
        ("/api/v4/projects/4", Slot::LinkId),
    ];
    let simple = retain(full, &SIMPLE_FIELDS);
    [
        Template::split(full, &needles),
        Template::split(&simple, &needles),
    ]
});

fn push_text(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(text.as_bytes());
}

/// Appends the `k`-th project, in the full view or the simple one.
fn render_project(out: &mut Vec<u8>, instance: Instance, k: u64, full_view: bool) {
    let group = k % 97;
    let branch = if is_hg(instance, k) {
        "branch/default"
    } else {
        "main"
    };
    TEMPLATES[usize::from(!full_view)].render(out, |slot, out| match slot {
        Slot::Id => {
            push_text(out, "{\"id\":");
            push_number(out, project_id(instance, k));
            out.push(b',');
        }
        Slot::NameField => {
            if let Some(vcs) = vcs_type(instance, k) {
                push_text(out, &format!("\"vcs_type\":\"{vcs}\","));
            }
            push_text(out, &format!("\"name\":\"Project {k}\""));
        }
        Slot::ProjectName => push_text(out, &format!("Project {k}")),
        Slot::GroupName => push_text(out, &format!("Group {group}")),
        Slot::ProjectPath => push_text(out, &format!("project-{k}")),
        Slot::GroupPath => push_text(out, &format!("group{group}")),
        Slot::SshUrl => push_text(
            out,
            &format!("\"ssh_url_to_repo\":\"{}\"", ssh_url(instance, k)),
        ),
        Slot::HttpUrl => push_text(
            out,
            &format!("\"http_url_to_repo\":\"{}\"", http_url(instance, k)),
        ),
        Slot::Host => push_text(out, instance.host()),
        Slot::DefaultBranch => push_text(out, &format!("\"default_branch\":\"{branch}\"")),
        Slot::Blob => push_text(out, &format!("/-/blob/{branch}/")),
        Slot::Created => {
            let (at, millis) = created(k);
            push_time(out, at, Some(millis), 0);
        }
        Slot::LastActivity => {
            let (at, millis) = last_activity(k);
            push_time(out, at, Some(millis), 0);
        }
        Slot::NamespaceId => {
            push_text(out, "\"namespace\":{\"id\":");
            push_number(out, 1_000 + group);
            out.push(b',');
        }
        Slot::Visibility => push_text(out, &format!("\"visibility\":\"{}\"", visibility(k))),
        Slot::ImportStatus => {
            if is_fork(k) {
                push_text(out, "\"forked_from_project\":");
                render_project(out, instance, k / 7, false);
                out.push(b',');
            }
            push_text(out, "\"import_status\":\"none\"");
        }
        Slot::LinkId => {
            push_text(out, "/api/v4/projects/");
            push_number(out, project_id(instance, k));
        }
    });
}

/// The JSON array of the projects at positions `ks`.
pub(crate) fn render_page(instance: Instance, ks: &[u64], full_view: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(ks.len() * if full_view { 5_000 } else { 1_500 } + 2);
    out.push(b'[');
    for (at, &k) in ks.iter().enumerate() {
        if at > 0 {
            out.push(b',');
        }
        render_project(&mut out, instance, k, full_view);
    }
    out.push(b']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_and_simple_views() {
        let page = render_page(Instance::Gitlab, &[7, 11, 13], true);
        let items: Vec<serde_json::Value> = serde_json::from_slice(&page).unwrap();
        assert_eq!(items[0]["id"], project_id(Instance::Gitlab, 7));
        assert_eq!(
            items[0]["http_url_to_repo"],
            "https://gitlab.example.org/group7/project-7.git"
        );
        assert_eq!(items[0]["path_with_namespace"], "group7/project-7");
        assert_eq!(
            items[0]["forked_from_project"]["id"],
            project_id(Instance::Gitlab, 1)
        );
        assert!(items[0]["forked_from_project"].get("visibility").is_none());
        assert_eq!(items[1]["visibility"], "private");
        assert!(items[1].get("forked_from_project").is_none());
        assert_eq!(items[2]["visibility"], "internal");
        let size = serde_json::to_string(&items[1]).unwrap().len();
        assert!((3_000..6_000).contains(&size), "{size}");

        let simple = render_page(Instance::Gitlab, &[7], false);
        let simple: Vec<serde_json::Value> = serde_json::from_slice(&simple).unwrap();
        let keys: Vec<&String> = simple[0].as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), SIMPLE_FIELDS.len());
        assert_eq!(simple[0]["last_activity_at"], items[0]["last_activity_at"]);
    }

    #[test]
    fn heptapod_mixes_vcs() {
        let page = render_page(Instance::Heptapod, &[3, 4, 5], false);
        let items: Vec<serde_json::Value> = serde_json::from_slice(&page).unwrap();
        assert_eq!(items[0]["vcs_type"], "git");
        assert_eq!(
            items[0]["http_url_to_repo"],
            "https://foss.heptapod.example.org/group3/project-3.git"
        );
        assert_eq!(items[1]["vcs_type"], "hg");
        assert_eq!(
            items[1]["http_url_to_repo"],
            "https://foss.heptapod.example.org/group4/project-4"
        );
        assert_eq!(
            items[1]["ssh_url_to_repo"],
            "ssh://hg@foss.heptapod.example.org/group4/project-4"
        );
        assert_eq!(items[2]["vcs_type"], "hg_git");
        assert_eq!(items[2]["default_branch"], "branch/default");
        let origins = origins(Instance::Heptapod, 5, false);
        assert_eq!(origins[3].visit_type, "hg");
        assert_eq!(origins[2].visit_type, "git");
    }
}
