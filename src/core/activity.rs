//! A board's history as sentences: its event log read newest first, in pages, each
//! event told with the actor's name and the board's names (`Alice moved “Fix login”
//! to Done`). Any member reads it. [`summary`] is pure: an event and [`Names`] in,
//! text out.

use std::collections::HashMap;

use super::access::{Actor, visible_board};
use super::{Core, Error, Result, validate};
use crate::proto::json::role as role_json;
use crate::proto::v1::{ActivityEntry, BoardEvent, ListActivityRequest, ListActivityResponse, board_event::Payload};
use crate::store::Tx;

pub const ACTIVITY_DEFAULT_LIMIT: u32 = 50;
pub const ACTIVITY_MAX_LIMIT: u32 = 200;

/// The names a summary may mention, by id. Users are display names; lists, tasks and
/// labels their current names, else the last name the log knows of.
#[derive(Debug, Default)]
pub(super) struct Names {
    pub users: HashMap<String, String>,
    pub lists: HashMap<String, String>,
    pub tasks: HashMap<String, String>,
}

impl Names {
    fn user<'a>(&'a self, id: &'a str) -> &'a str {
        self.users.get(id).map_or(id, String::as_str)
    }

    fn list(&self, id: &str) -> String {
        self.lists
            .get(id)
            .map_or_else(|| "a deleted list".to_owned(), Clone::clone)
    }

