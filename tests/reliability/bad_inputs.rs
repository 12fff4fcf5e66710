//! Check 1, bad inputs: malformed requests over every route, written as raw HTTP/1.1 so
//! nothing in between tidies them up. Each carries valid credentials for its route unless
//! the credentials are what is being broken, so the malformed part reaches the handler.
//! No answer may be a 5xx, and every error answer must be `{"error":{"code","message"}}`
//! JSON: except a 431 the HTTP stack makes itself (empty body, counted apart), and the
//! static-file routes, whose error pages are the file server's (counted and printed).

use std::collections::BTreeMap;

use futures::StreamExt;
use serde_json::{Value, json};
use switchboard::config::DEMO_STORE_API_SECRET;

use super::actors::store_headers;
use super::fixture::Fixture;
use super::http::{Reply, send_raw};
use super::routes::{Access, ROUTES, Route};

/// One malformed request: what kind of breakage, on which route, as bytes.
pub struct Bad {
    pub kind: &'static str,
    pub route: String,
    pub is_static: bool,
    pub bytes: Vec<u8>,
}

#[derive(Default, Clone)]
pub struct KindTally {
    pub requests: usize,
    pub ok: usize,
    pub client_errors: usize,
    pub server_errors: usize,
    pub not_json: usize,
    pub stack_431: usize,
    pub static_not_json: usize,
    pub no_answer: usize,
}

#[derive(Default)]
pub struct Report {
    /// How many malformed requests the check knows; `by_kind` counts those sent.
    pub generated: usize,
    pub by_kind: BTreeMap<&'static str, KindTally>,
    pub failures: Vec<String>,
    /// Failures grouped by what the answer was: "status content-type body" -> count.
    pub failure_kinds: BTreeMap<String, usize>,
}

impl Report {
    pub fn total(&self) -> KindTally {
        self.by_kind.values().fold(KindTally::default(), |mut t, k| {
            t.requests += k.requests;
            t.ok += k.ok;
            t.client_errors += k.client_errors;
            t.server_errors += k.server_errors;
            t.not_json += k.not_json;
            t.stack_431 += k.stack_431;
            t.static_not_json += k.static_not_json;
            t.no_answer += k.no_answer;
            t
        })
    }
}

/// Sends `wanted` malformed requests (all of them when there are fewer), spread evenly over
/// every route and kind of breakage.
pub async fn run(base: &str, addr: &str, wanted: usize) -> Report {
    let fixture = Fixture::build(base).await;
    let all = generate(&fixture, addr);
    let generated = all.len();
    let stride = (all.len() / wanted.max(1)).max(1);
    let chosen: Vec<Bad> = all.into_iter().step_by(stride).collect();
    let answers: Vec<(Bad, Result<Reply, String>)> = futures::stream::iter(chosen)
        .map(|bad| async move {
            let reply = send_raw(addr, &bad.bytes).await;
            (bad, reply)
        })
        .buffer_unordered(4)
        .collect()
        .await;
    let mut report = Report { generated, ..Report::default() };
    for (bad, reply) in answers {
        judge(&mut report, &bad, reply);
    }
    report
}

fn judge(report: &mut Report, bad: &Bad, reply: Result<Reply, String>) {
    let tally = report.by_kind.entry(bad.kind).or_default();
    tally.requests += 1;
    let reply = match reply {
        Ok(reply) => reply,
        Err(e) => {
            tally.no_answer += 1;
            report.failures.push(format!("{} [{}]: no answer: {e}", bad.route, bad.kind));
            return;
        }
    };
    let problem = match reply.status {
        s if s < 400 => {
            tally.ok += 1;
            None
        }
        431 if reply.body.is_empty() => {
            tally.stack_431 += 1;
            None
        }
        s if s >= 500 => {
            tally.server_errors += 1;
            Some("a server error")
        }
        _ => {
            tally.client_errors += 1;
            match (reply.is_json_error(), bad.is_static) {
                (true, _) => None,
                (false, true) => {
                    tally.static_not_json += 1;
                    None
                }
                (false, false) => {
                    tally.not_json += 1;
                    Some("an error body that is not {\"error\":{\"code\",\"message\"}} JSON")
                }
            }
        }
    };
    if let Some(problem) = problem {
        let body: String = reply.body_text().chars().take(40).collect();
        *report.failure_kinds.entry(format!("{} {:?} {body:?}", reply.status, reply.content_type)).or_default() += 1;
        report.failures.push(format!(
            "{} [{}]: {} {problem} ({:?}) {}",
            bad.route,
            bad.kind,
            reply.status,
            reply.content_type,
            reply.body_text()
        ));
    }
}

