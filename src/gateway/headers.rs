//! The browser-facing safety headers every HTTP answer of the gateway carries (the
//! page, its scripts, REST, streams, errors), set in this one layer rather than per
//! handler so no route can forget them.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The page's policy. Every script and style sheet is a file of this server (the page
/// has no inline script, style or handler), so an injected `<script>` or `style=`
/// does nothing. `connect-src 'self'` covers the page's fetches, event streams and its
/// same-host WebSocket (CSP 3 matches `ws:`/`wss:` of the page's own host to 'self'),
/// without letting a script talk to any other host. `data:` images are the empty
/// favicon. No site may frame the page (clickjacking), and `<base>`/`<object>` are off.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; \
object-src 'none'";

/// The headers, in the order they are added.
const HEADERS: [(HeaderName, &str); 4] = [
    (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
    // Browsers must not guess a JSON answer (which may echo a client's text) is HTML.
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    // Board ids in the page's address are nobody else's business.
    (header::REFERRER_POLICY, "no-referrer"),
    // `frame-ancestors` for browsers older than CSP 2.
    (header::X_FRAME_OPTIONS, "DENY"),
];

/// Adds the headers to an answer that does not set its own.
pub async fn secure(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    for (name, value) in HEADERS {
        headers.entry(name).or_insert_with(|| HeaderValue::from_static(value));
    }
    response
}
