//! hybridlab topology files (docs/topology.md): TOML in, a validated
//! [`Topology`] out. Every error names the file, the line, the column and
//! what is wrong, so `hybridlab validate` reads like a compiler.
//!
//! - [`raw`]: the file as written, with spans.
//! - [`validate`]: checks and resolution into the [`model`].
//! - [`prefix`]: prefixes with host bits clear.
//! - [`cloud`]: the cloud node kinds (VPC, VGW, VPN, DX), validated and
//!   lowered onto BGP speakers ([`RouterRole::Vgw`], [`RouterRole::DxGateway`],
//!   [`RouterRole::PublicVif`]).
//! - [`expect`]: `[[expect]]`, what a converged lab should show.
//! - [`convert`]: the model as `hybridlab_bgp` router and peer configurations.

pub mod cloud;
pub mod convert;
mod error;
pub mod expect;
mod ipsec_options;
pub mod model;
pub mod prefix;
mod raw;
mod validate;

pub use error::{Diagnostic, TopologyError};
pub use model::*;

use error::Locator;
use std::path::Path;

/// Reads and validates a topology file.
pub fn load(path: &Path) -> Result<Topology, TopologyError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| TopologyError::Read {
        file: file.clone(),
        source,
    })?;
    parse(&file, &text)
}

/// Validates topology text; `file` is only used in messages and for the
/// default lab name.
pub fn parse(file: &str, text: &str) -> Result<Topology, TopologyError> {
    parse_with(file, text, &ParseOptions::default())
}

/// [`parse`], with routers of the file standing for real routers
/// ([`ParseOptions::external`]).
pub fn parse_with(
    file: &str,
    text: &str,
    options: &ParseOptions,
) -> Result<Topology, TopologyError> {
    let raw: raw::File = toml::from_str(text).map_err(|e| {
        let loc = Locator::new(file, text);
        let span = e.span().unwrap_or(0..0);
        TopologyError::Invalid(vec![loc.diagnostic(span, e.message().trim_end())])
    })?;
    validate::validate(file, text, raw, options).map_err(TopologyError::Invalid)
}
