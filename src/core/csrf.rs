//! Cross-site request forgery: whether a change signed in by the session cookie may
//! go ahead. A browser attaches the cookie to whatever page sends the request, so a
//! cookie proves the user's browser, not the user's intent; the request's own word on
//! where it came from (`Origin`, else `Sec-Fetch-Site`, else `Referer`) decides.
//! Requests carrying a bearer token (header or query) are never asked: another site's
//! page cannot make a browser add one.

use super::Error;
use super::origins::Origins;

/// Where a request says it comes from, as the transport read it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Provenance<'a> {
    /// `Origin`.
    pub origin: Option<&'a str>,
    /// `Sec-Fetch-Site`: `same-origin`, `same-site`, `cross-site` or `none`.
    pub fetch_site: Option<&'a str>,
    /// `Referer`.
    pub referer: Option<&'a str>,
    /// The host the request was addressed to (`Host`, or HTTP/2's `:authority`).
    pub host: Option<&'a str>,
}

/// Whether an HTTP method changes state (and so needs a same-origin request when the
/// cookie signs it in). Reads are left alone: a page from another site cannot read
/// their answers without CORS, which never carries credentials here.
pub fn is_mutation(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE")
}

/// Refuses a cookie-authenticated `method` that comes from another site.
///
/// Same-origin means the `Origin`'s authority equals the host the request was sent
/// to (a TLS-terminating proxy changes the scheme, not the host), or an origin on
/// `--allowed-origins`. Without `Origin`, `Sec-Fetch-Site` of `same-origin` or `none`
/// (typed by the user) passes; without either, a `Referer` is judged like an origin.
/// A request with none of the three is not from a current browser (every one sends
/// `Origin` on a cross-origin change) and passes, as a script with a cookie jar would.
pub fn check(method: &str, from: Provenance<'_>, allowed: &Origins) -> Result<(), Error> {
    if !is_mutation(method) {
        return Ok(());
    }
    let refuse = |source: String| {
        Err(Error::CrossSiteRequest {
            method: method.to_owned(),
            from: source,
        })
    };
    if let Some(origin) = from.origin {
        return if same_origin(origin, from.host) || allowed.allows(origin) {
            Ok(())
        } else {
            refuse(format!("origin `{origin}`"))
        };
    }
    if let Some(site) = from.fetch_site {
        return match site.trim().to_ascii_lowercase().as_str() {
            "same-origin" | "none" => Ok(()),
            other => refuse(format!("Sec-Fetch-Site `{other}`")),
        };
    }
    if let Some(referer) = from.referer {
        let origin = origin_of(referer);
        return if same_origin(origin, from.host) || allowed.allows(origin) {
            Ok(())
        } else {
            refuse(format!("referer `{origin}`"))
        };
    }
    Ok(())
}

/// Whether `origin` (`scheme://host[:port]`) names `host`. `null` never does.
fn same_origin(origin: &str, host: Option<&str>) -> bool {
    let Some(host) = host else { return false };
    origin
        .split_once("://")
        .is_some_and(|(_, authority)| !authority.is_empty() && authority.eq_ignore_ascii_case(host.trim()))
}

/// The `scheme://authority` a URL starts with.
fn origin_of(url: &str) -> &str {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url;
    };
    let end = rest.find(['/', '?', '#']).map_or(url.len(), |i| scheme.len() + 3 + i);
    &url[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from<'a>(origin: Option<&'a str>, fetch_site: Option<&'a str>, referer: Option<&'a str>) -> Provenance<'a> {
        Provenance {
            origin,
            fetch_site,
            referer,
            host: Some("board.example:3000"),
        }
    }

    fn allowed() -> Origins {
        Origins::parse(&["https://app.example".to_owned()]).unwrap()
    }

    #[test]
    fn reads_are_never_refused() {
        for method in ["GET", "HEAD", "OPTIONS"] {
            assert!(check(method, from(Some("https://evil.example"), None, None), &allowed()).is_ok());
        }
    }

    #[test]
    fn origin_decides_first() {
        let ok = |o| check("POST", from(Some(o), Some("cross-site"), None), &allowed()).is_ok();
        assert!(ok("http://board.example:3000"));
        assert!(ok("https://BOARD.example:3000"));
        assert!(ok("https://app.example"));
        assert!(!ok("https://evil.example"));
        assert!(!ok("http://board.example:3001"));
        assert!(!ok("http://board.example:3000.evil"));
        assert!(!ok("null"));
    }

    #[test]
    fn fetch_site_then_referer_without_origin() {
        let ok = |site, referer| check("DELETE", from(None, site, referer), &allowed()).is_ok();
        assert!(ok(Some("same-origin"), None));
        assert!(ok(Some("none"), None));
        assert!(!ok(Some("cross-site"), Some("http://board.example:3000/")));
        assert!(!ok(Some("same-site"), None));
        assert!(ok(None, Some("http://board.example:3000/b/1?x=1")));
        assert!(ok(None, Some("https://app.example/page")));
        assert!(!ok(None, Some("https://evil.example/board.example:3000")));
        assert!(ok(None, None));
    }

    #[test]
    fn the_error_names_the_method_and_the_source() {
        let err = check("PATCH", from(Some("https://evil.example"), None, None), &allowed()).unwrap_err();
        assert_eq!(err.code(), "cross_site_request");
        let text = err.to_string();
        assert!(
            text.contains("PATCH") && text.contains("https://evil.example"),
            "{text}"
        );
    }
}