/// Every malformed request this check knows, route by route.
fn generate(f: &Fixture, addr: &str) -> Vec<Bad> {
    let mut out = Vec::new();
    for route in ROUTES {
        let path = route.path_with(|p| f.shared(p));
        let body = f.body_for(route.path).to_string().into_bytes();
        let new = |kind, target: &str, method: &str, headers: Vec<(String, Vec<u8>)>, body: Option<Vec<u8>>| {
            let mut headers = headers;
            if let Some(b) = &body {
                headers.extend(credentials(f, route, b));
            } else {
                headers.extend(credentials(f, route, b""));
            }
            Bad {
                kind,
                route: route.label(),
                is_static: route.is_static(),
                bytes: request(method, target, addr, &headers, body.as_deref()),
            }
        };
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"].into_iter().filter(|m| *m != route.method) {
            out.push(new("wrong method", &path, method, json_type(), Some(b"{}".to_vec())));
        }
        if route.method != "GET" {
            for (kind, content_type, payload) in bad_bodies(&body) {
                let headers = content_type.map(|ct| vec![("content-type".to_string(), ct.as_bytes().to_vec())]);
                out.push(new(kind, &path, route.method, headers.unwrap_or_default(), Some(payload)));
            }
        }
        for id in bad_ids() {
            if route.path.contains('{') {
                let target = route.path_with(|_| id.to_string());
                out.push(new("bad path id", &target, route.method, json_type(), send_body(route, &body)));
            }
        }
        for query in BAD_QUERIES {
            let target = format!("{path}?{query}");
            out.push(new("bad query", &target, route.method, json_type(), send_body(route, &body)));
        }
        for (kind, name, value) in bad_headers() {
            let mut headers = json_type();
            headers.push((name.to_string(), value));
            out.push(new(kind, &path, route.method, headers, send_body(route, &body)));
        }
    }
    for path in UNKNOWN_API_PATHS {
        for method in ["GET", "POST", "DELETE"] {
            out.push(Bad {
                kind: "unknown /api path",
                route: format!("{method} {path}"),
                is_static: false,
                bytes: request(method, path, addr, &json_type(), Some(b"{}")),
            });
        }
    }
    out
}

fn send_body(route: &Route, body: &[u8]) -> Option<Vec<u8>> {
    (route.method != "GET").then(|| body.to_vec())
}

fn json_type() -> Vec<(String, Vec<u8>)> {
    vec![("content-type".to_string(), b"application/json".to_vec())]
}

/// Valid credentials for a route, so a malformed request gets past them. Log-out and
/// retraining get none: with them the request would end the session or start a training job.
fn credentials(f: &Fixture, route: &Route, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let header = |name: &str, value: String| (name.to_string(), value.into_bytes());
    let no_credentials = matches!(route.path, "/api/v1/agent/logout" | "/api/v1/admin/models/retrain");
    match route.access {
        _ if no_credentials => Vec::new(),
        Access::OwnConversation => vec![header("authorization", format!("Bearer {}", f.conv_a.token))],
        Access::Store => {
            let at = chrono::Utc::now().timestamp();
            let delivery = switchboard::util::random_hex(8);
            store_headers(DEMO_STORE_API_SECRET, at, &delivery, body).into_iter().map(|(n, v)| header(n, v)).collect()
        }
        Access::AgentRead
        | Access::AssignedRead
        | Access::AgentAct
        | Access::AssignedAct
        | Access::AdminRead
        | Access::AdminAct => vec![
            header("cookie", format!("{}={}", super::actors::COOKIE_NAME, f.admin.cookie)),
            header("x-csrf-token", f.admin.csrf.clone()),
            header("origin", f.base.clone()),
        ],
        Access::Public | Access::Start | Access::Login => Vec::new(),
    }
}

