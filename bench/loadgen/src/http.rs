//! The generator's connections: TCP from a chosen local address (to spread many
//! subscribers over source addresses), a tiny keep-alive HTTP/1.1 client for
//! publishing and REST writes that costs next to nothing per request, and the gRPC
//! client type subscribers and writers share.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// boardcast's gRPC client over one HTTP/2 connection (clones share it).
pub type GrpcClient = boardcast::proto::v1::board_service_client::BoardServiceClient<tonic::transport::Channel>;

/// A TCP connection to `addr` from `source` (any local port), without Nagle's delay.
pub async fn tcp(source: &str, addr: &str) -> std::io::Result<TcpStream> {
    let dest: std::net::SocketAddr = tokio::net::lookup_host(addr)
        .await?
        .next()
        .ok_or_else(|| std::io::Error::other("no address"))?;
    let socket = TcpSocket::new_v4()?;
    socket.bind(format!("{source}:0").parse().map_err(std::io::Error::other)?)?;
    let stream = socket.connect(dest).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A keep-alive HTTP/1.1 connection for publishing.
pub struct Http {
    stream: TcpStream,
    host: String,
    buf: Vec<u8>,
}

impl Http {
    pub async fn connect(addr: &str) -> std::io::Result<Http> {
        Ok(Http {
            stream: tcp("127.0.0.1", addr).await?,
            host: addr.to_owned(),
            buf: vec![0; 16 * 1024],
        })
    }

    /// The connection's local port: distinct ports over a run are distinct sockets.
    pub fn local_port(&self) -> u16 {
        self.stream.local_addr().map(|a| a.port()).unwrap_or_default()
    }

    /// Sends a request and returns the response status (bodies are read and dropped).
    pub async fn request(&mut self, method: &str, path: &str, headers: &str, body: &[u8]) -> std::io::Result<u16> {
        Ok(self.exchange(method, path, headers, body).await?.0)
    }

    /// Sends a request and returns the response status and body.
    pub async fn exchange(
        &mut self,
        method: &str,
        path: &str,
        headers: &str,
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>)> {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n{headers}\r\n",
            self.host,
            body.len()
        );
        self.stream.write_all(head.as_bytes()).await?;
        self.stream.write_all(body).await?;
        self.response().await
    }

    /// Reads one response, head and `Content-Length` body, and returns its status and body.
    async fn response(&mut self) -> std::io::Result<(u16, Vec<u8>)> {
        let mut got = Vec::new();
        loop {
            let n = self.stream.read(&mut self.buf).await?;
            if n == 0 {
                return Err(std::io::Error::other("connection closed"));
            }
            got.extend_from_slice(&self.buf[..n]);
            if let Some(end) = memchr::memmem::find(&got, b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
                let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                while got.len() < end + 4 + len {
                    let n = self.stream.read(&mut self.buf).await?;
                    if n == 0 {
                        break;
                    }
                    got.extend_from_slice(&self.buf[..n]);
                }
                let body = got.get(end + 4..end + 4 + len).unwrap_or_default().to_vec();
                return Ok((status, body));
            }
        }
    }
}
