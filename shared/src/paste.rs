//! What people paste into the reference box, reduced to the reference it names: a
//! `docker pull X` or `podman pull X` line, a Dockerfile's `FROM X AS y`, a Docker Hub,
//! Quay or GitHub Packages page, a Strata link (its `/image/…` part and view), or a
//! reference wrapped in whitespace and quotes.
//!
//! This only finds the reference in the text; [`crate::source::ImageSource::parse`] then
//! checks it, so a text this does not recognize still gets that parser's exact error.

/// The reference found in a pasted text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pasted {
    /// The reference or transport name (`nginx:1.27`, `quay.io/org/name`, `oci:demo`).
    pub reference: String,
    /// The query of a pasted Strata link (`tab=files&path=%2Fetc`), so the shared view
    /// opens as it was shared.
    pub query: Option<String>,
}

impl Pasted {
    fn reference(reference: impl Into<String>) -> Pasted {
        Pasted {
            reference: reference.into(),
            query: None,
        }
    }
}

use crate::reference::{GHCR_HOST, QUAY_HOST};

/// Commands whose `pull` takes the reference as its first argument.
const PULLERS: &[&str] = &["docker", "podman", "nerdctl", "finch", "buildah", "ctr"];

/// Options of `pull` and `FROM` that take a value as the next word.
const PULL_VALUE_FLAGS: &[&str] = &[
    "--platform",
    "--arch",
    "--os",
    "--variant",
    "--authfile",
    "--cert-dir",
    "--creds",
    "--decryption-key",
    "--retry",
    "--retry-delay",
    "--policy",
    "--snapshotter",
];

/// Options of `run` and `create` that take a value as the next word.
const RUN_VALUE_FLAGS: &[&str] = &[
    "-a",
    "-c",
    "-e",
    "-h",
    "-l",
    "-m",
    "-p",
    "-u",
    "-v",
    "-w",
    "--add-host",
    "--attach",
    "--cap-add",
    "--cap-drop",
    "--cidfile",
    "--cpus",
    "--device",
    "--dns",
    "--entrypoint",
    "--env",
    "--env-file",
    "--expose",
    "--gpus",
    "--group-add",
    "--health-cmd",
    "--hostname",
    "--ipc",
    "--label",
    "--link",
    "--log-driver",
    "--log-opt",
    "--memory",
    "--mount",
    "--name",
    "--net",
    "--network",
    "--pid",
    "--platform",
    "--publish",
    "--pull",
    "--restart",
    "--runtime",
    "--security-opt",
    "--shm-size",
    "--stop-signal",
    "--tmpfs",
    "--ulimit",
    "--user",
    "--volume",
    "--volumes-from",
    "--workdir",
];

/// Characters that wrap a copied reference.
const QUOTES: &[char] = &['"', '\'', '`', '“', '”', '‘', '’'];

/// Finds the reference in `text`. A text not recognized is returned trimmed, as typed.
pub fn extract(text: &str) -> Pasted {
    let text = unquote(text);
    // A pasted Dockerfile or shell session: the first line that names an image.
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.len() > 1
        && let Some(found) = lines.iter().find_map(|l| command(l))
    {
        return found;
    }
    let line = lines.first().copied().unwrap_or_default();
    let mut found = command(line).unwrap_or_else(|| single(line));
    // A value decoded from a link may end in spaces.
    found.reference = found.reference.trim().to_owned();
    found
}

/// Surrounding whitespace and quotes removed.
fn unquote(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || QUOTES.contains(&c))
}

/// A `pull`, `FROM` or `skopeo` command line's reference.
fn command(line: &str) -> Option<Pasted> {
    let mut words = line.split_whitespace().map(unquote).peekable();
    // A shell prompt and `sudo` come before the command.
    while let Some(&w) = words.peek() {
        if w == "$" || w == "#" || w == "sudo" {
            words.next();
        } else {
            break;
        }
    }
    let first = words.next()?;
    if first.eq_ignore_ascii_case("FROM") {
        return first_argument(words, PULL_VALUE_FLAGS).map(single);
    }
    if first == "skopeo" {
        return words
            .find_map(|w| w.strip_prefix("docker://"))
            .map(Pasted::reference);
    }
    if !PULLERS.contains(&first) {
        return None;
    }
    // `docker pull`, `docker image pull`, `ctr images pull`, `docker run`.
    let flags = loop {
        match words.next()? {
            "pull" => break PULL_VALUE_FLAGS,
            "run" | "create" => break RUN_VALUE_FLAGS,
            "image" | "images" | "container" => continue,
            _ => return None,
        }
    };
    first_argument(words, flags).map(single)
}

