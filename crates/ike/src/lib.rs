pub mod config;
mod crypto;
pub mod peer;
pub mod proposal;
pub mod random;
pub mod timers;
mod wire;

pub use config::{
    DpdAction, DpdConfig, PeerConfig, Psk, RekeyConfig, RetransmitConfig, Selector, StartupAction,
};
pub use peer::{
    ChildSaInfo, Command, Event, IkePeer, Input, Key, NatStatus, Output, Phase, Role, SaState,
};
pub use proposal::{Cipher, DhGroup, Integrity, Phase1Proposal, Phase2Proposal};
pub use random::{Random, SeededRandom, SystemRandom};
pub use timers::TimerKind;
