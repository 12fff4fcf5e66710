//! Helpers for the agent tests: an agent's HTTP client that keeps its own session cookie
//! (parsed by hand, so tests can see and replay exact cookie values), server-sent-event
//! readers, agent accounts made through the store, and the `switchboard` binary.
//!
//! Included from a test file with `#[path = "common/agents.rs"] mod agents_support;` next to
//! `mod common;` (it uses `crate::common`).
#![allow(dead_code)]

use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::StreamExt;
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, SET_COOKIE};
use serde_json::{Value, json};
use switchboard::agents::NewAgent;
use switchboard::domain::agent::Agent;
use switchboard::domain::audit::Actor;
use switchboard::store::Store;
use tokio::sync::mpsc;

use crate::common::{Conv, Reply, TestApp};

pub const COOKIE_NAME: &str = "switchboard_session";
pub const STRONG_PASSWORD: &str = "plum tractor vinegar 42";

/// A reply from a raw response.
pub async fn reply_of(response: reqwest::Response) -> Reply {
    Reply::from(response).await
}

/// A reply plus the `Set-Cookie` headers it carried.
pub struct CookieReply {
    pub reply: Reply,
    pub set_cookies: Vec<String>,
}

/// An agent's console: its own cookie, its CSRF token, and the Origin it sends.
pub struct AgentClient {
    pub base: String,
    pub origin: String,
    pub client: reqwest::Client,
    cookie: Mutex<Option<String>>,
    csrf: Mutex<Option<String>>,
    pub agent: Mutex<Option<Value>>,
}

impl AgentClient {
    pub fn new(base: &str) -> Self {
        let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("a client");
        Self {
            base: base.to_string(),
            origin: base.trim_end_matches('/').to_string(),
            client,
            cookie: Mutex::new(None),
            csrf: Mutex::new(None),
            agent: Mutex::new(None),
        }
    }

    pub fn for_app(app: &TestApp) -> Self {
        Self::new(&app.base)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The session cookie's current value.
    pub fn cookie(&self) -> Option<String> {
        self.cookie.lock().unwrap().clone()
    }

    pub fn set_cookie_value(&self, value: Option<String>) {
        *self.cookie.lock().unwrap() = value;
    }

    pub fn csrf(&self) -> Option<String> {
        self.csrf.lock().unwrap().clone()
    }

    pub fn agent_id(&self) -> String {
        self.agent.lock().unwrap().as_ref().expect("logged in")["id"].as_str().expect("id").to_string()
    }

    fn with_cookie(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match self.cookie() {
            Some(c) => request.header(reqwest::header::COOKIE, format!("{COOKIE_NAME}={c}")),
            None => request,
        }
    }

    /// Applies `Set-Cookie` headers like a browser: a new value replaces the old, a removal
    /// (empty value or `Max-Age=0`) forgets it.
    fn absorb(&self, headers: &HeaderMap) -> Vec<String> {
        let mut seen = Vec::new();
        for v in headers.get_all(SET_COOKIE) {
            let line = v.to_str().expect("ascii cookie").to_string();
            seen.push(line.clone());
            let first = line.split(';').next().unwrap_or("");
            let Some((name, value)) = first.split_once('=') else { continue };
            if name.trim() != COOKIE_NAME {
                continue;
            }
            let removed = value.is_empty() || line.to_ascii_lowercase().contains("max-age=0") || line.contains("1970");
            *self.cookie.lock().unwrap() = (!removed).then(|| value.to_string());
        }
        seen
    }

    async fn finish(&self, response: reqwest::Response) -> CookieReply {
        let set_cookies = self.absorb(response.headers());
        CookieReply { reply: reply_of(response).await, set_cookies }
    }

    /// POST /api/v1/agent/login with the right Origin; keeps the cookie and CSRF token.
    pub async fn login_full(&self, email: &str, password: &str) -> CookieReply {
        let response = self
            .with_cookie(self.client.post(self.url("/api/v1/agent/login")))
            .header(reqwest::header::ORIGIN, &self.origin)
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("login request");
        let r = self.finish(response).await;
        if r.reply.status == StatusCode::OK {
            *self.csrf.lock().unwrap() = r.reply.json["csrf_token"].as_str().map(str::to_string);
            *self.agent.lock().unwrap() = Some(r.reply.json["agent"].clone());
        }
        r
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.login_full(email, password).await.reply
    }

    /// Logs in and expects 200.
    pub async fn logged_in(base: &str, email: &str, password: &str) -> Self {
        let client = Self::new(base);
        let r = client.login(email, password).await;
        assert_eq!(r.status, StatusCode::OK, "login {email}: {}", r.raw);
        client
    }

    pub async fn get(&self, path: &str) -> Reply {
        let response = self.with_cookie(self.client.get(self.url(path))).send().await.expect("GET");
        self.finish(response).await.reply
    }

    /// A POST with chosen CSRF header and Origin (`None` leaves either out).
    pub async fn post_with(&self, path: &str, body: &Value, csrf: Option<&str>, origin: Option<&str>) -> Reply {
        let mut request = self.with_cookie(self.client.post(self.url(path))).json(body);
        if let Some(c) = csrf {
            request = request.header("X-CSRF-Token", c);
        }
        if let Some(o) = origin {
            request = request.header(reqwest::header::ORIGIN, o);
        }
        let response = request.send().await.expect("POST");
        self.finish(response).await.reply
    }

    /// A DELETE as the console sends it: session cookie, CSRF header, own Origin.
    pub async fn delete(&self, path: &str) -> Reply {
        let request = self
            .with_cookie(self.client.delete(self.url(path)))
            .header("X-CSRF-Token", self.csrf().unwrap_or_default())
            .header(reqwest::header::ORIGIN, &self.origin);
        let response = request.send().await.expect("DELETE");
        self.finish(response).await.reply
    }

    /// A state change as the console sends it: session cookie, CSRF header, own Origin.
    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        let csrf = self.csrf().unwrap_or_default();
        let origin = self.origin.clone();
        self.post_with(path, body, Some(&csrf), Some(&origin)).await
    }

