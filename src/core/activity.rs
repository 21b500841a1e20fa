//! A board's history as sentences: its event log read newest first, in pages, each
//! event told with the actor's name and the board's names (`Alice moved “Fix login”
//! to Done`). Any member reads it. The sentences come from the pure
//! `narrate::summary`; this file pages the log and gathers the names it mentions.

use super::access::{Actor, visible_board};
use super::{Core, Error, Result, validate};
use crate::narrate::{Names, summary};
use crate::proto::v1::{ActivityEntry, BoardEvent, ListActivityRequest, ListActivityResponse, board_event::Payload};
use crate::store::Tx;

pub const ACTIVITY_DEFAULT_LIMIT: u32 = 50;
pub const ACTIVITY_MAX_LIMIT: u32 = 200;

impl Core {
    pub async fn list_activity(&self, actor: &Actor, req: ListActivityRequest) -> Result<ListActivityResponse> {
        validate::required("boardId", &req.board_id)?;
        let limit = match req.limit {
            None => ACTIVITY_DEFAULT_LIMIT,
            Some(n) if (1..=ACTIVITY_MAX_LIMIT).contains(&n) => n,
            Some(n) => {
                return Err(Error::invalid(
                    "limit",
                    format!("limit must be 1 to {ACTIVITY_MAX_LIMIT} (got {n})"),
                ));
            }
        };
        let mut tx = self.store.read().await?;
        let board = visible_board(&mut *tx, actor, &req.board_id).await?;
        // One more than asked for says whether an older page exists.
        let mut events = tx.events_before(&board.id, req.before, limit + 1).await?;
        let more = events.len() > limit as usize;
        events.truncate(limit as usize);
        let next_before = if more { events.last().map_or(0, |e| e.seq) } else { 0 };
        let names = gather(&mut *tx, &board.id, &events).await?;
        let entries = (events.iter())
            .map(|e| ActivityEntry {
                seq: e.seq,
                occurred_at: e.occurred_at,
                actor_id: e.actor.clone(),
                actor_name: names.user(&e.actor).to_owned(),
                r#type: e.payload.as_ref().map_or("", Payload::type_name).to_owned(),
                summary: summary(e, &names),
            })
            .collect();
        Ok(ListActivityResponse { entries, next_before })
    }
}

/// The board's current names, then those the page's events carry, then the users the
/// page mentions.
async fn gather(tx: &mut dyn Tx, board_id: &str, events: &[BoardEvent]) -> Result<Names> {
    let mut names = Names::default();
    for list in tx.lists(board_id).await? {
        names.lists.insert(list.id, list.name);
    }
    for task in tx.tasks(board_id, None).await? {
        names.tasks.insert(task.id, task.title);
    }
    let mut users = Vec::new();
    for event in events {
        users.push(event.actor.clone());
        names.remember(event);
        if let Some(Payload::MemberRemoved(p)) = &event.payload {
            users.push(p.user_id.clone());
        }
    }
    for id in users {
        if !names.users.contains_key(&id)
            && let Some(user) = tx.user(&id).await?
        {
            names.users.insert(id, user.name);
        }
    }
    Ok(names)
}
