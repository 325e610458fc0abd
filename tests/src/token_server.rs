//! A token server speaking the Docker token protocol, for registries started with
//! [`Registry::start_with_token_auth`](crate::registry::Registry::start_with_token_auth).
//!
//! `GET /token?service=S&scope=repository:NAME:ACTIONS[&scope=…]` answers
//! `{"token", "access_token", "expires_in", "issued_at"}`. Tokens are ES256 JWTs whose
//! `x5c` header carries a self-signed certificate; the registry trusts that certificate
//! through its `rootcertbundle`. Anonymous requests get `pull` only (unless
//! [`TokenServerConfig::anonymous`] is off); the configured users (HTTP Basic) also get
//! `push` and `delete`.
//!
//! `POST /token` is Docker's OAuth2 form for identity tokens:
//! `grant_type=refresh_token&refresh_token=…&service=…&scope=…(repeated)&client_id=…`,
//! accepted only with a configured identity token (`pull` only), answered with
//! `{"access_token", "expires_in", "scope"}`. Other grants get 400, a wrong token 401.
//!
//! The realm is `http://localhost:PORT/token` while the registry is addressed as
//! `127.0.0.1:PORT`: clients must follow the realm to another host name.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::json;
use tempfile::TempDir;
use tokio::task::JoinHandle;

use crate::registry::Registry;

/// The user that may push through a token-auth registry.
pub const PUSH_USER: &str = "strata-pusher";
/// Its password.
pub const PUSH_PASSWORD: &str = "strata-push-password";

/// How the token server behaves.
#[derive(Clone, Debug)]
pub struct TokenServerConfig {
    /// The `service` tokens are issued for (the registry's `auth.token.service`).
    pub service: String,
    /// The `iss` claim (the registry's `auth.token.issuer`).
    pub issuer: String,
    /// Users (name, password) granted pull, push and delete.
    pub users: Vec<(String, String)>,
    /// Token lifetime (`expires_in`).
    pub ttl: Duration,
    /// Whether a `GET` without credentials gets a pull token.
    pub anonymous: bool,
    /// Identity tokens (refresh tokens) the `POST` grant accepts, each with its user.
    pub identity_tokens: Vec<(String, String)>,
}

impl Default for TokenServerConfig {
    fn default() -> Self {
        TokenServerConfig {
            service: "strata-test-registry".into(),
            issuer: "strata-test-token-server".into(),
            users: vec![(PUSH_USER.into(), PUSH_PASSWORD.into())],
            ttl: Duration::from_secs(300),
            anonymous: true,
            identity_tokens: Vec::new(),
        }
    }
}

/// One request the token server answered, for tests to assert on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The `grant_type` of a `POST`.
    pub grant_type: Option<String>,
    /// The `client_id` of a `POST`.
    pub client_id: Option<String>,
    /// The `service` query parameter.
    pub service: Option<String>,
    /// Every `scope` query parameter, in order.
    pub scopes: Vec<String>,
    /// Whether an `Authorization` header was sent.
    pub had_authorization: bool,
    /// The user, when Basic credentials or the identity token were valid.
    pub user: Option<String>,
    /// The status answered.
    pub status: u16,
}

/// A running token server; stops when dropped.
#[derive(Debug)]
pub struct TokenServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    cert_dir: TempDir,
    handle: JoinHandle<()>,
}

struct ServerState {
    config: TokenServerConfig,
    signer: Signer,
    requests: Mutex<Vec<TokenRequest>>,
}

