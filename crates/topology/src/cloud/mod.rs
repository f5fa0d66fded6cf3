//! Cloud node kinds of a topology file (docs/topology.md, "Cloud nodes"):
//! parsed and validated here, then lowered onto BGP speakers the runtime
//! runs like the file's routers.

mod check;
mod lower;
mod model;
pub(crate) mod raw;

pub(crate) use check::check;
pub(crate) use lower::lower;
pub use lower::FALLBACK_ROUTER_ID;
pub use model::*;
