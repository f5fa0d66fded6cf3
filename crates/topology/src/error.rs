//! Errors that name the file, the line, the column and what is wrong.

use crate::raw::S;
use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// One thing wrong with a topology file, at one place in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    /// Everything found wrong, in file order; never empty.
    #[error("{}", join(.0))]
    Invalid(Vec<Diagnostic>),
}

impl TopologyError {
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            TopologyError::Read { .. } => &[],
            TopologyError::Invalid(d) => d,
        }
    }
}

fn join(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(Diagnostic::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// Turns byte offsets of one file's text into diagnostics.
#[derive(Debug)]
pub(crate) struct Locator<'a> {
    file: &'a str,
    text: &'a str,
}

impl<'a> Locator<'a> {
    pub(crate) fn new(file: &'a str, text: &'a str) -> Self {
        Locator { file, text }
    }

    pub(crate) fn diagnostic(&self, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        let (line, column) = self.line_column(span.start);
        Diagnostic {
            file: self.file.to_string(),
            line,
            column,
            message: message.into(),
        }
    }

    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.line_column(offset).0
    }

    fn line_column(&self, offset: usize) -> (usize, usize) {
        let before = self.text.get(..offset).unwrap_or(self.text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        (line, column)
    }
}

/// What every checker of a file shares: it records a diagnostic at a span,
/// and from that checks integer ranges and parses strings, each failure
/// worded the same way wherever it is found.
pub(crate) trait Report {
    fn err(&mut self, span: Range<usize>, message: impl Into<String>);

    /// An integer field in `lo..=hi`.
    fn int<T: TryFrom<i64>>(&mut self, v: &S<i64>, field: &str, lo: i64, hi: i64) -> Option<T> {
        let n = *v.get_ref();
        match T::try_from(n) {
            Ok(t) if (lo..=hi).contains(&n) => Some(t),
            _ => {
                self.err(v.span(), format!("`{field}` must be {lo}..={hi}, not {n}"));
                None
            }
        }
    }

    /// A string field that must parse as `what`.
    fn parsed<T: FromStr>(&mut self, v: &S<String>, what: &str) -> Option<T> {
        match v.get_ref().parse() {
            Ok(t) => Some(t),
            Err(_) => {
                self.err(v.span(), format!("`{}` is not {what}", v.get_ref()));
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines_and_columns() {
        let text = "a = 1\nbé = 2\n";
        let loc = Locator::new("f.toml", text);
        assert_eq!(loc.diagnostic(0..1, "x").to_string(), "f.toml:1:1: x");
        let offset = text.rfind('=').unwrap_or(0);
        assert_eq!(loc.diagnostic(offset..offset, "x").line, 2);
        assert_eq!(loc.diagnostic(offset..offset, "x").column, 4);
    }

    #[test]
    fn offset_past_the_end_is_clamped() {
        let loc = Locator::new("f.toml", "a\nb");
        assert_eq!(loc.diagnostic(99..100, "x").line, 2);
    }
}
