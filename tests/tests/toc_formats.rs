//! The TOC reader against layers built to the eStargz and zstd:chunked formats by test
//! code: each blob is first checked by the real `gzip`/`zstd` and GNU `tar` (so the
//! builders write what those tools read), then its TOC is read from the byte ranges the
//! plan asks for and compared with the verified layer. A lying TOC still verifies
//! against its digest, and the comparison names what it got wrong.

use std::io::Write as _;
use std::process::{Command, Stdio};

use anyhow::Context as _;
use strata_shared::Digest;
use strata_shared::layer::toc::{ByteRange, TocPlan, TocStep};
use strata_shared::layer::{LayerIndex, LayerPipeline, LayerSpec, Limits};
use strata_shared::manifest::Descriptor;
use strata_tests::lazy_layers::{LazyFile, LazyLayer, TocLie, estargz, zstd_chunked};

fn files() -> Vec<LazyFile> {
    vec![
        LazyFile::new("etc/app.conf", b"port = 8080\n"),
        LazyFile::new("usr/bin/tool", &[0x7f; 3000]),
        LazyFile::new("usr/share/doc/README", b"read me\n"),
    ]
}

/// What `tool -dc | tar -t` lists of the blob.
fn listed_by_tools(tool: &str, blob: &[u8]) -> anyhow::Result<Vec<String>> {
    let tool = strata_tests::tools::require(tool)?;
    let mut child = Command::new(tool)
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    let mut stdin = child.stdin.take().context("stdin")?;
    let input = blob.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let tar = child.wait_with_output()?;
    writer.join().map_err(|_| anyhow::anyhow!("writer"))??;
    anyhow::ensure!(tar.status.success(), "decompression failed");
    let mut list = Command::new("tar")
        .arg("-t")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    list.stdin.take().context("stdin")?.write_all(&tar.stdout)?;
    let out = list.wait_with_output()?;
    anyhow::ensure!(out.status.success(), "tar -t failed");
    Ok(String::from_utf8(out.stdout)?
        .lines()
        .map(str::to_owned)
        .collect())
}

fn descriptor(layer: &LazyLayer) -> anyhow::Result<Descriptor> {
    Ok(serde_json::from_value(layer.descriptor())?)
}

/// Reads the TOC as the page does: the plan's ranges, at most two.
fn read_toc(layer: &LazyLayer) -> anyhow::Result<(TocPlan, LayerIndex, Vec<ByteRange>)> {
    let plan = TocPlan::of(&descriptor(layer)?).context("no TOC plan")??;
    let mut range = plan.first_range();
    let mut asked = Vec::new();
    for _ in 0..2 {
        asked.push(range);
        let bytes = &layer.blob[range.start as usize..range.end as usize];
        match plan.read(range, bytes, &Limits::default())? {
            TocStep::Listed(index) => return Ok((plan, index, asked)),
            TocStep::Fetch(next) => range = next,
        }
    }
    anyhow::bail!("the TOC was not found in two ranges")
}

/// The layer verified as the page verifies it.
fn verified(layer: &LazyLayer) -> anyhow::Result<LayerIndex> {
    let spec = LayerSpec {
        media_type: layer.media_type.to_owned(),
        digest: Digest::sha256_of(&layer.blob),
        size: Some(layer.blob.len() as u64),
        diff_id: Some(Digest::parse(&layer.diff_id)?),
    };
    let mut pipeline = LayerPipeline::new(&spec, Limits::default())?;
    for chunk in layer.blob.chunks(4096) {
        pipeline.push(chunk)?;
    }
    Ok(pipeline.finish()?.index)
}

fn paths(index: &LayerIndex) -> Vec<String> {
    index.iter().map(|e| e.path().to_owned()).collect()
}

