//! Direct Connect: virtual interfaces, their communities, and the DX
//! gateway (spec §5, §6).

pub mod communities;
pub mod gateway;
pub mod vif;
