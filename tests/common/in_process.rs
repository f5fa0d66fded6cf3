//! hybridlab's lab in the test's own process, facing real daemons in a
//! namespace: the interop tests whose tunnel ends must live on the host
//! (the IPsec ones: UDP 500/4500 on outside addresses of the host end of a
//! veth) rather than in a `hybridlab run` of their own.

use super::{run_ok, Lab, Netns};
use hybridlab_runtime::view::TunnelEndView;
use hybridlab_runtime::{LabEvent, LabHandle, LabOptions};
use hybridlab_topology::Topology;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::runtime::Runtime;
use tokio::sync::mpsc::UnboundedReceiver;

/// hybridlab's lab on a multi-thread runtime: its tasks run while the test
/// thread blocks on daemons; shut down (Cease to every peer, sockets
/// closed) when dropped, which must come before the namespace goes.
pub struct InProcessLab {
    pub rt: Runtime,
    lab: Option<hybridlab_runtime::Lab>,
    pub handle: LabHandle,
}

impl InProcessLab {
    /// Starts the lab without its control API; the events from the start on.
    pub fn start(topology: Topology) -> (InProcessLab, UnboundedReceiver<LabEvent>) {
        let rt = Runtime::new().unwrap_or_else(|e| panic!("tokio: {e}"));
        let (lab, events) = rt.block_on(async {
            let options = LabOptions {
                no_api: true,
                ..LabOptions::default()
            };
            let mut lab = hybridlab_runtime::Lab::new(topology, options);
            let events = lab.events();
            if let Err(e) = lab.start().await {
                panic!("the lab does not start: {e}");
            }
            (lab, events)
        });
        let handle = lab.handle();
        (
            InProcessLab {
                rt,
                lab: Some(lab),
                handle,
            },
            events,
        )
    }

    pub fn tunnels(&self) -> Vec<TunnelEndView> {
        self.rt.block_on(self.handle.tunnels())
    }

    /// The VGW's end of tunnel `n` (1 or 2) of VPN connection `vpn`, as
    /// `show tunnels` has it.
    pub fn vpn_tunnel(&self, vpn: &str, n: usize) -> TunnelEndView {
        let name = format!("{vpn}/tunnel{n}");
        self.tunnels()
            .into_iter()
            .find(|t| t.tunnel.as_deref() == Some(name.as_str()))
            .unwrap_or_else(|| panic!("no tunnel view {name}"))
    }

    /// The VGW's status of tunnel `n` of `vpn` as `describe-vpn-connections`
    /// shows it: (UP/DOWN, status message).
    pub fn vgw_status(&self, vgw: &str, vpn: &str, n: usize) -> (String, String) {
        let name = format!("{vpn}/tunnel{n}");
        let view = self
            .rt
            .block_on(self.handle.vgw(vgw))
            .unwrap_or_else(|e| panic!("{vgw}: {e}"));
        let t = view
            .tunnels
            .iter()
            .find(|t| t.tunnel.to_string() == name)
            .unwrap_or_else(|| panic!("{vgw} has no tunnel {name}"));
        (
            format!("{:?}", t.status.status).to_uppercase(),
            t.status.status_message.clone(),
        )
    }
}

impl Drop for InProcessLab {
    fn drop(&mut self) {
        if let Some(lab) = self.lab.take() {
            self.rt.block_on(lab.shutdown());
        }
    }
}

/// The host end of a veth. Deleted when dropped: deleting the namespace
/// normally takes the pair with it, but the kernel may keep a deleted
/// namespace (and so the pair, addresses and all) alive for a while, and a
/// leftover end holding the outside addresses would steal the next test's
/// replies.
pub struct HostVeth(String);

impl Drop for HostVeth {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.0])
            .stderr(Stdio::null())
            .status();
    }
}

/// The outside addresses of both ends of a veth between the host (this
/// process, where the lab's tunnel ends bind) and a daemon's namespace.
pub struct OutsideLink<'a> {
    /// The namespace's role (`Lab::netns`).
    pub role: &'a str,
    /// Addresses with prefix length on the host end ("198.51.100.1/24").
    pub host: &'a [String],
    /// The address with prefix length in the namespace.
    pub daemon: String,
    /// The veth end's name in the namespace.
    pub daemon_if: &'a str,
    /// The outside network: traffic to it bypasses charon's table 220.
    pub outside_net: &'a str,
}

/// The namespace behind a veth from the host, addresses as `link` says.
/// charon with a 0.0.0.0/0 selector routes everything into ipsec0 (table
/// 220): IKE and ESP in UDP to the outside addresses must not follow, hence
/// a rule ahead of it.
pub fn attach_outside(lab: &Lab, link: &OutsideLink) -> (Netns, HostVeth) {
    static PAIRS: AtomicU32 = AtomicU32::new(0);
    let ns = lab.netns(link.role);
    let host = format!(
        "hlo{}x{}",
        std::process::id() % 100_000,
        PAIRS.fetch_add(1, Ordering::Relaxed)
    );
    run_ok(Command::new("ip").args([
        "link",
        "add",
        &host,
        "type",
        "veth",
        "peer",
        "name",
        link.daemon_if,
        "netns",
        &ns.name,
    ]));
    let guard = HostVeth(host.clone());
    for a in link.host {
        run_ok(Command::new("ip").args(["addr", "add", a, "dev", &host]));
    }
    run_ok(Command::new("ip").args(["link", "set", &host, "up"]));
    ns.ip(&["addr", "add", &link.daemon, "dev", link.daemon_if]);
    ns.ip(&["link", "set", link.daemon_if, "up"]);
    ns.ip(&[
        "rule",
        "add",
        "to",
        link.outside_net,
        "lookup",
        "main",
        "pref",
        "100",
    ]);
    (ns, guard)
}
