//! View state lives in the URL query, so a copied link restores the view and Back works.

/// The current page's path with some query keys set (`Some`) or removed (`None`).
pub fn href_with(updates: &[(&str, Option<&str>)]) -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return String::new();
    };
    let path = location.pathname().unwrap_or_default();
    let search = location.search().unwrap_or_default();
    let Ok(params) = web_sys::UrlSearchParams::new_with_str(&search) else {
        return path;
    };
    for (key, value) in updates {
        match value {
            Some(v) => params.set(key, v),
            None => params.delete(key),
        }
    }
    let query: String = params.to_string().into();
    if query.is_empty() {
        path
    } else {
        format!("{path}?{query}")
    }
}