    /// The board's current names, then those the page's events carry, then the users
    /// the page mentions.
    async fn gather(tx: &mut dyn Tx, board_id: &str, events: &[BoardEvent]) -> Result<Self> {
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
            match &event.payload {
                Some(Payload::TaskCreated(p)) => names.remember_task(p.task.as_ref()),
                Some(Payload::TaskUpdated(p)) => names.remember_task(p.task.as_ref()),
                Some(Payload::TaskMoved(p)) => names.remember_task(p.task.as_ref()),
                Some(Payload::ListCreated(p)) => names.remember_list(p.list.as_ref()),
                Some(Payload::ListUpdated(p)) => names.remember_list(p.list.as_ref()),
                Some(Payload::ListMoved(p)) => names.remember_list(p.list.as_ref()),
                Some(Payload::MemberRemoved(p)) => users.push(p.user_id.clone()),
                _ => {}
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

    fn remember_task(&mut self, task: Option<&crate::proto::v1::Task>) {
        if let Some(t) = task {
            self.tasks.entry(t.id.clone()).or_insert_with(|| t.title.clone());
        }
    }

    fn remember_list(&mut self, list: Option<&crate::proto::v1::BoardList>) {
        if let Some(l) = list {
            self.lists.entry(l.id.clone()).or_insert_with(|| l.name.clone());
        }
    }
}

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
        let names = Names::gather(&mut *tx, &board.id, &events).await?;
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

/// `“title”`, as summaries quote what a user typed.
fn quoted(text: &str) -> String {
    format!("“{text}”")
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// The event as one plain-text sentence, its actor first.
pub(super) fn summary(event: &BoardEvent, names: &Names) -> String {
    let actor = names.user(&event.actor);
    let what = match &event.payload {
        Some(
            p @ (Payload::TaskCreated(_) | Payload::TaskUpdated(_) | Payload::TaskMoved(_) | Payload::TaskDeleted(_)),
        ) => task_summary(p, names),
        Some(
            p @ (Payload::ListCreated(_) | Payload::ListUpdated(_) | Payload::ListMoved(_) | Payload::ListDeleted(_)),
        ) => list_summary(p, names),
        Some(p @ (Payload::MemberAdded(_) | Payload::MemberUpdated(_) | Payload::MemberRemoved(_))) => {
            member_summary(p, &event.actor, names)
        }
        Some(p) => board_summary(p),
        None => "changed the board".to_owned(),
    };
    format!("{actor} {what}")
}

fn task_summary(payload: &Payload, names: &Names) -> String {
    let title = |t: Option<&crate::proto::v1::Task>| quoted(t.map_or("", |t| t.title.as_str()));
    match payload {
        Payload::TaskCreated(p) => {
            let list = names.list(p.task.as_ref().map_or("", |t| t.list_id.as_str()));
            format!("added {} to {list}", title(p.task.as_ref()))
        }
        Payload::TaskUpdated(p) => format!("edited {}", title(p.task.as_ref())),
        Payload::TaskMoved(p) => {
            let to = p.task.as_ref().map_or("", |t| t.list_id.as_str());
            let list = names.list(to);
            if to == p.from_list_id {
                format!("moved {} within {list}", title(p.task.as_ref()))
            } else {
                format!("moved {} to {list}", title(p.task.as_ref()))
            }
        }
        Payload::TaskDeleted(p) => match (p.title.as_str(), names.tasks.get(&p.task_id)) {
            ("", None) => "deleted a task".to_owned(),
            ("", Some(known)) => format!("deleted {}", quoted(known)),
            (title, _) => format!("deleted {}", quoted(title)),
        },
        _ => String::new(),
    }
}

fn list_summary(payload: &Payload, names: &Names) -> String {
    let name = |l: Option<&crate::proto::v1::BoardList>| quoted(l.map_or("", |l| l.name.as_str()));
    match payload {
        Payload::ListCreated(p) => format!("added list {}", name(p.list.as_ref())),
        Payload::ListUpdated(p) if p.from_name.is_empty() => format!("renamed a list to {}", name(p.list.as_ref())),
        Payload::ListUpdated(p) => format!("renamed list {} to {}", quoted(&p.from_name), name(p.list.as_ref())),
        Payload::ListMoved(p) => format!(
            "moved list {} to position {}",
            name(p.list.as_ref()),
            p.list.as_ref().map_or(0, |l| l.position) + 1
        ),
        Payload::ListDeleted(p) => {
            let list = match (p.name.as_str(), names.lists.get(&p.list_id)) {
                ("", None) => "a list".to_owned(),
                ("", Some(known)) => format!("list {}", quoted(known)),
                (name, _) => format!("list {}", quoted(name)),
            };
            if p.moved_tasks.is_empty() {
                format!("deleted {list}")
            } else {
                let tasks = plural(p.moved_tasks.len(), "task");
                format!(
                    "deleted {list} and moved its {tasks} to {}",
                    names.list(&p.moved_tasks_to)
                )
            }
        }
        _ => String::new(),
    }
}

fn member_summary(payload: &Payload, actor: &str, names: &Names) -> String {
    let name = |m: Option<&crate::proto::v1::Member>| m.map_or(String::new(), |m| m.name.clone());
    let role = |m: Option<&crate::proto::v1::Member>| role_json::name(m.map_or(0, |m| m.role));
    match payload {
        Payload::MemberAdded(p) => format!("added {} as {}", name(p.member.as_ref()), role(p.member.as_ref())),
        Payload::MemberUpdated(p) => format!("made {} {}", name(p.member.as_ref()), role(p.member.as_ref())),
        Payload::MemberRemoved(p) if p.user_id == actor => "left the board".to_owned(),
        Payload::MemberRemoved(p) => format!("removed {}", names.user(&p.user_id)),
        _ => String::new(),
    }
}

fn board_summary(payload: &Payload) -> String {
    match payload {
        Payload::BoardCreated(p) => format!(
            "created the board {}",
            quoted(p.board.as_ref().map_or("", |b| b.name.as_str()))
        ),
        Payload::BoardUpdated(p) => match &p.board {
            Some(b) if b.archived => format!("archived the board {}", quoted(&b.name)),
            Some(b) => format!("updated the board {}", quoted(&b.name)),
            None => "updated the board".to_owned(),
        },
        Payload::BoardDeleted(p) => format!("deleted the board {}", quoted(&p.name)),
        Payload::LabelCreated(p) => format!(
            "created label {}",
            quoted(p.label.as_ref().map_or("", |l| l.name.as_str()))
        ),
        Payload::LabelUpdated(p) => format!(
            "updated label {}",
            quoted(p.label.as_ref().map_or("", |l| l.name.as_str()))
        ),
        Payload::LabelDeleted(p) if p.task_ids.is_empty() => format!("deleted label {}", quoted(&p.name)),
        Payload::LabelDeleted(p) => format!(
            "deleted label {} (it was on {})",
            quoted(&p.name),
            plural(p.task_ids.len(), "task")
        ),
        _ => "changed the board".to_owned(),
    }
}

#[cfg(test)]
mod tests;