/// The first word that is not an option (nor an option's value).
fn first_argument<'a>(
    mut words: impl Iterator<Item = &'a str>,
    value_flags: &[&str],
) -> Option<&'a str> {
    while let Some(w) = words.next() {
        if !w.starts_with('-') {
            return Some(w);
        }
        if value_flags.contains(&w) {
            words.next();
        }
    }
    None
}

/// One word: a web page of an image, a Strata link, `docker://X`, or a reference.
fn single(word: &str) -> Pasted {
    let word = unquote(word);
    if let Some(rest) = word.strip_prefix("docker://") {
        return Pasted::reference(rest);
    }
    let Some(rest) = word
        .strip_prefix("https://")
        .or_else(|| word.strip_prefix("http://"))
    else {
        return Pasted::reference(word);
    };
    // An address ends at the first space: what follows is other text.
    let rest = rest.split(char::is_whitespace).next().unwrap_or(rest);
    let fragment_free = rest.split('#').next().unwrap_or(rest);
    let (before_query, query) = match fragment_free.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (fragment_free, None),
    };
    let (host, path) = before_query.split_once('/').unwrap_or((before_query, ""));
    let host = host.to_ascii_lowercase();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    if let Some(found) = web_page(&host, &segments, query) {
        return found;
    }
    // A Strata link: `/image/{reference}?{view}`.
    if let Some(reference) = path.strip_prefix("image/").filter(|r| !r.is_empty()) {
        return Pasted {
            reference: percent_decode(reference),
            query: query.filter(|q| !q.is_empty()).map(str::to_owned),
        };
    }
    // Any other address: the registry host and repository it spells.
    Pasted::reference(before_query.trim_end_matches('/'))
}

/// Docker Hub, Quay and GitHub Packages pages of an image.
fn web_page(host: &str, segments: &[&str], query: Option<&str>) -> Option<Pasted> {
    let param = |name: &str| {
        query?
            .split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .filter(|v| !v.is_empty())
            .map(percent_decode)
    };
    match (host, segments) {
        ("hub.docker.com", ["_", name, ..]) => Some(Pasted::reference(*name)),
        ("hub.docker.com", ["r", org, name, ..]) => {
            Some(Pasted::reference(format!("{org}/{name}")))
        }
        // `/layers/{namespace}/{name}/{tag}/images/sha256-…`
        ("hub.docker.com", ["layers", namespace, name, tag, ..]) => {
            let repository = match *namespace {
                "library" | "_" => (*name).to_owned(),
                _ => format!("{namespace}/{name}"),
            };
            Some(Pasted::reference(format!("{repository}:{tag}")))
        }
        (QUAY_HOST, ["repository", org, name, ..]) => {
            let mut reference = format!("{QUAY_HOST}/{org}/{name}");
            if let Some(tag) = param("tag") {
                reference.push(':');
                reference.push_str(&tag);
            }
            Some(Pasted::reference(reference))
        }
        (
            "github.com",
            [
                "orgs" | "users",
                owner,
                "packages",
                "container",
                "package",
                name,
                ..,
            ],
        )
        | ("github.com", [owner, _, "pkgs", "container", name, ..]) => Some(Pasted::reference(
            format!("{GHCR_HOST}/{owner}/{name}").to_ascii_lowercase(),
        )),
        _ => None,
    }
}

