//! Server configuration: command-line flags, each with an environment variable.

/// `boardcast serve` options.
#[derive(Clone, Debug, clap::Args)]
pub struct Config {
    /// Address for every protocol (REST, SSE, WebSocket, gRPC): one port.
    #[arg(long, env = "BOARDCAST_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: String,
    /// `sqlite:PATH`, `sqlite::memory:`, a plain file path, or a PostgreSQL
    /// `postgres://…` URL.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite:boardcast.db")]
    pub database_url: String,
    /// Let requests without a token act as the guest member of the seeded boards.
    /// Defaults to on for a loopback listen address and off otherwise.
    #[arg(long, env = "BOARDCAST_GUESTS")]
    pub guests: Option<bool>,
    /// Milliseconds between `: heartbeat` comments on idle SSE streams.
    #[arg(long, env = "BOARDCAST_SSE_HEARTBEAT_MS", default_value_t = 15_000)]
    pub sse_heartbeat_ms: u64,
    /// Streams (SSE, gRPC Subscribe, WebSocket) one user may hold open at once.
    #[arg(long, env = "BOARDCAST_MAX_STREAMS_PER_USER", default_value_t = 64)]
    pub max_streams_per_user: usize,
    /// How many events a subscriber may fall behind before it is cut off (it then
    /// resumes from the log).
    #[arg(long, env = "BOARDCAST_STREAM_BUFFER", default_value_t = 1024)]
    pub stream_buffer: usize,
    /// Close a connection once the server has had bytes for it that could not be
    /// written for this many milliseconds (a peer that stopped reading).
    #[arg(long, env = "BOARDCAST_SEND_TIMEOUT_MS", default_value_t = 30_000)]
    pub send_timeout_ms: u64,
    /// Close a connection whose request head is not complete this many milliseconds
    /// after the connection opened, or (on a kept-alive connection) after the
    /// previous response: a peer that sends nothing, or trickles its head, cannot
    /// hold a socket for ever.
    #[arg(long, env = "BOARDCAST_HEADER_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_timeout_ms: u64,
    /// Milliseconds between WebSocket pings; a connection silent for two intervals is
    /// closed and leaves presence.
    #[arg(long, env = "BOARDCAST_WS_PING_MS", default_value_t = 20_000)]
    pub ws_ping_ms: u64,
    /// Browser origins (besides the server's own) allowed to open a WebSocket and to
    /// call REST and gRPC-Web cross-origin (CORS, bearer tokens only: never
    /// credentials), comma-separated `scheme://host[:port]` (`*` for any). None by
    /// default: same-origin only, and no CORS headers are sent.
    #[arg(long, env = "BOARDCAST_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Seed the demo boards and the demo users alice, bob and carol (passwords in the
    /// README) if they are not there yet, and offer their sessions to the web page's
    /// dev sign-in (`GET /dev/users`, where guests are allowed). Without it a new
    /// database starts empty.
    #[arg(long, env = "BOARDCAST_DEMO")]
    pub demo: bool,
    /// Mark the session cookie `Secure` (browsers then send it over HTTPS only). Set it
    /// when the server is reached through HTTPS (a TLS-terminating proxy); off by
    /// default because the server itself speaks plain HTTP.
    #[arg(long, env = "BOARDCAST_COOKIE_SECURE")]
    pub cookie_secure: bool,
}

impl Config {
    /// A config for a throwaway server: an ephemeral loopback port, an in-memory
    /// database and the demo data. Tests and examples start from this.
    pub fn ephemeral() -> Self {
        Config {
            listen: "127.0.0.1:0".into(),
            database_url: "sqlite::memory:".into(),
            guests: None,
            sse_heartbeat_ms: 15_000,
            max_streams_per_user: 64,
            stream_buffer: 1024,
            send_timeout_ms: 30_000,
            header_timeout_ms: 10_000,
            ws_ping_ms: 20_000,
            allowed_origins: Vec::new(),
            demo: true,
            cookie_secure: false,
        }
    }
}
