//! `/healthz`, `/readyz` and gRPC health: alive without the store, ready only when
//! every check passes, and not ready the moment a drain starts (REST and gRPC alike),
//! while the server still serves through the grace.

use std::time::{Duration, Instant};

use boardcast::{Application, Config};
use serde_json::{Value, json};
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::helpers::spawn_app;

/// Each service's gRPC health status: "", then BoardService and AccountService.
pub async fn grpc_health(addr: std::net::SocketAddr) -> Vec<ServingStatus> {
    let channel = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    let mut statuses = Vec::new();
    for service in ["", "boardcast.v1.BoardService", "boardcast.v1.AccountService"] {
        let answer = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        statuses.push(ServingStatus::try_from(answer.status).unwrap());
    }
    statuses
}

#[tokio::test]
async fn healthz_is_alive_and_readyz_passes_every_check() {
    let app = spawn_app().await;
    let alive = app.get("/healthz").await;
    assert_eq!(alive.status(), 200);
    assert_eq!(alive.json::<Value>().await.unwrap(), json!({"status": "alive"}));
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let ok = |name| json!({"name": name, "ok": true, "detail": ""});
    assert_eq!(
        ready.json::<Value>().await.unwrap(),
        json!({"ready": true, "checks": [ok("store"), ok("bus"), ok("serving")]})
    );
    assert_eq!(grpc_health(app.addr).await, [ServingStatus::Serving; 3]);
}

#[tokio::test]
async fn readiness_turns_false_when_the_drain_starts_while_the_grace_still_serves() {
    let app = Application::build(Config {
        drain_grace_ms: 3000,
        ..Config::ephemeral()
    })
    .await
    .unwrap();
    let addr = app.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(app.run(async {
        let _ = stopped.await;
    }));
    assert_eq!(grpc_health(addr).await, [ServingStatus::Serving; 3]);
    let http = reqwest::Client::new();
    let readyz = || http.get(format!("http://{addr}/readyz")).send();

    let started = Instant::now();
    stop.send(()).unwrap();
    let mut answer = readyz().await.unwrap();
    while answer.status() == 200 && started.elapsed() < Duration::from_secs(1) {
        answer = readyz().await.unwrap();
    }
    assert_eq!(answer.status(), 503);
    let body: Value = answer.json().await.unwrap();
    assert_eq!(body["ready"], false, "{body}");
    assert_eq!(
        body["checks"][2],
        json!({"name": "serving", "ok": false, "detail": "the server is draining for shutdown"})
    );
    assert_eq!(body["checks"][0]["ok"], true, "only the drain failed: {body}");
    let mut statuses = grpc_health(addr).await;
    while statuses != [ServingStatus::NotServing; 3] && started.elapsed() < Duration::from_secs(2) {
        statuses = grpc_health(addr).await;
    }
    assert_eq!(statuses, [ServingStatus::NotServing; 3]);
    // Not ready is not closed: requests are still answered until the grace ends.
    let boards = http.get(format!("http://{addr}/boards")).send().await.unwrap();
    assert_eq!(boards.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(3), "checked within the grace");
    tokio::time::timeout(Duration::from_secs(10), served)
        .await
        .expect("drained")
        .unwrap()
        .unwrap();
}
