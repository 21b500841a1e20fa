//! A connection's rooms: joining and leaving them (through `crate::presence`), and the
//! ephemeral state it holds in each — typing indicators and throttled cursors.

use bytes::Bytes;
use tokio::time::Instant;

use super::connection::Connection;
use crate::core::{Error, Result};
use crate::limits::WS_CURSOR_INTERVAL;
use crate::proto::v1::server_message::Message as Out;
use crate::proto::v1::{CursorMoved, UserStoppedTyping};
use crate::wire::ws::frame;

impl Connection {
    pub(super) fn require_room(&self, board_id: &str) -> Result<()> {
        if self.rooms.iter().any(|r| r == board_id) {
            Ok(())
        } else {
            Err(Error::invalid(
                "boardId",
                format!("boardId `{board_id}`: join the board first"),
            ))
        }
    }

    /// Joins the room (once) and sends the room's viewers.
    pub(super) fn enter_room(&mut self, board_id: &str, out: &mut Vec<Bytes>) {
        let Some((_, viewer)) = self.identity.clone() else {
            return;
        };
        let viewers = self.s.presence.join(board_id, self.id, &viewer, self.mailbox.clone());
        if !self.rooms.iter().any(|r| r == board_id) {
            self.rooms.push(board_id.to_owned());
        }
        out.push(frame(Out::Presence(viewers)));
    }

    pub(super) fn leave_room(&mut self, board_id: &str) {
        self.stop_typing(board_id);
        self.cursors.remove(board_id);
        self.s.presence.leave(board_id, self.id);
        self.rooms.retain(|r| r != board_id);
        if let Some(sub) = self.sub.as_mut() {
            sub.unfollow(board_id);
        }
    }

    /// Leaves every room; unsent cursors go with them (a cursor flushed later would
    /// carry whoever holds the connection then).
    pub(super) fn leave_all(&mut self) {
        self.cursors.clear();
        for board_id in std::mem::take(&mut self.rooms) {
            self.stop_typing(&board_id);
            self.s.presence.leave(&board_id, self.id);
        }
    }

    pub(super) fn stop_typing(&mut self, board_id: &str) {
        if self.typing.remove(board_id).is_some() {
            self.broadcast_stopped(board_id);
        }
    }

    fn broadcast_stopped(&self, board_id: &str) {
        let Some((_, viewer)) = &self.identity else { return };
        let text = frame(Out::UserStoppedTyping(UserStoppedTyping {
            board_id: board_id.to_owned(),
            user_id: viewer.user_id.clone(),
        }));
        self.s.presence.broadcast(board_id, Some(&viewer.user_id), &text);
    }

    pub(super) fn expire_typing(&mut self) {
        let now = Instant::now();
        let expired: Vec<String> = self
            .typing
            .iter()
            .filter(|(_, typist)| typist.expires <= now)
            .map(|(b, _)| b.clone())
            .collect();
        for board_id in expired {
            self.stop_typing(&board_id);
        }
    }

    /// Sends the latest cursor of each board to the others (never back to this user).
    pub(super) fn flush_cursors(&mut self) {
        let Some((_, viewer)) = self.identity.clone() else {
            return;
        };
        for (board_id, (x, y)) in self.cursors.drain() {
            let text = frame(Out::Cursor(CursorMoved {
                board_id: board_id.clone(),
                user_id: viewer.user_id.clone(),
                x,
                y,
                color: viewer.color.clone(),
            }));
            self.s.presence.broadcast(&board_id, Some(&viewer.user_id), &text);
        }
        self.next_cursor_at = Instant::now() + WS_CURSOR_INTERVAL;
    }
}
