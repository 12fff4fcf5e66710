//! The real release binary as a child process (`switchboard serve --demo`), so a check can
//! kill it with SIGKILL and start it again on the same database and port.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a start may take (model loading and migrations included) on a busy machine.
const START_TIMEOUT: Duration = Duration::from_secs(90);

pub struct Server {
    child: Option<Child>,
    pub addr: SocketAddr,
    database: String,
    extra: Vec<String>,
    log: PathBuf,
}

impl Server {
    /// Starts `serve --demo` on a free port with `database` and `extra` flags; returns once
    /// `/readyz` answers 200. Server logs go to `log`.
    pub async fn start(database: &str, extra: &[&str], log: &Path) -> Result<Self, String> {
        let mut server = Self {
            child: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            database: database.to_string(),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            log: log.to_path_buf(),
        };
        server.launch().await?;
        Ok(server)
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGKILL, then reap the process.
    pub async fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
    }

    /// Starts again on the same database and port (retrying while the port is still held).
    pub async fn restart(&mut self) -> Result<(), String> {
        self.kill9().await;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match self.launch().await {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() < deadline && e.contains("in use") => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn launch(&mut self) -> Result<(), String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| format!("{}: {e}", self.log.display()))?;
        let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["serve", "--demo", "--listen", &self.addr.to_string(), "--database", &self.database])
            .args(&self.extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("the switchboard binary does not run: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        self.child = Some(child);
        let banner = tokio::time::timeout(START_TIMEOUT, read_banner(stdout)).await;
        match banner {
            Ok(Some(addr)) => self.addr = addr,
            _ => {
                self.kill9().await;
                return Err(format!("the server did not start; its log ends:\n{}", self.log_tail()));
            }
        }
        self.wait_ready().await
    }

    /// Polls `/readyz` until it answers 200.
    async fn wait_ready(&mut self) -> Result<(), String> {
        let client = super::http::client();
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(r) = client.get(format!("{}/readyz", self.base())).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!("/readyz never answered 200; the log ends:\n{}", self.log_tail()))
    }

    /// The last lines of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}

/// Reads the banner (`... http://ADDR/`) from the server's stdout, then keeps draining it.
async fn read_banner(stdout: tokio::process::ChildStdout) -> Option<SocketAddr> {
    let mut lines = BufReader::new(stdout).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let addr = line.split("http://").nth(1).map(|rest| rest.trim_end_matches('/').to_string());
        if let Some(addr) = addr.and_then(|a| a.parse().ok()) {
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return Some(addr);
        }
    }
    None
}

/// A SQLite database URL in a fresh temporary folder (kept as long as the folder lives).
pub fn sqlite_database(dir: &tempfile::TempDir) -> String {
    format!("sqlite://{}", dir.path().join("reliability.db").display())
}
