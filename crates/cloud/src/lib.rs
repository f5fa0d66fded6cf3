//! The cloud model as plain logic.
pub mod addressing;
pub mod decision;
pub mod error;
pub mod limits;
pub mod route_table;
pub mod source;
pub mod validate;
