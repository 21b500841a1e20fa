//! What instances sharing one database tell each other, beside the log. Nothing here
//! is a source of truth: a hint only says "look at the log" (events are read from it,
//! never from a hint), and room messages (joins, leaves, typing, cursors) are
//! ephemeral. A single-process store has no cluster (`Store::cluster` is `None`).

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::mpsc;

use super::Result;
use crate::proto::v1::Viewer;

/// From another instance (or from the connection that listens to them).
#[derive(Clone, Debug, PartialEq)]
pub enum Hint {
    /// Board `board_id` has events up to at least `seq`.
    Seq { board_id: String, seq: u64 },
    /// The listening connection was lost and is back: hints sent meanwhile are lost,
    /// so every watched board must be compared with the log now.
    Reconnected,
}

/// A room message from another instance.
#[derive(Clone, Debug, PartialEq)]
pub struct RoomSignal {
    /// The instance it came from.
    pub from: String,
    pub board_id: String,
    pub kind: RoomKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum RoomKind {
    /// The user's first connection to the board on the sending instance.
    Joined(Viewer),
    /// The user's last connection to the board on the sending instance closed.
    Left { user_id: String, name: String },
    /// A frame (typing, cursor: JSON text) for the room's members, but not for the
    /// connections of `except_user`.
    Frame { except_user: Option<String>, frame: Bytes },
    /// The listening connection was lost and is back: room messages sent meanwhile
    /// are lost, so remote viewers must be read again (`board_id` is empty).
    Reconnected,
}

/// A viewer another live instance has on a board.
#[derive(Clone, Debug, PartialEq)]
pub struct RemoteViewer {
    pub instance_id: String,
    pub board_id: String,
    pub viewer: Viewer,
}

/// The instances sharing one database, as this instance sees them.
#[async_trait]
pub trait Cluster: Send + Sync + 'static {
    /// This instance's id (random per process).
    fn instance_id(&self) -> &str;
    /// After a commit: tells the other instances that `board_id` has events up to
    /// `seq`. Batched and sent from a connection of its own; never waits, never fails
    /// (a lost hint costs at most one sweep of delay).
    fn announce(&self, board_id: &str, seq: u64);
    /// Sends a room message to the other instances; may be dropped.
    fn send_room(&self, board_id: &str, kind: RoomKind);
    /// Hints from the other instances, from now on. Taken once (by the feed); `None`
    /// after that.
    fn hints(&self) -> Option<mpsc::Receiver<Hint>>;
    /// Room messages from the other instances, from now on. Taken once (by presence);
    /// `None` after that.
    fn rooms(&self) -> Option<mpsc::Receiver<RoomSignal>>;
    /// Renews this instance's lease and ends the leases (and viewers) of instances
    /// that stopped renewing theirs. `true` when this instance's own lease had ended
    /// (it missed renewals, or the database lost it): its viewers are gone and must be
    /// added again.
    async fn renew(&self) -> Result<bool>;
    /// Records that this instance has `viewer` on the board.
    async fn add_viewer(&self, board_id: &str, viewer: &Viewer) -> Result<()>;
    /// This instance no longer has the user on the board.
    async fn remove_viewer(&self, board_id: &str, user_id: &str) -> Result<()>;
    /// The viewers other live instances have on these boards.
    async fn remote_viewers(&self, board_ids: &[String]) -> Result<Vec<RemoteViewer>>;
    /// On a clean shutdown: this instance's lease and viewers end now, not at expiry.
    async fn leave(&self) -> Result<()>;
}
