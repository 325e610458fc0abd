use leptos::prelude::*;
use strata_shared::compare::config::{ConfigDiff, FieldDiff, KeyDiff, diff_configs};

use super::change_word;
use crate::compare_load::LoadedSide;

fn argv(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn field_row<T>(
    name: &'static str,
    f: &FieldDiff<T>,
    show: impl Fn(&T) -> String,
) -> impl IntoView {
    let word = change_word(f.change);
    view! {
        <tr data-config-field=name data-change=word class=format!("change-{word}")>
            <th>{name}</th>
            <td class="mono">{f.a.as_ref().map(&show).unwrap_or_else(|| "—".into())}</td>
            <td class="mono">{f.b.as_ref().map(&show).unwrap_or_else(|| "—".into())}</td>
        </tr>
    }
}

fn key_rows(what: &'static str, rows: &[KeyDiff]) -> impl IntoView + use<> {
    let rows = rows
        .iter()
        .map(|k| {
            let word = change_word(k.change);
            view! {
                <tr data-config-key=format!("{what}:{}", k.key) data-change=word class=format!("change-{word}")>
                    <th class="mono">{k.key.clone()}</th>
                    <td class="mono">{k.a.clone().unwrap_or_else(|| "—".into())}</td>
                    <td class="mono">{k.b.clone().unwrap_or_else(|| "—".into())}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <tr class="group"><th colspan="3">{what}</th></tr>
        {rows}
    }
}

fn history_table(d: &ConfigDiff) -> impl IntoView + use<> {
    let rows = d
        .history
        .iter()
        .map(|row| {
            let word = change_word(row.change);
            let cell = |s: &Option<strata_shared::compare::config::StepAt>| {
                s.as_ref().map(|s| {
                    let cmd = s.step.created_by.clone().unwrap_or_default();
                    view! { <span class="dim">{format!("#{} ", s.index)}</span> {cmd} }
                })
            };
            view! {
                <tr data-history-change=word class=format!("change-{word}")>
                    <td class="mono">{cell(&row.a)}</td>
                    <td class="mono">{cell(&row.b)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="panel">
            <h2>"History, aligned by command"</h2>
            {d.history_truncated.then(|| view! { <p class="dim">"The histories differ in too many steps to align; the middle is paired in order."</p> })}
            <table class="compare-history"><thead><tr><th>"A"</th><th>"B"</th></tr></thead><tbody>{rows}</tbody></table>
        </section>
    }
}

/// The container defaults side by side, and the history steps aligned by command.
#[component]
pub(crate) fn CompareConfig(a: LoadedSide, b: LoadedSide) -> impl IntoView {
    let (Some((ca, _)), Some((cb, _))) = (&a.model.config, &b.model.config) else {
        let missing = if a.model.config.is_none() { "A" } else { "B" };
        return view! {
            <section class="panel" data-config-missing=missing>
                <p>"Image " {missing} " has no config to compare (it failed, or the image is legacy schema1)."</p>
            </section>
        }
        .into_any();
    };
    let d = diff_configs(ca, cb);
    let text = |s: &String| s.clone();
    view! {
        <section class="panel">
            <h2>"Container defaults"</h2>
            <table class="compare-config">
                <thead><tr><th></th><th>"A"</th><th>"B"</th></tr></thead>
                <tbody>
                    {field_row("platform", &d.platform, text)}
                    {field_row("entrypoint", &d.entrypoint, |v| argv(v))}
                    {field_row("cmd", &d.cmd, |v| argv(v))}
                    {field_row("user", &d.user, text)}
                    {field_row("workdir", &d.workdir, text)}
                    {key_rows("env", &d.env)}
                    {key_rows("ports", &d.exposed_ports)}
                    {key_rows("volumes", &d.volumes)}
                    {key_rows("labels", &d.labels)}
                </tbody>
            </table>
        </section>
        {history_table(&d)}
    }
    .into_any()
}
