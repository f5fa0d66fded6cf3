//! The control API (docs/control-api.md): HTTP/JSON over axum. Handlers ask
//! the router tasks over channels; nothing here touches a router's state.

use crate::lab::{CommandError, LabHandle};
use crate::view::{
    AnnounceRequest, BfdReply, BlackholeRequest, CommandReply, ErrorReply, IpsecRequest,
    NodeRoutes, RoutesReply, SessionsReply, TunnelsReply, WithdrawRequest,
};
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use hybridlab_bgp::packet::{Community, PathAttributes, Prefix};
use hybridlab_cloud::fabric::{Trace, VgwView};
use hybridlab_cloud::path::TunnelId;
use serde::de::DeserializeOwned;
use std::net::IpAddr;
use std::net::SocketAddr;
use tokio::task::JoinHandle;

/// Binds `addr` and serves until the returned task is aborted.
pub(crate) async fn serve(
    addr: SocketAddr,
    lab: LabHandle,
) -> std::io::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = router(lab);
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "control API stopped");
        }
    });
    tracing::info!(%bound, "control API listening");
    Ok((bound, task))
}

pub fn router(lab: LabHandle) -> axum::Router {
    axum::Router::new()
        .route("/api/v1/sessions", get(sessions))
        .route("/api/v1/bfd", get(bfd))
        .route("/api/v1/routers/{router}/routes", get(routes))
        .route("/api/v1/routers/{router}/announce", post(announce))
        .route("/api/v1/routers/{router}/withdraw", post(withdraw))
        .route(
            "/api/v1/routers/{router}/neighbors/{neighbor}/blackhole",
            post(blackhole),
        )
        .route(
            "/api/v1/routers/{router}/neighbors/{neighbor}/clear",
            post(clear),
        )
        .route("/api/v1/nodes/{node}/routes", get(node_routes))
        .route("/api/v1/vgws/{vgw}", get(vgw))
        .route("/api/v1/trace", get(trace))
        .route("/api/v1/tunnels", get(tunnels))
        .route("/api/v1/tunnels/{vpn}/{tunnel}/ipsec", post(tunnel_ipsec))
        .fallback(|| async {
            error(
                StatusCode::NOT_FOUND,
                "no such endpoint; see docs/control-api.md".to_string(),
            )
        })
        .with_state(lab)
}

fn error(status: StatusCode, message: String) -> Response {
    (status, Json(ErrorReply { error: message })).into_response()
}

/// Why a request failed: its body (400) or the lab (404, 503).
enum ApiError {
    BadRequest(String),
    Lab(CommandError),
}

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> Self {
        ApiError::Lab(e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BadRequest(message) => error(StatusCode::BAD_REQUEST, message),
            ApiError::Lab(e) => {
                let status = match e {
                    CommandError::NoRouter(_)
                    | CommandError::NoNeighbor { .. }
                    | CommandError::NoNode(_)
                    | CommandError::NoVgw(_)
                    | CommandError::NoTunnel(_)
                    | CommandError::Trace(_) => StatusCode::NOT_FOUND,
                    CommandError::Stopped(_) => StatusCode::SERVICE_UNAVAILABLE,
                };
                error(status, e.to_string())
            }
        }
    }
}

/// A JSON body that failed to parse is a 400 with a reason, not axum's
/// plain-text rejection.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest(format!("bad body: {e}")))
}

fn prefix(text: &str) -> Result<Prefix, ApiError> {
    hybridlab_topology::prefix::parse_prefix(text).map_err(ApiError::BadRequest)
}

async fn node_routes(
    State(lab): State<LabHandle>,
    Path(node): Path<String>,
) -> Result<Json<NodeRoutes>, ApiError> {
    Ok(Json(lab.node_routes(&node).await?))
}

async fn vgw(
    State(lab): State<LabHandle>,
    Path(vgw): Path<String>,
) -> Result<Json<VgwView>, ApiError> {
    Ok(Json(lab.vgw(&vgw).await?))
}

#[derive(serde::Deserialize)]
struct TraceQuery {
    from: String,
    to: String,
}

async fn trace(
    State(lab): State<LabHandle>,
    Query(q): Query<TraceQuery>,
) -> Result<Json<Trace>, ApiError> {
    let to: IpAddr =
        q.to.parse()
            .map_err(|_| ApiError::BadRequest(format!("`to` is not an IP address: {}", q.to)))?;
    Ok(Json(lab.trace(&q.from, to).await?))
}

async fn tunnel_ipsec(
    State(lab): State<LabHandle>,
    Path((vpn, tunnel)): Path<(String, u8)>,
    bytes: Bytes,
) -> Result<Json<CommandReply>, ApiError> {
    let req: IpsecRequest = body(&bytes)?;
    let id = TunnelId::new(vpn, tunnel);
    lab.set_tunnel_ipsec(&id, req.up).await?;
    let done = if req.up { "ipsec up" } else { "ipsec down" };
    Ok(Json(CommandReply {
        router: id.to_string(),
        done: done.to_string(),
    }))
}

async fn tunnels(State(lab): State<LabHandle>) -> Json<TunnelsReply> {
    Json(TunnelsReply {
        tunnels: lab.tunnels().await,
    })
}

async fn sessions(State(lab): State<LabHandle>) -> Json<SessionsReply> {
    Json(SessionsReply {
        sessions: lab.sessions().await,
    })
}

async fn bfd(State(lab): State<LabHandle>) -> Json<BfdReply> {
    let (bfd, routers) = lab.bfd().await;
    Json(BfdReply { bfd, routers })
}

async fn routes(
    State(lab): State<LabHandle>,
    Path(router): Path<String>,
) -> Result<Json<RoutesReply>, ApiError> {
    let routes = lab.routes(&router).await?;
    Ok(Json(RoutesReply { router, routes }))
}

fn done(router: String, done: String) -> Json<CommandReply> {
    Json(CommandReply { router, done })
}

async fn announce(
    State(lab): State<LabHandle>,
    Path(router): Path<String>,
    raw: Bytes,
) -> Result<Json<CommandReply>, ApiError> {
    let req: AnnounceRequest = body(&raw)?;
    let p = prefix(&req.prefix)?;
    let communities = req
        .communities
        .iter()
        .map(|c| c.parse::<Community>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(ApiError::BadRequest)?;
    let attrs = PathAttributes {
        med: req.med,
        communities,
        ..PathAttributes::default()
    };
    lab.announce(&router, p, attrs, req.as_path_prepend).await?;
    Ok(done(router, format!("announced {p}")))
}

async fn withdraw(
    State(lab): State<LabHandle>,
    Path(router): Path<String>,
    raw: Bytes,
) -> Result<Json<CommandReply>, ApiError> {
    let req: WithdrawRequest = body(&raw)?;
    let p = prefix(&req.prefix)?;
    lab.withdraw(&router, p).await?;
    Ok(done(router, format!("withdrew {p}")))
}

async fn clear(
    State(lab): State<LabHandle>,
    Path((router, neighbor)): Path<(String, String)>,
) -> Result<Json<CommandReply>, ApiError> {
    lab.clear(&router, &neighbor).await?;
    Ok(done(router, format!("cleared {neighbor}")))
}

async fn blackhole(
    State(lab): State<LabHandle>,
    Path((router, neighbor)): Path<(String, String)>,
    raw: Bytes,
) -> Result<Json<CommandReply>, ApiError> {
    let req: BlackholeRequest = body(&raw)?;
    let link = lab.set_blackhole(&router, &neighbor, req.on)?;
    let what = if req.on { "cut" } else { "restored" };
    Ok(done(router, format!("link {link} {what}")))
}
