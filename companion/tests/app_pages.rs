//! The app's own files (`--dist`): served with the index page as the fallback of app
//! routes, and with the headers that keep them from being framed or sniffed (CSP).

mod support;

use axum::http::header;
use strata_companion::Config;
use support::*;

#[tokio::test]
async fn dist_serves_the_app_with_fallback() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("index.html"), "<html>strata</html>").unwrap();
    std::fs::write(dir.path().join("app.js"), "console.log(1)").unwrap();
    std::fs::write(dir.path().join("app_bg.wasm"), b"\0asm").unwrap();
    let relay = Relay::start(Config {
        dist: Some(dir.path().to_owned()),
        ..Config::default()
    })
    .await;
    for path in [
        "/",
        "/image/docker.io/library/nginx:1.27",
        &format!("/image/docker.io/library/nginx@{DIGEST_A}?platform=linux/arm64"),
    ] {
        let r = relay.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.text().await.unwrap(), "<html>strata</html>", "{path}");
    }
    let r = relay
        .client
        .get(relay.url("/some/page"))
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(r.text().await.unwrap(), "<html>strata</html>");
    assert_eq!(
        relay.get("/app.js").await.text().await.unwrap(),
        "console.log(1)"
    );
    assert_eq!(relay.get("/missing.js").await.status(), 404);
    // The wasm is never stored: a stored module brings back its compiled code, which the
    // page then reads in one long task (see static_files.rs).
    let wasm = relay.get("/app_bg.wasm").await;
    assert_eq!(wasm.status(), 200);
    assert_eq!(wasm.headers()[header::CACHE_CONTROL], "no-store");
    assert!(
        relay
            .get("/app.js")
            .await
            .headers()
            .get(header::CACHE_CONTROL)
            .is_none()
    );
    let r = relay.get("/api/nope").await;
    assert_eq!(r.status(), 404);
    assert_eq!(error_code(r).await, "NOT_FOUND");
    assert_eq!(relay.get("/api/health").await.status(), 200);
}

/// The app's own pages (`--dist`) can be framed by no site, are never sniffed, and run
/// under a CSP that still lets the app work: its inline loader script by hash, wasm
/// (`'wasm-unsafe-eval'`), blob: workers, inline styles, and requests to its own origin.
#[tokio::test]
async fn app_pages_carry_a_csp_and_refuse_framing() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let loader = "\nimport init from '/strata-web.js';\nawait init({ module_or_path: '/strata-web_bg.wasm' });\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("index.html"),
        format!(
            "<!DOCTYPE html><html><head><script type=\"module\">{loader}</script></head><body></body></html>"
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("strata-web.js"), "export default 1").unwrap();
    let relay = Relay::start(Config {
        dist: Some(dir.path().to_owned()),
        ..Config::default()
    })
    .await;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(loader));
    for path in ["/", "/image/docker.io/library/nginx:1.27", "/strata-web.js"] {
        let r = relay.get(path).await;
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY", "{path}");
        let csp = h[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        for part in [
            "default-src 'self'",
            "'wasm-unsafe-eval'",
            &format!("'sha256-{hash}'"),
            "worker-src 'self' blob:",
            "style-src 'self' 'unsafe-inline'",
            "connect-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(part), "{path}: {part} in {csp}");
        }
        assert!(!csp.contains("'unsafe-eval'"), "{csp}");
        let script_src = csp
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap();
        assert!(!script_src.contains("'unsafe-inline'"), "{csp}");
    }
}
