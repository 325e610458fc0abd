//! A real browser for end-to-end tests: Debian's `chromium` driven by `chromedriver` over
//! WebDriver. Each session gets a fresh profile, so "open the link in a fresh browser"
//! means exactly that.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use fantoccini::{Client, ClientBuilder, Locator};

use crate::tools::require;

/// The flags Chromium needs here (root, no GPU, closed network).
const CHROME_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1280,1000",
];

/// A running chromedriver; killed on drop.
pub struct Browser {
    driver: Child,
    port: u16,
    profiles: Vec<tempfile::TempDir>,
}

impl Browser {
    /// Starts chromedriver on a free port.
    pub async fn start() -> anyhow::Result<Browser> {
        // Two rustls providers are linked (ring via reqwest, aws-lc via fantoccini): choose one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let driver_path = require("chromedriver")?;
        require("chromium")?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        // Its own process group, so that dropping it also ends the browsers it started,
        // even when a test fails before closing its session.
        let driver = Command::new(driver_path)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting chromedriver")?;
        let browser = Browser {
            driver,
            port,
            profiles: Vec::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if Instant::now() > deadline {
                bail!("chromedriver did not listen on port {port} within 20 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(browser)
    }

    /// A new browser session with a fresh, empty profile.
    pub async fn session(&mut self) -> anyhow::Result<Client> {
        Ok(self.session_with_downloads().await?.0)
    }

    /// A new session with a fresh profile, and the folder its downloads land in.
    pub async fn session_with_downloads(&mut self) -> anyhow::Result<(Client, PathBuf)> {
        let profile = tempfile::tempdir()?;
        let downloads = profile.path().join("downloads");
        std::fs::create_dir_all(&downloads)?;
        let mut args: Vec<String> = CHROME_ARGS.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        // For profiling runs, e.g. `--trace-startup=devtools.timeline --trace-startup-file=F`.
        if let Ok(extra) = std::env::var("STRATA_CHROME_EXTRA_ARGS") {
            args.extend(extra.split_whitespace().map(str::to_owned));
        }
        self.profiles.push(profile);
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "args": args,
                "binary": chromium_binary(),
                "prefs": {
                    "download.default_directory": downloads,
                    "download.prompt_for_download": false,
                },
            }),
        );
        ClientBuilder::rustls()?
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .context("opening a WebDriver session")
            .map(|client| (client, downloads))
    }
}