    pub async fn action(&self, conversation_id: &str, action: &str) -> Reply {
        self.post(&format!("/api/v1/agent/conversations/{conversation_id}/{action}"), &json!({})).await
    }

    pub async fn claim(&self, conversation_id: &str) -> Reply {
        self.action(conversation_id, "claim").await
    }

    pub async fn reply(&self, conversation_id: &str, text: &str) -> Reply {
        self.post(&format!("/api/v1/agent/conversations/{conversation_id}/messages"), &json!({"text": text})).await
    }

    pub async fn note(&self, conversation_id: &str, text: &str) -> Reply {
        self.post(&format!("/api/v1/agent/conversations/{conversation_id}/notes"), &json!({"text": text})).await
    }

    pub async fn label(&self, message_id: &str, intent: &str) -> Reply {
        self.post(&format!("/api/v1/agent/messages/{message_id}/label"), &json!({"intent": intent})).await
    }

    pub async fn view(&self, conversation_id: &str) -> Reply {
        self.get(&format!("/api/v1/agent/conversations/{conversation_id}")).await
    }

    pub async fn logout(&self) -> Reply {
        self.post("/api/v1/agent/logout", &json!({})).await
    }

    /// Opens the agent stream (GET /api/v1/agent/events) with this session.
    pub async fn events(&self) -> SseStream {
        let request = self.with_cookie(
            reqwest::Client::new().get(self.url("/api/v1/agent/events")).header("accept", "text/event-stream"),
        );
        SseStream::open(request).await
    }

    /// Opens the agent stream and waits for its `ready` event.
    pub async fn events_ready(&self) -> SseStream {
        let mut stream = self.events().await;
        assert_eq!(stream.status, StatusCode::OK, "the agent stream opens");
        let ready = stream.next_within(Duration::from_secs(5)).await.expect("a ready event");
        assert_eq!(ready.event, "ready", "{ready:?}");
        stream
    }
}

/// One server-sent event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub event: String,
    pub id: Option<String>,
    pub data: String,
    pub received: Instant,
}

impl SseEvent {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or(Value::Null)
    }
}

