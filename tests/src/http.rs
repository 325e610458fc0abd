//! One HTTP request from a test, answered in full within a deadline (a hang is a failure,
//! never a stuck test run).

use std::time::Duration;

use reqwest::StatusCode;

/// An exchange must end well within this.
pub const NO_HANG: Duration = Duration::from_secs(30);

/// A whole answer.
#[derive(Debug)]
pub struct Fetched {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: reqwest::header::HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl Fetched {
    /// A header as text (`""` when absent or not text).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The relay's error answer: asserts the status and the error `code`, and returns the
    /// message for the caller's own checks.
    pub fn error_message(&self, status: u16, code: &str) -> String {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        let body = self.json();
        assert_eq!(body["code"], code, "{body}");
        body["message"].as_str().unwrap_or_default().to_owned()
    }

    /// The body as JSON; panics with the body when it is not.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// `method url` with these headers, no proxy, and the companion's client header (as the
/// app sends it); panics on a transport error or a hang.
pub async fn fetch(method: reqwest::Method, url: &str, headers: &[(&str, &str)]) -> Fetched {
    let client = crate::companion::client();
    let mut request = client.request(method, url);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = tokio::time::timeout(NO_HANG, request.send())
        .await
        .unwrap_or_else(|_| panic!("{url}: no answer in {NO_HANG:?}"))
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    Fetched {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.bytes().await.unwrap().to_vec(),
    }
}

/// `GET url`.
pub async fn get(url: &str) -> Fetched {
    fetch(reqwest::Method::GET, url, &[]).await
}

/// `GET url` accepting every manifest and index media type.
pub async fn get_manifest(url: &str) -> Fetched {
    fetch(
        reqwest::Method::GET,
        url,
        &[("Accept", crate::image::ACCEPT_ALL_MANIFESTS)],
    )
    .await
}
