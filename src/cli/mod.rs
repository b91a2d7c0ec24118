//! Command handlers that need more than a few lines of wiring, one module per concern.

pub mod search;
pub mod site;
