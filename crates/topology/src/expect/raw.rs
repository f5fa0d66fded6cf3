//! `[[expect]]` as written, with spans.

use crate::raw::S;
use serde::Deserialize;

/// One table holds the fields of every kind of expectation; which fields
/// are given decides the kind, and validation refuses a mix.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Expect {
    pub description: Option<S<String>>,
    pub node: Option<S<String>>,
    pub prefix: Option<S<String>>,
    pub absent: Option<S<bool>>,
    pub via: Option<S<String>>,
    pub as_path: Option<S<Vec<S<i64>>>>,
    pub med: Option<S<i64>>,
    pub rule: Option<S<String>>,
    pub origin: Option<S<String>>,
    pub communities: Option<S<Vec<S<String>>>>,
    pub peer: Option<S<String>>,
    pub state: Option<S<String>>,
    pub idle_reason: Option<S<String>>,
    pub trace: Option<S<Trace>>,
    pub path: Option<S<Vec<S<String>>>>,
    pub delivered: Option<S<bool>>,
    pub tunnel: Option<S<String>>,
    pub status: Option<S<String>>,
    pub status_message: Option<S<String>>,
}

/// `trace = { from = "VPC", to = "IP" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Trace {
    pub from: S<String>,
    pub to: S<String>,
}
