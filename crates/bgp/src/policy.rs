//! Import and export policy. STUB: the RIB work fills this in.

/// An ordered list of terms; the first matching term decides.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Policy {}
