//! Two image configs side by side: the container defaults field by field, and the
//! history steps aligned by command.
//!
//! History is aligned with a longest-common-subsequence over `created_by`, so one step
//! inserted in B shows as one added row instead of shifting every later step. Within a
//! gap between matched steps, removed and added steps are paired in order as `changed`
//! (a `RUN apt-get install foo=1.2` that became `foo=1.3`). The LCS table is bounded
//! ([`super::align::MAX_LCS_CELLS`]); past it the unmatched middle is listed as removed then added.

use std::collections::BTreeMap;

use super::Change;
use super::align::align;
use crate::manifest::{ContainerConfig, HistoryStep, ImageConfig};

/// One value on both sides.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FieldDiff<T> {
    /// What changed.
    pub change: Change,
    /// A's value.
    pub a: Option<T>,
    /// B's value.
    pub b: Option<T>,
}

impl<T: PartialEq> FieldDiff<T> {
    fn new(a: Option<T>, b: Option<T>) -> Self {
        FieldDiff {
            change: Change::of(a.as_ref(), b.as_ref()),
            a,
            b,
        }
    }
}

/// One key (env variable name, label, port, volume) on both sides.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyDiff {
    /// The key.
    pub key: String,
    /// What changed.
    pub change: Change,
    /// A's value.
    pub a: Option<String>,
    /// B's value.
    pub b: Option<String>,
}

/// One history step of one side.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StepAt {
    /// Index in that config's `history`.
    pub index: usize,
    /// The step.
    pub step: HistoryStep,
}

/// One row of the aligned history.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HistoryRow {
    /// `same` (same command), `changed` (paired in a gap), `added`, `removed`.
    pub change: Change,
    /// A's step.
    pub a: Option<StepAt>,
    /// B's step.
    pub b: Option<StepAt>,
}

/// Two configs compared.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConfigDiff {
    /// `os/architecture[/variant]`.
    pub platform: FieldDiff<String>,
    /// Environment by variable name (the last `NAME=` wins, as in a container).
    pub env: Vec<KeyDiff>,
    /// Entrypoint argv.
    pub entrypoint: FieldDiff<Vec<String>>,
    /// Default arguments.
    pub cmd: FieldDiff<Vec<String>>,
    /// User.
    pub user: FieldDiff<String>,
    /// Working directory.
    pub workdir: FieldDiff<String>,
    /// Exposed ports (`80/tcp`).
    pub exposed_ports: Vec<KeyDiff>,
    /// Volumes.
    pub volumes: Vec<KeyDiff>,
    /// Labels.
    pub labels: Vec<KeyDiff>,
    /// History steps aligned by command.
    pub history: Vec<HistoryRow>,
    /// Whether the LCS bound was hit and the middle of the history was not aligned.
    pub history_truncated: bool,
}

/// Compares two configs.
pub fn diff_configs(a: &ImageConfig, b: &ImageConfig) -> ConfigDiff {
    let empty = ContainerConfig::default();
    let (ca, cb) = (
        a.config.as_ref().unwrap_or(&empty),
        b.config.as_ref().unwrap_or(&empty),
    );
    let keys = |m: &Option<BTreeMap<String, serde_json::Value>>| -> BTreeMap<String, String> {
        m.iter()
            .flatten()
            .map(|(k, _)| (k.clone(), String::new()))
            .collect()
    };
    let (history, history_truncated) = align_history(&a.history, &b.history);
    ConfigDiff {
        platform: FieldDiff::new(Some(platform(a)), Some(platform(b))),
        env: diff_maps(&env_map(ca), &env_map(cb)),
        entrypoint: FieldDiff::new(ca.entrypoint.clone(), cb.entrypoint.clone()),
        cmd: FieldDiff::new(ca.cmd.clone(), cb.cmd.clone()),
        user: FieldDiff::new(ca.user.clone(), cb.user.clone()),
        workdir: FieldDiff::new(ca.working_dir.clone(), cb.working_dir.clone()),
        exposed_ports: diff_maps(&keys(&ca.exposed_ports), &keys(&cb.exposed_ports)),
        volumes: diff_maps(&keys(&ca.volumes), &keys(&cb.volumes)),
        labels: diff_maps(
            ca.labels.as_ref().unwrap_or(&BTreeMap::new()),
            cb.labels.as_ref().unwrap_or(&BTreeMap::new()),
        ),
        history,
        history_truncated,
    }
}

fn platform(c: &ImageConfig) -> String {
    match &c.variant {
        Some(v) => format!("{}/{}/{v}", c.os, c.architecture),
        None => format!("{}/{}", c.os, c.architecture),
    }
}

/// `NAME=value` entries by name; an entry without `=` is a name with an empty value.
fn env_map(c: &ContainerConfig) -> BTreeMap<String, String> {
    c.env
        .iter()
        .flatten()
        .map(|e| match e.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (e.clone(), String::new()),
        })
        .collect()
}

