//! The delivery runtime: the tokio runtime on whose threads open event streams write.
//!
//! Why a runtime of its own: a burst to ten thousand subscribers is ten thousand
//! tasks made ready at once, and on the runtime that accepts connections and answers
//! requests they formed one queue with everything else. A new connection's accept, the
//! read of its request, the commit's wake-up: each waited its turn behind the whole
//! fan-out of the event before (issue 13 measured ~95 ms per fresh-connection `POST` at
//! 10,000 subscribers, about 10,000 × the cost of one delivery). With the streams
//! here, the request runtime's queue holds only request work, and the two sets of
//! threads share the cores through the kernel's scheduler, which gives a thread that
//! wakes its turn within a time slice instead of after a queue. Publishes that arrive
//! while a fan-out is under way pile up behind it, and each subscriber takes all that
//! waits in one write, so a faster answer also means fewer writes per event.
//!
//! What runs here: the SSE streams the server writes on the socket itself (the request
//! is answered on the request runtime, then the body's writing moves here) and
//! WebSocket sessions (all of a session: its commands share the wait). A gRPC
//! `Subscribe` stays where its HTTP/2 connection is served, since one connection may
//! carry unary calls too; so do long polls, which write once.
//!
//! The threads run at a lower scheduling priority (`nice` [`NICE`]) than the request
//! runtime's: when both have work on a saturated core, requests get the larger share,
//! so a fan-out backlog delays deliveries (which batch up and catch up) rather than
//! answers. Spawned futures are aborted when their [`Delivered`] handle is dropped, so
//! a connection task's end (the drain timeout, a shutdown) ends its stream here too.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::runtime::{Handle, Runtime};
use tokio::task::{JoinError, JoinHandle};

/// The delivery threads' niceness (0 is the default; higher is a smaller share of a
/// busy core). 5 weighs a delivery thread at about a third of a request thread
/// (Linux's weights are 1024 for nice 0 and 335 for nice 5): enough to let a
/// bystander's request through a fan-out, not so much that a steady request load
/// starves the streams.
pub const NICE: i32 = 5;

/// The runtime and a handle to spawn on it; dropping it stops the runtime without
/// waiting for its tasks (each stream's connection has ended or is being dropped).
pub struct Delivery {
    runtime: Option<Runtime>,
    handle: Handle,
}

impl Delivery {
    /// Starts `threads` worker threads (at least one) named `boardcast-delivery`.
    pub fn start(threads: usize) -> io::Result<Self> {
        // Read here, on a thread of the caller's priority: a thread the runtime starts
        // later may be started from one of its own, already lowered.
        let base = niceness();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("boardcast-delivery")
            .on_thread_start(move || lower_priority(base))
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        Ok(Delivery {
            runtime: Some(runtime),
            handle,
        })
    }

    /// Runs `work` on the delivery threads. The returned future resolves to its
    /// output (`None` if it panicked or the runtime stopped first) and aborts it when
    /// dropped.
    pub fn spawn<F>(&self, work: F) -> Delivered<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Delivered(self.handle.spawn(work))
    }

    /// Runs `work` on the delivery threads, detached: for work that tracks its own
    /// end (a WebSocket session holds the drain with a `Hold`).
    pub fn detach<F>(&self, work: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(self.handle.spawn(work));
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // Dropped on a runtime worker (tests, `Application`), where blocking to
            // join the threads is not allowed; they end on their own.
            runtime.shutdown_background();
        }
    }
}

/// A future spawned on the delivery runtime, aborted when this handle is dropped.
pub struct Delivered<T>(JoinHandle<T>);

impl<T> Future for Delivered<T> {
    type Output = Option<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        Pin::new(&mut self.0).poll(cx).map(|joined| match joined {
            Ok(out) => Some(out),
            Err(e) => {
                log_join_error(&e);
                None
            }
        })
    }
}

impl<T> Drop for Delivered<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn log_join_error(e: &JoinError) {
    if e.is_panic() {
        tracing::error!(error = %e, "a stream panicked on the delivery runtime");
    } else {
        tracing::debug!(error = %e, "a stream was cancelled on the delivery runtime");
    }
}

/// Sets the calling thread's niceness to [`NICE`] above `base`, the starting
/// thread's (so a server started with `nice` keeps the same gap). Raising one's own
/// niceness needs no privilege; where it fails the thread keeps its priority, which
/// only means a smaller share for requests under load, so it is logged and not fatal.
fn lower_priority(base: i32) {
    // On Linux the niceness is the thread's, and `None` (who = 0) names the caller.
    if let Err(e) = rustix::process::setpriority_process(None, (base + NICE).min(19)) {
        tracing::debug!(error = %e, "cannot lower the delivery thread's priority");
    }
}

/// The calling thread's niceness (0 if it cannot be read).
fn niceness() -> i32 {
    rustix::process::getpriority_process(None).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn spawned_work_runs_on_the_delivery_threads_and_returns_its_output() {
        let delivery = Delivery::start(1).unwrap();
        let name = delivery
            .spawn(async { std::thread::current().name().map(str::to_owned) })
            .await;
        assert_eq!(name, Some(Some("boardcast-delivery".to_owned())));
    }

    #[tokio::test]
    async fn dropping_the_handle_aborts_the_work() {
        let delivery = Delivery::start(1).unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
        let handle = delivery.spawn(async move {
            let _tx = tx;
            std::future::pending::<()>().await;
        });
        drop(handle);
        // The sender is dropped with the aborted future: the channel closes.
        let closed = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await;
        assert_eq!(closed.expect("the work was aborted"), None);
    }

    #[tokio::test]
    async fn delivery_threads_run_at_a_lower_priority() {
        let delivery = Delivery::start(1).unwrap();
        let ours = niceness();
        let theirs = delivery.spawn(async { niceness() }).await;
        assert_eq!(theirs, Some((ours + NICE).min(19)));
    }
}
