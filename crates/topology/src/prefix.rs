//! Prefixes as a topology file or an API request writes them.

use hybridlab_bgp::packet::Prefix;

/// A prefix with its host bits zero: `10.0.0.1/8` is refused rather than
/// silently read as `10.0.0.0/8`.
pub fn parse_prefix(s: &str) -> Result<Prefix, String> {
    let prefix: Prefix = s
        .parse()
        .map_err(|_| format!("`{s}` is not a prefix (expected ADDRESS/LENGTH)"))?;
    if prefix.trunc() != prefix {
        return Err(format!(
            "`{s}` has host bits set; did you mean `{}`?",
            prefix.trunc()
        ));
    }
    Ok(prefix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_bits_and_garbage_are_refused() {
        assert!(parse_prefix("10.0.0.0/8").is_ok());
        assert!(parse_prefix("2001:db8::/32").is_ok());
        let host = parse_prefix("10.0.0.1/8").err().unwrap_or_default();
        assert!(host.contains("did you mean `10.0.0.0/8`"), "{host}");
        assert!(parse_prefix("10.0.0.0/33").is_err());
        assert!(parse_prefix("").is_err());
    }
}