/// Every key of either map, sorted, with its change.
fn diff_maps(a: &BTreeMap<String, String>, b: &BTreeMap<String, String>) -> Vec<KeyDiff> {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|k| {
            let (va, vb) = (a.get(k), b.get(k));
            KeyDiff {
                key: k.clone(),
                change: Change::of(va, vb),
                a: va.cloned(),
                b: vb.cloned(),
            }
        })
        .collect()
}

/// The history rows and whether the LCS bound cut the alignment short.
pub fn align_history(a: &[HistoryStep], b: &[HistoryStep]) -> (Vec<HistoryRow>, bool) {
    let key = |s: &HistoryStep| s.created_by.as_deref().unwrap_or("").trim().to_owned();
    let (ka, kb): (Vec<String>, Vec<String>) =
        (a.iter().map(key).collect(), b.iter().map(key).collect());
    let (aligned, truncated) = align(&ka, &kb);
    let at = |steps: &[HistoryStep], i: Option<usize>| {
        i.map(|index| StepAt {
            index,
            step: steps[index].clone(),
        })
    };
    let rows = aligned
        .into_iter()
        .map(|row| HistoryRow {
            change: row.change,
            a: at(a, row.a),
            b: at(b, row.b),
        })
        .collect();
    (rows, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(cmd: &str) -> HistoryStep {
        HistoryStep {
            created_by: Some(cmd.into()),
            ..HistoryStep::default()
        }
    }

    fn config(env: &[&str], user: Option<&str>, history: &[&str]) -> ImageConfig {
        ImageConfig {
            architecture: "amd64".into(),
            os: "linux".into(),
            config: Some(ContainerConfig {
                env: Some(env.iter().map(|s| s.to_string()).collect()),
                user: user.map(Into::into),
                cmd: Some(vec!["nginx".into()]),
                exposed_ports: Some(BTreeMap::from([("80/tcp".into(), serde_json::json!({}))])),
                ..ContainerConfig::default()
            }),
            history: history.iter().map(|c| step(c)).collect(),
            ..ImageConfig::default()
        }
    }

    #[test]
    fn fields_and_keys() {
        let a = config(&["PATH=/bin", "V=1", "OLD=x"], None, &[]);
        let mut b = config(&["PATH=/bin", "V=2", "NEW", "V=3"], Some("nginx"), &[]);
        b.config.as_mut().unwrap().exposed_ports = None;
        let d = diff_configs(&a, &b);
        let env: Vec<_> = d
            .env
            .iter()
            .map(|k| (k.key.as_str(), k.change, k.b.as_deref()))
            .collect();
        assert_eq!(
            env,
            [
                ("NEW", Change::Added, Some("")),
                ("OLD", Change::Removed, None),
                ("PATH", Change::Same, Some("/bin")),
                ("V", Change::Changed, Some("3")),
            ]
        );
        assert_eq!(d.user.change, Change::Added);
        assert_eq!(d.cmd.change, Change::Same);
        assert_eq!(d.workdir.change, Change::Same);
        assert_eq!(d.exposed_ports[0].change, Change::Removed);
        assert_eq!(d.platform.change, Change::Same);
    }

    #[test]
    fn an_inserted_step_does_not_misalign_the_rest() {
        let a = config(
            &[],
            None,
            &["FROM x", "RUN a", "RUN b v1", "COPY . /", "CMD c"],
        );
        let b = config(
            &[],
            None,
            &[
                "FROM x", "RUN new", "RUN a", "RUN b v2", "COPY . /", "CMD c",
            ],
        );
        let d = diff_configs(&a, &b);
        let rows: Vec<_> = d
            .history
            .iter()
            .map(|r| {
                (
                    r.change,
                    r.a.as_ref().map(|s| s.index),
                    r.b.as_ref().map(|s| s.index),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (Change::Same, Some(0), Some(0)),
                (Change::Added, None, Some(1)),
                (Change::Same, Some(1), Some(2)),
                (Change::Changed, Some(2), Some(3)),
                (Change::Same, Some(3), Some(4)),
                (Change::Same, Some(4), Some(5)),
            ]
        );
        assert!(!d.history_truncated);
    }

    #[test]
    fn huge_histories_are_bounded() {
        let a: Vec<HistoryStep> = (0..1500).map(|i| step(&format!("a{i}"))).collect();
        let b: Vec<HistoryStep> = (0..1500).map(|i| step(&format!("b{i}"))).collect();
        let (rows, truncated) = align_history(&a, &b);
        assert!(truncated);
        assert_eq!(rows.len(), 1500);
        assert!(rows.iter().all(|r| r.change == Change::Changed));
    }
}
