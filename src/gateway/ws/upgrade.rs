//! The upgrade. Identity and origin are settled before it: a bad token is a 401 and a
//! foreign `Origin` a 403, so neither ever gets a socket.

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;

use super::connection::Connection;
use crate::app::AppState;
use crate::core::{Actor, Error};
use crate::gateway::extract::token;
use crate::limits::MAX_FRAME_BYTES;
use crate::presence::color_of;
use crate::proto::v1::Viewer;

pub async fn websocket(State(s): State<AppState>, req: Request) -> Result<Response, Error> {
    let (mut parts, _) = req.into_parts();
    if !is_upgrade(&parts.headers) {
        return Err(Error::not_found("route", parts.uri.path()));
    }
    check_origin(&parts.headers, &s.config.allowed_origins)?;
    let token = token(&parts)?;
    let ip = crate::gateway::extract::client_ip(&s, &parts);
    let conn = s.presence.next_conn_id();
    let identity = match token {
        Some(token) => Some(identity_of(s.auth.actor(Some(&token), ip).await?)),
        None if s.auth.guests_allowed() => {
            // Each anonymous loopback connection is its own guest viewer, with the
            // guest's access to boards.
            let actor = s.auth.actor(None, ip).await?;
            let suffix = format!("{conn:04x}");
            let viewer = Viewer {
                user_id: format!("guest-{suffix}"),
                name: format!("Guest {suffix}"),
                color: color_of(&format!("guest-{suffix}")),
            };
            Some((actor, viewer))
        }
        // Off loopback without a token: the first message must be `auth`.
        None => None,
    };
    let ws = WebSocketUpgrade::from_request_parts(&mut parts, &s)
        .await
        .map_err(|e| Error::invalid("Upgrade", e.to_string()))?;
    // The session outlives the HTTP connection that upgrades: the drain waits for it
    // by this hold (taken before that connection ends), and drops it at the timeout.
    let hold = s.core.lifecycle().hold();
    let span = tracing::Span::current();
    Ok(ws
        // Per-socket buffers dominate an idle connection's memory. tungstenite reads
        // into (and zero-fills) `read_buffer_size` bytes, 128 KiB by default; client
        // messages are small, and a larger one still assembles (the buffer grows to
        // the frame). Outgoing frames collect in a buffer that keeps its size: 4 KiB
        // still puts a dozen events into one write without every socket that once
        // saw a burst holding a burst's worth.
        .read_buffer_size(512)
        .write_buffer_size(4 * 1024)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        // The session runs on the delivery threads (`crate::delivery`: its room's
        // fan-out must not queue in front of requests), in the upgrade request's span
        // (axum's task has none): its log lines carry the request id too.
        .on_upgrade(move |socket| async move {
            let delivery = s.delivery.clone();
            let session = Connection::new(s, conn, ip, identity).run(socket);
            // Boxed once: passed by value through `bounded` and the task, a session
            // future this size (kilobytes) would be stored more than once per connection.
            let session = Box::pin(tracing::Instrument::instrument(session, span));
            delivery.detach(async move {
                hold.bounded(session).await;
            });
        }))
}

pub fn is_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Who acts (board access) and who is seen (presence) for a signed-in user.
pub(super) fn identity_of(actor: Actor) -> (Actor, Viewer) {
    let viewer = Viewer {
        user_id: actor.user.id.clone(),
        name: actor.user.name.clone(),
        color: color_of(&actor.user.id),
    };
    (actor, viewer)
}

/// No `Origin` (not a browser), an origin on the allow-list, or the server's own
/// origin (`Origin` host equal to `Host`) may connect; any other site's page may not.
fn check_origin(headers: &HeaderMap, allowed: &[String]) -> Result<(), Error> {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let authority = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    if authority.eq_ignore_ascii_case(host) || allowed.iter().any(|a| a == origin || a == "*") {
        Ok(())
    } else {
        Err(Error::OriginNotAllowed {
            origin: origin.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, host.parse().unwrap());
        if let Some(o) = origin {
            h.insert(header::ORIGIN, o.parse().unwrap());
        }
        h
    }

    #[test]
    fn origins_same_host_or_listed_or_absent() {
        assert!(check_origin(&headers(None, "localhost:3000"), &[]).is_ok());
        assert!(check_origin(&headers(Some("http://localhost:3000"), "localhost:3000"), &[]).is_ok());
        assert!(check_origin(&headers(Some("https://evil.example"), "localhost:3000"), &[]).is_err());
        let allowed = vec!["https://app.example".to_owned()];
        assert!(check_origin(&headers(Some("https://app.example"), "localhost:3000"), &allowed).is_ok());
    }
}
