//! Registry credentials from the user's docker configuration: `auths` entries, and
//! `credHelpers` / `credsStore` through `docker-credential-NAME get`. Credentials are
//! looked up by registry host and only ever sent to that registry and the token realm it
//! names; `Debug` shows `<redacted>`. Helper answers are remembered for a while and for a
//! bounded number of registries (`helper_cache`).
//!
//! Identity tokens (an OAuth2 refresh token, from `docker login` to registries such as
//! Azure's or Harbor's OIDC mode) follow Docker's convention: an `auths` entry's
//! `identitytoken`, or a helper answering username `<token>`, becomes a [`Credential`]
//! whose username is [`IDENTITY_TOKEN_USER`]. It is only ever posted to the realm as a
//! refresh-token grant (see `token`), never sent to a registry as Basic.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use reqwest::header::HeaderValue;

use super::Secret;
use super::helper_cache::HelperCache;
use crate::config::{ConfigError, CredentialsSource};

/// The username Docker uses to mark a secret as an identity token.
pub const IDENTITY_TOKEN_USER: &str = "<token>";

/// A username and its secret.
#[derive(Clone)]
pub struct Credential {
    /// Username, or [`IDENTITY_TOKEN_USER`] when `secret` is an identity token.
    pub username: String,
    /// Password, token, or identity token.
    pub secret: Secret,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("username", &self.username)
            .field("secret", &self.secret)
            .finish()
    }
}

impl Credential {
    /// An identity token (OAuth2 refresh token) for the registry's realm.
    pub fn identity_token(token: impl Into<String>) -> Self {
        Credential {
            username: IDENTITY_TOKEN_USER.to_owned(),
            secret: Secret::new(token),
        }
    }

    /// Whether `secret` is an identity token rather than a password.
    pub fn is_identity_token(&self) -> bool {
        self.username == IDENTITY_TOKEN_USER
    }

    /// `Authorization: Basic …`, marked sensitive; `None` for an identity token, which
    /// only the realm may see, and only in a refresh-token grant.
    pub fn basic_header(&self) -> Option<HeaderValue> {
        if self.is_identity_token() {
            return None;
        }
        Some(basic(&self.username, self.secret.expose()))
    }
}

/// `Basic base64(user:secret)`.
fn basic(username: &str, secret: &str) -> HeaderValue {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{secret}"));
    let mut value =
        HeaderValue::from_str(&format!("Basic {encoded}")).unwrap_or(HeaderValue::from_static(""));
    value.set_sensitive(true);
    value
}

#[derive(serde::Deserialize, Default)]
struct DockerConfig {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: HashMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(serde::Deserialize, Default)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

#[derive(serde::Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// All credentials the companion may use, by registry host.
#[derive(Default)]
pub struct CredentialStore {
    /// From `auths`, keyed by normalized host.
    static_entries: HashMap<String, Credential>,
    /// Registry host → helper name.
    helpers: HashMap<String, String>,
    store: Option<String>,
    /// Directory to find helpers in (tests); `None` uses `$PATH`.
    helper_dir: Option<PathBuf>,
    /// Helper answers, bounded and expiring.
    helper_cache: HelperCache,
}

impl std::fmt::Debug for CredentialStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialStore")
            .field(
                "registries",
                &self.static_entries.keys().collect::<Vec<_>>(),
            )
            .field("helpers", &self.helpers)
            .field("store", &self.store)
            .finish()
    }
}

