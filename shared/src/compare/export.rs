//! The comparison as a file: JSON for all of it, with both image digests, and CSV for the
//! file list (RFC 4180: a field holding a comma, a quote, CR or LF is quoted, quotes
//! doubled; paths are written as they are, not escaped for spreadsheets).

use super::arch::ForeignBinary;
use super::config::ConfigDiff;
use super::files::{PathDiff, Side, TreeDiff};
use super::layers::LayerDiff;
use super::packages::PackageDiff;
use super::rollup::DirRollup;
use crate::Digest;

/// Which image one side is.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ImageSide {
    /// The reference as opened (`nginx:1.25`, `oci:…`), when there is one.
    pub reference: Option<String>,
    /// Digest of the image manifest.
    pub digest: Digest,
    /// `os/arch[/variant]`, when picked from an index.
    pub platform: Option<String>,
}

/// Everything compared; parts not computed (no SBOM, trees not loaded) are `None`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Comparison {
    /// Image A.
    pub a: ImageSide,
    /// Image B.
    pub b: ImageSide,
    /// Whether the file diff ignored mtimes and layers.
    pub semantic: bool,
    /// Layers and pull cost.
    pub layers: Option<LayerDiff>,
    /// Config and history.
    pub config: Option<ConfigDiff>,
    /// Every path.
    pub files: Option<TreeDiff>,
    /// Per-directory sums of the file diff.
    pub directories: Option<Vec<DirRollup>>,
    /// SBOM packages.
    pub packages: Option<PackageDiff>,
    /// Binaries of another architecture in A.
    pub foreign_in_a: Option<Vec<ForeignBinary>>,
    /// Binaries of another architecture in B.
    pub foreign_in_b: Option<Vec<ForeignBinary>>,
}

/// The comparison as pretty-printed JSON.
pub fn to_json(c: &Comparison) -> String {
    serde_json::to_string_pretty(c).unwrap_or_default()
}

/// The header line of [`files_csv`].
pub const CSV_HEADER: &str =
    "path,change,differences,a_kind,b_kind,a_size,b_size,byte_delta,a_mode,b_mode,a_layer,b_layer";

/// File rows (all of a [`TreeDiff`], or a filtered view of it) as CSV with a header line;
/// paths absolute.
pub fn files_csv<'a>(rows: impl IntoIterator<Item = &'a PathDiff>) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for r in rows {
        let side =
            |s: &Option<Side>, f: &dyn Fn(&Side) -> String| s.as_ref().map(f).unwrap_or_default();
        let fields = [
            csv_field(&format!("/{}", r.path)),
            r.change.word().to_owned(),
            r.differences.parts().join(";"),
            side(&r.a, &|s| s.kind.ls_char().to_string()),
            side(&r.b, &|s| s.kind.ls_char().to_string()),
            side(&r.a, &|s| s.size.to_string()),
            side(&r.b, &|s| s.size.to_string()),
            r.byte_delta().to_string(),
            side(&r.a, &|s| format!("{:04o}", s.mode)),
            side(&r.b, &|s| format!("{:04o}", s.mode)),
            side(&r.a, &|s| s.layer.to_string()),
            side(&r.b, &|s| s.layer.to_string()),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// One CSV field: quoted when it holds a comma, quote, CR or LF, or edge spaces.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) || s.starts_with(' ') || s.ends_with(' ') {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::files::{DiffOptions, diff_trees};
    use crate::tree::test_tar::{E, layer, merged};

    /// A minimal RFC 4180 reader, to check the CSV reads back as written.
    fn parse_csv(text: &str) -> Vec<Vec<String>> {
        let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
        let mut chars = text.chars().peekable();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match (quoted, c) {
                (true, '"') if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                (true, '"') => quoted = false,
                (true, c) => field.push(c),
                (false, '"') => quoted = true,
                (false, ',') => row.push(std::mem::take(&mut field)),
                (false, '\n') => {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                }
                (false, c) => field.push(c),
            }
        }
        rows
    }

    #[test]
    fn csv_round_trips_hostile_paths_and_json_names_both_digests() {
        let nasty = "dir/a,b \"q\"\nline";
        let a = merged(&[layer(&[E::File("x", b"1")])]);
        let b = merged(&[layer(&[E::File("x", b"2"), E::File(nasty, b"n")])]);
        let d = diff_trees(&a, &b, DiffOptions::default());
        let csv = files_csv(&d.entries);
        let rows = parse_csv(&csv);
        assert_eq!(rows[0].join(","), CSV_HEADER);
        assert_eq!(rows.len(), 1 + d.entries.len());
        let added = rows.iter().find(|r| r[0].starts_with("/dir/")).unwrap();
        assert_eq!((added[1].as_str(), added[3].as_str()), ("added", ""));
        assert_eq!(added[0], format!("/{nasty}"));
        assert_eq!(added.len(), 12);
        let x = rows.iter().find(|r| r[0] == "/x").unwrap();
        assert_eq!(
            (x[1].as_str(), x[2].as_str(), x[7].as_str()),
            ("modified", "content", "0")
        );

        let digest =
            |c: char| Digest::parse(&format!("sha256:{}", c.to_string().repeat(64))).unwrap();
        let c = Comparison {
            a: ImageSide {
                reference: Some("x:1".into()),
                digest: digest('a'),
                platform: None,
            },
            b: ImageSide {
                reference: None,
                digest: digest('b'),
                platform: Some("linux/arm64".into()),
            },
            semantic: false,
            layers: None,
            config: None,
            files: Some(d),
            directories: None,
            packages: None,
            foreign_in_a: None,
            foreign_in_b: None,
        };
        let json = to_json(&c);
        let back: Comparison = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["a"]["digest"], digest('a').to_string());
        assert_eq!(v["b"]["digest"], digest('b').to_string());
        assert_eq!(v["files"]["entries"][0]["change"], "added");
    }
}
