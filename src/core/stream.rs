//! Following boards: every event after a resume point, from the durable log first and
//! live from the bus after, in seq order with no gap and no duplicate.
//!
//! The subscription registers on the bus *before* it reads where each board stands,
//! so nothing committed later can be missed; from then on a cursor per board decides.
//! A live event that is exactly the next seq is delivered as it is; anything else
//! (a replay still running, two publishes overtaking each other) only raises the
//! highest seq known to exist, and the gap is read from the log, a page at a time.
//!
//! A resume point below the log's horizon (compacted away, `retention.rs`) gets the
//! same `reset` as one ahead of the board, at the start or when compaction overtakes
//! a replay still running.

use std::collections::VecDeque;
use std::sync::Arc;

use futures_util::FutureExt;
use tokio_stream::StreamExt;
use tokio_stream::StreamMap;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use tokio::sync::watch;

use super::limiter::StreamPermit;
use super::revocation::{REVOKED, revoked};
use super::{Error, Result};
use crate::bus::SharedEvent;
use crate::metrics::Deliveries;
use crate::proto::v1::{BoardSeq, GetBoardResponse, Reset, board_event::Payload};
use crate::store::{LogBounds, Store};

/// Events read from the log per query while catching up.
const PAGE: u32 = 256;

/// Most items a transport takes into one write after a wake-up (see
/// [`Subscription::ready`]): large enough to empty a burst in few writes, small
/// enough that one subscriber's turn stays short.
pub const BATCH: usize = 64;

/// Where a subscriber wants to start on one board.
#[derive(Clone, Debug, PartialEq)]
pub enum Resume {
    /// From now on.
    Live,
    /// Everything after this seq.
    After(u64),
    /// A resume point that could not be read (an SSE `Last-Event-ID` that is not a
    /// seq): the subscriber is told to reload, then follows live.
    Unreadable(String),
}

pub enum StreamItem {
    Event(Arc<SharedEvent>),
    /// The board's state, first, when asked for.
    Snapshot(GetBoardResponse),
    /// Reload the board, then continue after `seq`; the stream goes on.
    Reset(Reset),
    /// The subscriber fell too far behind; the stream ends here and `seq` is the last
    /// event it was given.
    Lagged(Reset),
    /// The credential the stream was opened with ended (signed out, token revoked);
    /// the stream ends here.
    Revoked(&'static str),
    /// Every followed board was deleted (each one's `board_deleted` was delivered): the
    /// stream ends here, and this is why. Not an error.
    Closed(String),
    /// The subscriber was removed from a followed board (its `member_removed` was
    /// delivered): the stream ends here, and this is why.
    Removed(String),
}

struct Cursor {
    board_id: String,
    /// The last seq handed to the subscriber.
    delivered: u64,
    /// The highest seq known to exist; above `delivered` means "read the log".
    known: u64,
}

pub struct Subscription {
    store: Arc<dyn Store>,
    cursors: Vec<Cursor>,
    live: StreamMap<String, BroadcastStream<Arc<SharedEvent>>>,
    pending: VecDeque<StreamItem>,
    ended: bool,
    /// Turns true when the subscriber's credential is revoked (`None`: the guest).
    revoked: Option<watch::Receiver<bool>>,
    /// Set when a `board_deleted` left the subscription following nothing: handed out
    /// as [`StreamItem::Closed`] next, unless another board is followed first (a
    /// WebSocket does not poll a subscription that follows nothing).
    closed: Option<String>,
    /// Set when the subscriber's own `member_removed` was handed out: the stream ends
    /// with [`StreamItem::Removed`] next. The board stays followed until then, so a
    /// WebSocket (which polls only a subscription that follows something) gets it.
    removed: Option<String>,
    /// Whose stream this is: the stream slot is held in that user's name.
    permit: StreamPermit,
    /// What it delivered, counted per write; it holds the stream's place in the
    /// open-streams gauge.
    deliveries: Deliveries,
}

impl Subscription {
    pub(super) fn new(
        store: Arc<dyn Store>,
        permit: StreamPermit,
        revoked: Option<watch::Receiver<bool>>,
        deliveries: Deliveries,
    ) -> Self {
        Subscription {
            store,
            cursors: Vec::new(),
            live: StreamMap::new(),
            pending: VecDeque::new(),
            ended: false,
            revoked,
            closed: None,
            removed: None,
            permit,
            deliveries,
        }
    }

