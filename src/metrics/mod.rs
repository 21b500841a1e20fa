//! What the server counts, for Prometheus: one [`Metrics`] per server instance, built
//! once at start-up and handed to every layer that counts (core, store, presence,
//! transports), never a global, so servers sharing a process (the tests) keep their
//! numbers apart. A leaf: it knows no other module of the crate.
//!
//! The hot paths count cheaply: per-transport counters and gauges are looked up once
//! (an array indexed by [`Transport`]), so a count is one atomic add; a stream counts
//! its deliveries per write ([`Deliveries`]), and the delivery latency is a lock-free
//! histogram ([`histogram`]).

mod body;
mod histogram;

use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry, Unit};

pub use body::{Ending, OnEnd};
pub use histogram::LatencyHistogram;

/// The `Content-Type` of [`Metrics::encode`]'s text.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// How a client talks to the server: the `transport` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Sse,
    Ws,
    Grpc,
    Poll,
    Http,
}

impl Transport {
    const ALL: [Transport; 5] = [
        Transport::Sse,
        Transport::Ws,
        Transport::Grpc,
        Transport::Poll,
        Transport::Http,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Sse => "sse",
            Transport::Ws => "ws",
            Transport::Grpc => "grpc",
            Transport::Poll => "poll",
            Transport::Http => "http",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransportLabel {
    transport: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: String,
    method: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GrpcLabels {
    method: String,
    code: String,
}

/// One metric per transport, created up front so the hot path never looks a label up.
struct PerTransport<M>([M; 5]);

impl<M: Clone> PerTransport<M> {
    fn of<C: prometheus_client::metrics::family::MetricConstructor<M>>(family: &Family<TransportLabel, M, C>) -> Self {
        PerTransport(Transport::ALL.map(|t| family.get_or_create_owned(&TransportLabel { transport: t.as_str() })))
    }

    fn get(&self, transport: Transport) -> &M {
        &self.0[transport as usize]
    }
}

/// A request latency histogram: 0.5 ms to about 16 s (and `+Inf`), doubling.
fn request_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Registers a metric measured in seconds (its name gets `_seconds`).
fn seconds(r: &mut Registry, name: &str, help: &str, metric: impl Metric) {
    r.register_with_unit(name, help, Unit::Seconds, metric);
}

/// A per-transport family, registered.
fn family<M>(r: &mut Registry, name: &str, help: &str) -> Family<TransportLabel, M>
where
    M: Default + Metric + Clone + prometheus_client::metrics::TypedMetric,
{
    let family = Family::<TransportLabel, M>::default();
    r.register(name, help, family.clone());
    family
}

/// Every metric of one server instance and the registry that exposes them.
pub struct Metrics {
    registry: Registry,
    connections: PerTransport<Gauge>,
    streams: PerTransport<Gauge>,
    delivered: PerTransport<Counter>,
    lagged: PerTransport<Counter>,
    published: Counter,
    delivery_latency: LatencyHistogram,
    http: Family<HttpLabels, Histogram, fn() -> Histogram>,
    grpc: Family<GrpcLabels, Histogram, fn() -> Histogram>,
    store_commit: Histogram,
    group_size: Histogram,
    listen_reconnects: Counter,
    sweep_catchups: Counter,
    stream_log_reads: Counter,
    presence_rooms: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut r = Registry::with_prefix("boardcast");
        let connections = family(
            &mut r,
            "connections_open",
            "Open client connections: WebSockets, SSE responses, gRPC calls, long polls and other HTTP requests in flight",
        );
        let streams = family(
            &mut r,
            "streams_open",
            "Open board subscriptions (stream slots) by transport",
        );
        let delivered = family(
            &mut r,
            "events_delivered",
            "Board events written to subscribers, by transport",
        );
        let lagged = family(
            &mut r,
            "subscribers_lagged",
            "Subscribers cut off for falling too far behind, by transport",
        );
        let http = Family::new_with_constructor(request_histogram as fn() -> Histogram);
        let grpc = Family::new_with_constructor(request_histogram as fn() -> Histogram);
        let metrics = Metrics {
            connections: PerTransport::of(&connections),
            streams: PerTransport::of(&streams),
            delivered: PerTransport::of(&delivered),
            lagged: PerTransport::of(&lagged),
            published: Counter::default(),
            delivery_latency: LatencyHistogram::new(exponential_buckets(0.000_05, 2.0, 16)),
            http,
            grpc,
            store_commit: Histogram::new(exponential_buckets(0.000_05, 2.0, 16)),
            group_size: Histogram::new(exponential_buckets(1.0, 2.0, 10)),
            listen_reconnects: Counter::default(),
            sweep_catchups: Counter::default(),
            stream_log_reads: Counter::default(),
            presence_rooms: Gauge::default(),
            registry: Registry::default(),
        };
        metrics.register(&mut r);
        Metrics { registry: r, ..metrics }
    }

    /// Registers the metrics that have no transport label.
    fn register(&self, r: &mut Registry) {
        r.register(
            "events_published",
            "Board events committed on this instance and published to its subscribers",
            self.published.clone(),
        );
        seconds(
            r,
            "delivery_latency",
            "From a live event's publication after its commit to the write that carries it to a subscriber (one observation per write: its oldest event)",
            self.delivery_latency.clone(),
        );
        seconds(
            r,
            "http_request_duration",
            "HTTP requests by matched route template, method and status, until the response body ended",
            self.http.clone(),
        );
        seconds(
            r,
            "grpc_request_duration",
            "gRPC calls by method and status code, until the response ended",
            self.grpc.clone(),
        );
        seconds(
            r,
            "store_commit",
            "Store commits: a SQLite group's (or lone transaction's) COMMIT, a PostgreSQL transaction's",
            self.store_commit.clone(),
        );
        r.register(
            "store_commit_group_size",
            "Write transactions committed together by one store commit",
            self.group_size.clone(),
        );
        r.register(
            "listen_reconnects",
            "PostgreSQL LISTEN connections re-established after being lost",
            self.listen_reconnects.clone(),
        );
        r.register(
            "sweep_catchups",
            "Boards the cluster feed's sweep found behind the log and caught up (hints lost or late)",
            self.sweep_catchups.clone(),
        );
        r.register(
            "stream_log_reads",
            "Pages of events streams read from the log rather than took live: a replay after a resume, or a gap when an event reached the bus before one below it",
            self.stream_log_reads.clone(),
        );
        r.register(
            "presence_rooms",
            "WebSocket rooms (boards) with someone in them on this instance",
            self.presence_rooms.clone(),
        );
    }

    /// Everything, in the Prometheus text format ([`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }

    /// Counts an open connection of `transport` until the guard is dropped.
    pub fn connection(&self, transport: Transport) -> Open {
        Open::of(self.connections.get(transport))
    }

    /// Counts an open subscription of `transport` until the guard is dropped.
    pub fn stream(&self, transport: Transport) -> Open {
        Open::of(self.streams.get(transport))
    }

    /// A new stream's delivery tally; the stream counts as open while it lives.
    pub fn deliveries(self: &Arc<Self>, transport: Transport) -> Deliveries {
        Deliveries {
            _open: self.stream(transport),
            metrics: self.clone(),
            transport,
            count: 0,
            oldest: None,
        }
    }

    pub fn published(&self, events: u64) {
        self.published.inc_by(events);
    }

    pub fn http_request(&self, route: &str, method: &str, status: u16, took: Duration) {
        let labels = HttpLabels {
            route: route.to_owned(),
            method: method.to_owned(),
            status: status.to_string(),
        };
        self.http.get_or_create(&labels).observe(took.as_secs_f64());
    }

    pub fn grpc_request(&self, method: &str, code: &str, took: Duration) {
        let labels = GrpcLabels {
            method: method.to_owned(),
            code: code.to_owned(),
        };
        self.grpc.get_or_create(&labels).observe(took.as_secs_f64());
    }

    /// One store commit: how long it took and how many transactions it committed.
    pub fn store_commit(&self, took: Duration, transactions: u32) {
        self.store_commit.observe(took.as_secs_f64());
        self.group_size.observe(f64::from(transactions));
    }

    pub fn listen_reconnected(&self) {
        self.listen_reconnects.inc();
    }

    pub fn sweep_caught_up(&self, boards: u64) {
        self.sweep_catchups.inc_by(boards);
    }

    /// The number of presence rooms now.
    pub fn presence_rooms(&self, rooms: usize) {
        self.presence_rooms.set(i64::try_from(rooms).unwrap_or(i64::MAX));
    }
}

/// An open connection or stream, counted in its gauge until dropped.
pub struct Open(Gauge);

impl Open {
    fn of(gauge: &Gauge) -> Self {
        gauge.inc();
        Open(gauge.clone())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// One stream's deliveries since its last write, counted once per write: the stream
/// notes each event it hands out ([`Deliveries::handed`], no atomic), and
/// [`Deliveries::written`] adds them up when the transport comes back for more,
/// having written them. Dropping it counts what is left and closes the stream.
pub struct Deliveries {
    metrics: Arc<Metrics>,
    transport: Transport,
    count: u64,
    /// The first live event's publication since the last write, for the latency.
    oldest: Option<Instant>,
    /// Holds the stream's place in `streams_open`.
    _open: Open,
}

impl Deliveries {
    /// An event handed to the transport; `published` is when it went live (`None` for
    /// one read from the log, whose latency would say nothing about delivery).
    pub fn handed(&mut self, published: Option<Instant>) {
        self.count += 1;
        if self.oldest.is_none() {
            self.oldest = published;
        }
    }

    /// What was handed out since the last call has been written.
    pub fn written(&mut self) {
        if self.count == 0 {
            return;
        }
        self.metrics.delivered.get(self.transport).inc_by(self.count);
        if let Some(oldest) = self.oldest.take() {
            self.metrics.delivery_latency.observe(oldest.elapsed());
        }
        self.count = 0;
    }

    /// The stream was cut off for lagging.
    pub fn lagged(&self) {
        self.metrics.lagged.get(self.transport).inc();
    }

    /// The stream read a page of events from the log.
    pub fn read_from_log(&self) {
        self.metrics.stream_log_reads.inc();
    }
}

impl Drop for Deliveries {
    fn drop(&mut self) {
        self.written();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
        text.lines().find(|l| l.starts_with(prefix))
    }

    #[test]
    fn names_carry_the_prefix_units_and_labels() {
        let metrics = Arc::new(Metrics::new());
        let _ws = metrics.connection(Transport::Ws);
        {
            let mut d = metrics.deliveries(Transport::Sse);
            d.handed(Some(Instant::now()));
            d.handed(None);
        }
        metrics.http_request("/tasks/{id}", "GET", 404, Duration::from_millis(1));
        let text = metrics.encode();
        assert_eq!(
            line(&text, "boardcast_connections_open{transport=\"ws\"}"),
            Some("boardcast_connections_open{transport=\"ws\"} 1"),
            "{text}"
        );
        assert_eq!(
            line(&text, "boardcast_streams_open{transport=\"sse\"}"),
            Some("boardcast_streams_open{transport=\"sse\"} 0")
        );
        assert_eq!(
            line(&text, "boardcast_events_delivered_total{transport=\"sse\"}"),
            Some("boardcast_events_delivered_total{transport=\"sse\"} 2")
        );
        assert_eq!(
            line(&text, "boardcast_delivery_latency_seconds_count"),
            Some("boardcast_delivery_latency_seconds_count 1")
        );
        assert!(
            text.contains(
                "boardcast_http_request_duration_seconds_count{route=\"/tasks/{id}\",method=\"GET\",status=\"404\"} 1"
            ),
            "{text}"
        );
    }
}
