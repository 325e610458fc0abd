//! The explorer's export: the rows of the view on screen as CSV or JSON.

use super::MergedTree;
use super::explore::{Row, SortBy, layer_changes, mode_string};

/// What "export" writes: one layer's changes (by name), or every present path of the
/// merged image (tree order).
pub fn rows(tree: &MergedTree, layer: Option<u32>) -> Vec<Row> {
    match layer {
        Some(l) => layer_changes(tree, l, SortBy::Name),
        None => tree
            .present()
            .filter(|(p, _)| !p.is_empty())
            .map(|(p, n)| Row {
                path: p.to_owned(),
                node: n.clone(),
                subtree_bytes: 0,
                subtree_count: 0,
                change: None,
            })
            .collect(),
    }
}

/// The file name (without extension) of an export: `layer-N` (0-based, as in the URL) or
/// `merged`.
pub fn file_stem(layer: Option<u32>) -> String {
    match layer {
        Some(l) => format!("layer-{l}"),
        None => "merged".into(),
    }
}

/// One exported row. Fields are in alphabetical order: the JSON keeps the key order
/// earlier exports had.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ExportRow {
    /// What the layer did (`added`, `modified`, `deleted`, `hidden`) in a layer view.
    pub change: Option<&'static str>,
    /// Owner group id.
    pub gid: u64,
    /// `ls -l`'s kind letter.
    pub kind: String,
    /// Layer of the latest version (0-based).
    pub layer: u32,
    /// Link target.
    pub link: Option<String>,
    /// `-rwxr-xr-x`.
    pub mode: String,
    /// Seconds since the epoch.
    pub mtime: i64,
    /// Absolute path.
    pub path: String,
    /// Whether the path exists in the final image.
    pub present: bool,
    /// Bytes.
    pub size: u64,
    /// Owner user id.
    pub uid: u64,
}

impl From<&Row> for ExportRow {
    fn from(r: &Row) -> Self {
        let n = &r.node;
        ExportRow {
            change: r.change.as_ref().map(|c| c.kind.word()),
            gid: n.gid,
            kind: n.kind.ls_char().to_string(),
            layer: n.layer,
            link: n.link.clone(),
            mode: mode_string(n.kind, n.mode),
            mtime: n.mtime,
            path: format!("/{}", r.path),
            present: n.present,
            size: n.size,
            uid: n.uid,
        }
    }
}

/// CSV with a header line; paths and link targets quoted, `"` doubled.
pub fn to_csv(rows: &[Row]) -> String {
    let mut out = String::from("path,kind,mode,uid,gid,size,mtime,layer,link,change\n");
    for r in rows.iter().map(ExportRow::from) {
        out.push_str(&format!(
            "\"{}\",{},{},{},{},{},{},{},\"{}\",{}\n",
            r.path.replace('"', "\"\""),
            r.kind,
            r.mode,
            r.uid,
            r.gid,
            r.size,
            r.mtime,
            r.layer,
            r.link.unwrap_or_default().replace('"', "\"\""),
            r.change.unwrap_or("")
        ));
    }
    out
}

/// A pretty-printed JSON array of [`ExportRow`]s.
pub fn to_json(rows: &[Row]) -> String {
    let items: Vec<ExportRow> = rows.iter().map(ExportRow::from).collect();
    serde_json::to_string_pretty(&items).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::super::test_tar::{E, layer, merged};
    use super::*;

    fn tree() -> MergedTree {
        merged(&[
            layer(&[
                E::Dir("etc/"),
                E::File("etc/a \"q\".conf", b"one"),
                E::Symlink("etc/l", "a \"q\".conf"),
            ]),
            layer(&[
                E::File("etc/a \"q\".conf", b"two!"),
                E::File("etc/.wh.l", b""),
            ]),
        ])
    }

    #[test]
    fn merged_rows_are_the_present_paths() {
        let rows = rows(&tree(), None);
        let paths: Vec<&str> = rows.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["etc", "etc/a \"q\".conf"]);
        assert_eq!(file_stem(None), "merged");
    }

    #[test]
    fn csv_quotes_paths_and_numbers_layers_from_zero() {
        let t = tree();
        let csv = to_csv(&rows(&t, Some(1)));
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "path,kind,mode,uid,gid,size,mtime,layer,link,change"
        );
        assert_eq!(
            lines[1],
            "\"/etc/a \"\"q\"\".conf\",-,-rw-r--r--,0,0,4,1700000000,1,\"\",modified"
        );
        assert_eq!(
            lines[2],
            "\"/etc/l\",l,lrwxrwxrwx,0,0,0,1700000000,0,\"a \"\"q\"\".conf\",deleted"
        );
        assert_eq!(lines.len(), 3);
        assert_eq!(file_stem(Some(1)), "layer-1");
    }

    #[test]
    fn json_keys_are_sorted_and_complete() {
        let t = tree();
        let json = to_json(&rows(&t, Some(1)));
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        let first = value[0].as_object().unwrap();
        let keys: Vec<&str> = first.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "change", "gid", "kind", "layer", "link", "mode", "mtime", "path", "present",
                "size", "uid"
            ]
        );
        assert_eq!(value[0]["change"], "modified");
        assert_eq!(value[1]["present"], false);
        assert!(json.find("\"change\"") < json.find("\"uid\""));
    }
}
