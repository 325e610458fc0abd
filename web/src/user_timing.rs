//! Named spans of main-thread work in the browser's performance timeline (User Timing),
//! so that a trace names the step of the page a long task was spent in.

/// A span that ends (and is measured) when dropped.
pub(crate) struct Span {
    name: &'static str,
}

/// Starts the span `name` (`strata:…`).
pub(crate) fn span(name: &'static str) -> Span {
    if let Some(performance) = performance() {
        let _ = performance.mark(name);
    }
    Span { name }
}

fn performance() -> Option<web_sys::Performance> {
    web_sys::window()?.performance()
}

impl Drop for Span {
    fn drop(&mut self) {
        let Some(performance) = performance() else {
            return;
        };
        // The trace records the measure as it is made; the timeline's own buffer is
        // unbounded, so nothing is kept there.
        let _ = performance.measure_with_start_mark(self.name, self.name);
        performance.clear_marks_with_mark_name(self.name);
        performance.clear_measures_with_measure_name(self.name);
    }
}
