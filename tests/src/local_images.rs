//! Images for the local-source tests, written by test code in the shapes real tools write:
//! the legacy `docker save` tar (Docker up to 24, `podman save`, `skopeo … docker-archive:`).

use strata_shared::Digest;

/// A legacy `docker save` archive of one image tagged `name`, with a layer of `payload`
/// and `/etc/hello.txt`; returns the archive and the image ID (the config's digest).
pub fn legacy_archive(name: &str, payload: &[u8]) -> (Vec<u8>, Digest) {
    let mut layer = tar::Builder::new(Vec::new());
    for (path, data) in [
        ("etc/hello.txt", &b"hello from a loaded image\n"[..]),
        ("data.bin", payload),
    ] {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(1_700_000_000);
        header.set_cksum();
        layer.append_data(&mut header, path, data).unwrap();
    }
    let layer = layer.into_inner().unwrap();
    let diff_id = Digest::sha256_of(&layer);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
        "config": {"Cmd": ["/hello"]},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "2024-01-01T00:00:00Z", "created_by": "COPY . /"}],
    }))
    .unwrap();
    let id = Digest::sha256_of(&config);
    let manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": format!("{}.json", id.hex()), "RepoTags": [name],
        "Layers": [format!("{}/layer.tar", diff_id.hex())],
    }]))
    .unwrap();
    let mut outer = tar::Builder::new(Vec::new());
    for (path, data) in [
        (format!("{}/layer.tar", diff_id.hex()), layer.as_slice()),
        (format!("{}.json", id.hex()), config.as_slice()),
        ("manifest.json".to_owned(), manifest.as_slice()),
    ] {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        outer.append_data(&mut header, path, data).unwrap();
    }
    (outer.into_inner().unwrap(), id)
}

/// A ustar archive of these members, in order: duplicates are written as given.
pub fn tar_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut outer = tar::Builder::new(Vec::new());
    for (path, data) in members {
        let mut header = tar::Header::new_ustar();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        outer.append_data(&mut header, path, *data).unwrap();
    }
    outer.into_inner().unwrap()
}

/// The members of an archive made by [`legacy_archive`] or [`tar_of`], in order.
pub fn members_of(archive: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut reader = tar::Archive::new(archive);
    for entry in reader.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        out.push((path, data));
    }
    out
}
