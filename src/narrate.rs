//! A board event told as one plain-text sentence, its actor first (`Alice moved “Fix
//! login” to Done`): [`summary`], pure, and the [`Names`] it may mention. A leaf, so
//! the server's activity feed (`core/activity.rs`) and the terminal client
//! (`client/tail.rs`) tell events with the one implementation.

use std::collections::HashMap;

use crate::proto::json::role as role_json;
use crate::proto::v1::{BoardEvent, BoardList, Member, Task, board_event::Payload};

/// The names a summary may mention, by id. Users are display names; lists, tasks and
/// labels their current names, else the last name the log knows of.
#[derive(Debug, Default)]
pub struct Names {
    pub users: HashMap<String, String>,
    pub lists: HashMap<String, String>,
    pub tasks: HashMap<String, String>,
}

impl Names {
    /// A user's display name; the id itself when the name is unknown.
    pub fn user<'a>(&'a self, id: &'a str) -> &'a str {
        self.users.get(id).map_or(id, String::as_str)
    }

    fn list(&self, id: &str) -> String {
        self.lists
            .get(id)
            .map_or_else(|| "a deleted list".to_owned(), Clone::clone)
    }

    /// Adds the task and list names `event` carries where none is known yet: for a
    /// reader going back in time (newest first), whose current names win.
    pub fn remember(&mut self, event: &BoardEvent) {
        let (tasks, lists, _) = carried(event);
        for (id, name) in tasks {
            self.tasks.entry(id.to_owned()).or_insert_with(|| name.to_owned());
        }
        for (id, name) in lists {
            self.lists.entry(id.to_owned()).or_insert_with(|| name.to_owned());
        }
    }

    /// Takes the names `event` carries (tasks, lists, members) as the latest: for a
    /// reader going forward, to tell the events after it.
    pub fn learn(&mut self, event: &BoardEvent) {
        let (tasks, lists, users) = carried(event);
        for (map, pairs) in [
            (&mut self.tasks, tasks),
            (&mut self.lists, lists),
            (&mut self.users, users),
        ] {
            for (id, name) in pairs {
                map.insert(id.to_owned(), name.to_owned());
            }
        }
    }
}

type Pairs<'a> = Vec<(&'a str, &'a str)>;

/// The (id, name) pairs of the tasks, lists and members an event carries.
fn carried(event: &BoardEvent) -> (Pairs<'_>, Pairs<'_>, Pairs<'_>) {
    fn task(t: Option<&Task>) -> Pairs<'_> {
        t.map(|t| (t.id.as_str(), t.title.as_str())).into_iter().collect()
    }
    fn list(l: Option<&BoardList>) -> Pairs<'_> {
        l.map(|l| (l.id.as_str(), l.name.as_str())).into_iter().collect()
    }
    fn member(m: Option<&Member>) -> Pairs<'_> {
        m.map(|m| (m.user_id.as_str(), m.name.as_str())).into_iter().collect()
    }
    match &event.payload {
        Some(Payload::TaskCreated(p)) => (task(p.task.as_ref()), vec![], vec![]),
        Some(Payload::TaskUpdated(p)) => (task(p.task.as_ref()), vec![], vec![]),
        Some(Payload::TaskMoved(p)) => (task(p.task.as_ref()), vec![], vec![]),
        Some(Payload::ListCreated(p)) => (vec![], list(p.list.as_ref()), vec![]),
        Some(Payload::ListUpdated(p)) => (vec![], list(p.list.as_ref()), vec![]),
        Some(Payload::ListMoved(p)) => (vec![], list(p.list.as_ref()), vec![]),
        Some(Payload::BoardCreated(p)) => (
            vec![],
            p.lists.iter().flat_map(|l| list(Some(l))).collect(),
            member(p.owner.as_ref()),
        ),
        Some(Payload::MemberAdded(p)) => (vec![], vec![], member(p.member.as_ref())),
        Some(Payload::MemberUpdated(p)) => (vec![], vec![], member(p.member.as_ref())),
        _ => (vec![], vec![], vec![]),
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
pub fn summary(event: &BoardEvent, names: &Names) -> String {
    format!("{} {}", names.user(&event.actor), what(event, names))
}

/// What the actor did, the sentence without its subject (`moved “Fix login” to Done`),
/// for a reader that shows the actor in a column of its own.
pub fn what(event: &BoardEvent, names: &Names) -> String {
    match &event.payload {
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
    }
}

fn task_summary(payload: &Payload, names: &Names) -> String {
    let title = |t: Option<&Task>| quoted(t.map_or("", |t| t.title.as_str()));
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
    let name = |l: Option<&BoardList>| quoted(l.map_or("", |l| l.name.as_str()));
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
    let name = |m: Option<&Member>| m.map_or(String::new(), |m| m.name.clone());
    let role = |m: Option<&Member>| role_json::name(m.map_or(0, |m| m.role));
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
