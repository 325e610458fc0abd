//! The security headers of the app's own pages (`--dist`): no site may frame them
//! (`frame-ancestors 'none'`, `X-Frame-Options: DENY`), nothing is sniffed, and a Content
//! Security Policy allows exactly what the app needs: its own scripts and Trunk's inline
//! loader (by hash, read from `index.html`), WebAssembly (`'wasm-unsafe-eval'`), workers
//! from `blob:` URLs, inline styles, images from `blob:`, and requests to its own origin
//! (and to `blob:` URLs of opened files).

use std::path::Path;

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine as _;
use sha2::Digest as _;

/// Everything but `script-src`, which lists the inline scripts' hashes.
const POLICY_REST: &str = "worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; \
img-src 'self' blob: data:; connect-src 'self' blob:; font-src 'self'; object-src 'none'; \
base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// Adds the headers to a response of the app's files; `index` is the app's `index.html`.
pub(crate) fn add(headers: &mut HeaderMap, index: &Path) {
    let html = std::fs::read_to_string(index).unwrap_or_default();
    if let Ok(csp) = HeaderValue::from_str(&policy(&html)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// The policy for a page whose HTML is `html`.
fn policy(html: &str) -> String {
    let mut script_src = String::from("script-src 'self' 'wasm-unsafe-eval'");
    for body in inline_scripts(html) {
        // The browser hashes the text after newline normalization (CR LF and CR to LF).
        let text = body.replace("\r\n", "\n").replace('\r', "\n");
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text));
        script_src.push_str(&format!(" 'sha256-{hash}'"));
    }
    format!("default-src 'self'; {script_src}; {POLICY_REST}")
}

/// The text of every `<script>` without a `src` attribute.
fn inline_scripts(html: &str) -> Vec<&str> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(start) = lower[at..].find("<script").map(|i| at + i) {
        let after_name = start + "<script".len();
        // `<scripts>` or `<script-x>` is another element.
        if !lower[after_name..].starts_with(|c: char| c.is_ascii_whitespace() || c == '>') {
            at = after_name;
            continue;
        }
        let Some(tag_end) = lower[after_name..].find('>').map(|i| after_name + i) else {
            break;
        };
        let Some(close) = lower[tag_end..].find("</script").map(|i| tag_end + i) else {
            break;
        };
        if !has_src(&lower[after_name..tag_end]) {
            out.push(&html[tag_end + 1..close]);
        }
        at = close;
    }
    out
}

/// Whether a start tag's attributes (lowercase) include `src`.
fn has_src(attributes: &str) -> bool {
    attributes
        .split(|c: char| c.is_ascii_whitespace() || c == '/')
        .any(|a| a == "src" || a.starts_with("src="))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_only() {
        let html = "<head><script type=\"module\">a()\n</script><SCRIPT src='/x.js'></SCRIPT>\
                    <scripts>no</scripts><script data-src=\"y\" >b()</script></head>";
        assert_eq!(inline_scripts(html), ["a()\n", "b()"]);
        assert!(inline_scripts("<script>unclosed").is_empty());
    }

    #[test]
    fn policy_lists_each_inline_script_by_hash() {
        // echo -n 'b()' | sha256sum | xxd -r -p | base64
        let p = policy("<script>b()</script><script>b()\r\n</script>");
        assert!(
            p.contains("'sha256-cf242PFc/kb7xD0Qzhsmd9vvRkc+cWFmbi+k+YvtdKc='"),
            "{p}"
        );
        assert_eq!(p.matches("'sha256-").count(), 2, "{p}");
        assert!(p.starts_with("default-src 'self'; script-src 'self' 'wasm-unsafe-eval' "));
        assert!(p.ends_with("frame-ancestors 'none'"));
    }
}