impl std::fmt::Debug for ServerState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl TokenServer {
    /// Generates a signing key and certificate and serves on a free `127.0.0.1` port.
    pub async fn start(config: TokenServerConfig) -> anyhow::Result<TokenServer> {
        let signer = Signer::generate()?;
        let cert_dir = tempfile::Builder::new().prefix("strata-token-").tempdir()?;
        std::fs::write(cert_dir.path().join("rootcert.pem"), &signer.cert_pem)?;
        let state = Arc::new(ServerState {
            config,
            signer,
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .route("/token", get(token).post(oauth_token))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let handle = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(TokenServer {
            addr,
            state,
            cert_dir,
            handle,
        })
    }

    /// Starts a token server with the default config and a registry that trusts it.
    pub async fn start_with_registry() -> anyhow::Result<(TokenServer, Registry)> {
        let server = TokenServer::start(TokenServerConfig::default()).await?;
        let registry = server.start_registry().await?;
        Ok((server, registry))
    }

    /// Starts a registry whose `auth.token` points at this server.
    pub async fn start_registry(&self) -> anyhow::Result<Registry> {
        Registry::start_with_token_auth(
            &self.realm(),
            self.service(),
            self.issuer(),
            &self.rootcert_path(),
        )
        .await
    }

    /// `http://localhost:PORT/token`: a different host name than the registry's `127.0.0.1`.
    pub fn realm(&self) -> String {
        format!("http://localhost:{}/token", self.addr.port())
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The service tokens are issued for.
    pub fn service(&self) -> &str {
        &self.state.config.service
    }

    /// The issuer of its tokens.
    pub fn issuer(&self) -> &str {
        &self.state.config.issuer
    }

    /// PEM file with the signer's certificate (the registry's `rootcertbundle`).
    pub fn rootcert_path(&self) -> PathBuf {
        self.cert_dir.path().join("rootcert.pem")
    }

    /// Every request answered so far.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.state.requests.lock().expect("requests lock").clone()
    }

    /// Signs arbitrary claims with the server's key (to forge tokens in tests).
    pub fn sign(&self, claims: &serde_json::Value) -> anyhow::Result<String> {
        self.state.signer.sign(claims)
    }

    /// Issues a token granting `actions` on repository `name`, as the server would.
    pub fn token_for(&self, name: &str, actions: &[&str]) -> anyhow::Result<String> {
        let access = vec![json!({"type": "repository", "name": name, "actions": actions})];
        self.sign(&claims(&self.state.config, "", access))
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

/// The JWT claims distribution checks: iss, aud, exp/nbf, and access.
fn claims(
    config: &TokenServerConfig,
    subject: &str,
    access: Vec<serde_json::Value>,
) -> serde_json::Value {
    static JTI: AtomicU64 = AtomicU64::new(0);
    let now = unix_now();
    json!({
        "iss": config.issuer,
        "sub": subject,
        "aud": config.service,
        "iat": now,
        "nbf": now - 10,
        "exp": now + config.ttl.as_secs(),
        "jti": format!("strata-{}-{}", now, JTI.fetch_add(1, Ordering::Relaxed)),
        "access": access,
    })
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

async fn token(
    State(state): State<Arc<ServerState>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let mut service = None;
    let mut scopes = Vec::new();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "service" => service = Some(value.into_owned()),
            "scope" => scopes.push(value.into_owned()),
            _ => {}
        }
    }
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let user = authorization.and_then(|a| basic_user(&state.config, a));
    let mut record = TokenRequest {
        method: "GET".into(),
        grant_type: None,
        client_id: None,
        service: service.clone(),
        scopes: scopes.clone(),
        had_authorization: authorization.is_some(),
        user: user.clone(),
        status: 200,
    };
    let response = if authorization.is_some() && user.is_none() {
        record.status = 401;
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"details": "incorrect username or password"})),
        )
            .into_response()
    } else if user.is_none() && !state.config.anonymous {
        record.status = 401;
        (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"details": "authentication required"})),
        )
            .into_response()
    } else if service
        .as_deref()
        .is_some_and(|s| s != state.config.service)
    {
        record.status = 400;
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"details": "unknown service"})),
        )
            .into_response()
    } else {
        let allowed: &[&str] = if user.is_some() {
            &["pull", "push", "delete", "*"]
        } else {
            &["pull"]
        };
        let access = scopes.iter().filter_map(|s| grant(s, allowed)).collect();
        let claims = claims(&state.config, user.as_deref().unwrap_or(""), access);
        match state.signer.sign(&claims) {
            Ok(token) => axum::Json(json!({
                "token": token,
                "access_token": token,
                "expires_in": state.config.ttl.as_secs(),
                "issued_at": "2024-01-01T00:00:00Z",
            }))
            .into_response(),
            Err(err) => {
                record.status = 500;
                (StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response()
            }
        }
    };
    state.requests.lock().expect("requests lock").push(record);
    response
}

