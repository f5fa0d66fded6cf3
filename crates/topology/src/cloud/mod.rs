//! Cloud node kinds of a topology file (docs/topology.md, "Cloud nodes"):
//! parsed and validated here, run by the runtime later.

mod check;
mod model;
pub(crate) mod raw;

pub(crate) use check::check;
pub use model::*;
