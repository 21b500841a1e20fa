//! Which browser origins other than the server's own may use it: the one reading of
//! `--allowed-origins`, for CORS (REST and gRPC-Web). The entries are checked once at
//! start-up, so a typo (a path, a trailing slash) fails loudly instead of never
//! matching the `Origin` a browser sends.

use super::Error;

/// The field start-up errors name.
const FIELD: &str = "allowedOrigins";

/// The allow-list: exact origins (`scheme://host[:port]`, as a browser serializes
/// them), or any origin (`*`). Empty: same-origin only.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Origins {
    any: bool,
    listed: Vec<String>,
}

impl Origins {
    /// Reads the flag's entries (blank ones ignored, so `""` is an empty list).
    pub fn parse(entries: &[String]) -> Result<Self, Error> {
        let mut origins = Origins::default();
        for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            if entry == "*" {
                origins.any = true;
                continue;
            }
            let origin = checked(entry)?;
            if !origins.listed.contains(&origin) {
                origins.listed.push(origin);
            }
        }
        Ok(origins)
    }

    /// Whether no other origin is allowed.
    pub fn is_empty(&self) -> bool {
        !self.any && self.listed.is_empty()
    }

    /// Whether `*` was given: every origin, and so never with credentials.
    pub fn any(&self) -> bool {
        self.any
    }

    /// The exact origins, lowercase.
    pub fn listed(&self) -> &[String] {
        &self.listed
    }

    /// Whether a request's `Origin` value is allowed. Compared exactly (browsers send
    /// scheme and host lowercase), never by prefix or suffix, so
    /// `https://app.example.evil` is not `https://app.example`.
    pub fn allows(&self, origin: &str) -> bool {
        // `null` (sandboxed frames, file: pages) is shared by every such page.
        origin != "null" && (self.any || self.listed.iter().any(|o| o == origin))
    }
}

/// An entry as the `Origin` header would carry it, or what is wrong with it.
fn checked(entry: &str) -> Result<String, Error> {
    let bad = |why: &str| Error::invalid(FIELD, format!("--allowed-origins: `{entry}` is not an origin: {why}"));
    let lower = entry.to_ascii_lowercase();
    let Some((scheme, authority)) = lower.split_once("://") else {
        return Err(bad("it needs a scheme, as in https://app.example"));
    };
    if scheme != "http" && scheme != "https" {
        return Err(bad("the scheme must be http or https"));
    }
    if authority.is_empty() {
        return Err(bad("it names no host"));
    }
    if authority.contains(['/', '?', '#']) {
        return Err(bad("an origin has no path, query or trailing slash"));
    }
    if authority.contains('@') || authority.contains(char::is_whitespace) || authority.contains('*') {
        return Err(bad("only scheme, host and port (no user, spaces or wildcards)"));
    }
    Ok(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(entries: &[&str]) -> Result<Origins, Error> {
        Origins::parse(&entries.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn exact_origins_match_exactly() {
        let o = parse(&["https://App.example", "http://localhost:5173"]).unwrap();
        assert!(o.allows("https://app.example"));
        assert!(o.allows("http://localhost:5173"));
        assert!(!o.allows("https://app.example.evil"));
        assert!(!o.allows("https://evil.app.example"));
        assert!(!o.allows("http://app.example"));
        assert!(!o.allows("http://localhost:5174"));
        assert!(!o.allows("null"));
        assert_eq!(o.listed(), ["https://app.example", "http://localhost:5173"]);
    }

    #[test]
    fn empty_allows_nothing_and_star_allows_all_but_null() {
        let empty = parse(&[]).unwrap();
        assert!(empty.is_empty());
        assert!(!empty.allows("https://app.example"));
        assert!(parse(&["", " "]).unwrap().is_empty());
        let any = parse(&["*"]).unwrap();
        assert!(any.any() && !any.is_empty());
        assert!(any.allows("https://anything.example"));
        assert!(!any.allows("null"));
    }

    #[test]
    fn entries_that_could_never_match_are_refused_naming_the_flag() {
        for entry in [
            "app.example",
            "ftp://app.example",
            "https://",
            "https://app.example/",
            "https://app.example/path",
            "https://*.example",
            "https://user@app.example",
        ] {
            let err = parse(&[entry]).unwrap_err();
            assert_eq!(err.field(), Some(FIELD), "{entry}");
            assert!(err.to_string().contains(entry), "{err}");
        }
    }
}
