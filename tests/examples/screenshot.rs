//! Opens a Strata URL in headless Chromium, waits for `data-strata-state=ready` (or error),
//! and saves a PNG: `cargo run -p strata-tests --example screenshot -- URL OUT.png`.

use std::time::Duration;

use strata_tests::browser::{Browser, page_state};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or_else(|| anyhow::anyhow!("usage: screenshot URL OUT.png"))?;
    let out = args.next().unwrap_or_else(|| "screenshot.png".into());
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;
    client.goto(&url).await?;
    let started = std::time::Instant::now();
    let mut state = page_state(&client).await?;
    while state != "ready" && state != "error" && started.elapsed() < Duration::from_secs(60) {
        tokio::time::sleep(Duration::from_millis(100)).await;
        state = page_state(&client).await?;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    println!("state {state} after {:?}", started.elapsed());
    std::fs::write(&out, client.screenshot().await?)?;
    client.close().await?;
    Ok(())
}