/// `%40` → `@`; a malformed escape is kept as written.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by the `paste` fuzz target: an address followed by a space and more text gave
    /// a reference ending in a space.
    #[test]
    fn an_address_ends_at_the_first_space() {
        let found = extract("http://registry.example/team/app/// /");
        assert_eq!(found.reference, "registry.example/team/app");
        let found = extract("https://quay.io/repository/org/name and more words");
        assert_eq!(found.reference.trim(), found.reference);
        assert!(!found.reference.contains(' '), "{found:?}");
    }

    /// Each text people copy, and the reference (and view) it names.
    #[test]
    fn finds_the_reference_in_what_people_copy() {
        let cases: &[(&str, &str, Option<&str>)] = &[
            ("nginx:1.27", "nginx:1.27", None),
            ("  nginx:1.27 \n", "nginx:1.27", None),
            ("\"nginx:1.27\"", "nginx:1.27", None),
            ("'quay.io/org/app:v1'", "quay.io/org/app:v1", None),
            ("`nginx`", "nginx", None),
            ("docker pull nginx:1.27", "nginx:1.27", None),
            ("$ sudo docker pull -q nginx:1.27", "nginx:1.27", None),
            ("docker pull --platform linux/arm64 nginx", "nginx", None),
            ("docker pull --platform=linux/arm64 nginx", "nginx", None),
            ("docker image pull ghcr.io/o/app:2", "ghcr.io/o/app:2", None),
            (
                "podman pull docker.io/library/debian:bookworm",
                "docker.io/library/debian:bookworm",
                None,
            ),
            ("nerdctl pull alpine", "alpine", None),
            (
                "docker run -it --rm -p 80:80 -e A=1 nginx:1.27 sh",
                "nginx:1.27",
                None,
            ),
            ("podman run --name web -d nginx", "nginx", None),
            (
                "ctr images pull docker.io/library/alpine:3",
                "docker.io/library/alpine:3",
                None,
            ),
            ("FROM nginx:1.27", "nginx:1.27", None),
            ("FROM nginx:1.27 AS web", "nginx:1.27", None),
            (
                "from --platform=$BUILDPLATFORM golang:1.22 as build",
                "golang:1.22",
                None,
            ),
            (
                "# syntax=docker/dockerfile:1\nFROM alpine:3.20 AS base\nRUN true",
                "alpine:3.20",
                None,
            ),
            (
                "skopeo inspect docker://quay.io/org/app:v1",
                "quay.io/org/app:v1",
                None,
            ),
            ("docker://nginx:1.27", "nginx:1.27", None),
            ("https://hub.docker.com/_/nginx", "nginx", None),
            ("https://hub.docker.com/_/nginx/tags?page=1", "nginx", None),
            (
                "https://hub.docker.com/r/grafana/grafana",
                "grafana/grafana",
                None,
            ),
            (
                "https://hub.docker.com/r/grafana/grafana/tags",
                "grafana/grafana",
                None,
            ),
            (
                "https://hub.docker.com/layers/library/nginx/1.27/images/sha256-ab",
                "nginx:1.27",
                None,
            ),
            (
                "https://quay.io/repository/org/name?tab=tags",
                "quay.io/org/name",
                None,
            ),
            (
                "https://quay.io/repository/org/name?tab=tags&tag=v2",
                "quay.io/org/name:v2",
                None,
            ),
            (
                "https://github.com/orgs/Acme/packages/container/package/tool",
                "ghcr.io/acme/tool",
                None,
            ),
            (
                "https://gcr.io/distroless/static/",
                "gcr.io/distroless/static",
                None,
            ),
            (
                "http://127.0.0.1:8787/image/127.0.0.1:5000/team/app@sha256:00?tab=files&path=%2Fetc",
                "127.0.0.1:5000/team/app@sha256:00",
                Some("tab=files&path=%2Fetc"),
            ),
            (
                "https://strata.example/image/oci:demo%40sha256:ab",
                "oci:demo@sha256:ab",
                None,
            ),
            ("oci:demo", "oci:demo", None),
            ("docker-daemon:app:dev", "docker-daemon:app:dev", None),
        ];
        for (text, reference, query) in cases {
            let got = extract(text);
            assert_eq!(got.reference, *reference, "{text:?}");
            assert_eq!(got.query.as_deref(), *query, "{text:?}");
        }
    }

    /// What is not recognized goes to the reference parser as typed, for its error.
    #[test]
    fn unrecognized_text_is_kept_for_the_parser_to_explain() {
        assert_eq!(extract("Nginx:latest").reference, "Nginx:latest");
        assert_eq!(extract("docker build .").reference, "docker build .");
        assert_eq!(extract("docker pull").reference, "docker pull");
        assert_eq!(extract("").reference, "");
    }
}
