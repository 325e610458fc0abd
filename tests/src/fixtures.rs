//! Ready-made image specs with known contents, for tests to assert against.

use std::collections::BTreeMap;

use crate::image::{Entry, ImageSpec, LayerSpec, RuntimeConfig, Step};

/// `/etc/os-release` as layer 1 writes it.
pub const OS_RELEASE_V1: &str = "NAME=\"Strata Test Linux\"\nVERSION_ID=1\nID=strata\n";
/// `/etc/os-release` as layer 2 rewrites it.
pub const OS_RELEASE_V2: &str = "NAME=\"Strata Test Linux\"\nVERSION_ID=2\nID=strata\n";
/// `/etc/app/config.toml` (layer 2).
pub const APP_CONFIG: &str = "[server]\nlisten = \"0.0.0.0:8080\"\n";
/// `/usr/share/doc/readme.txt` (layer 1; deleted by layer 3).
pub const README: &str = "Strata test image. This file is deleted by layer 3.\n";

/// `/bin/app` (layer 1): bytes that look like an ELF binary, every byte value included.
pub fn app_binary() -> Vec<u8> {
    let mut bytes = b"\x7fELF\x02\x01\x01\0".to_vec();
    bytes.extend((0..4096u32).map(|i| (i.wrapping_mul(31) ^ (i >> 3)) as u8));
    bytes
}

/// `/srv/data.bin` (layer 3): 64 KiB of pseudo-random bytes (compress poorly, like data).
pub fn data_bin() -> Vec<u8> {
    noise(0x9E37_79B9_7F4A_7C15, 64 * 1024)
}

/// `len` pseudo-random bytes from `seed` (xorshift): the same bytes on every run, and
/// incompressible.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// Labels of [`three_layer_image`].
pub fn labels() -> BTreeMap<String, String> {
    BTreeMap::from([
        (
            "org.opencontainers.image.title".to_owned(),
            "strata-test".to_owned(),
        ),
        (
            "org.opencontainers.image.version".to_owned(),
            "1.0.0".to_owned(),
        ),
    ])
}

/// A linux/amd64 image of three layers with an `ENV` step (empty layer) between layers
/// 1 and 2 and a `CMD` step at the end:
///
/// 1. `/etc/os-release` (v1), `/bin/app` (0755, binary), `/usr/share/doc/readme.txt`
/// 2. `/etc/os-release` (v2), `/etc/app/config.toml`
/// 3. whiteout of `/usr/share/doc/readme.txt`, `/srv/data.bin`
///
/// The merged tree has `/etc/os-release` (v2), `/etc/app/config.toml`, `/bin/app`,
/// `/srv/data.bin`, and no readme.
pub fn three_layer_image() -> ImageSpec {
    ImageSpec {
        architecture: "amd64".into(),
        os: "linux".into(),
        variant: None,
        created: "2024-01-02T03:04:05Z".into(),
        config: RuntimeConfig {
            user: Some("1000:1000".into()),
            working_dir: Some("/srv".into()),
            entrypoint: Some(vec!["/bin/app".into()]),
            cmd: Some(vec!["--config".into(), "/etc/app/config.toml".into()]),
            env: vec![
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
                "APP_MODE=test".into(),
            ],
            exposed_ports: vec!["8080/tcp".into()],
            volumes: vec!["/srv/data".into()],
            labels: labels(),
        },
        steps: vec![
            Step::Layer(LayerSpec::new(
                "/bin/sh -c #(nop) ADD file:base in / ",
                vec![
                    Entry::file("/etc/os-release", OS_RELEASE_V1, 0o644),
                    Entry::file("/bin/app", app_binary(), 0o755),
                    Entry::file("/usr/share/doc/readme.txt", README, 0o644),
                ],
            )),
            Step::Empty {
                created_by: "ENV APP_MODE=test".into(),
            },
            Step::Layer(LayerSpec::new(
                "RUN /bin/sh -c configure # buildkit",
                vec![
                    Entry::file("/etc/os-release", OS_RELEASE_V2, 0o644),
                    Entry::file("/etc/app/config.toml", APP_CONFIG, 0o644),
                ],
            )),
            Step::Layer(LayerSpec::new(
                "RUN /bin/sh -c rm /usr/share/doc/readme.txt && fetch-data # buildkit",
                vec![
                    Entry::whiteout("/usr/share/doc/readme.txt"),
                    Entry::file("/srv/data.bin", data_bin(), 0o600),
                ],
            )),
            Step::Empty {
                created_by: "CMD [\"--config\" \"/etc/app/config.toml\"]".into(),
            },
        ],
        annotations: BTreeMap::new(),
    }
}

/// The amd64 and arm64/v8 variants of [`three_layer_image`], for an index.
pub fn two_platform_images() -> [ImageSpec; 2] {
    let base = three_layer_image();
    let mut arm = base.for_platform("arm64", Some("v8"));
    // Give arm64 its own binary so the two platform manifests differ in a layer, too.
    if let Some(Step::Layer(layer)) = arm.steps.first_mut() {
        let mut binary = app_binary();
        binary.extend_from_slice(b"aarch64");
        layer.entries[1] = Entry::file("/bin/app", binary, 0o755);
    }
    [base.for_platform("amd64", None), arm]
}

/// A little-endian 64-bit ELF header for `machine` (`e_machine`, 62 x86-64, 183 AArch64)
/// and `file_type` (`e_type`, 2 executable, 3 shared object), then 256 bytes in all of
/// code-like filler: what the layer index's ELF check reads.
pub fn elf64(machine: u16, file_type: u16) -> Vec<u8> {
    let mut bytes = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0];
    bytes.resize(16, 0);
    bytes.extend_from_slice(&file_type.to_le_bytes());
    bytes.extend_from_slice(&machine.to_le_bytes());
    bytes.extend_from_slice(&1u32.to_le_bytes());
    bytes.resize(256, 0x90);
    bytes
}
