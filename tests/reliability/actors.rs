//! Who talks to the server: shoppers (conversation tokens, customer tokens), agents and admins
//! (session cookie + CSRF token + own Origin), and the store platform (signed pushes).

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use switchboard::chat::{CustomerClaims, IdentityKeys};
use switchboard::config::{DEMO_IDENTITY_KEYS, DEMO_STORE_API_SECRET};

use super::http::{Reply, send};

pub const COOKIE_NAME: &str = "switchboard_session";

/// A started conversation and its bearer token.
#[derive(Debug, Clone)]
pub struct Conv {
    pub id: String,
    pub token: String,
}

/// Starts a conversation, optionally with a customer token.
pub async fn start_conversation(client: &reqwest::Client, base: &str, customer_token: Option<&str>) -> Conv {
    let body = customer_token.map_or_else(|| json!({}), |t| json!({"customer_token": t}));
    let r = send(client.post(format!("{base}/api/v1/conversations")).json(&body)).await.expect("start");
    assert_eq!(r.status, 201, "starting a conversation: {}", r.body_text());
    Conv {
        id: r.json["conversation_id"].as_str().expect("id").to_string(),
        token: r.json["conversation_token"].as_str().expect("token").to_string(),
    }
}

/// A shopper message with its idempotency key.
pub async fn send_message(
    client: &reqwest::Client,
    base: &str,
    conv: &Conv,
    text: &str,
    cmid: &str,
) -> Result<Reply, String> {
    let url = format!("{base}/api/v1/conversations/{}/messages", conv.id);
    send(client.post(url).bearer_auth(&conv.token).json(&json!({"text": text, "client_message_id": cmid}))).await
}

/// Every message of a conversation, as the shopper reads them (all pages).
pub async fn transcript(client: &reqwest::Client, base: &str, conv: &Conv) -> Vec<Value> {
    let mut messages: Vec<Value> = Vec::new();
    loop {
        let after = messages.last().and_then(|m| m["seq"].as_i64()).unwrap_or(0);
        let url = format!("{base}/api/v1/conversations/{}/messages?after={after}", conv.id);
        let r = send(client.get(url).bearer_auth(&conv.token)).await.expect("transcript");
        assert_eq!(r.status, 200, "reading the transcript: {}", r.body_text());
        let page = r.json["messages"].as_array().cloned().unwrap_or_default();
        if page.is_empty() {
            return messages;
        }
        messages.extend(page);
    }
}

/// Acknowledged messages checked against the transcripts: (lost, duplicated), where lost are
/// acknowledged `(conversation index, text)` pairs missing from their transcript and
/// duplicated are shopper texts found more than once.
pub async fn audit_transcripts(
    client: &reqwest::Client,
    base: &str,
    conversations: &[Conv],
    acknowledged: &[(usize, String)],
) -> (Vec<String>, Vec<String>) {
    let mut counts: Vec<std::collections::HashMap<String, usize>> = Vec::new();
    for conv in conversations {
        let mut seen = std::collections::HashMap::new();
        for m in transcript(client, base, conv).await.iter().filter(|m| m["sender"] == "shopper") {
            *seen.entry(m["text"].as_str().unwrap_or_default().to_string()).or_insert(0) += 1;
        }
        counts.push(seen);
    }
    let lost = acknowledged.iter().filter(|(n, text)| !counts[*n].contains_key(text)).map(|(_, t)| t.clone()).collect();
    let duplicated = counts.iter().flatten().filter(|(_, n)| **n > 1).map(|(text, n)| format!("{text} ×{n}")).collect();
    (lost, duplicated)
}

/// A customer token for `customer_id`, signed with `keys` (`kid:secret`), expiring at `exp`.
pub fn customer_token_with(keys: &str, customer_id: &str, exp: i64) -> String {
    let keys = IdentityKeys::parse(keys).expect("keys parse");
    let kid = keys.current_kid().expect("a key").to_string();
    keys.sign(&CustomerClaims { customer_id: customer_id.into(), email: String::new(), exp, kid }).expect("signs")
}

/// A valid customer token for a demo customer.
pub fn customer_token(customer_id: &str) -> String {
    customer_token_with(DEMO_IDENTITY_KEYS, customer_id, chrono::Utc::now().timestamp() + 3600)
}

/// The store API's signature headers: `X-Switchboard-Signature: sha256=HMAC(TIMESTAMP.DELIVERY_ID.BODY)`.
pub fn store_headers(secret: &str, timestamp: i64, delivery_id: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    let mut signed = format!("{timestamp}.{delivery_id}.").into_bytes();
    signed.extend_from_slice(body);
    vec![
        ("x-switchboard-timestamp", timestamp.to_string()),
        ("x-switchboard-delivery-id", delivery_id.to_string()),
        ("x-switchboard-signature", format!("sha256={}", hmac_hex(secret, &signed))),
    ]
}

/// The old scheme: the HMAC of the body alone, no timestamp, no delivery id.
pub fn body_only_signature(body: &[u8]) -> String {
    format!("sha256={}", hmac_hex(DEMO_STORE_API_SECRET, body))
}

fn hmac_hex(secret: &str, data: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// A signed-in agent (or admin): session cookie, CSRF token, and its id.
#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
    pub agent_id: String,
}

impl Session {
    /// Adds the cookie, and for state changes the CSRF token and the server's own Origin.
    pub fn apply(&self, request: reqwest::RequestBuilder, base: &str, with_csrf: bool) -> reqwest::RequestBuilder {
        let request = request.header("cookie", format!("{COOKIE_NAME}={}", self.cookie)).header("origin", base);
        if with_csrf { request.header("x-csrf-token", &self.csrf) } else { request }
    }

    /// A console POST: cookie, CSRF token, Origin.
    pub async fn post(&self, client: &reqwest::Client, base: &str, path: &str, body: &Value) -> Reply {
        let request = self.apply(client.post(format!("{base}{path}")).json(body), base, true);
        send(request).await.unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    pub async fn get(&self, client: &reqwest::Client, base: &str, path: &str) -> Reply {
        send(self.apply(client.get(format!("{base}{path}")), base, false))
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }
}

/// Logs in through the API; the reply when it is refused.
pub async fn login(client: &reqwest::Client, base: &str, email: &str, password: &str) -> Result<Session, Reply> {
    let request = client
        .post(format!("{base}/api/v1/agent/login"))
        .header("origin", base)
        .json(&json!({"email": email, "password": password}));
    let response = request.send().await.expect("login request");
    let cookie = response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{COOKIE_NAME}=")).and_then(|rest| rest.split(';').next()))
        .map(str::to_string);
    let status = response.status().as_u16();
    let body = response.bytes().await.expect("login body").to_vec();
    let json: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    match (status, cookie) {
        (200, Some(cookie)) => Ok(Session {
            cookie,
            csrf: json["csrf_token"].as_str().expect("csrf_token").to_string(),
            agent_id: json["agent"]["id"].as_str().expect("agent id").to_string(),
        }),
        _ => Err(Reply { status, content_type: String::new(), retry_after: None, body, json }),
    }
}

/// Has the admin add an agent with a known password; returns its id.
pub async fn add_agent(client: &reqwest::Client, base: &str, admin: &Session, email: &str, password: &str) -> String {
    let body = json!({"email": email, "name": "Reliability agent", "password": password});
    let r = admin.post(client, base, "/api/v1/admin/agents", &body).await;
    assert_eq!(r.status, 201, "adding agent {email}: {}", r.body_text());
    r.json["agent"]["id"].as_str().expect("agent id").to_string()
}
