use leptos::prelude::*;
use strata_shared::manifest::ImageConfig;

/// The config: what a container started from this image gets.
#[component]
pub(crate) fn ConfigView(config: ImageConfig) -> impl IntoView {
    let c = config.config.clone().unwrap_or_default();
    let join = |v: &Option<Vec<String>>| {
        v.as_ref()
            .map(|v| serde_json::to_string(v).unwrap_or_default())
    };
    let keys = |m: &Option<std::collections::BTreeMap<String, serde_json::Value>>| {
        m.as_ref()
            .map(|m| m.keys().cloned().collect::<Vec<_>>().join(", "))
    };
    let platform = match &config.variant {
        Some(v) => format!("{}/{}/{v}", config.os, config.architecture),
        None => format!("{}/{}", config.os, config.architecture),
    };
    let mut rows: Vec<(&str, Option<String>)> = vec![
        ("Created", config.created.clone()),
        ("Platform", Some(platform)),
        ("User", c.user.clone().filter(|u| !u.is_empty())),
        ("Workdir", c.working_dir.clone().filter(|w| !w.is_empty())),
        ("Entrypoint", join(&c.entrypoint)),
        ("Cmd", join(&c.cmd)),
        ("Exposed ports", keys(&c.exposed_ports)),
        ("Volumes", keys(&c.volumes)),
        ("Stop signal", c.stop_signal.clone()),
    ];
    rows.retain(|(_, v)| v.is_some());
    let env = c.env.clone().unwrap_or_default();
    let labels = c.labels.clone().unwrap_or_default();
    view! {
        <section class="panel config" id="config" data-section="config">
            <h2>"Config"</h2>
            <dl>
                {rows
                    .into_iter()
                    .map(|(k, v)| view! { <dt>{k}</dt> <dd class="mono" data-config=k>{v}</dd> })
                    .collect_view()}
            </dl>
            <h3>"Env"</h3>
            {env.is_empty().then(|| view! { <p class="dim small">"none"</p> })}
            <ul class="mono kv" data-config="Env">
                {env.into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
            </ul>
            <h3>"Labels"</h3>
            {labels.is_empty().then(|| view! { <p class="dim small">"none"</p> })}
            <ul class="mono kv" data-config="Labels">
                {labels.into_iter().map(|(k, v)| view! { <li>{k} "=" {v}</li> }).collect_view()}
            </ul>
        </section>
    }
}