fn chromium_binary() -> PathBuf {
    require("chromium").unwrap_or_else(|_| PathBuf::from("/usr/bin/chromium"))
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The page's `data-strata-state`.
pub async fn page_state(client: &Client) -> anyhow::Result<String> {
    let value = client
        .execute(
            "const el = document.querySelector('[data-strata-state]'); \
             return el ? el.getAttribute('data-strata-state') : 'absent';",
            vec![],
        )
        .await?;
    Ok(value.as_str().unwrap_or("absent").to_owned())
}

/// Waits until `data-strata-state` is `want`; fails early, with the page's error text,
/// when it settles on another terminal state.
pub async fn wait_for_state(client: &Client, want: &str, timeout: Duration) -> anyhow::Result<()> {
    let deadline = Instant::now() + timeout;
    loop {
        let state = page_state(client).await?;
        if state == want {
            return Ok(());
        }
        if state == "error" && want != "error" {
            let text = visible_text(client, "[data-strata-error], [data-layer-error]").await?;
            bail!("page reached state error while waiting for {want}: {text}");
        }
        if Instant::now() > deadline {
            let text = visible_text(client, "main").await.unwrap_or_default();
            bail!("page still {state} after {timeout:?} waiting for {want}; page says: {text}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Text of every element matching `selector`, joined.
pub async fn visible_text(client: &Client, selector: &str) -> anyhow::Result<String> {
    let mut out = Vec::new();
    for el in client.find_all(Locator::Css(selector)).await? {
        out.push(el.text().await?);
    }
    Ok(out.join(" | "))
}

/// Values of `attribute` on every element matching `selector`, in document order. Read in
/// one script, so a view that re-renders in between (a layer settling) never leaves the
/// test holding an element that is gone.
pub async fn attributes(
    client: &Client,
    selector: &str,
    attribute: &str,
) -> anyhow::Result<Vec<String>> {
    let got = client
        .execute(
            "return [...document.querySelectorAll(arguments[0])] \
               .map(e => e.getAttribute(arguments[1]) ?? '');",
            vec![serde_json::json!(selector), serde_json::json!(attribute)],
        )
        .await?;
    Ok(serde_json::from_value(got)?)
}

/// The app as built by `trunk build` (`$STRATA_DIST`, else `dist/` at the workspace root).
pub fn app_dist() -> anyhow::Result<PathBuf> {
    let dir = std::env::var_os("STRATA_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../dist"));
    anyhow::ensure!(
        dir.join("index.html").exists(),
        "the app is not built at {}: run `trunk build --offline` (scripts/test.sh does)",
        dir.display()
    );
    Ok(dir)
}

/// The companion serving the built app and relaying to `registry` (plain http, anonymous).
pub async fn start_app(
    registry: &crate::registry::Registry,
) -> anyhow::Result<crate::companion::Companion> {
    start_app_for(&[registry.host()]).await
}

/// An image pushed to a fresh real registry and the app that relays to it.
pub struct ServedImage {
    /// The registry (stops when dropped).
    pub registry: crate::registry::Registry,
    /// The companion serving the app.
    pub app: crate::companion::Companion,
    /// `{app}/image/{host}/{repository}@{manifest digest}`: the image's pinned page.
    pub base: String,
}

/// Pushes `image` to a fresh registry as `repository:v1` and starts the app for it.
pub async fn serve_image(
    image: &crate::image::BuiltImage,
    repository: &str,
) -> anyhow::Result<ServedImage> {
    let registry = crate::registry::Registry::start().await?;
    let pushed = crate::push::Pusher::for_registry(&registry)?
        .push_image(repository, Some("v1"), image)
        .await?;
    let app = start_app(&registry).await?;
    let base = format!(
        "{}/image/{}/{repository}@{}",
        app.url(),
        registry.host(),
        pushed.manifest_digest
    );
    Ok(ServedImage {
        registry,
        app,
        base,
    })
}

/// The companion serving the built app and relaying to these `host:port`s (plain http,
/// anonymous).
pub async fn start_app_for(hosts: &[String]) -> anyhow::Result<crate::companion::Companion> {
    crate::companion::start_companion(crate::companion::Config {
        insecure_registries: hosts.to_vec(),
        dist: Some(app_dist()?),
        credentials: strata_companion::CredentialsSource::None,
        docker_host: strata_companion::DockerHost::Off,
        ..crate::companion::Config::default()
    })
    .await
}

/// The companion serving the built app, with the Docker Engine API at `socket` as its
/// daemon (no registry).
pub async fn start_app_with_daemon(socket: PathBuf) -> anyhow::Result<crate::companion::Companion> {
    crate::companion::start_companion(crate::companion::Config {
        dist: Some(app_dist()?),
        credentials: strata_companion::CredentialsSource::None,
        docker_host: strata_companion::DockerHost::Unix(socket),
        ..crate::companion::Config::default()
    })
    .await
}

/// Waits until the page has left the home page for an `/archive/…` view.
pub async fn wait_for_archive_page(client: &Client, timeout: Duration) -> anyhow::Result<String> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let url = client.current_url().await?.to_string();
        if url.contains("/archive/sha256:") {
            return Ok(url);
        }
        if let Ok(error) = client
            .find(Locator::Css("[data-strata-error=archive]"))
            .await
        {
            anyhow::bail!("the archive was refused: {}", error.text().await?);
        }
        anyhow::ensure!(std::time::Instant::now() < deadline, "still on {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Chooses `path` in the file input `selector`, as a user picking a file.
pub async fn open_file(
    client: &Client,
    selector: &str,
    path: &std::path::Path,
) -> anyhow::Result<()> {
    let input = client.wait().for_element(Locator::Css(selector)).await?;
    input.send_keys(&path.to_string_lossy()).await?;
    Ok(())
}

/// Opens `url` and waits until the page is ready and the Files tab's listing is shown.
pub async fn open_files_view(client: &Client, url: &str) -> anyhow::Result<()> {
    const TIMEOUT: Duration = Duration::from_secs(60);
    client.goto(url).await?;
    wait_for_state(client, "ready", TIMEOUT).await?;
    client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-listing]"))
        .await?;
    Ok(())
}

/// Where screenshots for a person to look at go (`STRATA_SCREENSHOT_DIR`), and the colour
/// scheme they are in (`dark` when `STRATA_CHROME_EXTRA_ARGS` forces it, else `light`).
pub fn screenshot_dir() -> Option<(PathBuf, &'static str)> {
    let dir = std::env::var_os("STRATA_SCREENSHOT_DIR").map(PathBuf::from)?;
    let mode = if std::env::var("STRATA_CHROME_EXTRA_ARGS").is_ok_and(|a| a.contains("dark")) {
        "dark"
    } else {
        "light"
    };
    Some((dir, mode))
}

/// Saves a screenshot as `{dir}/{name}-{mode}.png` when [`screenshot_dir`] is set.
pub async fn save_screenshot(client: &Client, name: &str) -> anyhow::Result<()> {
    let Some((dir, mode)) = screenshot_dir() else {
        return Ok(());
    };
    std::fs::create_dir_all(&dir)?;
    std::fs::write(
        dir.join(format!("{name}-{mode}.png")),
        client.screenshot().await?,
    )?;
    Ok(())
}

/// A Chrome DevTools command, sent through chromedriver's `goog/cdp/execute`.
#[derive(Debug)]
struct DevToolsCommand {
    cmd: &'static str,
    params: serde_json::Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for DevToolsCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        let body = serde_json::json!({"cmd": self.cmd, "params": self.params});
        (axum::http::Method::POST, Some(body.to_string()))
    }
}

/// From now on, every page this session opens records its long tasks (over 50 ms on the
/// main thread) from before its first script runs, and when it first showed
/// `data-strata-state="ready"`; read them with [`long_tasks`] and [`ready_at_ms`].
pub async fn watch_long_tasks(client: &Client) -> anyhow::Result<()> {
    const WATCH: &str = "window.__strataLongTasks = []; try { new PerformanceObserver(list => { \
        for (const e of list.getEntries()) window.__strataLongTasks.push([e.startTime, e.duration]); \
        }).observe({ type: 'longtask' }); } catch (e) { window.__strataLongTasks = null; } \
        window.__strataReadyAt = null; const ready = new MutationObserver(() => { \
        if (document.querySelector('[data-strata-state=\"ready\"]')) { \
        window.__strataReadyAt = performance.now(); ready.disconnect(); } }); \
        ready.observe(document, { subtree: true, childList: true, attributes: true, \
        attributeFilter: ['data-strata-state'] });";
    client
        .issue_cmd(DevToolsCommand {
            cmd: "Page.addScriptToEvaluateOnNewDocument",
            params: serde_json::json!({"source": WATCH}),
        })
        .await
        .context("adding the long-task observer through DevTools")?;
    Ok(())
}

/// Milliseconds from the navigation of the page open now to its first
/// `data-strata-state="ready"`, measured in the page (not by polling); an error when it
/// was not watched or is not ready yet.
pub async fn ready_at_ms(client: &Client) -> anyhow::Result<f64> {
    let seen = client
        .execute("return window.__strataReadyAt ?? null;", vec![])
        .await?;
    seen.as_f64()
        .context("the page was not watched (watch_long_tasks) or is not ready")
}

/// The long tasks of the page since it was opened.
#[derive(Clone, Copy, Debug, Default)]
pub struct LongTasks {
    /// How many tasks ran over 50 ms.
    pub count: usize,
    /// The longest, in milliseconds (0 when none).
    pub longest_ms: f64,
    /// When the longest started, in milliseconds from navigation (0 when none).
    pub longest_at_ms: f64,
}

/// What [`watch_long_tasks`] recorded on the page open now; an error when it was not
/// watched (so a benchmark never reports "none" for "not measured").
pub async fn long_tasks(client: &Client) -> anyhow::Result<LongTasks> {
    let seen = client
        .execute("return window.__strataLongTasks ?? null;", vec![])
        .await?;
    let Some(durations) = seen.as_array() else {
        bail!("this page was not watched for long tasks (call watch_long_tasks first)");
    };
    let tasks: Vec<(f64, f64)> = durations
        .iter()
        .filter_map(|t| Some((t.get(0)?.as_f64()?, t.get(1)?.as_f64()?)))
        .collect();
    let (longest_at_ms, longest_ms) = tasks
        .iter()
        .copied()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .unwrap_or_default();
    Ok(LongTasks {
        count: tasks.len(),
        longest_ms,
        longest_at_ms,
    })
}
