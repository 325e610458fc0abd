//! Mounts the Strata app.
fn main() {
    console_error_panic_hook::set_once();
    strata_web::start();
}
