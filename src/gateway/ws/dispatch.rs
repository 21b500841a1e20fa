//! One typed `ClientMessage` → what it does: `auth` and `ping` first (they need no
//! identity), then the room messages, then the four task mutations, which go through
//! core exactly as REST's do and are answered with an `ack`.

use bytes::Bytes;
use tokio::time::Instant;

use super::connection::{Connection, Typist};
use super::upgrade::identity_of;
use crate::core::{Actor, Error, Result, Resume};
use crate::proto::v1::client_message::Message as In;
use crate::proto::v1::server_message::Message as Out;
use crate::proto::v1::{
    CreateTaskResponse, CursorMove, DeleteTaskResponse, MoveTaskResponse, Pong, Typing, UpdateTaskResponse, UserTyping,
    Viewer,
};
use crate::wire::ws::{ack, frame};

/// Typing expires this long after the last `typing`.
const TYPING_TTL: std::time::Duration = std::time::Duration::from_secs(5);
/// While typing goes on (refreshed within `TYPING_TTL`), the room hears `user_typing`
/// again once this long has passed: a `user_stopped_typing` is droppable (a slow
/// client's room messages, a signal lost between instances), so clients let go of an
/// indicator not repeated for a while (ws.proto), and this keeps a live one shown.
const TYPING_REPEAT: std::time::Duration = std::time::Duration::from_millis(2500);

/// A mutation's answer, as the `ack` that tells the client it is done.
trait Acked {
    fn ack(self, request_id: String) -> Bytes;
}

macro_rules! acked_with_task {
    ($($response:ty),*) => {$(
        impl Acked for $response {
            fn ack(self, request_id: String) -> Bytes {
                ack(request_id, self.task, self.seq)
            }
        }
    )*};
}
acked_with_task!(CreateTaskResponse, UpdateTaskResponse, MoveTaskResponse);

impl Acked for DeleteTaskResponse {
    fn ack(self, request_id: String) -> Bytes {
        ack(request_id, None, self.seq)
    }
}

/// Runs a task mutation through core and queues its ack.
macro_rules! mutate {
    ($self:ident, $out:ident, $actor:ident, $method:ident, $req:ident) => {{
        let request_id = $req.request_id.clone();
        let answer = $self.s.core.$method(&$actor, $req).await?;
        $out.push(Acked::ack(answer, request_id));
    }};
}

impl Connection {
    pub(super) async fn handle(&mut self, message: In, out: &mut Vec<Bytes>) -> Result<()> {
        if let In::Auth(auth) = message {
            return self.authenticate(&auth.token, out).await;
        }
        if let In::Ping(_) = message {
            out.push(frame(Out::Pong(Pong {})));
            return Ok(());
        }
        let Some((actor, viewer)) = self.identity.clone() else {
            return Err(Error::Unauthenticated(
                "send {\"type\":\"auth\",\"token\":\"…\"} first".into(),
            ));
        };
        match message {
            // Answered above, before the identity check.
            In::Auth(_) | In::Ping(_) => {}
            In::Join(join) => {
                let resume = join.after_seq.map_or(Resume::Live, Resume::After);
                self.follow(&actor, &join.board_id, resume).await?;
                self.enter_room(&join.board_id, out);
            }
            In::Resume(resume) => {
                self.require_room(&resume.board_id)?;
                self.follow(&actor, &resume.board_id, Resume::After(resume.after_seq))
                    .await?;
                self.enter_room(&resume.board_id, out);
            }
            In::Leave(leave) => {
                self.require_room(&leave.board_id)?;
                self.leave_room(&leave.board_id);
            }
            In::Typing(typing) => self.typing(&viewer, typing)?,
            In::StopTyping(stop) => {
                self.require_room(&stop.board_id)?;
                self.stop_typing(&stop.board_id);
            }
            In::Cursor(cursor) => self.cursor(cursor)?,
            In::CreateTask(req) => mutate!(self, out, actor, create_task, req),
            In::UpdateTask(req) => mutate!(self, out, actor, update_task, req),
            In::MoveTask(req) => mutate!(self, out, actor, move_task, req),
            In::DeleteTask(req) => mutate!(self, out, actor, delete_task, req),
        }
        Ok(())
    }

    /// Switches to the token's user. A new identity starts clean: its access to each
    /// board is checked when it joins, never inherited from the previous one.
    async fn authenticate(&mut self, token: &str, out: &mut Vec<Bytes>) -> Result<()> {
        let actor = self.s.auth.actor(Some(token), self.client_ip).await?;
        self.forget_identity();
        self.revoked = self.s.core.revocation(&actor);
        self.identity = Some(identity_of(actor));
        out.push(self.welcome());
        Ok(())
    }

    async fn follow(&mut self, actor: &Actor, board_id: &str, resume: Resume) -> Result<()> {
        let core = self.s.core.clone();
        if self.sub.is_none() {
            self.sub = Some(core.open_stream(actor, crate::metrics::Transport::Ws)?);
        }
        let sub = self.sub.as_mut().expect("just opened");
        core.follow(sub, actor, board_id, resume).await?;
        Ok(())
    }

    /// Starts (or refreshes) typing; the room hears it when it starts, when it
    /// names a task, and on the first refresh `TYPING_REPEAT` or more after it last
    /// heard it.
    fn typing(&mut self, viewer: &Viewer, typing: Typing) -> Result<()> {
        self.require_room(&typing.board_id)?;
        let now = Instant::now();
        let last = self.typing.get(&typing.board_id).map(|t| t.announced);
        let announce = last.is_none_or(|at| now >= at + TYPING_REPEAT) || !typing.task_id.is_empty();
        let typist = Typist {
            expires: now + TYPING_TTL,
            announced: if announce { now } else { last.unwrap_or(now) },
        };
        self.typing.insert(typing.board_id.clone(), typist);
        if announce {
            let text = frame(Out::UserTyping(UserTyping {
                board_id: typing.board_id.clone(),
                user_id: viewer.user_id.clone(),
                name: viewer.name.clone(),
                task_id: typing.task_id,
            }));
            self.s
                .presence
                .broadcast(&typing.board_id, Some(&viewer.user_id), &text);
        }
        Ok(())
    }

    /// Keeps the latest position; it goes out at most once per cursor interval.
    fn cursor(&mut self, cursor: CursorMove) -> Result<()> {
        self.require_room(&cursor.board_id)?;
        self.cursors.insert(cursor.board_id, (cursor.x, cursor.y));
        if Instant::now() >= self.next_cursor_at {
            self.flush_cursors();
        }
        Ok(())
    }
}