/// Writes a request; headers given earlier win (a credential never replaces a broken one).
fn request(method: &str, target: &str, addr: &str, headers: &[(String, Vec<u8>)], body: Option<&[u8]>) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n").into_bytes();
    let mut seen = std::collections::HashSet::new();
    for (name, value) in headers {
        if seen.insert(name.to_ascii_lowercase()) {
            out.extend_from_slice(format!("{name}: ").as_bytes());
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
    }
    if let Some(body) = body {
        out.extend_from_slice(format!("content-length: {}\r\n\r\n", body.len()).as_bytes());
        out.extend_from_slice(body);
    } else {
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Bodies broken in every way a client can break one: (kind, content type, bytes).
fn bad_bodies(valid: &[u8]) -> Vec<(&'static str, Option<&'static str>, Vec<u8>)> {
    const JSON: Option<&str> = Some("application/json");
    let valid_json: Value = serde_json::from_slice(valid).unwrap_or(json!({}));
    let deep_arrays = format!("{}{}", "[".repeat(5000), "]".repeat(5000)).into_bytes();
    let deep_objects = format!("{}1{}", "{\"a\":".repeat(3000), "}".repeat(3000)).into_bytes();
    let huge = json!({"text": "x".repeat(70 * 1024), "client_message_id": "huge"}).to_string().into_bytes();
    let mut bodies = vec![
        ("malformed JSON", JSON, b"{\"text\":".to_vec()),
        ("malformed JSON", JSON, b"{".to_vec()),
        ("malformed JSON", JSON, b"{\"text\": \"a\",}".to_vec()),
        ("malformed JSON", JSON, b"{} trailing".to_vec()),
        ("truncated JSON", JSON, valid[..valid.len() / 2].to_vec()),
        ("deeply nested JSON", JSON, deep_arrays),
        ("deeply nested JSON", JSON, deep_objects),
        ("wrong JSON type", JSON, b"null".to_vec()),
        ("wrong JSON type", JSON, b"[]".to_vec()),
        ("wrong JSON type", JSON, b"\"text\"".to_vec()),
        ("wrong JSON type", JSON, b"12345678901234567890123".to_vec()),
        ("wrong field types", JSON, retyped(&valid_json, json!(12345))),
        ("wrong field types", JSON, retyped(&valid_json, json!(null))),
        ("wrong field types", JSON, retyped(&valid_json, json!({"nested": [1, 2]}))),
        ("wrong field types", JSON, retyped(&valid_json, json!(1e308))),
        ("unknown field", JSON, with_unknown_field(&valid_json)),
        ("empty body", JSON, Vec::new()),
        ("invalid UTF-8 in JSON", JSON, b"{\"text\":\"\xff\xfe\",\"client_message_id\":\"\xc3\x28\"}".to_vec()),
        ("invalid UTF-8 in JSON", JSON, [b"\xef\xbb\xbf".as_slice(), valid].concat()),
        ("wrong content type", Some("text/plain"), valid.to_vec()),
        ("wrong content type", Some("application/x-www-form-urlencoded"), b"text=hi&client_message_id=1".to_vec()),
        ("wrong content type", Some("multipart/form-data; boundary=x"), b"--x\r\n\r\nhi\r\n--x--".to_vec()),
        ("wrong content type", Some("application/json; charset=ebcdic"), valid.to_vec()),
        ("no content type", None, valid.to_vec()),
        ("oversize body", JSON, huge),
        ("oversize body", JSON, vec![b' '; 300 * 1024]),
    ];
    bodies.retain(|(_, _, b)| !b.is_empty() || valid.len() > 2);
    bodies
}

/// The valid body with every field set to `value`.
fn retyped(valid: &Value, value: Value) -> Vec<u8> {
    let mut body = valid.clone();
    match &mut body {
        Value::Object(map) if !map.is_empty() => map.values_mut().for_each(|v| *v = value.clone()),
        Value::Array(items) => items.iter_mut().for_each(|v| *v = json!({"id": value.clone()})),
        _ => body = json!({"text": value}),
    }
    body.to_string().into_bytes()
}

fn with_unknown_field(valid: &Value) -> Vec<u8> {
    let mut body = valid.clone();
    match &mut body {
        Value::Object(map) => {
            map.insert("unexpected_field".into(), json!(true));
        }
        _ => body = json!({"unexpected_field": true}),
    }
    body.to_string().into_bytes()
}

/// Path segments that are no valid id: overlong, percent-encoded bytes that are not UTF-8,
/// NUL, dot segments, encoded slashes.
fn bad_ids() -> Vec<String> {
    vec![
        "a".repeat(5_000),
        "9".repeat(40),
        "%FF".to_string(),
        "%FF%FE%FD".to_string(),
        "%C3%28".to_string(),
        "%00".to_string(),
        "%2e%2e".to_string(),
        "..%2F..%2Fetc%2Fpasswd".to_string(),
        "a%20b%0D%0Ac".to_string(),
        "%F0%9F%98%80".to_string(),
        "-1".to_string(),
    ]
}

const BAD_QUERIES: &[&str] = &[
    "after=abc",
    "after=%FF",
    "after=99999999999999999999999",
    "after=-5",
    "after=1&after=2",
    "state=nonsense",
    "status=%FF%FE",
    "active=maybe",
    "from=notadate&to=%FF&by=nothing",
    "%FF=%FE",
    "unknown_param=1",
    "a=%",
];

/// (kind, header name, value): garbage credentials and stream positions, non-UTF-8 values,
/// a foreign Origin, and headers too large for any server.
fn bad_headers() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    vec![
        ("garbage auth header", "authorization", b"Bearer ".to_vec()),
        ("garbage auth header", "authorization", format!("Bearer {}", "x".repeat(5000)).into_bytes()),
        ("garbage auth header", "authorization", b"Basic Zm9vOmJhcg==".to_vec()),
        ("garbage auth header", "authorization", b"Bearer \xff\xfe\xfd".to_vec()),
        ("garbage auth header", "cookie", b"switchboard_session=%%%; other=\xff".to_vec()),
        ("garbage auth header", "cookie", format!("switchboard_session={}", "a".repeat(3000)).into_bytes()),
        ("garbage auth header", "x-csrf-token", b"\xff\xfe".to_vec()),
        ("garbage auth header", "origin", b"http://evil.example".to_vec()),
        ("garbage auth header", "x-switchboard-signature", b"sha256=zz-not-hex".to_vec()),
        ("garbage auth header", "x-switchboard-timestamp", b"yesterday".to_vec()),
        ("bad Last-Event-ID", "last-event-id", b"abc".to_vec()),
        ("bad Last-Event-ID", "last-event-id", b"-1".to_vec()),
        ("bad Last-Event-ID", "last-event-id", b"99999999999999999999999".to_vec()),
        ("bad Last-Event-ID", "last-event-id", b"\xff\xfe".to_vec()),
        ("huge header", "x-padding", vec![b'p'; 100 * 1024]),
        ("huge header", "x-padding", vec![b'p'; 1024 * 1024]),
        ("huge header", "x-many", many_headers(150)),
    ]
}

/// A header value that smuggles `count` more headers in after it.
fn many_headers(count: usize) -> Vec<u8> {
    (0..count).map(|i| format!("{i}\r\nx-extra-{i}: {i}")).collect::<Vec<_>>().join("").into_bytes()
}

const UNKNOWN_API_PATHS: &[&str] = &[
    "/api",
    "/api/",
    "/api/v1",
    "/api/v1/nope",
    "/api/v2/conversations",
    "/api/v1/conversations/x/y/z",
    "/api/v1/admin/agents/x/y",
    "/api/v1/agent/conversations/",
    "/api/v1/store",
    "/api/v1/store/unknown",
    "/api/v1/%FF",
    "/api/v1/conversations//messages",
];