impl CredentialStore {
    /// Loads from the configured source; a missing file means no credentials.
    pub fn load(source: &CredentialsSource) -> Result<Self, ConfigError> {
        let (path, helper_dir) = match source {
            CredentialsSource::None => return Ok(Self::default()),
            CredentialsSource::File(p) => (p.clone(), None),
            CredentialsSource::FileWithHelperDir(p, d) => (p.clone(), Some(d.as_path())),
            CredentialsSource::Environment => match default_path() {
                Some(p) => (p, None),
                None => return Ok(Self::default()),
            },
        };
        match std::fs::read(&path) {
            Ok(bytes) => {
                Self::from_json(&bytes, helper_dir).map_err(|reason| ConfigError::Credentials {
                    path: path.clone(),
                    reason,
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(ConfigError::Credentials {
                path,
                reason: e.to_string(),
            }),
        }
    }

    /// Parses a docker `config.json` (or containers `auth.json`); helpers are looked up in
    /// `helper_dir` when given, else on `$PATH`.
    pub fn from_json(bytes: &[u8], helper_dir: Option<&Path>) -> Result<Self, String> {
        let config: DockerConfig = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let mut static_entries = HashMap::new();
        for (key, entry) in config.auths {
            let Some(host) = normalize_key(&key) else {
                continue;
            };
            // Docker prefers the identity token when an entry has both.
            let credential = if let Some(token) = entry.identitytoken.filter(|t| !t.is_empty()) {
                Credential::identity_token(token)
            } else if let Some(auth) = entry.auth.filter(|a| !a.is_empty()) {
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(auth.trim())
                    .map_err(|_| format!("auths entry for {host}: auth is not base64"))?;
                let decoded = String::from_utf8(decoded)
                    .map_err(|_| format!("auths entry for {host}: not UTF-8"))?;
                let (user, secret) = decoded
                    .split_once(':')
                    .ok_or_else(|| format!("auths entry for {host}: auth is not user:password"))?;
                Credential {
                    username: user.to_owned(),
                    secret: Secret::new(secret),
                }
            } else if let (Some(u), Some(p)) = (entry.username, entry.password) {
                Credential {
                    username: u,
                    secret: Secret::new(p),
                }
            } else {
                continue; // e.g. an empty entry left for the credsStore
            };
            static_entries.insert(host, credential);
        }
        let helpers = config
            .cred_helpers
            .into_iter()
            .filter_map(|(k, v)| Some((normalize_key(&k)?, v)))
            .collect();
        Ok(CredentialStore {
            static_entries,
            helpers,
            store: config.creds_store.filter(|s| !s.is_empty()),
            helper_dir: helper_dir.map(Path::to_path_buf),
            helper_cache: HelperCache::default(),
        })
    }

    /// The credential for `registry` (as users write it: `docker.io`, `ghcr.io`,
    /// `127.0.0.1:5000`): its credential helper, else its `auths` entry, else the store.
    pub async fn lookup(&self, registry: &str) -> Option<Credential> {
        let host = normalize_key(registry)?;
        if let Some(helper) = self.helpers.get(&host) {
            return self.ask_helper(helper, &host).await;
        }
        if let Some(c) = self.static_entries.get(&host) {
            return Some(c.clone());
        }
        match &self.store {
            Some(store) => self.ask_helper(store, &host).await,
            None => None,
        }
    }

    async fn ask_helper(&self, helper: &str, host: &str) -> Option<Credential> {
        let cache_key = format!("{helper}\0{host}");
        if let Some(hit) = self.helper_cache.get(&cache_key) {
            return hit;
        }
        let found = run_helper(helper, host, self.helper_dir.as_deref()).await;
        self.helper_cache.insert(cache_key, found.clone());
        found
    }
}

/// `$REGISTRY_AUTH_FILE`, else `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
fn default_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("REGISTRY_AUTH_FILE").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    if let Some(d) = std::env::var_os("DOCKER_CONFIG").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(d).join("config.json"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker").join("config.json"))
}

/// Registry host of a config key: `https://index.docker.io/v1/` → `docker.io`,
/// `quay.io/org` → `quay.io`, `http://127.0.0.1:5000` → `127.0.0.1:5000`.
fn normalize_key(key: &str) -> Option<String> {
    let key = key.trim();
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = key.split('/').next()?.to_ascii_lowercase();
    if host.is_empty() {
        return None;
    }
    Some(match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_owned()
        }
        _ => host,
    })
}

/// The server URL a helper is asked about (docker's convention for Docker Hub).
fn helper_server_url(host: &str) -> String {
    if host == "docker.io" {
        "https://index.docker.io/v1/".to_owned()
    } else {
        host.to_owned()
    }
}

/// Runs `docker-credential-NAME get` with the server URL on stdin.
async fn run_helper(helper: &str, host: &str, dir: Option<&Path>) -> Option<Credential> {
    use tokio::io::AsyncWriteExt as _;
    if !helper
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    {
        tracing::warn!(helper, "ignoring credential helper with an unusual name");
        return None;
    }
    let program = format!("docker-credential-{helper}");
    let program = match dir {
        Some(d) => d.join(program),
        None => PathBuf::from(program),
    };
    let mut child = tokio::process::Command::new(&program)
        .arg("get")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| tracing::warn!(helper, "cannot run credential helper: {e}"))
        .ok()?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(helper_server_url(host).as_bytes()).await;
    }
    let output = tokio::time::timeout(Duration::from_secs(10), child.wait_with_output())
        .await
        .ok()?
        .ok()?;
    if !output.status.success() {
        tracing::debug!(
            helper,
            registry = host,
            "credential helper has no credentials"
        );
        return None;
    }
    let answer: HelperAnswer = serde_json::from_slice(&output.stdout).ok()?;
    // A username of `<token>` marks the secret as an identity token: kept as it is.
    Some(Credential {
        username: answer.username,
        secret: Secret::new(answer.secret),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn auths_entries_by_host() {
        let json = br#"{"auths":{
            "https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz"},
            "quay.io/team":{"username":"q","password":"pw"},
            "ghcr.io":{"identitytoken":"x"}}}"#;
        let store = CredentialStore::from_json(json, None).unwrap();
        let hub = store.lookup("docker.io").await.unwrap();
        assert_eq!(
            (hub.username.as_str(), hub.secret.expose()),
            ("user", "pass")
        );
        assert!(!hub.is_identity_token());
        assert_eq!(store.lookup("quay.io").await.unwrap().username, "q");
        assert!(store.lookup("example.org").await.is_none());
        let printed = format!("{hub:?} {store:?}");
        assert!(!printed.contains("pass"), "{printed}");
        assert!(printed.contains("<redacted>"));
    }

    #[tokio::test]
    async fn auths_identity_tokens() {
        // `docker login` to an OAuth registry leaves `auth` with the user and an empty
        // password next to the identity token; the identity token wins, as in Docker.
        let json = br#"{"auths":{
            "ghcr.io":{"identitytoken":"refresh-1"},
            "myregistry.azurecr.io":{"auth":"MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwOg==","identitytoken":"refresh-2"},
            "quay.io":{"auth":"dXNlcjpwYXNz","identitytoken":""}}}"#;
        let store = CredentialStore::from_json(json, None).unwrap();
        let ghcr = store.lookup("ghcr.io").await.unwrap();
        assert!(ghcr.is_identity_token());
        assert_eq!(ghcr.secret.expose(), "refresh-1");
        assert!(ghcr.basic_header().is_none(), "never sent as Basic");
        let acr = store.lookup("myregistry.azurecr.io").await.unwrap();
        assert!(acr.is_identity_token());
        assert_eq!(acr.secret.expose(), "refresh-2");
        let quay = store.lookup("quay.io").await.unwrap();
        assert!(
            !quay.is_identity_token(),
            "an empty identitytoken is absent"
        );
        assert!(quay.basic_header().is_some());
        let printed = format!("{ghcr:?} {acr:?}");
        assert!(!printed.contains("refresh-"), "{printed}");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn helper_token_user_is_an_identity_token() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let helper = dir.path().join("docker-credential-strata-oauth");
        std::fs::write(
            &helper,
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\ncat > /dev/null\n\
             echo '{\"ServerURL\":\"x\",\"Username\":\"<token>\",\"Secret\":\"refresh-3\"}'\n",
        )
        .unwrap();
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        let json = br#"{"credHelpers":{"registry.example.org":"strata-oauth"}}"#;
        let store = CredentialStore::from_json(json, Some(dir.path())).unwrap();
        let found = store.lookup("registry.example.org").await.unwrap();
        assert!(found.is_identity_token());
        assert_eq!(found.secret.expose(), "refresh-3");
        assert!(found.basic_header().is_none());
    }

    /// A `credsStore` helper that counts its runs in `dir/runs` and knows no one.
    #[cfg(unix)]
    fn counting_store(dir: &Path) -> CredentialStore {
        use std::os::unix::fs::PermissionsExt as _;
        let helper = dir.join("docker-credential-strata-count");
        std::fs::write(
            &helper,
            format!(
                "#!/bin/sh\ncat > /dev/null\necho x >> '{}'\nexit 1\n",
                dir.join("runs").display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        CredentialStore::from_json(br#"{"credsStore":"strata-count"}"#, Some(dir)).unwrap()
    }

    /// The helpers' answers are remembered for a bounded number of registries: asking
    /// about many hosts does not grow the cache without end.
    #[cfg(unix)]
    #[tokio::test]
    async fn helper_cache_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let store = counting_store(dir.path());
        for i in 0..100 {
            assert!(store.lookup(&format!("r{i}.example.org")).await.is_none());
        }
        let runs = std::fs::read_to_string(dir.path().join("runs")).unwrap();
        assert_eq!(runs.lines().count(), 100);
        let cached = store.helper_cache.len();
        assert!(cached <= 64, "{cached} entries");
    }

    /// A remembered answer is used until it expires, then the helper is asked again.
    #[cfg(unix)]
    #[tokio::test]
    async fn helper_answers_expire() {
        let dir = tempfile::tempdir().unwrap();
        let runs = || {
            std::fs::read_to_string(dir.path().join("runs"))
                .unwrap()
                .lines()
                .count()
        };
        let store = counting_store(dir.path());
        store.lookup("r.example.org").await;
        store.lookup("r.example.org").await;
        assert_eq!(runs(), 1, "remembered");
        let mut store = counting_store(dir.path());
        store.helper_cache = HelperCache::new(64, Duration::ZERO);
        store.lookup("r.example.org").await;
        store.lookup("r.example.org").await;
        assert_eq!(runs(), 3, "asked again once expired");
    }

    #[test]
    fn keys() {
        assert_eq!(
            normalize_key("https://index.docker.io/v1/").as_deref(),
            Some("docker.io")
        );
        assert_eq!(
            normalize_key("http://127.0.0.1:5000").as_deref(),
            Some("127.0.0.1:5000")
        );
        assert_eq!(
            normalize_key("Quay.io/org/repo").as_deref(),
            Some("quay.io")
        );
    }
}
