//! Server configuration: command-line flags, each with an environment variable.

/// `boardcast serve` options.
// Each bool is an independent on/off flag of the command line, not a state.
#[allow(clippy::struct_excessive_bools)]
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
    /// Threads that write open streams (SSE, WebSocket), apart from those that accept
    /// connections and answer requests; 0: one per core the process may use.
    #[arg(long, env = "BOARDCAST_DELIVERY_THREADS", default_value_t = 0)]
    pub delivery_threads: usize,
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
    /// On SIGTERM, how long to keep serving, and accepting, with `/readyz` (and gRPC
    /// health) already saying not ready, so a load balancer polling it stops sending
    /// traffic first. 0: stop accepting at once.
    #[arg(long, env = "BOARDCAST_DRAIN_GRACE_MS", default_value_t = 0)]
    pub drain_grace_ms: u64,
    /// On SIGTERM, the longest the drain may take, grace included: connections still
    /// open this many milliseconds after the signal are dropped and the process exits.
    #[arg(long, env = "BOARDCAST_DRAIN_TIMEOUT_MS", default_value_t = 10_000)]
    pub drain_timeout_ms: u64,
    /// Open connections the server holds at once; one more is answered 503 and
    /// closed. 0: no cap.
    #[arg(long, env = "BOARDCAST_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,
    /// Open connections from one client address (the TCP peer); 0: no cap.
    #[arg(long, env = "BOARDCAST_MAX_CONNECTIONS_PER_IP", default_value_t = 1_000)]
    pub max_connections_per_ip: usize,
    /// Changes (any mutation, REST, gRPC or WebSocket) per second one user may make,
    /// with bursts of twice that; more are refused (429). 0: no limit.
    #[arg(long, env = "BOARDCAST_RATE_MUTATIONS_PER_USER", default_value_t = 50)]
    pub rate_mutations_per_user: u32,
    /// Changes per second from one client address, with bursts of twice that. 0: no limit.
    #[arg(long, env = "BOARDCAST_RATE_MUTATIONS_PER_IP", default_value_t = 200)]
    pub rate_mutations_per_ip: u32,
    /// Streams (SSE, WebSocket, gRPC Subscribe, long polls) one user may open per
    /// second, with bursts of twice that. 0: no limit.
    #[arg(long, env = "BOARDCAST_RATE_STREAMS_PER_USER", default_value_t = 10)]
    pub rate_streams_per_user: u32,
    /// Streams per second opened from one client address, bursts of twice that. 0: no limit.
    #[arg(long, env = "BOARDCAST_RATE_STREAMS_PER_IP", default_value_t = 50)]
    pub rate_streams_per_ip: u32,
    /// WebSocket frames per second one connection may send (any frame: messages,
    /// pings, pongs), with bursts of twice that; more closes it with 1008.
    #[arg(long, env = "BOARDCAST_WS_FRAMES_PER_SEC", default_value_t = 100)]
    pub ws_frames_per_sec: u32,
    /// A WebSocket opened without an identity (no token, guests off) must send `auth`
    /// within this many milliseconds, or it is closed (1008).
    #[arg(long, env = "BOARDCAST_WS_HANDSHAKE_TIMEOUT_MS", default_value_t = 10_000)]
    pub ws_handshake_timeout_ms: u64,
    /// A WebSocket from which no frame (pongs included) arrived for this many
    /// milliseconds is closed (1008, "idle").
    #[arg(long, env = "BOARDCAST_WS_IDLE_TIMEOUT_MS", default_value_t = 60_000)]
    pub ws_idle_timeout_ms: u64,
    /// Take the client's address from the last `X-Forwarded-For` entry (set it only
    /// behind a proxy that appends it, such as deploy/nginx): per-address rate and
    /// sign-in limits then count clients, not the proxy. Connection caps still see the
    /// proxy's address.
    #[arg(long, env = "BOARDCAST_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// Seconds a request id (`Idempotency-Key`, `requestId`) stands for its first
    /// answer; a retry after that is a new request.
    #[arg(long, env = "BOARDCAST_IDEMPOTENCY_TTL_SECS", default_value_t = 86_400,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub idempotency_ttl_secs: u64,
    /// Seconds a board's events are kept in its log (beyond the newest
    /// `--log-keep-events`); a resume point older than what is left gets a `reset`.
    /// 0 keeps every log for ever.
    #[arg(long, env = "BOARDCAST_LOG_RETENTION_SECS", default_value_t = 2_592_000)]
    pub log_retention_secs: u64,
    /// The newest events of each board that are kept however old they are.
    #[arg(long, env = "BOARDCAST_LOG_KEEP_EVENTS", default_value_t = 1000)]
    pub log_keep_events: u64,
    /// Milliseconds between two runs of the retention sweeper (expired request ids,
    /// log compaction).
    #[arg(long, env = "BOARDCAST_RETENTION_INTERVAL_MS", default_value_t = 60_000)]
    pub retention_interval_ms: u64,
    /// Serve `GET /metrics` (Prometheus text; unauthenticated: keep the port internal
    /// or block the path at the proxy). `--metrics false` turns it off.
    #[arg(long, env = "BOARDCAST_METRICS", default_value_t = true, action = clap::ArgAction::Set)]
    pub metrics: bool,
    /// Log lines as `text` (for people) or `json` (one object per line, with the
    /// request id of the request it belongs to).
    #[arg(long, env = "BOARDCAST_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// How log lines are written (`--log-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
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
            delivery_threads: 1,
            header_timeout_ms: 10_000,
            ws_ping_ms: 20_000,
            allowed_origins: Vec::new(),
            demo: true,
            cookie_secure: false,
            drain_grace_ms: 0,
            drain_timeout_ms: 10_000,
            // Tests share 127.0.0.1 and make thousands of requests: no caps and no
            // rate limits unless a test sets them.
            max_connections: 0,
            max_connections_per_ip: 0,
            rate_mutations_per_user: 0,
            rate_mutations_per_ip: 0,
            rate_streams_per_user: 0,
            rate_streams_per_ip: 0,
            ws_frames_per_sec: 100,
            ws_handshake_timeout_ms: 10_000,
            ws_idle_timeout_ms: 60_000,
            trust_proxy: false,
            idempotency_ttl_secs: 86_400,
            log_retention_secs: 2_592_000,
            log_keep_events: 1000,
            retention_interval_ms: 60_000,
            metrics: true,
            log_format: LogFormat::Text,
        }
    }
}
