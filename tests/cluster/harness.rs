//! The processes: boardcast instances (the built binary), nginx in front of them, and a
//! private PostgreSQL server a test may stop and start (never the shared one).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use boardcast::store::postgres::scratch::{scratch_database, test_server};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::timeout;

/// For a test whose outside tool is missing: fails when `BOARDCAST_REQUIRE_EXTERNAL` is
/// set (CI sets it), else prints a notice; the caller then returns, skipping the rest.
pub fn skip_or_fail(what: &str) {
    assert!(
        std::env::var_os("BOARDCAST_REQUIRE_EXTERNAL").is_none(),
        "{what} is required (BOARDCAST_REQUIRE_EXTERNAL is set) but unavailable"
    );
    eprintln!("SKIPPED: {what} is unavailable; set BOARDCAST_REQUIRE_EXTERNAL=1 to make this a failure");
}

/// A fresh, empty database on the shared test server, or `None` (after
/// [`skip_or_fail`]) when that server does not answer.
pub async fn shared_database() -> Option<String> {
    match scratch_database(&test_server()).await {
        Ok(url) => Some(url),
        Err(e) => {
            skip_or_fail(&format!("PostgreSQL at {} ({e})", test_server()));
            None
        }
    }
}

/// A free port on loopback (free when asked: a test binds it soon after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `program` is on the PATH (or is a path that exists).
pub fn installed(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// One `boardcast serve` process. Killed (SIGKILL) when dropped.
pub struct Instance {
    pub addr: SocketAddr,
    child: Child,
    /// Everything it printed on stdout, read as it comes so the pipe never fills.
    log: Arc<Mutex<Vec<String>>>,
}

impl Instance {
    /// Starts `boardcast serve --listen 127.0.0.1:0 --database-url URL --demo ARGS…` and
    /// waits for its start-up lines, learning its address from "listening on".
    pub async fn start(database_url: &str, args: &[&str]) -> Instance {
        let mut child = Command::new(env!("CARGO_BIN_EXE_boardcast"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--demo",
                "--database-url",
                database_url,
            ])
            // The writers and followers all come from 127.0.0.1, faster than a person:
            // no connection caps or rate limits (tests/api/rates.rs tests those).
            .args([
                "--max-connections=0",
                "--max-connections-per-ip=0",
                "--rate-mutations-per-user=0",
                "--rate-mutations-per-ip=0",
                "--rate-streams-per-user=0",
                "--rate-streams-per-ip=0",
            ])
            .args(args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the boardcast binary starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        // Start-up ends with the accounts line.
        let mut addr = None;
        loop {
            let line = timeout(Duration::from_secs(30), lines.next_line())
                .await
                .expect("start-up within 30 s")
                .unwrap();
            let Some(line) = line else {
                let status = child.wait().await.unwrap();
                panic!(
                    "the instance exited during start-up ({status}): {:?}",
                    log.lock().unwrap()
                );
            };
            if let Some(rest) = line.split("listening on ").nth(1) {
                addr = rest.split_whitespace().next().map(|a| a.parse().unwrap());
            }
            let done = line.contains("accounts: ");
            log.lock().unwrap().push(line);
            if done {
                break;
            }
        }
        let sink = log.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().unwrap().push(line);
            }
        });
        Instance {
            addr: addr.expect("a listening line"),
            child,
            log,
        }
    }

    /// `kill -9`: no shutdown, no goodbye to the database or the clients.
    pub async fn kill9(&mut self) {
        self.child.start_kill().unwrap();
        self.child.wait().await.unwrap();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        // A failed test shows what each instance said.
        if std::thread::panicking() {
            eprintln!("--- instance {} printed:", self.addr);
            for line in self.log.lock().unwrap().iter() {
                eprintln!("{line}");
            }
        }
    }
}

/// `n` instances on one database, started one after the other: the first seeds the
/// demo data, the others find it.
pub async fn instances(n: usize, database_url: &str) -> Vec<Instance> {
    let mut all = Vec::new();
    for _ in 0..n {
        all.push(Instance::start(database_url, &[]).await);
    }
    all
}

/// nginx with deploy/nginx/boardcast.conf in front of the instances, on ports of its
/// own. Stopped when dropped.
pub struct Nginx {
    /// The HTTP/1.1 listen (REST, SSE, WebSocket, polls).
    pub http: SocketAddr,
    /// The gRPC (h2c) listen.
    pub grpc: SocketAddr,
    child: std::process::Child,
    _dir: tempfile::TempDir,
}

