//! `tail BOARD [--after SEQ]`: follows a board over `Subscribe`, one line per event.
//! It remembers the last seq it printed and, when the stream or the server goes away,
//! subscribes again after it (backing off 200 ms → 5 s), so no event is printed twice
//! or skipped; a `reset` reloads the board and goes on from the seq it names, as the
//! protocol says. A refusal of the token, the board or the request ends it (exit 1).

use std::time::Duration;

use super::connect::{Client, Connector};
use super::{Failure, Remote, output};
use crate::narrate::Names;
use crate::proto::SubscribeMessage;
use crate::proto::v1::{BoardEvent, GetBoardRequest, ListMembersRequest, SubscribeRequest, board_event::Payload};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The board's id (`board-1`).
    board: String,
    /// Start after this seq (0: the whole log); without it, from now.
    #[arg(long)]
    after: Option<u64>,
    #[command(flatten)]
    remote: Remote,
}

const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Where the follower stands: the last seq printed (or to start after), and the names
/// the sentences mention, loaded once and kept current by the events themselves.
struct Follower {
    board: String,
    json: bool,
    last: Option<u64>,
    names: Option<Names>,
}

/// How one subscription ended, when not by a failure.
enum End {
    /// The board was deleted: its log is over.
    Deleted,
    /// The server closed the stream without saying why: subscribe again.
    Closed,
}

pub async fn run(args: Args) -> Result<(), Failure> {
    let connector = Connector::new(&args.remote)?;
    let mut follower = Follower {
        board: args.board,
        json: args.remote.json,
        last: args.after,
        names: None,
    };
    let mut backoff = FIRST_BACKOFF;
    loop {
        let why = match follower.follow(&connector, &mut backoff).await {
            Ok(End::Deleted) => {
                eprintln!("tail: board {} was deleted; its log is over", follower.board);
                return Ok(());
            }
            Ok(End::Closed) => "the server ended the stream".to_owned(),
            Err(e) if e.is_transient() => e.to_string(),
            Err(e) => return Err(e),
        };
        let after = follower
            .last
            .map_or_else(|| "from now".to_owned(), |s| format!("after seq {s}"));
        eprintln!("tail: {why}; resubscribing {after} in {} ms", backoff.as_millis());
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

impl Follower {
    /// One connection: load the board if not yet loaded, subscribe after the last seq,
    /// print until the stream ends. `backoff` starts over once a subscription is open.
    async fn follow(&mut self, connector: &Connector, backoff: &mut Duration) -> Result<End, Failure> {
        let mut client = connector.connect().await?;
        if self.names.is_none() {
            self.load(&mut client).await?;
        }
        let mut stream = client
            .subscribe(SubscribeRequest {
                board_id: self.board.clone(),
                after_seq: self.last,
                ..Default::default()
            })
            .await?
            .into_inner();
        *backoff = FIRST_BACKOFF;
        while let Some(message) = stream.message().await? {
            match message.message {
                Some(SubscribeMessage::Event(bytes)) => {
                    let event: BoardEvent = prost::Message::decode(bytes)
                        .map_err(|e| tonic::Status::internal(format!("bad event: {e}")))?;
                    if self.print(&event)? {
                        return Ok(End::Deleted);
                    }
                }
                Some(SubscribeMessage::Reset(reset)) => {
                    eprintln!(
                        "tail: the server reset the stream ({}); reloading the board and following after seq {}",
                        reset.reason, reset.seq
                    );
                    self.load(&mut client).await?;
                    self.last = Some(reset.seq);
                }
                Some(SubscribeMessage::Snapshot(_)) | None => {}
            }
        }
        Ok(End::Closed)
    }

    /// The board's names (lists, tasks, members) and, when there is no resume point
    /// yet, its current seq: the point to follow from, so a reconnect resumes there.
    async fn load(&mut self, client: &mut Client) -> Result<(), Failure> {
        let board_id = self.board.clone();
        let mut board = client.get_board(page(&board_id, String::new())).await?.into_inner();
        // Every page, for every task's name; the first page's seq is the point to
        // follow from (events after it rename whatever later pages showed).
        let mut token = std::mem::take(&mut board.next_page_token);
        while !token.is_empty() {
            let next = client.get_board(page(&board_id, token)).await?.into_inner();
            board.tasks.extend(next.tasks);
            token = next.next_page_token;
        }
        let members = client
            .list_members(ListMembersRequest { board_id })
            .await?
            .into_inner()
            .members;
        self.names = Some(Names {
            lists: board.lists.into_iter().map(|l| (l.id, l.name)).collect(),
            tasks: board.tasks.into_iter().map(|t| (t.id, t.title)).collect(),
            users: members.into_iter().map(|m| (m.user_id, m.name)).collect(),
        });
        self.last.get_or_insert(board.seq);
        Ok(())
    }

    /// Prints an event not printed before; true when it ends the board's log.
    fn print(&mut self, event: &BoardEvent) -> Result<bool, Failure> {
        if self.last.is_some_and(|last| event.seq <= last) {
            return Ok(false);
        }
        let names = self.names.get_or_insert_with(Names::default);
        if self.json {
            output::json(event)?;
        } else {
            output::line(&output::event_line(event, names))?;
        }
        names.learn(event);
        self.last = Some(event.seq);
        Ok(matches!(event.payload, Some(Payload::BoardDeleted(_))))
    }
}

/// A request for one page of the board, as large as the server allows.
fn page(board_id: &str, page_token: String) -> GetBoardRequest {
    GetBoardRequest {
        board_id: board_id.to_owned(),
        limit: Some(1000),
        page_token,
    }
}