    /// Ends the stream with [`StreamItem::Revoked`] when its credential was revoked.
    fn take_revoked(&mut self) -> Option<StreamItem> {
        if self.revoked.as_ref().is_some_and(|r| *r.borrow()) {
            self.revoked = None;
            self.ended = true;
            self.pending.clear();
            return Some(StreamItem::Revoked(REVOKED));
        }
        None
    }

    /// Adds a board (or restarts it from a new resume point): `bounds` are its log's
    /// as read after `live` was registered.
    pub(super) fn follow(&mut self, board_id: &str, resume: Resume, bounds: LogBounds, live: crate::bus::Receiver) {
        self.unfollow(board_id);
        self.closed = None;
        let current = bounds.last_seq;
        let delivered = match resume {
            Resume::Live => current,
            Resume::After(after) if after > current => {
                self.reset(
                    board_id,
                    current,
                    format!("resume point {after} is ahead of the board (at {current})"),
                );
                current
            }
            Resume::After(after) if after < bounds.compacted_through => {
                self.reset(board_id, current, compacted(after, bounds.compacted_through));
                current
            }
            Resume::After(after) => after,
            Resume::Unreadable(raw) => {
                self.reset(board_id, current, format!("resume point `{raw}` is not a seq"));
                current
            }
        };
        self.live.insert(board_id.to_owned(), BroadcastStream::new(live));
        self.cursors.push(Cursor {
            board_id: board_id.to_owned(),
            delivered,
            known: current,
        });
    }

    /// Stops following a board; anything still queued for it is dropped.
    pub fn unfollow(&mut self, board_id: &str) {
        self.cursors.retain(|c| c.board_id != board_id);
        self.live.remove(board_id);
        self.pending.retain(|item| match item {
            StreamItem::Event(e) => e.board_id() != board_id,
            StreamItem::Reset(r) | StreamItem::Lagged(r) => r.board_id != board_id,
            StreamItem::Snapshot(_) | StreamItem::Revoked(_) | StreamItem::Closed(_) | StreamItem::Removed(_) => true,
        });
    }

    /// Whether no board is followed (then [`Subscription::next`] has nothing to wait for).
    pub fn is_empty(&self) -> bool {
        self.cursors.is_empty()
    }

    pub(super) fn push_front(&mut self, item: StreamItem) {
        self.pending.push_front(item);
    }

    fn reset(&mut self, board_id: &str, seq: u64, reason: String) {
        self.pending.push_back(StreamItem::Reset(Reset {
            board_id: board_id.to_owned(),
            seq,
            reason,
        }));
    }

    /// Each board's last delivered seq: what a client resumes from.
    pub fn positions(&self) -> Vec<BoardSeq> {
        self.cursors
            .iter()
            .map(|c| BoardSeq {
                board_id: c.board_id.clone(),
                seq: c.delivered,
            })
            .collect()
    }

    /// Each board's latest seq as far as this subscription knows: at the start, where
    /// the board stood when the subscription began.
    pub fn heads(&self) -> Vec<BoardSeq> {
        self.cursors
            .iter()
            .map(|c| BoardSeq {
                board_id: c.board_id.clone(),
                seq: c.known.max(c.delivered),
            })
            .collect()
    }

    /// The next item if it is ready without waiting (queued, or a live event already
    /// received): a transport that got one item drains the rest this way, so events
    /// published together go out in one write.
    pub fn ready(&mut self) -> Option<Result<Option<StreamItem>>> {
        self.take().now_or_never()
    }

    /// The next item, or `None` once the stream is over (server shutting down, after a
    /// `Lagged`, or once every followed board was deleted). Cancel-safe: nothing is
    /// lost if the future is dropped.
    ///
    /// A `board_deleted` event is its board's last: once it is handed out the board is
    /// no longer followed, and a stream left following nothing ends. The subscriber's
    /// own `member_removed` is its last event: the stream ends after it.
    ///
    /// A transport comes back here having written what it was handed (and drained
    /// with [`Subscription::ready`]): that is when those deliveries are counted.
    pub async fn next(&mut self) -> Result<Option<StreamItem>> {
        self.deliveries.written();
        self.take().await
    }

    /// The next item, as [`Subscription::next`] describes, counting what it hands out.
    async fn take(&mut self) -> Result<Option<StreamItem>> {
        let item = self.take_item().await;
        match &item {
            Ok(Some(StreamItem::Event(e))) => self.deliveries.handed(e.published),
            Ok(Some(StreamItem::Lagged(_))) => self.deliveries.lagged(),
            _ => {}
        }
        item
    }