/// The config as shipped, with the upstreams, and listens on loopback, replaced.
pub fn nginx_site(upstreams: [SocketAddr; 2], http: SocketAddr, grpc: SocketAddr) -> String {
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/nginx/boardcast.conf")).unwrap();
    let mut site = shipped.clone();
    for (from, to, count) in [
        ("server 127.0.0.1:8081 ", format!("server {} ", upstreams[0]), 2),
        ("server 127.0.0.1:8082 ", format!("server {} ", upstreams[1]), 2),
        ("listen 8080;", format!("listen {http};"), 1),
        ("listen 50051 http2;", format!("listen {grpc} http2;"), 1),
    ] {
        assert_eq!(
            site.matches(from).count(),
            count,
            "deploy/nginx/boardcast.conf has `{from}` {count} times"
        );
        site = site.replace(from, &to);
    }
    site
}

impl Nginx {
    pub async fn start(upstreams: [SocketAddr; 2]) -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let http: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        let grpc: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
        std::fs::write(dir.path().join("boardcast.conf"), nginx_site(upstreams, http, grpc)).unwrap();
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        std::fs::write(dir.path().join("nginx.conf"), main_conf(dir.path())).unwrap();
        let child = std::process::Command::new("nginx")
            .arg("-p")
            .arg(dir.path())
            .arg("-c")
            .arg(dir.path().join("nginx.conf"))
            .spawn()
            .expect("nginx starts");
        let nginx = Nginx {
            http,
            grpc,
            child,
            _dir: dir,
        };
        for addr in [http, grpc] {
            wait_for_port(addr, "nginx").await;
        }
        nginx
    }
}

/// The main config the site goes into: everything under `dir`. As root, nginx's
/// workers would otherwise run as `nobody`, who cannot enter a private temp dir.
fn main_conf(dir: &Path) -> String {
    let d = dir.display();
    format!(
        "{user}daemon off;\nworker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/tmp;\n  proxy_temp_path {d}/tmp;\n  \
         fastcgi_temp_path {d}/tmp;\n  uwsgi_temp_path {d}/tmp;\n  scgi_temp_path {d}/tmp;\n  \
         include {d}/boardcast.conf;\n}}\n",
        user = if as_root() { "user root;\n" } else { "" },
    )
}

impl Drop for Nginx {
    fn drop(&mut self) {
        // SIGTERM to the master stops its workers too (SIGKILL would orphan them).
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

async fn wait_for_port(addr: SocketAddr, what: &str) {
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{what} does not answer on {addr} within 10 s");
}

/// A PostgreSQL server of the test's own, in a temp dir, run as the `postgres` OS user
/// when the test runs as root (PostgreSQL refuses to run as root). Stopped and removed
/// when dropped.
pub struct PrivatePostgres {
    pub port: u16,
    bin: PathBuf,
    dir: tempfile::TempDir,
}

impl PrivatePostgres {
    /// The newest installed server's binaries (Debian keeps them off the PATH).
    fn binaries() -> Option<PathBuf> {
        let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| {
                let e = e.ok()?;
                let version = e.file_name().to_str()?.parse().ok()?;
                Some((version, e.path().join("bin")))
            })
            .filter(|(_, bin)| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
            .collect();
        versions.sort();
        versions.pop().map(|(_, bin)| bin)
    }

    /// initdb and start on a free port, or `None` (after [`skip_or_fail`]) when the
    /// server binaries are not installed.
    pub async fn start() -> Option<PrivatePostgres> {
        let Some(bin) = Self::binaries() else {
            skip_or_fail("PostgreSQL server binaries (/usr/lib/postgresql/*/bin)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        if as_root() {
            chown_postgres(dir.path());
        }
        let pg = PrivatePostgres {
            port: free_port(),
            bin,
            dir,
        };
        pg.run(
            "initdb",
            &["-D", &pg.data(), "-U", "postgres", "-A", "trust", "--no-sync"],
        )
        .await;
        pg.start_again().await;
        Some(pg)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    /// The URL of its `postgres` database, to make scratch databases from.
    pub fn server_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// `pg_ctl start`, waiting until it accepts connections.
    pub async fn start_again(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &["start", "-w", "-D", &self.data(), "-l", &log, "-o", &options],
        )
        .await;
    }

    /// `pg_ctl stop -m immediate`: every connection cut at once, as in a crash.
    pub async fn stop(&self) {
        self.run("pg_ctl", &["stop", "-w", "-m", "immediate", "-D", &self.data()])
            .await;
    }

    async fn run(&self, tool: &str, args: &[&str]) {
        let out = self.command(tool, args).output().await.unwrap();
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn command(&self, tool: &str, args: &[&str]) -> Command {
        let program = self.bin.join(tool);
        let mut cmd = if as_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        };
        cmd.args(args).current_dir(self.dir.path());
        cmd
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let _ = self
            .command("pg_ctl", &["stop", "-m", "immediate", "-D", &self.data()])
            .as_std_mut()
            .output();
    }
}

fn as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

fn chown_postgres(dir: &Path) {
    let status = std::process::Command::new("chown")
        .arg("postgres:")
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success(), "chown postgres {}", dir.display());
}
