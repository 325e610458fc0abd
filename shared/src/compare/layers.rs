//! Which layers two images share, and what pulling one costs a machine that holds the
//! other.
//!
//! Two layers are the same blob when their digests match; they hold the same files when
//! their diff_ids match (the same tar, compressed differently: gzip vs zstd, another gzip
//! level, a re-push through another tool). Registries, `docker pull` and containerd fetch
//! blobs by digest and skip only digests they already have, so a layer shared by diff_id
//! alone is still downloaded: the pull cost counts it, and also reports it apart as bytes
//! whose content is already present.

use std::collections::{HashMap, HashSet};

use crate::manifest::Descriptor;
use crate::{Digest, MediaType};

/// One layer of an image as the compare needs it: the manifest's descriptor fields and
/// the config's diff_id when known.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LayerInfo {
    /// Digest of the compressed blob.
    pub digest: Digest,
    /// Compressed size.
    pub size: u64,
    /// Media type (gzip, zstd, …).
    pub media_type: MediaType,
    /// sha256 of the uncompressed tar, when the config is known.
    pub diff_id: Option<Digest>,
}

impl LayerInfo {
    /// A manifest's layers paired by position with the config's `rootfs.diff_ids` (a
    /// missing diff_id is `None`).
    pub fn from_manifest(layers: &[Descriptor], diff_ids: &[Digest]) -> Vec<LayerInfo> {
        layers
            .iter()
            .enumerate()
            .map(|(i, d)| LayerInfo {
                digest: d.digest.clone(),
                size: d.size,
                media_type: d.media_type.clone(),
                diff_id: diff_ids.get(i).cloned(),
            })
            .collect()
    }
}

/// Which image has a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LayerSide {
    /// Both images (by digest or by diff_id).
    Both,
    /// Only A.
    A,
    /// Only B.
    B,
}

/// How a layer of both images was matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerMatch {
    /// The same blob.
    Digest,
    /// The same tar in a different blob (another compression): downloaded anyway.
    DiffId,
}

/// One layer blob of one side, and where it sits in that image.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LayerOccurrence {
    /// The layer.
    pub layer: LayerInfo,
    /// Its positions in the image (0 = base); more than one when the image repeats it.
    pub positions: Vec<usize>,
}

/// One row of the layer comparison.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LayerRow {
    /// Which image has it.
    pub side: LayerSide,
    /// How a `Both` row matched (`None` otherwise).
    pub matched_by: Option<LayerMatch>,
    /// The layer in A.
    pub a: Option<LayerOccurrence>,
    /// The layer in B.
    pub b: Option<LayerOccurrence>,
}

/// What a machine holding one image must fetch to get the other.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PullCost {
    /// Distinct blobs of the target image, and their compressed bytes (a blob listed
    /// twice counts once).
    pub total_layers: u32,
    /// Compressed bytes of all distinct blobs of the target.
    pub total_bytes: u64,
    /// Blobs the holder lacks by digest: what a pull downloads.
    pub download_layers: u32,
    /// Their compressed bytes.
    pub download_bytes: u64,
    /// Compressed bytes of target blobs the holder has by digest (skipped by a pull).
    pub present_bytes: u64,
    /// Compressed bytes of target blobs whose content the holder has, by digest or by
    /// diff_id: what a pull by content would skip. At least `present_bytes`.
    pub present_by_content_bytes: u64,
}

impl PullCost {
    /// Bytes downloaded although their content is present (same diff_id, other blob).
    pub fn redundant_bytes(&self) -> u64 {
        self.present_by_content_bytes
            .saturating_sub(self.present_bytes)
    }
}

/// The layers of two images compared.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LayerDiff {
    /// A's distinct layers in A's order (shared ones with their B side), then B's own.
    pub rows: Vec<LayerRow>,
    /// To pull B on a machine that holds A.
    pub pull_b_given_a: PullCost,
    /// To pull A on a machine that holds B.
    pub pull_a_given_b: PullCost,
}

/// Compares the layer lists of A and B.
pub fn compare_layers(a: &[LayerInfo], b: &[LayerInfo]) -> LayerDiff {
    let (occ_a, occ_b) = (occurrences(a), occurrences(b));
    let b_by_digest: HashMap<&Digest, usize> = occ_b
        .iter()
        .enumerate()
        .map(|(i, o)| (&o.layer.digest, i))
        .collect();
    let mut b_by_diff_id: HashMap<&Digest, usize> = HashMap::new();
    for (i, o) in occ_b.iter().enumerate() {
        if let Some(d) = &o.layer.diff_id {
            b_by_diff_id.entry(d).or_insert(i);
        }
    }
    let mut b_used = vec![false; occ_b.len()];
    let mut rows = Vec::with_capacity(occ_a.len() + occ_b.len());
    for oa in &occ_a {
        let by_digest = b_by_digest
            .get(&oa.layer.digest)
            .copied()
            .filter(|&i| !b_used[i]);
        let found = by_digest.map(|i| (i, LayerMatch::Digest)).or_else(|| {
            let d = oa.layer.diff_id.as_ref()?;
            let i = *b_by_diff_id.get(d)?;
            // Not a B blob that A also has by digest, nor one already paired.
            (!b_used[i]
                && !occ_a
                    .iter()
                    .any(|x| x.layer.digest == occ_b[i].layer.digest))
            .then_some((i, LayerMatch::DiffId))
        });
        match found {
            Some((i, how)) => {
                b_used[i] = true;
                rows.push(LayerRow {
                    side: LayerSide::Both,
                    matched_by: Some(how),
                    a: Some(oa.clone()),
                    b: Some(occ_b[i].clone()),
                });
            }
            None => rows.push(LayerRow {
                side: LayerSide::A,
                matched_by: None,
                a: Some(oa.clone()),
                b: None,
            }),
        }
    }
    for (i, ob) in occ_b.iter().enumerate() {
        if !b_used[i] {
            rows.push(LayerRow {
                side: LayerSide::B,
                matched_by: None,
                a: None,
                b: Some(ob.clone()),
            });
        }
    }
    LayerDiff {
        rows,
        pull_b_given_a: pull_cost(a, b),
        pull_a_given_b: pull_cost(b, a),
    }
}

