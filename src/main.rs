//! The `boardcast` command.

use boardcast::config::LogFormat;
use boardcast::proto::v1::SignupRequest;
use boardcast::{Application, Config};
use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(version, about = "A live, collaborative task board server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve REST, gRPC (and the live transports) on one port.
    Serve(Config),
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    #[command(flatten)]
    Client(boardcast::client::Command),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account. The password is read from standard input (with a prompt
    /// when it is a terminal).
    Add(AddUser),
}

#[derive(clap::Args)]
struct AddUser {
    /// Sign-in name: 3 to 32 characters of a-z, 0-9, `_` and `-`.
    username: String,
    /// Display name (defaults to the username).
    #[arg(long, default_value = "")]
    name: String,
    /// `sqlite:PATH`, `sqlite::memory:`, a plain file path, or a PostgreSQL
    /// `postgres://…` URL.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite:boardcast.db")]
    database_url: String,
}

// mimalloc holds many small long-lived allocations (one set per open stream) in about
// half the resident memory glibc's malloc does: ~4 KiB instead of ~8 KiB per idle
// SSE connection (docs/BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let cli = Cli::parse();
    let format = match &cli.command {
        Command::Serve(config) => config.log_format,
        Command::User(_) | Command::Client(_) => LogFormat::Text,
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")));
    match format {
        // One JSON object per line, with the fields of the spans it was logged in
        // (the request id) beside its own.
        LogFormat::Json => logs.json().with_current_span(true).with_span_list(false).init(),
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .init(),
    }
    let config = match cli.command {
        Command::Serve(config) => config,
        Command::User(UserCommand::Add(add)) => {
            if let Err(e) = add_user(add).await {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
            return Ok(());
        }
        Command::Client(command) => std::process::exit(boardcast::client::run(command).await),
    };
    let app = Application::build(config).await?;
    app.log_endpoints().await?;
    app.run(shutdown_signal()).await?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// `boardcast user add`: creates the account in the database, printing its id.
async fn add_user(add: AddUser) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let password = read_password()?;
    let store = boardcast::store::connect(&add.database_url)
        .await
        .map_err(boardcast::core::Error::from)?;
    boardcast::core::seed::seed(store.as_ref(), false).await?;
    let req = SignupRequest {
        username: add.username,
        password,
        name: add.name,
    };
    let user = boardcast::core::accounts::create_account(store.as_ref(), &req).await?;
    println!("created user {} ({}, id {})", user.username, user.name, user.id);
    Ok(())
}

/// The password: prompted for (twice) on a terminal, else the first line of stdin.
fn read_password() -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    use std::io::{BufRead, IsTerminal};
    if std::io::stdin().is_terminal() {
        let password = rpassword::prompt_password("Password: ")?;
        if rpassword::prompt_password("Password again: ")? != password {
            return Err("the passwords do not match".into());
        }
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("install SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("shutting down");
}
