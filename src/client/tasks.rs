//! `tasks`, `add` and `move`: one unary BoardService call each, its answer printed
//! (`--json`: the proto JSON), for scripts.

use super::connect::Connector;
use super::{Failure, Remote, output};
use crate::proto::v1::{CreateTaskRequest, ListTasksRequest, MoveTaskRequest};

#[derive(clap::Args, Debug)]
pub struct ListArgs {
    /// The board's id (`board-1`).
    board: String,
    #[command(flatten)]
    remote: Remote,
}

#[derive(clap::Args, Debug)]
pub struct AddArgs {
    /// The board's id; the list must be one of its lists.
    board: String,
    /// The list's id (`list-todo`).
    list: String,
    /// The task's title.
    title: String,
    #[command(flatten)]
    remote: Remote,
}

#[derive(clap::Args, Debug)]
pub struct MoveArgs {
    /// The task's id.
    task: String,
    /// The destination list's id, on the task's board.
    list: String,
    /// 0-based position in that list; past the end appends.
    #[arg(allow_negative_numbers = true)]
    position: i32,
    #[command(flatten)]
    remote: Remote,
}

/// `tasks BOARD`: the table, or one task per line with `--json`.
pub async fn list(args: ListArgs) -> Result<(), Failure> {
    let mut client = Connector::new(&args.remote)?.connect().await?;
    let tasks = client
        .list_tasks(ListTasksRequest {
            board_id: args.board,
            list_id: String::new(),
        })
        .await?
        .into_inner()
        .tasks;
    if args.remote.json {
        return tasks.iter().try_for_each(output::json);
    }
    output::task_table(&tasks).iter().try_for_each(|l| output::line(l))
}

/// `add BOARD LIST TITLE`: the new task's id (`--json`: the task).
pub async fn add(args: AddArgs) -> Result<(), Failure> {
    let mut client = Connector::new(&args.remote)?.connect().await?;
    let created = client
        .create_task(CreateTaskRequest {
            list_id: args.list,
            title: args.title,
            board_id: args.board,
            ..Default::default()
        })
        .await?
        .into_inner();
    let task = created.task.unwrap_or_default();
    if args.remote.json {
        return output::json(&task);
    }
    output::line(&task.id)
}

/// `move TASK LIST POS`: where the task is now (`--json`: the task).
pub async fn move_task(args: MoveArgs) -> Result<(), Failure> {
    let mut client = Connector::new(&args.remote)?.connect().await?;
    let moved = client
        .move_task(MoveTaskRequest {
            task_id: args.task,
            list_id: args.list,
            position: Some(args.position),
            ..Default::default()
        })
        .await?
        .into_inner();
    let task = moved.task.unwrap_or_default();
    if args.remote.json {
        return output::json(&task);
    }
    output::line(&format!(
        "moved {} to {} at position {} (version {}, seq {})",
        task.id, task.list_id, task.position, task.version, moved.seq
    ))
}
