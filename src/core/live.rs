//! Following boards: streams ([`Subscription`]), short polls and long polls. Access
//! is checked before anything is read, and live delivery is registered before the
//! log is read, so nothing committed in between is missed.

use std::time::Duration;

use super::access::{Actor, visible_board};
use super::stream::{Resume, StreamItem, Subscription};
use super::{Core, Error, Result, validate};
use crate::metrics::Transport;
use crate::proto::v1::{BoardEvent, ChangesResponse, board_event::Payload};

/// Most boards one stream may follow.
pub const MAX_BOARDS_PER_STREAM: usize = 32;
/// Most events one poll answer carries.
pub const MAX_EVENTS_PER_ANSWER: u32 = 1000;
/// Longest a long poll may wait.
pub const MAX_POLL_WAIT: Duration = Duration::from_secs(30);

impl Core {
    /// Follows boards from their resume points. Every board must exist (404) and have
    /// the actor as a member (403) before anything is streamed.
    pub async fn subscribe(
        &self,
        actor: &Actor,
        transport: Transport,
        boards: Vec<(String, Resume)>,
        snapshot: bool,
    ) -> Result<Subscription> {
        check_followed(&boards, snapshot)?;
        let mut sub = self.open_stream(actor, transport)?;
        for (board_id, resume) in boards {
            if snapshot {
                let board = self.board_snapshot(actor, &board_id).await?;
                let seq = board.seq;
                sub.push_front(StreamItem::Snapshot(board));
                self.follow(&mut sub, actor, &board_id, Resume::After(seq)).await?;
            } else {
                self.follow(&mut sub, actor, &board_id, resume).await?;
            }
        }
        Ok(sub)
    }

    /// An empty subscription, holding one of the actor's stream slots until dropped;
    /// `transport` labels what it delivers.
    pub fn open_stream(&self, actor: &Actor, transport: Transport) -> Result<Subscription> {
        self.rates.stream(actor)?;
        Ok(Subscription::new(
            self.store.clone(),
            self.streams.acquire(&actor.user.id)?,
            self.revocation(actor),
            self.metrics.deliveries(transport),
        ))
    }

    /// Adds a board to a subscription (or restarts it from `resume`).
    pub async fn follow(&self, sub: &mut Subscription, actor: &Actor, board_id: &str, resume: Resume) -> Result<()> {
        validate::required("boardId", board_id)?;
        visible_board(&mut *self.store.read().await?, actor, board_id).await?;
        // Live before the read: whatever commits after it reaches the subscription.
        let live = self.bus.subscribe(board_id);
        let bounds = self.store.read().await?.log_bounds(board_id).await?;
        // The feed publishes other instances' events after what this follow read.
        self.bus.seen(board_id, bounds.last_seq);
        sub.follow(board_id, resume, bounds, live);
        Ok(())
    }

    /// The events of a board after `after`, at once (short polling).
    pub async fn changes(&self, actor: &Actor, board_id: &str, after: u64) -> Result<ChangesResponse> {
        validate::required("boardId", board_id)?;
        visible_board(&mut *self.store.read().await?, actor, board_id).await?;
        self.changes_after(board_id, after).await
    }

    /// The log after `after`, for a caller that checked access already: a long poll
    /// woken by its board's deletion still gets the `board_deleted` event. A point the
    /// log no longer reaches back to is a `reset`, as one ahead of the board is.
    async fn changes_after(&self, board_id: &str, after: u64) -> Result<ChangesResponse> {
        let mut tx = self.store.read().await?;
        let bounds = tx.log_bounds(board_id).await?;
        let seq = bounds.last_seq;
        // Ahead of the board, or below what compaction left: reload, then go on.
        if after > seq || after < bounds.compacted_through {
            return Ok(ChangesResponse {
                seq,
                reset: true,
                ..Default::default()
            });
        }
        Ok(ChangesResponse {
            events: tx.events_after(board_id, after, MAX_EVENTS_PER_ANSWER).await?,
            seq,
            ..Default::default()
        })
    }

    /// Like [`Core::changes`], but when nothing is there yet, waits up to `wait` for
    /// the next event (long polling). Without `after`, waits for the next event from
    /// now. Woken by the bus, never by a sleep loop.
    pub async fn wait_changes(
        &self,
        actor: &Actor,
        board_id: &str,
        after: Option<u64>,
        wait: Duration,
    ) -> Result<ChangesResponse> {
        if wait > MAX_POLL_WAIT {
            return Err(Error::invalid(
                "timeout",
                format!("timeout must be at most {} seconds", MAX_POLL_WAIT.as_secs()),
            ));
        }
        if !wait.is_zero() {
            // A long poll holds a wait like a stream: opening one counts as one.
            self.rates.stream(actor)?;
        }
        // Access first (an unknown board must not leave a bus channel behind), then
        // live before the read, so an event committed in between still wakes us.
        visible_board(&mut *self.store.read().await?, actor, board_id).await?;
        let mut live = self.bus.subscribe(board_id);
        let after = match after {
            Some(after) => after,
            None => self.store.read().await?.last_seq(board_id).await?,
        };
        let first = self.changes(actor, board_id, after).await?;
        // `first.seq` is the board's last seq, read after `live` registered.
        self.bus.seen(board_id, first.seq);
        if !first.events.is_empty() || first.reset || wait.is_zero() {
            return Ok(ChangesResponse {
                timeout: first.events.is_empty() && !first.reset,
                ..first
            });
        }
        let mut revoked = self.revocation(actor);
        let woke = tokio::select! {
            biased;
            () = super::revocation::revoked(&mut revoked) => {
                return Err(Error::Unauthenticated(super::revocation::REVOKED.into()));
            }
            woke = tokio::time::timeout(wait, live.recv()) => woke,
        };
        match woke {
            // An event (or a lag, which also means events): read them from the log.
            Ok(Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {
                let mut changes = self.changes_after(board_id, after).await?;
                until_removed(&mut changes.events, &actor.user.id);
                Ok(changes)
            }
            // Timed out, or the server is shutting down.
            Err(_) | Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => {
                Ok(ChangesResponse { timeout: true, ..first })
            }
        }
    }
}

/// Cuts `events` after the actor's own `member_removed`: the last thing a member
/// removed while waiting learns of the board is that removal.
fn until_removed(events: &mut Vec<BoardEvent>, user_id: &str) {
    let removal = events
        .iter()
        .position(|e| matches!(&e.payload, Some(Payload::MemberRemoved(removed)) if removed.user_id == user_id));
    if let Some(i) = removal {
        events.truncate(i + 1);
    }
}

/// The boards one stream asks to follow: at least one, at most
/// [`MAX_BOARDS_PER_STREAM`], none twice, and exactly one with a snapshot.
fn check_followed(boards: &[(String, Resume)], snapshot: bool) -> Result<()> {
    if boards.is_empty() {
        return Err(Error::invalid("boards", "name at least one board to follow"));
    }
    if boards.len() > MAX_BOARDS_PER_STREAM {
        return Err(Error::invalid(
            "boards",
            format!(
                "boards names {} boards; one stream follows at most {MAX_BOARDS_PER_STREAM}",
                boards.len()
            ),
        ));
    }
    for (i, (id, _)) in boards.iter().enumerate() {
        validate::required("boardId", id)?;
        if boards[..i].iter().any(|(other, _)| other == id) {
            return Err(Error::invalid("boards", format!("boards names `{id}` twice")));
        }
    }
    if snapshot && boards.len() != 1 {
        return Err(Error::invalid("snapshot", "snapshot needs exactly one board"));
    }
    Ok(())
}
