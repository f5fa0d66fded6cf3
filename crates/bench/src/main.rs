//! `bgp-feeder`: connects to a BGP speaker, sends a dense IPv4 table and
//! reports, as one JSON line on stdout, how long the speaker took to hold it.
//! See interop/bench-ingest, which runs it against hybridlab, BIRD and FRR.

use clap::Parser;
use hybridlab_bench::feeder::{self, FeederConfig};
use hybridlab_bench::table::AttrMode;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// The speaker to feed, ADDR:PORT.
    #[arg(long)]
    connect: SocketAddr,
    #[arg(long, default_value_t = 65100)]
    local_as: u32,
    #[arg(long, default_value = "10.255.0.1")]
    router_id: Ipv4Addr,
    /// Proposed hold time, seconds.
    #[arg(long, default_value_t = 180)]
    hold_time: u16,
    /// NEXT_HOP of every route: this end's address on the link.
    #[arg(long)]
    next_hop: Ipv4Addr,
    /// How many /24s to send.
    #[arg(long, default_value_t = 100_000)]
    prefixes: u32,
    /// The first /24; the others follow it.
    #[arg(long, default_value = "16.0.0.0")]
    first_prefix: Ipv4Addr,
    /// One attribute set for the whole table, or one per UPDATE (~1000 prefixes).
    #[arg(long, value_enum, default_value_t = AttrMode::Single)]
    attrs: AttrMode,
    /// Shell command printing the peer's count of received prefixes; the
    /// clock stops when it reaches --prefixes.
    #[arg(long)]
    count_cmd: Option<String>,
    /// Milliseconds between two runs of --count-cmd.
    #[arg(long, default_value_t = 20)]
    poll_ms: u64,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout_secs: u64,
}

fn main() -> ExitCode {
    let a = Args::parse();
    let cfg = FeederConfig {
        connect: a.connect,
        local_as: a.local_as,
        router_id: a.router_id,
        hold_time: a.hold_time,
        next_hop: a.next_hop,
        prefixes: a.prefixes,
        first_prefix: a.first_prefix,
        attrs: a.attrs,
        count_cmd: a.count_cmd,
        poll: Duration::from_millis(a.poll_ms),
        timeout: Duration::from_secs(a.timeout_secs),
    };
    match feeder::run(&cfg) {
        Ok(report) => {
            println!("{}", report.to_json());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bgp-feeder: {e}");
            ExitCode::FAILURE
        }
    }
}
