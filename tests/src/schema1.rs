//! Docker schema1 images written by test code as Docker 1.x wrote them: `fsLayers` and
//! `history` newest first, `v1Compatibility` JSON per step (throwaway steps point at an
//! empty tar), and a libtrust "pretty JWS" ES256 signature, which the Distribution registry
//! verifies before it accepts the push (its `compatibility.schema1.enabled` must be on).

use base64::Engine as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};

use crate::image::{Entry, Format, Layer, LayerSpec, gzip, sha256_digest};

/// A signed schema1 manifest and the blobs it names.
pub struct Schema1Image {
    /// The manifest as pushed (signatures included).
    pub bytes: Vec<u8>,
    /// Its digest: over the JWS payload, as the registry computes it.
    pub digest: String,
    /// Distinct layer blobs to push first: (digest, bytes).
    pub blobs: Vec<(String, Vec<u8>)>,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// `name:tag` of three steps: `ADD rootfs` (a layer), `ENV` (throwaway, the empty tar) and
/// `RUN install` (a layer), signed with a fresh P-256 key.
pub fn signed_schema1(name: &str, tag: &str) -> anyhow::Result<Schema1Image> {
    let base = Layer::build(
        &LayerSpec::new(
            "ADD rootfs /",
            vec![
                Entry::file("/etc/os-release", b"ID=old\n".to_vec(), 0o644),
                Entry::file("/bin/sh", b"#!sh\n".to_vec(), 0o755),
            ],
        ),
        Format::Docker,
    )?;
    let install = Layer::build(
        &LayerSpec::new(
            "RUN install",
            vec![Entry::file("/usr/bin/tool", b"tool\n".to_vec(), 0o755)],
        ),
        Format::Docker,
    )?;
    let empty_blob = gzip(&[0u8; 1024])?;
    let empty = sha256_digest(&empty_blob);
    // Oldest first: (blob digest, command, throwaway).
    let steps = [
        (base.digest.clone(), "#(nop) ADD file:rootfs in /", false),
        (empty.clone(), "#(nop) ENV MODE=old", true),
        (install.digest.clone(), "apt-get install tool", false),
    ];
    let mut parent = String::new();
    let mut history = Vec::new();
    for (i, (_, command, throwaway)) in steps.iter().enumerate() {
        let id = format!("{:064x}", i + 1);
        let mut v1 = serde_json::json!({
            "id": id,
            "created": format!("2016-0{}-01T00:00:00Z", i + 1),
            "container_config": {"Cmd": ["/bin/sh", "-c", command]},
            "architecture": "amd64",
            "os": "linux",
        });
        if !parent.is_empty() {
            v1["parent"] = parent.clone().into();
        }
        if *throwaway {
            v1["throwaway"] = true.into();
        }
        history.push(serde_json::json!({"v1Compatibility": v1.to_string()}));
        parent = id;
    }
    history.reverse();
    let fs_layers: Vec<_> = steps
        .iter()
        .rev()
        .map(|(digest, _, _)| serde_json::json!({"blobSum": digest}))
        .collect();
    let unsigned = serde_json::json!({
        "schemaVersion": 1,
        "name": name,
        "tag": tag,
        "architecture": "amd64",
        "fsLayers": fs_layers,
        "history": history,
    });
    // libtrust signs the indented document; the payload ends at its closing "\n}".
    let payload = serde_json::to_vec_pretty(&unsigned)?;
    let tail = b"\n}";
    anyhow::ensure!(payload.ends_with(tail), "pretty JSON ends with \\n}}");
    let format_length = payload.len() - tail.len();
    let protected = b64(serde_json::to_string(&serde_json::json!({
        "formatLength": format_length,
        "formatTail": b64(tail),
        "time": "2016-01-01T00:00:00Z",
    }))?
    .as_bytes());
    let key = SigningKey::random(&mut p256::elliptic_curve::rand_core::OsRng);
    let signing_input = format!("{protected}.{}", b64(&payload));
    let signature: Signature = key.sign(signing_input.as_bytes());
    let point = key.verifying_key().to_encoded_point(false);
    let signatures = serde_json::json!([{
        "header": {
            "jwk": {
                "crv": "P-256",
                "kty": "EC",
                "x": b64(point.x().expect("uncompressed point")),
                "y": b64(point.y().expect("uncompressed point")),
            },
            "alg": "ES256",
        },
        "signature": b64(&signature.to_bytes()),
        "protected": protected,
    }]);
    let mut bytes = payload[..format_length].to_vec();
    bytes.extend_from_slice(b",\n   \"signatures\": ");
    bytes.extend_from_slice(&serde_json::to_vec_pretty(&signatures)?);
    bytes.extend_from_slice(tail);
    Ok(Schema1Image {
        bytes,
        digest: sha256_digest(&payload),
        blobs: vec![
            (base.digest, base.blob),
            (empty, empty_blob),
            (install.digest, install.blob),
        ],
    })
}
