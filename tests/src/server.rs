//! The real server as a child process: started on a temporary data dir and an ephemeral
//! loopback port, killed with SIGKILL on demand (and always on drop, panics included),
//! restarted on the same data dir.
//!
//! The binary is this crate's `e2e-server` (`proofline_server::cli::main`); integration
//! tests name it with [`server_bin!`](crate::server_bin). Its stdout is read for the
//! `  listening on http://ADDR` line; its stderr (the logs) goes to a file next to the
//! data dir, whose tail a failing test prints.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// The admin token every test server is started with (through `PROOFLINE_ADMIN_TOKEN`).
pub const ADMIN_TOKEN: &str = "e2e-admin-token-5f1c9a7d3b";

/// How long a server may take to print its listening line (a debug build on a busy
/// 2-core machine, with a database to open).
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// The path of the `e2e-server` binary; only usable in this crate's integration tests
/// (Cargo sets `CARGO_BIN_EXE_<name>` for them alone).
#[macro_export]
macro_rules! server_bin {
    () => {
        ::std::path::Path::new(env!("CARGO_BIN_EXE_e2e-server"))
    };
}

/// Why a server could not be started.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// A running (or killed) server child process and its data dir.
#[derive(Debug)]
pub struct ServerProcess {
    bin: PathBuf,
    /// Holds the data dir and the logs; removed on drop, after the child is killed.
    tmp: TempDir,
    data_dir: PathBuf,
    log_path: PathBuf,
    child: Arc<Mutex<Option<Child>>>,
    addr: SocketAddr,
    starts: u32,
    /// Arguments appended to `serve … --listen ADDR` on every start.
    extra_args: Vec<String>,
}

/// A handle that SIGKILLs the server from another thread (the crash tests).
#[derive(Debug, Clone)]
pub struct KillHandle {
    child: Arc<Mutex<Option<Child>>>,
}

impl KillHandle {
    /// SIGKILLs the server if it runs, and reaps it. Returns whether it was running.
    pub fn kill(&self) -> bool {
        kill_child(&mut lock(&self.child))
    }
}

impl ServerProcess {
    /// Starts `bin serve` on a new temporary data dir, listening on `127.0.0.1:0`, and
    /// waits for its listening line.
    pub fn start(bin: &Path) -> Result<ServerProcess, StartError> {
        ServerProcess::start_with_args(bin, &[])
    }

