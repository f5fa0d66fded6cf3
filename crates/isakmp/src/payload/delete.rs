//! Delete payload (RFC 2408 §3.15): one protocol, one SPI size, several SPIs.
//!
//! ```text
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ! Next Payload  !   RESERVED    !         Payload Length        !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !              Domain of Interpretation  (DOI)                  !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! !  Protocol-Id  !   SPI Size    !           # of SPIs           !
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ~               Security Parameter Index(es) (SPI)              ~
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```

use bytes::{BufMut, BytesMut};

use crate::error::{EncodeError, Error};
use crate::payload::notification::{cookie_spi, doi_protocol_header, DoiProtocolHeader};
use crate::payload::sa::{ProtocolId, DOI_IPSEC};
use crate::payload::PayloadType;

/// A Delete payload body.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Delete {
    pub doi: u32,
    pub protocol: ProtocolId,
    /// 16 for the IKE SA (CKY-I | CKY-R), 4 for ESP/AH.
    pub spi_size: u8,
    /// Each exactly `spi_size` octets.
    pub spis: Vec<Vec<u8>>,
}

impl Delete {
    /// Deletes the IKE SA (strongSwan's form: IPsec DOI, 16-octet cookies).
    #[must_use]
    pub fn isakmp(cky_i: u64, cky_r: u64) -> Self {
        Self {
            doi: DOI_IPSEC,
            protocol: ProtocolId::ISAKMP,
            spi_size: 16,
            spis: vec![cookie_spi(cky_i, cky_r)],
        }
    }

    /// Deletes ESP SAs by their 4-octet SPIs.
    #[must_use]
    pub fn esp(spis: &[u32]) -> Self {
        Self {
            doi: DOI_IPSEC,
            protocol: ProtocolId::ESP,
            spi_size: 4,
            spis: spis.iter().map(|s| s.to_be_bytes().to_vec()).collect(),
        }
    }

    /// The SPIs as u32 when they are 4 octets (ESP/AH).
    #[must_use]
    pub fn spis_u32(&self) -> Option<Vec<u32>> {
        self.spis
            .iter()
            .map(|s| s.as_slice().try_into().ok().map(u32::from_be_bytes))
            .collect()
    }

    /// Decodes a body (RFC 2408 §5.15).
    pub fn decode(body: &[u8]) -> Result<Self, Error> {
        let (
            rest,
            DoiProtocolHeader {
                doi,
                protocol,
                spi_size,
                field: count,
            },
        ) = doi_protocol_header(body, PayloadType::DELETE)?;
        if protocol == ProtocolId::NONE {
            return Err(Error::InvalidProtocolId(protocol.0));
        }
        // A zero SPI size cannot name anything to delete.
        if spi_size == 0 {
            return Err(Error::InvalidSpi("delete with SPI size 0"));
        }
        let expected = usize::from(count) * usize::from(spi_size);
        if rest.len() != expected {
            return Err(Error::DeleteSpiCount {
                count,
                spi_size,
                available: rest.len(),
            });
        }
        let spis = rest
            .chunks_exact(usize::from(spi_size))
            .map(<[u8]>::to_vec)
            .collect();
        Ok(Self {
            doi,
            protocol,
            spi_size,
            spis,
        })
    }

    pub(crate) fn encode_body(&self, out: &mut BytesMut) -> Result<(), EncodeError> {
        if self
            .spis
            .iter()
            .any(|s| s.len() != usize::from(self.spi_size))
        {
            return Err(EncodeError::InconsistentSpiSize);
        }
        let count =
            u16::try_from(self.spis.len()).map_err(|_| EncodeError::CountOverflow("# of SPIs"))?;
        out.put_u32(self.doi);
        out.put_u8(self.protocol.0);
        out.put_u8(self.spi_size);
        out.put_u16(count);
        self.spis.iter().for_each(|s| out.put_slice(s));
        Ok(())
    }
}
