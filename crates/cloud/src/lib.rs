//! The cloud model as plain logic.
pub mod addressing;
pub mod cloudhub;
pub mod decision;
pub mod dx;
pub mod error;
pub mod limits;
pub mod path;
pub mod route_table;
pub mod source;
pub mod validate;
pub mod vgw;
