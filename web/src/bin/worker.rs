//! The layer worker's entry point (Trunk builds it as a Web Worker).
fn main() {
    console_error_panic_hook::set_once();
    strata_web::worker::start();
}
