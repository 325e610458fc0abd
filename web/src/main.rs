//! Mounts the Strata app.
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(strata_web::App);
}
