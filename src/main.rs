//! `hybridlab`: run a lab from a topology file, talk to a running one, and
//! check a topology's expectations.

mod check;
mod client;
mod cloud;
mod table;

use clap::{Args, Parser, Subcommand};
use hybridlab_runtime::{Lab, LabOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

/// Where `hybridlab show` and friends find a running lab by default.
const DEFAULT_API: &str = "127.0.0.1:50179";

#[derive(Parser)]
#[command(
    name = "hybridlab",
    version,
    about = "Lab emulator of cloud hybrid connectivity, speaking real BGP"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Bring a topology up and run it until Ctrl-C or SIGTERM.
    Run {
        topology: PathBuf,
        /// Serve the control API here instead of the topology's `[lab] api`.
        #[arg(long)]
        api: Option<SocketAddr>,
        /// Log filter: error, warn, info, debug, trace, or tracing directives
        /// (`info,hybridlab_runtime=debug`). Default: $RUST_LOG, else info.
        #[arg(long)]
        log: Option<String>,
    },
    /// Parse and validate a topology file; print every error.
    Validate { topology: PathBuf },
    /// Show sessions, routes, a VGW or BFD sessions of a running lab.
    Show {
        #[command(subcommand)]
        what: Show,
    },
    /// The way of a packet from a VPC (or VPC/TABLE) to an address, hop by
    /// hop; exit 1 if it is not delivered.
    Trace {
        from: String,
        to: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        api: ApiArg,
    },
    /// Run each topology in-process until its `[[expect]]`s hold or the
    /// timeout passes; exit 0 if all hold, 1 if any fails, 2 on a file error.
    Check {
        /// Topology files, or directories of them (every *.toml, sorted).
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Seconds to wait for each file's lab to converge.
        #[arg(long, default_value_t = 30.0, value_parser = seconds)]
        timeout: f64,
        /// A router of the files that a real router stands for; its own
        /// expectations are skipped (verify them on the router). Repeatable.
        #[arg(long = "external")]
        external: Vec<String>,
    },
    /// Originate a prefix from a router.
    Announce {
        router: String,
        prefix: String,
        #[arg(long)]
        med: Option<u32>,
        /// ASN:VALUE or a well-known name; repeatable.
        #[arg(long = "community")]
        communities: Vec<String>,
        /// Extra copies of the router's own AS on the path.
        #[arg(long, default_value_t = 0)]
        prepend: u8,
        #[command(flatten)]
        api: ApiArg,
    },
    /// Stop originating a prefix.
    Withdraw {
        router: String,
        prefix: String,
        #[command(flatten)]
        api: ApiArg,
    },
    /// Cut (`on`) or restore (`off`) the link to a neighbour: a failover drill.
    Blackhole {
        router: String,
        neighbor: String,
        state: OnOff,
        #[command(flatten)]
        api: ApiArg,
    },
    /// Restart a session (`clear bgp`), also out of a prefix-limit Idle.
    Clear {
        router: String,
        neighbor: String,
        #[command(flatten)]
        api: ApiArg,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum OnOff {
    On,
    Off,
}

#[derive(Subcommand)]
enum Show {
    Sessions {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        api: ApiArg,
    },
    /// Routes of a router, VPC (VPC/TABLE for another route table), VGW or
    /// DX gateway.
    Routes {
        node: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        api: ApiArg,
    },
    /// A VGW: its tunnels (status, accepted routes, the primary) and routes.
    Vgw {
        name: String,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        api: ApiArg,
    },
    /// BFD sessions: state, intervals, last diagnostic, last change.
    Bfd {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        api: ApiArg,
    },
    /// IPsec tunnel ends: IKE phases, SPIs, algorithms, lifetimes left,
    /// ESP counters, replay drops, last error.
    Tunnels {
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        api: ApiArg,
    },
}

#[derive(Args)]
struct ApiArg {
    /// The running lab's control API.
    #[arg(long = "api", env = "HYBRIDLAB_API", default_value = DEFAULT_API)]
    addr: String,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { topology, api, log } => {
            let log = log
                .or_else(|| std::env::var("RUST_LOG").ok())
                .unwrap_or_else(|| "info".to_string());
            run(&topology, api, &log)
        }
        Command::Validate { topology } => validate(&topology),
        Command::Show { what } => client::show(what),
        Command::Trace {
            from,
            to,
            json,
            api,
        } => client::trace(&api.addr, &from, &to, json),
        Command::Check {
            paths,
            timeout,
            external,
        } => check::run(&paths, Duration::from_secs_f64(timeout), &external),
        Command::Announce {
            router,
            prefix,
            med,
            communities,
            prepend,
            api,
        } => client::announce(&api.addr, &router, &prefix, med, communities, prepend),
        Command::Withdraw {
            router,
            prefix,
            api,
        } => client::withdraw(&api.addr, &router, &prefix),
        Command::Blackhole {
            router,
            neighbor,
            state,
            api,
        } => client::blackhole(&api.addr, &router, &neighbor, matches!(state, OnOff::On)),
        Command::Clear {
            router,
            neighbor,
            api,
        } => client::clear(&api.addr, &router, &neighbor),
    }
}

/// Exit code for a topology that does not validate, as for a usage error.
const EXIT_BAD_TOPOLOGY: u8 = 2;

/// `--timeout`: seconds, finite and not negative.
fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(s) if s.is_finite() && (0.0..=86_400.0).contains(&s) => Ok(s),
        _ => Err(format!("`{text}` is not a number of seconds (0 to 86400)")),
    }
}

