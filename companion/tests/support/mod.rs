//! Small fake upstreams (registries, token realms, CDN hosts) on loopback port 0, a
//! request log for each, and a relay started with `serve`.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Request;
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::Response;
use std::time::{Duration, Instant};

use strata_companion::{AppState, Clock, Config, CredentialsSource, SystemClock};

/// One request a fake server saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
}

impl Seen {
    pub fn authorization(&self) -> Option<String> {
        self.headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned())
    }
    pub fn query_pairs(&self) -> Vec<(String, String)> {
        url::form_urlencoded::parse(self.query.as_deref().unwrap_or("").as_bytes())
            .into_owned()
            .collect()
    }
}

/// Requests seen by one fake server.
#[derive(Clone, Default, Debug)]
pub struct Log(Arc<Mutex<Vec<Seen>>>);

impl Log {
    pub fn all(&self) -> Vec<Seen> {
        self.0.lock().unwrap().clone()
    }
    pub fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
    /// Requests whose path starts with `prefix`.
    pub fn matching(&self, prefix: &str) -> Vec<Seen> {
        self.all()
            .into_iter()
            .filter(|s| s.path.starts_with(prefix))
            .collect()
    }
}

/// Serves `router` on 127.0.0.1 port 0, recording every request into the returned log.
pub async fn start(router: Router) -> (SocketAddr, Log) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    serve_logged(listener, router)
}

/// Serves `router` on `listener` (bound first when the server must know its own origin),
/// recording every request into the returned log.
pub fn serve_logged(listener: tokio::net::TcpListener, router: Router) -> (SocketAddr, Log) {
    let log = Log::default();
    let recorder = log.clone();
    let router = router.layer(middleware::from_fn(move |request: Request, next: Next| {
        let recorder = recorder.clone();
        async move {
            recorder.0.lock().unwrap().push(Seen {
                method: request.method().to_string(),
                path: request.uri().path().to_owned(),
                query: request.uri().query().map(str::to_owned),
                headers: request.headers().clone(),
            });
            let response: Response = next.run(request).await;
            response
        }
    }));
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (addr, log)
}

/// A port with nothing listening (bound, then released).
pub async fn dead_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// The relay under test, served on port 0.
pub struct Relay {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
}

impl Relay {
    pub async fn start(config: Config) -> Relay {
        Relay::start_with_clock(config, Arc::new(SystemClock)).await
    }

    /// A relay whose token lifetimes run on `clock`.
    pub async fn start_with_clock(mut config: Config, clock: Arc<dyn Clock>) -> Relay {
        config.listen = "127.0.0.1:0".parse().unwrap();
        if config.credentials == CredentialsSource::Environment {
            config.credentials = CredentialsSource::None;
        }
        let state = AppState::with_clock(config, clock).unwrap();
        let (addr, _handle) = strata_companion::serve_state(state).await.unwrap();
        Relay {
            addr,
            client: client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn head(&self, path: &str) -> reqwest::Response {
        self.client.head(self.url(path)).send().await.unwrap()
    }
}

/// A client of the relay as the app is one: no proxy, and `X-Strata-Client: 1` on every
/// request (the relay refuses `/api/` requests without it).
pub fn client() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-strata-client",
        reqwest::header::HeaderValue::from_static("1"),
    );
    reqwest::Client::builder()
        .no_proxy()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// A client without the app's header: what an `<img>` on another site, or curl, sends.
pub fn bare_client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// A clock that moves only when the test says: token expiry without sleeping.
pub struct HandClock(Mutex<Instant>);

impl HandClock {
    pub fn new() -> Arc<HandClock> {
        Arc::new(HandClock(Mutex::new(Instant::now())))
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for HandClock {
    fn now(&self) -> Instant {
        *self.0.lock().unwrap()
    }
}

/// Config with these `--insecure-registry` values.
pub fn insecure(hosts: &[String]) -> Config {
    Config {
        insecure_registries: hosts.to_vec(),
        credentials: CredentialsSource::None,
        ..Config::default()
    }
}

/// `{"code":…}` of a relay error response.
pub async fn error_code(response: reqwest::Response) -> String {
    let v: serde_json::Value = response.json().await.expect("JSON error body");
    assert!(v["message"].is_string(), "{v}");
    v["code"].as_str().expect("code").to_owned()
}

pub const DIGEST_A: &str =
    "sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

/// The `strata-companion` binary as a user runs it: a separate process, started with
/// `args` (plus `--listen 127.0.0.1:0`) and its environment changed by `env` (`Some`
/// sets, `None` removes). Returns the child (killed on drop) and the address it logged.
pub async fn spawn_companion(
    args: &[&str],
    env: &[(&str, Option<&std::ffi::OsStr>)],
) -> (tokio::process::Child, String) {
    use tokio::io::{AsyncBufReadExt as _, BufReader};
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_strata-companion"));
    command
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true);
    for (name, value) in env {
        match value {
            Some(v) => command.env(name, v),
            None => command.env_remove(name),
        };
    }
    let mut child = command.spawn().expect("companion binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = tokio::time::timeout(std::time::Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(at) = line.find("listening on http://") {
                let rest = &line[at + "listening on http://".len()..];
                return rest
                    .chars()
                    .take_while(|c| !c.is_whitespace() && *c != '\u{1b}')
                    .collect::<String>();
            }
        }
        panic!("companion exited before listening");
    })
    .await
    .expect("companion started");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, addr)
}

/// Sends `request` to the app in process as it is (a `Host` is added when missing,
/// nothing else: no `X-Strata-Client`).
pub async fn oneshot_bare(
    config: Config,
    mut request: axum::http::Request<axum::body::Body>,
) -> axum::response::Response {
    use tower::ServiceExt as _;
    if !request.headers().contains_key(axum::http::header::HOST) {
        request
            .headers_mut()
            .insert(axum::http::header::HOST, "127.0.0.1:8787".parse().unwrap());
    }
    strata_companion::app(AppState::new(config).unwrap())
        .oneshot(request)
        .await
        .unwrap()
}

/// `{"code":…}` of a relay error answered in process.
pub async fn json_code(response: axum::response::Response) -> String {
    use http_body_util::BodyExt as _;
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["code"].as_str().unwrap().to_owned()
}

/// Raw HTTP/1.x to the relay on a real socket; returns the status line.
pub async fn raw_status(relay: &Relay, request: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = tokio::net::TcpStream::connect(relay.addr).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        stream.read_to_end(&mut answer),
    )
    .await;
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}
