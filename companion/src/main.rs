//! `strata-companion`: parses the flags of the companion contract and serves.

use clap::Parser as _;
use strata_companion::Flags;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let config = Flags::parse().into_config()?;
    let dist = config.dist.clone();
    let (addr, server) = strata_companion::serve(config).await?;
    tracing::info!("strata-companion listening on http://{addr}");
    if dist.is_some() {
        tracing::info!("serving the app at http://{addr}/");
    }
    server.await?;
    Ok(())
}
