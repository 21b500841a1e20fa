//! The terminal client in the `boardcast` binary: `tail` follows a board, `tasks`,
//! `add` and `move` serve scripts. It speaks gRPC (h2c) to a running server, through
//! the generated client and the proto types only: it knows nothing of the server's
//! insides, as any other client.

mod connect;
mod output;
mod tail;
mod tasks;

pub use connect::Failure;

/// Where the server is, who is asking, and how to print.
#[derive(clap::Args, Clone, Debug)]
pub struct Remote {
    /// The server's base URL: gRPC over h2c on the port it listens on.
    #[arg(long, env = "BOARDCAST_SERVER", default_value = "http://127.0.0.1:3000")]
    pub server: String,
    /// A session or personal token (`bc_…`); without one, the loopback guest.
    #[arg(long, env = "BOARDCAST_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// One JSON object per line (the proto JSON mapping), for piping.
    #[arg(long)]
    pub json: bool,
}

/// The client's subcommands, flattened into the binary's own.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Follow a board: one line per event (`seq  time  actor  what`), resuming after a
    /// disconnect without a gap or a repeat. ^C ends it.
    Tail(tail::Args),
    /// A board's tasks: id, list, position, title.
    Tasks(tasks::ListArgs),
    /// Add a task at the end of a list; prints its id.
    Add(tasks::AddArgs),
    /// Move a task to a list, at a 0-based position (past the end appends).
    Move(tasks::MoveArgs),
}

/// Runs a client command; the process's exit code: 0 when it did its work (or `tail`
/// was interrupted), 1 with a message on stderr when it could not.
pub async fn run(command: Command) -> i32 {
    let result = match command {
        Command::Tail(args) => tokio::select! {
            result = tail::run(args) => result,
            _ = tokio::signal::ctrl_c() => Ok(()),
        },
        Command::Tasks(args) => tasks::list(args).await,
        Command::Add(args) => tasks::add(args).await,
        Command::Move(args) => tasks::move_task(args).await,
    };
    match result {
        Ok(()) | Err(Failure::Closed) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}
