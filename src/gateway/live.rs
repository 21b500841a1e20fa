//! What the SSE and WebSocket loops share around a [`Subscription`]: the heartbeat
//! timer, and the drain that puts everything already waiting into the same write.

use std::time::Duration;

use tokio::time::{Instant, Interval, MissedTickBehavior, interval_at};

use crate::core::{BATCH, Result, StreamItem, Subscription};

/// Ticks every `period_ms` (at least 1 ms), first one period from now. A tick missed
/// while the loop was busy is not made up in a burst: the next is a period later.
pub fn heartbeat(period_ms: u64) -> Interval {
    let period = Duration::from_millis(period_ms.max(1));
    let mut heartbeat = interval_at(Instant::now() + period, period);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    heartbeat
}

/// After a wake-up, hands `each` the items that are ready without waiting, until this
/// write holds [`BATCH`] (`taken` are in it already) or `each` says stop (`false`).
pub fn drain(
    sub: &mut Subscription,
    taken: usize,
    mut each: impl FnMut(Result<Option<StreamItem>>, &Subscription) -> bool,
) {
    for _ in taken..BATCH {
        let Some(item) = sub.ready() else { break };
        if !each(item, sub) {
            break;
        }
    }
}