fn load(path: &Path) -> Result<hybridlab_topology::Topology, ExitCode> {
    hybridlab_topology::load(path).map_err(|e| {
        eprintln!("{e}");
        ExitCode::from(EXIT_BAD_TOPOLOGY)
    })
}

fn validate(path: &Path) -> ExitCode {
    match load(path) {
        Ok(t) => {
            let sessions: usize = t
                .routers
                .iter()
                .map(|r| r.neighbors.iter().filter(|n| n.bgp).count())
                .sum();
            println!(
                "{}: ok: lab `{}`, {} routers, {} sessions, {} policies",
                path.display(),
                t.lab.name,
                t.routers.len(),
                sessions,
                t.policies.len()
            );
            let c = &t.cloud;
            if !c.is_empty() {
                println!(
                    "{}: cloud: {} VPCs, {} VGWs, {} VPN connections, {} DX gateways, {} VIFs",
                    path.display(),
                    c.vpcs.len(),
                    c.vgws.len(),
                    c.vpns.len(),
                    c.dx_gateways.len(),
                    c.vifs.len()
                );
            }
            if !t.expectations.is_empty() {
                println!(
                    "{}: {} expectations (`hybridlab check` verifies them)",
                    path.display(),
                    t.expectations.len()
                );
            }
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn run(path: &Path, api: Option<SocketAddr>, log: &str) -> ExitCode {
    let topology = match load(path) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let filter = match tracing_subscriber::EnvFilter::try_new(log) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("bad --log `{log}`: {e}");
            return ExitCode::from(EXIT_BAD_TOPOLOGY);
        }
    };
    // Colours only for a person at a terminal (https://no-color.org).
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(colour)
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let name = topology.lab.name.clone();
        let routers = topology.routers.len();
        let mut lab = Lab::new(
            topology,
            LabOptions {
                api,
                ..LabOptions::default()
            },
        );
        if let Err(e) = lab.start().await {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
        let api = lab
            .api_addr()
            .map_or_else(|| "none".to_string(), |a| a.to_string());
        tracing::info!(lab = %name, routers, %api, "lab running; Ctrl-C stops it");
        if let Err(e) = stop_signal().await {
            eprintln!("cannot wait for signals: {e}");
        }
        tracing::info!(lab = %name, "stopping");
        lab.shutdown().await;
        ExitCode::SUCCESS
    })
}

/// Ctrl-C or SIGTERM.
async fn stop_signal() -> std::io::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r,
        _ = term.recv() => Ok(()),
    }
}
