//! Real-browser test of the architecture check (issue 15, item 6): each layer's index
//! records the ELF header of every file, and the Files tab of a platform image flags the
//! executables and libraries built for another CPU. A two-platform index is pushed to the
//! real Distribution registry, with an x86-64 program and library put into its arm64
//! image by test code.

use std::time::Duration;

use fantoccini::{Client, Locator};
use strata_tests::browser::{Browser, attributes, open_files_view as open, start_app};
use strata_tests::fixtures::{elf64, two_platform_images};
use strata_tests::image::{Entry, Format, LayerSpec, Step, build_index};
use strata_tests::push::Pusher;
use strata_tests::registry::Registry;

const TIMEOUT: Duration = Duration::from_secs(60);
const EM_X86_64: u16 = 62;
const EM_AARCH64: u16 = 183;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;

/// The layer both platforms get: one program for each CPU, and an x86-64 library.
fn binaries() -> Step {
    Step::Layer(LayerSpec::new(
        "COPY bin/ /usr/",
        vec![
            Entry::file("/usr/bin/for-arm", elf64(EM_AARCH64, ET_EXEC), 0o755),
            Entry::file("/usr/bin/for-x86", elf64(EM_X86_64, ET_EXEC), 0o755),
            Entry::file("/usr/lib/libx86.so", elf64(EM_X86_64, ET_DYN), 0o644),
            Entry::file("/usr/share/not-elf", b"\x7fELG plain data".to_vec(), 0o644),
        ],
    ))
}

async fn flagged(client: &Client) -> anyhow::Result<Vec<String>> {
    client
        .wait()
        .at_most(TIMEOUT)
        .for_element(Locator::Css("[data-foreign-binaries]"))
        .await?;
    attributes(client, "[data-foreign-binary]", "data-foreign-binary").await
}

#[tokio::test]
async fn each_platform_flags_the_executables_built_for_another_cpu() -> anyhow::Result<()> {
    let registry = Registry::start().await?;
    let mut specs = two_platform_images();
    for spec in &mut specs {
        spec.steps.push(binaries());
    }
    let index = build_index("team/arch", &specs, Format::Oci)?;
    let pushed = Pusher::for_registry(&registry)?
        .push_index("team/arch", "v1", &index)
        .await?;
    let app = start_app(&registry).await?;
    let base = format!(
        "{}/image/{}/team/arch@{}",
        app.url(),
        registry.host(),
        pushed.digest
    );
    let mut browser = Browser::start().await?;
    let client = browser.session().await?;

    open(
        &client,
        &format!("{base}?platform=linux/arm64/v8&tab=files"),
    )
    .await?;
    assert_eq!(
        flagged(&client).await?,
        ["/usr/bin/for-x86", "/usr/lib/libx86.so"],
        "arm64 flags the x86-64 files"
    );
    let text = strata_tests::browser::visible_text(&client, "[data-foreign-binaries]").await?;
    assert!(text.contains("x86-64") || text.contains("x86_64"), "{text}");

    open(&client, &format!("{base}?platform=linux/amd64&tab=files")).await?;
    assert_eq!(
        flagged(&client).await?,
        ["/usr/bin/for-arm"],
        "amd64 flags the AArch64 program"
    );
    client.close().await?;
    Ok(())
}
