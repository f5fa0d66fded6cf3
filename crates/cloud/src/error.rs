//! Configuration errors: each says which object is wrong and why.

use ipnet::{IpNet, Ipv4Net};
use std::net::Ipv4Addr;
use thiserror::Error;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ConfigError {
    #[error("tunnel inside CIDR {cidr} must be a /30")]
    InsideCidrNotSlash30 { cidr: Ipv4Net },
    #[error("tunnel inside CIDR {cidr} has host bits set; write {network}")]
    InsideCidrHostBits { cidr: Ipv4Net, network: Ipv4Net },
    #[error("tunnel inside CIDR {cidr} is outside 169.254.0.0/16")]
    InsideCidrNotLinkLocal { cidr: Ipv4Net },
    #[error("tunnel inside CIDR {cidr} is reserved by AWS")]
    InsideCidrReserved { cidr: Ipv4Net },
    #[error("tunnel inside CIDR {cidr} is used twice on VGW {vgw}: by {first} and by {second}")]
    InsideCidrDuplicate {
        vgw: String,
        cidr: Ipv4Net,
        first: String,
        second: String,
    },
    #[error("customer gateway ASN {asn} equals the VGW ASN")]
    CgwAsnEqualsVgwAsn { asn: u32 },
    #[error("customer gateway ASN {asn} is reserved by AWS")]
    CgwAsnReserved { asn: u32 },
    #[error("customer gateway ASN 0 is not a valid AS number")]
    CgwAsnZero,
    #[error("Amazon-side ASN {asn} is not private (64512-65534 or 4200000000-4294967294)")]
    AmazonAsnNotPrivate { asn: u32 },
    #[error("peer addresses {aws} and {customer} must be two different hosts of one /30")]
    PeerAddressesNotOneSlash30 { aws: Ipv4Addr, customer: Ipv4Addr },
    #[error("VLAN {vlan} is outside 1-4094")]
    VlanOutOfRange { vlan: u16 },
    #[error("hold time {hold} s refused: the minimum is {min} s")]
    HoldTimeTooShort { hold: u16, min: u16 },
    #[error("hold time 0 is not supported on Direct Connect")]
    HoldTimeZero,
    #[error("prefix limit {limit} is outside {min}-{max}")]
    PrefixLimitOutOfRange { limit: u32, min: u32, max: u32 },
    #[error("BFD {what} {value} is below the minimum {min}")]
    BfdBelowMinimum {
        what: &'static str,
        value: u32,
        min: u32,
    },
    #[error("VPC CIDRs {a} and {b} overlap on DX gateway {dx_gateway}")]
    OverlappingVpcCidrs {
        dx_gateway: String,
        a: IpNet,
        b: IpNet,
    },
    #[error("allowed prefixes {a} and {b} of transit gateways overlap on DX gateway {dx_gateway}")]
    OverlappingAllowedPrefixes {
        dx_gateway: String,
        a: IpNet,
        b: IpNet,
    },
    #[error("DX gateway {dx_gateway} mixes VGW and transit gateway associations")]
    MixedAssociations { dx_gateway: String },
    #[error("{what}: {count} exceeds the limit of {limit}")]
    OverLimit {
        what: String,
        count: usize,
        limit: u32,
    },
    #[error("VPN connection {connection} uses BGP and also has static routes; a connection is one or the other")]
    StaticRoutesOnBgpConnection { connection: String },
    #[error("VIF MTU {mtu} is not allowed; choose one of {allowed:?}")]
    VifMtuNotAllowed { mtu: u16, allowed: Vec<u16> },
    #[error("{what} is attached to DX gateway {first} and to {second}")]
    AttachedTwice {
        what: String,
        first: String,
        second: String,
    },
    #[error("route table {table}: {count} static routes exceed the limit of {limit}")]
    TooManyStaticRoutes {
        table: String,
        count: usize,
        limit: u32,
    },
}