/// Reads a `text/event-stream` response in the background; events arrive on a channel, which
/// closes when the server ends the stream.
pub struct SseStream {
    pub status: StatusCode,
    rx: mpsc::UnboundedReceiver<SseEvent>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SseStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SseStream {
    pub async fn open(request: reqwest::RequestBuilder) -> Self {
        let response = request.send().await.expect("stream request");
        let status = response.status();
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            if !response.status().is_success() {
                return;
            }
            let mut body = response.bytes_stream();
            let mut buffer = String::new();
            while let Some(Ok(chunk)) = body.next().await {
                buffer.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buffer.find("\n\n") {
                    let block: String = buffer.drain(..end + 2).collect();
                    let mut event =
                        SseEvent { event: "message".into(), id: None, data: String::new(), received: Instant::now() };
                    let mut any = false;
                    for line in block.lines() {
                        if let Some(v) = line.strip_prefix("event:") {
                            event.event = v.trim().to_string();
                            any = true;
                        } else if let Some(v) = line.strip_prefix("id:") {
                            event.id = Some(v.trim().to_string());
                        } else if let Some(v) = line.strip_prefix("data:") {
                            if !event.data.is_empty() {
                                event.data.push('\n');
                            }
                            event.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                            any = true;
                        }
                    }
                    // Comment-only blocks (keep-alives) are not events.
                    if any && tx.send(event).is_err() {
                        return;
                    }
                }
            }
        });
        Self { status, rx, task }
    }

    /// The next event, or `None` on timeout or when the stream has ended.
    pub async fn next_within(&mut self, timeout: Duration) -> Option<SseEvent> {
        tokio::time::timeout(timeout, self.rx.recv()).await.ok().flatten()
    }

    /// Waits for an event matching `want`; returns it with the events skipped on the way.
    pub async fn wait_for(
        &mut self,
        timeout: Duration,
        mut want: impl FnMut(&SseEvent) -> bool,
    ) -> (Option<SseEvent>, Vec<SseEvent>) {
        let deadline = Instant::now() + timeout;
        let mut skipped = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_within(left).await {
                Some(e) if want(&e) => return (Some(e), skipped),
                Some(e) => skipped.push(e),
                None => return (None, skipped),
            }
        }
    }

    /// Whether the stream ends (the server closes it) within `timeout`; returns the events
    /// seen before the end (or `None` if it stayed open).
    pub async fn ends_within(&mut self, timeout: Duration) -> Option<Vec<SseEvent>> {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.rx.recv()).await {
                Ok(Some(e)) => seen.push(e),
                Ok(None) => return Some(seen),
                Err(_) => return None,
            }
        }
    }

    /// Everything already received, without waiting.
    pub fn drain(&mut self) -> Vec<SseEvent> {
        let mut out = Vec::new();
        while let Ok(e) = self.rx.try_recv() {
            out.push(e);
        }
        out
    }
}

/// The shopper's stream of a conversation (bearer token in the header; `after` as resume point).
pub async fn shopper_events(base: &str, conv: &Conv, after: Option<i64>) -> SseStream {
    let mut request = reqwest::Client::new()
        .get(format!("{base}/api/v1/conversations/{}/events", conv.id))
        .bearer_auth(&conv.token)
        .header("accept", "text/event-stream");
    if let Some(a) = after {
        request = request.header("Last-Event-ID", a.to_string());
    }
    let stream = SseStream::open(request).await;
    assert_eq!(stream.status, StatusCode::OK, "the shopper stream opens");
    stream
}

/// An agent account with the password `STRONG_PASSWORD`, made as the command line makes one.
pub async fn create_agent(store: &Store, email: &str, name: &str, admin: bool) -> Agent {
    let new = NewAgent { email: email.into(), name: name.into(), password: Some(STRONG_PASSWORD.into()), admin };
    new.create(store, &Actor::Cli).await.expect("create agent").0
}

/// The `switchboard` binary, run from the crate root.
pub fn switchboard_bin() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_switchboard"));
    cmd.current_dir(crate::common::root());
    cmd
}

/// `switchboard agent add` with a password on standard input: (success, stdout, stderr).
pub fn cli_agent_add(database: &str, email: &str, name: &str, password: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut child = switchboard_bin()
        .args(["agent", "--database", database, "add", "--email", email, "--name", name, "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child.stdin.take().expect("stdin").write_all(format!("{password}\n").as_bytes()).expect("write the password");
    let out = child.wait_with_output().expect("the binary ends");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `switchboard agent disable AGENT`.
pub fn cli_agent_disable(database: &str, agent: &str) -> (bool, String, String) {
    let out =
        switchboard_bin().args(["agent", "--database", database, "disable", agent]).output().expect("the binary runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Starts a conversation and hands it off (POST /handoff); returns it and the hand-off reply.
pub async fn queued_conversation(app: &TestApp, customer_token: Option<&str>) -> (Conv, Value) {
    let conv = app.start(customer_token).await;
    let turn = app.handoff(&conv).await;
    assert_eq!(turn["state"], "queued", "{turn}");
    (conv, turn)
}

/// Percentile (0-100) of sorted millisecond figures.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