    async fn take_item(&mut self) -> Result<Option<StreamItem>> {
        if let Some(reason) = self.closed.take() {
            self.ended = true;
            return Ok(Some(StreamItem::Closed(reason)));
        }
        if let Some(reason) = self.removed.take() {
            self.ended = true;
            self.pending.clear();
            return Ok(Some(StreamItem::Removed(reason)));
        }
        let item = self.next_item().await?;
        if let Some(StreamItem::Event(e)) = &item
            && let Some(Payload::MemberRemoved(removed)) = &e.event.payload
            && removed.user_id == self.permit.user
        {
            self.removed = Some(format!("you were removed from board `{}`", e.board_id()));
        }
        if let Some(StreamItem::Event(e)) = &item
            && e.type_name() == "board_deleted"
        {
            let board_id = e.board_id().to_owned();
            self.unfollow(&board_id);
            if self.cursors.is_empty() {
                self.closed = Some(format!("board `{board_id}` was deleted"));
            }
        }
        Ok(item)
    }

    /// Reads the next page of cursor `i`'s gap from the log. When compaction took the
    /// events the cursor needs (it fell below the horizon while replaying), the board
    /// is reset to its latest seq instead, as at the start.
    async fn catch_up(&mut self, i: usize) -> Result<()> {
        let (board_id, after) = (self.cursors[i].board_id.clone(), self.cursors[i].delivered);
        self.deliveries.read_from_log();
        let mut tx = self.store.read().await?;
        let events = tx.events_after(&board_id, after, PAGE).await?;
        if events.first().is_none_or(|e| e.seq != after + 1) {
            let bounds = tx.log_bounds(&board_id).await?;
            let cursor = &mut self.cursors[i];
            if bounds.compacted_through > after {
                cursor.delivered = cursor.delivered.max(bounds.last_seq);
                cursor.known = cursor.known.max(bounds.last_seq);
                let reason = compacted(after, bounds.compacted_through);
                self.reset(&board_id, bounds.last_seq, reason);
                return Ok(());
            }
            return Err(Error::Internal(
                format!(
                    "board `{board_id}` log has no event {} but {} exists",
                    after + 1,
                    cursor.known
                )
                .into(),
            ));
        }
        let cursor = &mut self.cursors[i];
        for event in events {
            cursor.delivered = event.seq;
            self.pending.push_back(StreamItem::Event(SharedEvent::new(event)));
        }
        Ok(())
    }

    async fn next_item(&mut self) -> Result<Option<StreamItem>> {
        loop {
            if let Some(revoked) = self.take_revoked() {
                return Ok(Some(revoked));
            }
            if let Some(item) = self.pending.pop_front() {
                return Ok(Some(item));
            }
            if self.ended {
                return Ok(None);
            }
            if let Some(i) = self.cursors.iter().position(|c| c.delivered < c.known) {
                self.catch_up(i).await?;
                continue;
            }
            // Live first: when an event is ready the revocation watch is not polled, so a
            // delivery does not register in (and leave) the credential's waiter list,
            // which every stream of that credential shares. A revocation is still seen
            // at once: by `take_revoked` at the top of the next call, or here when idle.
            let next = tokio::select! {
                biased;
                next = self.live.next() => next,
                () = revoked(&mut self.revoked) => continue,
            };
            match next {
                None => return Ok(None),
                Some((board_id, Ok(event))) => {
                    let Some(cursor) = self.cursors.iter_mut().find(|c| c.board_id == board_id) else {
                        continue;
                    };
                    if event.seq() == cursor.delivered + 1 && cursor.known <= cursor.delivered {
                        cursor.delivered = event.seq();
                        cursor.known = event.seq();
                        return Ok(Some(StreamItem::Event(event)));
                    }
                    cursor.known = cursor.known.max(event.seq());
                }
                Some((board_id, Err(BroadcastStreamRecvError::Lagged(missed)))) => {
                    self.ended = true;
                    let Some(cursor) = self.cursors.iter().find(|c| c.board_id == board_id) else {
                        continue;
                    };
                    return Ok(Some(StreamItem::Lagged(Reset {
                        board_id: cursor.board_id.clone(),
                        seq: cursor.delivered,
                        reason: format!(
                            "too slow: fell {missed} events behind; resume after seq {}",
                            cursor.delivered
                        ),
                    })));
                }
            }
        }
    }
}

/// Why a resume point below the horizon is reset.
fn compacted(after: u64, horizon: u64) -> String {
    format!("resume point {after} is older than the log, which was compacted through seq {horizon}")
}

#[cfg(test)]
mod tests;