    /// Like [`ServerProcess::start`], with `args` appended to the `serve` command line on
    /// this start and every restart (e.g. `--dispatch-tick 1 --webhook-url …`).
    pub fn start_with_args(bin: &Path, args: &[String]) -> Result<ServerProcess, StartError> {
        let tmp = tempfile::Builder::new()
            .prefix("proofline-e2e-server-")
            .tempdir()
            .map_err(|e| StartError(format!("temp dir: {e}")))?;
        let data_dir = tmp.path().join("data");
        let log_path = tmp.path().join("server.log");
        let mut server = ServerProcess {
            bin: bin.to_path_buf(),
            tmp,
            data_dir,
            log_path,
            child: Arc::new(Mutex::new(None)),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            starts: 0,
            extra_args: args.to_vec(),
        };
        server.spawn(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        Ok(server)
    }

    /// The address the server listens on (the latest start's).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The admin token.
    pub fn admin_token(&self) -> &str {
        ADMIN_TOKEN
    }

    /// The data dir (kept across restarts).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The root of the temporary directory (data dir and logs).
    pub fn tmp_dir(&self) -> &Path {
        self.tmp.path()
    }

    /// Replaces the arguments appended to `serve` from the next (re)start on.
    pub fn set_extra_args(&mut self, args: &[String]) {
        self.extra_args = args.to_vec();
    }

    /// How many times the server was started (1 after [`ServerProcess::start`]).
    pub fn starts(&self) -> u32 {
        self.starts
    }

    /// A handle to SIGKILL the server from another thread.
    pub fn kill_handle(&self) -> KillHandle {
        KillHandle {
            child: Arc::clone(&self.child),
        }
    }

    /// Whether the child process is still alive.
    pub fn is_running(&self) -> bool {
        match lock(&self.child).as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// SIGKILLs the server (no shutdown, no flush: a crash) and reaps it. Returns whether
    /// it was running.
    pub fn kill(&mut self) -> bool {
        kill_child(&mut lock(&self.child))
    }

    /// Kills the server if it runs, then starts it again on the same data dir, on the same
    /// port if it can be bound again (a few tries), else on a new ephemeral port (check
    /// [`ServerProcess::addr`] and repoint proxies). Returns whether the port changed.
    pub fn restart(&mut self) -> Result<bool, StartError> {
        self.kill();
        let old = self.addr;
        let mut last = None;
        for attempt in 0..5 {
            match self.spawn(old) {
                Ok(()) => return Ok(false),
                Err(e) => {
                    last = Some(e);
                    std::thread::sleep(Duration::from_millis(100 * (attempt + 1)));
                }
            }
        }
        eprintln!(
            "server: port {} not free again ({}); restarting on a new port",
            old.port(),
            last.map(|e| e.0).unwrap_or_default()
        );
        self.spawn(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        Ok(self.addr != old)
    }

    /// The last `lines` lines of the server's log (stderr), for failure messages.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log_path, lines)
    }

    fn spawn(&mut self, listen: SocketAddr) -> Result<(), StartError> {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .map_err(|e| StartError(format!("{}: {e}", self.log_path.display())))?;
        let mut cmd = Command::new(&self.bin);
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(&self.data_dir)
            .arg("--listen")
            .arg(listen.to_string())
            .args(&self.extra_args)
            .env("PROOFLINE_ADMIN_TOKEN", ADMIN_TOKEN)
            // No dispatcher unless a test asks for one (`--dispatch-tick N` in the extra
            // args wins over this): the scenarios play days of their own, and a dispatcher
            // on the real clock would record escalations whenever that day is today.
            .env("PROOFLINE_DISPATCH_TICK", "0")
            .env_remove("PROOFLINE_DATA_DIR")
            .env_remove("PROOFLINE_LISTEN")
            .env(
                "RUST_LOG",
                std::env::var("PROOFLINE_E2E_SERVER_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log));
        let mut child = cmd
            .spawn()
            .map_err(|e| StartError(format!("{}: {e}", self.bin.display())))?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(StartError("no stdout pipe".into()));
        };
        // From here the child is owned by the shared slot, so a panic kills it (Drop).
        *lock(&self.child) = Some(child);
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::Builder::new()
            .name("e2e-server-stdout".into())
            .spawn(move || {
                // Reads every line (so the pipe never fills); the receiver stops listening
                // after the listening line.
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    let _ = tx.send(line);
                }
            })
            .map_err(|e| StartError(format!("stdout thread: {e}")))?;
        let deadline = Instant::now() + START_TIMEOUT;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = parse_listening_line(&line) {
                        self.addr = addr;
                        self.starts += 1;
                        return Ok(());
                    }
                    seen.push(line);
                }
                Err(RecvTimeoutError::Disconnected) => {
                    // Exited (or closed stdout) before listening: e.g. the port is taken.
                    let status = {
                        let mut slot = lock(&self.child);
                        let status = slot.as_mut().and_then(|c| c.wait().ok());
                        *slot = None;
                        status
                    };
                    return Err(StartError(format!(
                        "server exited before listening on {listen} ({status:?}); stdout: {seen:?}; log:\n{}",
                        self.log_tail(20)
                    )));
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.kill();
                    return Err(StartError(format!(
                        "server printed no listening line within {START_TIMEOUT:?}; stdout: {seen:?}; log:\n{}",
                        self.log_tail(20)
                    )));
                }
            }
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() {
            eprintln!(
                "--- server log tail ({}) ---\n{}",
                self.log_path.display(),
                self.log_tail(40)
            );
        }
    }
}

/// `  listening on http://127.0.0.1:8787` → the address.
pub fn parse_listening_line(line: &str) -> Option<SocketAddr> {
    line.trim()
        .strip_prefix("listening on http://")?
        .trim()
        .trim_end_matches('/')
        .parse()
        .ok()
}

fn kill_child(slot: &mut Option<Child>) -> bool {
    match slot.take() {
        Some(mut child) => {
            let running = matches!(child.try_wait(), Ok(None));
            // `Child::kill` is SIGKILL on Unix.
            let _ = child.kill();
            let _ = child.wait();
            running
        }
        None => false,
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listening_line_gives_the_address() {
        assert_eq!(
            parse_listening_line("  listening on http://127.0.0.1:8787"),
            Some(SocketAddr::from(([127, 0, 0, 1], 8787)))
        );
        assert_eq!(parse_listening_line("proofline-server 0.1.0"), None);
        assert_eq!(parse_listening_line("  data in /tmp/x"), None);
    }
}