/// What pulling `target` costs a machine that holds `held`.
pub fn pull_cost(held: &[LayerInfo], target: &[LayerInfo]) -> PullCost {
    let digests: HashSet<&Digest> = held.iter().map(|l| &l.digest).collect();
    let diff_ids: HashSet<&Digest> = held.iter().filter_map(|l| l.diff_id.as_ref()).collect();
    let mut cost = PullCost::default();
    let mut seen = HashSet::new();
    for l in target {
        if !seen.insert(&l.digest) {
            continue;
        }
        cost.total_layers += 1;
        cost.total_bytes = cost.total_bytes.saturating_add(l.size);
        let by_digest = digests.contains(&l.digest);
        if by_digest {
            cost.present_bytes = cost.present_bytes.saturating_add(l.size);
        } else {
            cost.download_layers += 1;
            cost.download_bytes = cost.download_bytes.saturating_add(l.size);
        }
        if by_digest || l.diff_id.as_ref().is_some_and(|d| diff_ids.contains(d)) {
            cost.present_by_content_bytes = cost.present_by_content_bytes.saturating_add(l.size);
        }
    }
    cost
}

/// Distinct blobs of one image in order of first appearance, with all their positions.
fn occurrences(layers: &[LayerInfo]) -> Vec<LayerOccurrence> {
    let mut out: Vec<LayerOccurrence> = Vec::new();
    let mut at: HashMap<&Digest, usize> = HashMap::new();
    for (pos, l) in layers.iter().enumerate() {
        match at.get(&l.digest) {
            Some(&i) => out[i].positions.push(pos),
            None => {
                at.insert(&l.digest, out.len());
                out.push(LayerOccurrence {
                    layer: l.clone(),
                    positions: vec![pos],
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(c: char) -> Digest {
        Digest::parse(&format!("sha256:{}", c.to_string().repeat(64))).unwrap()
    }

    fn layer(d: char, size: u64, diff: Option<char>) -> LayerInfo {
        LayerInfo {
            digest: digest(d),
            size,
            media_type: MediaType::parse("application/vnd.oci.image.layer.v1.tar+gzip"),
            diff_id: diff.map(digest),
        }
    }

    #[test]
    fn shared_by_digest_by_diff_id_and_own_layers() {
        // A: base(1), app-gzip(2). B: base(1), app-zstd(3, same tar as 2), extra(4) twice.
        let a = [layer('1', 1000, Some('a')), layer('2', 300, Some('b'))];
        let b = [
            layer('1', 1000, Some('a')),
            layer('3', 250, Some('b')),
            layer('4', 70, Some('c')),
            layer('4', 70, Some('c')),
        ];
        let d = compare_layers(&a, &b);
        let sides: Vec<_> = d.rows.iter().map(|r| (r.side, r.matched_by)).collect();
        assert_eq!(
            sides,
            [
                (LayerSide::Both, Some(LayerMatch::Digest)),
                (LayerSide::Both, Some(LayerMatch::DiffId)),
                (LayerSide::B, None),
            ]
        );
        assert_eq!(d.rows[2].b.as_ref().unwrap().positions, [2, 3]);
        assert_eq!(d.rows[1].b.as_ref().unwrap().layer.digest, digest('3'));

        // B given A: 3 and 4 are fetched (4 once); 3's content is already there.
        assert_eq!(
            d.pull_b_given_a,
            PullCost {
                total_layers: 3,
                total_bytes: 1000 + 250 + 70,
                download_layers: 2,
                download_bytes: 250 + 70,
                present_bytes: 1000,
                present_by_content_bytes: 1000 + 250,
            }
        );
        assert_eq!(d.pull_b_given_a.redundant_bytes(), 250);
        // A given B: only the gzip blob of the app layer.
        assert_eq!(d.pull_a_given_b.download_bytes, 300);
        assert_eq!(d.pull_a_given_b.present_by_content_bytes, 1300);
    }

    #[test]
    fn unknown_diff_ids_match_by_digest_only() {
        let a = [layer('1', 10, None), layer('2', 20, None)];
        let b = [layer('3', 30, None)];
        let d = compare_layers(&a, &b);
        assert!(d.rows.iter().all(|r| r.side != LayerSide::Both));
        assert_eq!(d.pull_b_given_a.download_bytes, 30);
        assert_eq!(d.pull_b_given_a.present_by_content_bytes, 0);
        let same = compare_layers(&a, &a);
        assert_eq!(same.pull_b_given_a.download_bytes, 0);
        assert_eq!(same.rows.len(), 2);
    }
}
