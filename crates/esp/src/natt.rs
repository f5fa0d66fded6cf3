//! NAT traversal framing on UDP port 4500 (RFC 3948).
//!
//! There is no encapsulate function: in UDP-encapsulated ESP the UDP
//! payload *is* the ESP packet, unchanged (RFC 3948 §2.1). The runtime
//! sends `seal`'s output as the payload of a datagram from/to port 4500 and
//! hands every datagram received on 4500 to [`classify`], which tells ESP
//! from IKE and keepalives:
//!
//! ```text
//! UDP payload on port 4500      first 4 bytes        meaning
//! ---------------------------   ------------------   -----------------------
//! 0xFF                          (1 byte only)        NAT-keepalive, §2.3
//! 00 00 00 00 | IKE message     Non-ESP Marker       IKE, §2.2
//! SPI | seq | ...               SPI, never 0         ESP, §2.1
//! ```
//!
//! Tunnel mode needs none of the transport-mode checksum fixups of
//! RFC 3948 §3.1.2. The UDP checksum of ESP-in-UDP SHOULD be sent as zero
//! over IPv4 (RFC 3948 §2.1); that is the runtime's socket's business.

/// RFC 3948 §2.3: a NAT-keepalive is one octet, 0xFF. Send it every ~20 s
/// when nothing else flows, so that NAT mappings stay open.
pub const KEEPALIVE: [u8; 1] = [0xFF];

/// RFC 3948 §2.2: IKE messages on port 4500 start with four zero octets, the
/// place where ESP would carry its (never zero) SPI.
pub const NON_ESP_MARKER: [u8; 4] = [0; 4];

/// The UDP port of NAT-T (RFC 3947 §4, RFC 3948 §2).
pub const NAT_T_PORT: u16 = 4500;

/// What arrived on port 4500.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdpPayload<'a> {
    /// An ESP packet, to be handed to the SA its SPI names.
    Esp { spi: u32, packet: &'a [u8] },
    /// An IKE message with the Non-ESP Marker removed.
    Ike(&'a [u8]),
    /// A NAT-keepalive: receivers ignore it (RFC 3948 §2.3).
    Keepalive,
    /// Neither: shorter than an SPI and not a keepalive (RFC 3948 gives no
    /// meaning to 1-3 byte payloads other than 0xFF).
    Invalid,
}

/// Sorts a UDP payload received on port 4500.
pub fn classify(payload: &[u8]) -> UdpPayload<'_> {
    if payload == KEEPALIVE {
        return UdpPayload::Keepalive;
    }
    match payload.split_first_chunk::<4>() {
        Some((&NON_ESP_MARKER, ike)) => UdpPayload::Ike(ike),
        Some((spi, _)) => UdpPayload::Esp {
            spi: u32::from_be_bytes(*spi),
            packet: payload,
        },
        None => UdpPayload::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_the_three_kinds() {
        assert_eq!(classify(&[0xFF]), UdpPayload::Keepalive);
        assert_eq!(
            classify(&[0, 0, 0, 0, 0xAB, 0xCD]),
            UdpPayload::Ike(&[0xAB, 0xCD])
        );
        let esp = [0xC0, 0xFF, 0xEE, 0x01, 0, 0, 0, 1];
        assert_eq!(
            classify(&esp),
            UdpPayload::Esp {
                spi: 0xC0FF_EE01,
                packet: &esp
            }
        );
    }

    #[test]
    fn short_payloads_are_invalid_not_a_panic() {
        assert_eq!(classify(&[]), UdpPayload::Invalid);
        assert_eq!(classify(&[0xFE]), UdpPayload::Invalid);
        assert_eq!(classify(&[0xFF, 0xFF]), UdpPayload::Invalid);
        assert_eq!(classify(&[0, 0, 0]), UdpPayload::Invalid);
        // Exactly a marker: an empty IKE message, which the IKE parser refuses.
        assert_eq!(classify(&[0, 0, 0, 0]), UdpPayload::Ike(&[]));
    }
}
