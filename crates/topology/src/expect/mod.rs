//! `[[expect]]`: what a lab should show once it has converged (a route in
//! a table, a session's state, the path of a packet), checked by
//! `hybridlab check` (docs/topology.md, "Expectations").

mod check;
mod model;
pub(crate) mod raw;

pub(crate) use check::{check, Nodes};
pub use model::*;
