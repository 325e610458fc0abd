//! The layer pipeline (placeholder: being written).