/// `POST /token`: the OAuth2 refresh-token grant, for identity tokens.
async fn oauth_token(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let mut record = TokenRequest {
        method: "POST".into(),
        grant_type: None,
        client_id: None,
        service: None,
        scopes: Vec::new(),
        had_authorization: headers.contains_key(header::AUTHORIZATION),
        user: None,
        status: 200,
    };
    let mut refresh_token = None;
    for (key, value) in url::form_urlencoded::parse(body.as_bytes()) {
        match key.as_ref() {
            "grant_type" => record.grant_type = Some(value.into_owned()),
            "client_id" => record.client_id = Some(value.into_owned()),
            "service" => record.service = Some(value.into_owned()),
            "scope" => record.scopes.push(value.into_owned()),
            "refresh_token" => refresh_token = Some(value.into_owned()),
            _ => {}
        }
    }
    let user = refresh_token.as_deref().and_then(|t| {
        state
            .config
            .identity_tokens
            .iter()
            .find(|(token, _)| token == t)
            .map(|(_, user)| user.clone())
    });
    let oauth_error = |status: StatusCode, error: &str| {
        (status, axum::Json(json!({"error": error}))).into_response()
    };
    let response = if record.grant_type.as_deref() != Some("refresh_token") {
        oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type")
    } else if record.client_id.as_deref().is_none_or(str::is_empty)
        || record.service.as_deref() != Some(state.config.service.as_str())
    {
        oauth_error(StatusCode::BAD_REQUEST, "invalid_request")
    } else if let Some(user) = user {
        let access = record
            .scopes
            .iter()
            .filter_map(|s| grant(s, &["pull"]))
            .collect();
        record.user = Some(user.clone());
        match state.signer.sign(&claims(&state.config, &user, access)) {
            Ok(token) => axum::Json(json!({
                "access_token": token,
                "expires_in": state.config.ttl.as_secs(),
                "scope": record.scopes.join(" "),
            }))
            .into_response(),
            Err(err) => (StatusCode::INTERNAL_SERVER_ERROR, err.to_string()).into_response(),
        }
    } else {
        oauth_error(StatusCode::UNAUTHORIZED, "invalid_grant")
    };
    record.status = response.status().as_u16();
    state.requests.lock().expect("requests lock").push(record);
    response
}

/// The user named by valid `Basic` credentials.
fn basic_user(config: &TokenServerConfig, authorization: &str) -> Option<String> {
    let encoded = authorization.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (name, password) = decoded.split_once(':')?;
    config
        .users
        .iter()
        .any(|(u, p)| u == name && p == password)
        .then(|| name.to_owned())
}

/// `repository:NAME:a,b` → the access entry with the requested actions that are allowed.
fn grant(scope: &str, allowed: &[&str]) -> Option<serde_json::Value> {
    let (kind, rest) = scope.split_once(':')?;
    let (name, actions) = rest.rsplit_once(':')?;
    if kind != "repository" {
        return None;
    }
    let granted: Vec<&str> = actions.split(',').filter(|a| allowed.contains(a)).collect();
    (!granted.is_empty()).then(|| json!({"type": kind, "name": name, "actions": granted}))
}

/// An ES256 key with a self-signed certificate for it.
struct Signer {
    key: EcdsaKeyPair,
    cert_der: Vec<u8>,
    cert_pem: String,
    rng: SystemRandom,
}

impl Signer {
    fn generate() -> anyhow::Result<Signer> {
        let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()])?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Strata test token signer");
        let cert = params.self_signed(&key_pair)?;
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(
            &ECDSA_P256_SHA256_FIXED_SIGNING,
            &key_pair.serialize_der(),
            &rng,
        )
        .map_err(|e| anyhow::anyhow!("ring rejected the generated key: {e}"))?;
        Ok(Signer {
            key,
            cert_der: cert.der().to_vec(),
            cert_pem: cert.pem(),
            rng,
        })
    }

    /// A compact JWS: base64url(header).base64url(claims).base64url(r‖s).
    fn sign(&self, claims: &serde_json::Value) -> anyhow::Result<String> {
        let header =
            json!({"typ": "JWT", "alg": "ES256", "x5c": [STANDARD.encode(&self.cert_der)]});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header)?),
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims)?)
        );
        let signature = self
            .key
            .sign(&self.rng, signing_input.as_bytes())
            .map_err(|e| anyhow::anyhow!("signing failed: {e}"))
            .context("ES256 signature")?;
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grants_only_allowed_actions() {
        let anon = grant("repository:team/app:pull,push", &["pull"]).unwrap();
        assert_eq!(anon["actions"], json!(["pull"]));
        assert_eq!(anon["name"], "team/app");
        assert!(grant("repository:team/app:push", &["pull"]).is_none());
        assert!(grant("registry:catalog:*", &["pull", "*"]).is_none());
    }

    #[test]
    fn basic_credentials_are_checked() {
        let config = TokenServerConfig::default();
        let good = format!(
            "Basic {}",
            STANDARD.encode(format!("{PUSH_USER}:{PUSH_PASSWORD}"))
        );
        assert_eq!(basic_user(&config, &good).as_deref(), Some(PUSH_USER));
        let bad = format!("Basic {}", STANDARD.encode(format!("{PUSH_USER}:nope")));
        assert_eq!(basic_user(&config, &bad), None);
    }

    #[test]
    fn tokens_are_three_base64url_parts_with_x5c() {
        let signer = Signer::generate().unwrap();
        let token = signer.sign(&json!({"iss": "x"})).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["x5c"][0], STANDARD.encode(&signer.cert_der));
        assert_eq!(
            URL_SAFE_NO_PAD.decode(parts[2]).unwrap().len(),
            64,
            "r||s for P-256"
        );
    }
}
