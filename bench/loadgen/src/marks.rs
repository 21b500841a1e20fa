//! The mark every published message carries, `lg <index> <send time in µs>`: building
//! a message padded to a size, and finding marks in whatever framing a transport
//! delivers (SSE frames, WebSocket text, gRPC event bytes), so one parser serves every
//! target.

use std::time::{SystemTime, UNIX_EPOCH};

/// Wall-clock microseconds: publisher and subscribers run in one process, so they
/// share this clock.
pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
        .unwrap_or_default()
}

/// `lg <index> <µs>` and padding to about `size` bytes.
pub fn message(index: usize, size: usize) -> String {
    let mut m = format!("lg {index} {} ", now_micros());
    while m.len() < size {
        m.push('x');
    }
    m
}

/// Finds every `lg <index> <µs>` in a buffer. The generator must stay cheaper than
/// the server it measures (its own backlog would count as latency), so no
/// allocation or UTF-8 pass per field.
pub fn marks(buf: &[u8]) -> Vec<(usize, u64)> {
    let mut out = Vec::new();
    for pos in memchr::memmem::find_iter(buf, b"lg ") {
        let rest = &buf[pos + 3..];
        let Some((index, len)) = number(rest) else { continue };
        let Some((micros, _)) = rest.get(len + 1..).and_then(number) else {
            continue;
        };
        let Ok(index) = usize::try_from(index) else { continue };
        out.push((index, micros));
    }
    out
}

/// The decimal number at the start of `buf` and how many digits it took.
fn number(buf: &[u8]) -> Option<(u64, usize)> {
    let digits = buf.iter().take_while(|b| b.is_ascii_digit()).count();
    let mut n: u64 = 0;
    for b in &buf[..digits] {
        n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    (digits > 0).then_some((n, digits))
}

#[cfg(test)]
mod tests {
    use super::marks;

    #[test]
    fn marks_are_found_in_any_framing() {
        let sse = b"id: 3\ndata: {\"title\":\"lg 7 1700000000000000 xxxx\"}\n\n";
        assert_eq!(marks(sse), vec![(7, 1_700_000_000_000_000)]);
        assert_eq!(marks(b"lg 1 5 xx lg 2 6 yy").len(), 2);
        assert!(marks(b"lg x 5").is_empty());
    }
}