#[test]
fn an_estargz_toc_is_read_from_the_blob_tail_and_matches_the_layer() -> anyhow::Result<()> {
    let layer = estargz(&files(), &TocLie::default())?;
    let by_tools = listed_by_tools("gzip", &layer.blob)?;
    assert!(
        by_tools.contains(&"stargz.index.json".to_owned()),
        "{by_tools:?}"
    );
    assert!(
        by_tools.contains(&"usr/bin/tool".to_owned()),
        "{by_tools:?}"
    );

    let (plan, toc, asked) = read_toc(&layer)?;
    assert_eq!(asked.len(), 1, "the tail holds the TOC of a small layer");
    assert_eq!(asked[0].end, layer.blob.len() as u64);
    assert_eq!(
        paths(&toc),
        [
            "etc",
            "etc/app.conf",
            "usr",
            "usr/bin",
            "usr/bin/tool",
            "usr/share",
            "usr/share/doc",
            "usr/share/doc/README",
            ".no.prefetch.landmark"
        ]
    );
    assert_eq!(toc.find("usr/bin/tool").context("tool")?.size(), 3000);
    let check = plan.check(&toc, &verified(&layer)?);
    assert!(check.is_true(), "{check:?}");
    Ok(())
}

#[test]
fn a_big_estargz_toc_before_the_tail_takes_a_second_range() -> anyhow::Result<()> {
    // 20000 files: their digests make a TOC of about 1 MiB compressed, which starts
    // before the last 512 KiB the first range reads.
    let many: Vec<LazyFile> = (0..20000)
        .map(|i| LazyFile::new(&format!("data/file-{i:05}"), format!("{i}").as_bytes()))
        .collect();
    let layer = estargz(&many, &TocLie::default())?;
    let (plan, toc, asked) = read_toc(&layer)?;
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(asked[1].start < asked[0].start);
    assert_eq!(toc.len(), 20000 + 2);
    assert!(plan.check(&toc, &verified(&layer)?).is_true());
    Ok(())
}

#[test]
fn a_zstd_chunked_manifest_is_read_with_one_range_and_matches_the_layer() -> anyhow::Result<()> {
    let layer = zstd_chunked(&files(), &TocLie::default())?;
    let by_tools = listed_by_tools("zstd", &layer.blob)?;
    assert_eq!(
        by_tools,
        [
            "etc/",
            "etc/app.conf",
            "usr/",
            "usr/bin/",
            "usr/bin/tool",
            "usr/share/",
            "usr/share/doc/",
            "usr/share/doc/README"
        ]
    );
    let (plan, toc, asked) = read_toc(&layer)?;
    assert_eq!(asked.len(), 1);
    assert!(
        asked[0].end < layer.blob.len() as u64,
        "the footer frame follows"
    );
    assert_eq!(toc.len(), 8);
    let check = plan.check(&toc, &verified(&layer)?);
    assert!(check.is_true(), "{check:?}");
    Ok(())
}

#[test]
fn a_lying_toc_verifies_against_its_digest_and_the_check_names_the_lies() -> anyhow::Result<()> {
    let lie = TocLie {
        invented: vec![LazyFile::new("opt/ghost", b"boo")],
        omitted: vec!["usr/bin/tool".to_owned()],
    };
    for layer in [estargz(&files(), &lie)?, zstd_chunked(&files(), &lie)?] {
        let (plan, toc, _) = read_toc(&layer)?;
        assert!(toc.find("opt/ghost").is_some());
        assert!(toc.find("usr/bin/tool").is_none());
        let check = plan.check(&toc, &verified(&layer)?);
        assert_eq!((check.unlisted, check.invented, check.changed), (1, 1, 0));
        assert_eq!(check.examples, ["/usr/bin/tool", "/opt/ghost"]);
    }
    Ok(())
}

#[test]
fn a_toc_whose_digest_is_not_the_annotations_is_refused() -> anyhow::Result<()> {
    let mut layer = estargz(&files(), &TocLie::default())?;
    layer.annotations["containerd.io/snapshot/stargz/toc.digest"] =
        Digest::sha256_of(b"another TOC").to_string().into();
    let err = read_toc(&layer).unwrap_err().to_string();
    assert!(err.contains("the TOC's digest is sha256:"), "{err}");
    let mut chunked = zstd_chunked(&files(), &TocLie::default())?;
    chunked.annotations["io.github.containers.zstd-chunked.manifest-checksum"] =
        Digest::sha256_of(b"x").to_string().into();
    let err = read_toc(&chunked).unwrap_err().to_string();
    assert!(err.contains("but the manifest names"), "{err}");
    Ok(())
}
