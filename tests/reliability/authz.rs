//! Check 2, the authorization matrix: every route × every kind of caller, judged against an
//! explicit table of who may call what (`may_call`, read from the handlers). A refusal is
//! 401, 403 or 404; a 2xx for a caller the table refuses is an unexpected allow.

use reqwest::Method;
use serde_json::Value;
use switchboard::config::{DEMO_IDENTITY_KEYS, DEMO_STORE_API_SECRET};
use switchboard::demo::{DEMO_ADMIN_EMAIL, DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD, DEMO_CUSTOMER_ID};

use super::actors::{Session, body_only_signature, customer_token, customer_token_with, login, store_headers};
use super::fixture::{DISABLED_AGENT_EMAIL, Fixture, OTHER_AGENT_EMAIL, PASSWORD};
use super::http::{Reply, send};
use super::routes::{Access, ROUTES, Route, not_called_as_admin};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// No token, no cookie, no signature, no customer token.
    Anonymous,
    ShopperA,
    /// Shopper B's conversation token on A's conversation.
    ShopperB,
    Agent,
    /// The agent's session without the CSRF header.
    AgentNoCsrf,
    /// A second agent, on conversations assigned to the first.
    OtherAgent,
    /// The old session of an agent an admin has since disabled.
    DisabledAgent,
    Admin,
    /// A session that logged out (a real expiry takes hours, so a voided session stands in).
    LoggedOutCookie,
    GarbageCookie,
    StoreSigned,
    StoreWrongSecret,
    /// The old scheme: HMAC of the body alone, no timestamp or delivery id.
    StoreBodyOnly,
    StoreStaleTimestamp,
    /// A delivery id already accepted, sent again.
    StoreReplay,
    /// A valid customer token of A's own customer, as the bearer token.
    CustomerOwn,
    CustomerGarbage,
    CustomerExpired,
    CustomerWrongKey,
    /// Another customer's valid customer token.
    CustomerOther,
}

use Caller::*;

const CALLERS: [Caller; 20] = [
    Anonymous,
    ShopperA,
    ShopperB,
    Agent,
    AgentNoCsrf,
    OtherAgent,
    DisabledAgent,
    Admin,
    LoggedOutCookie,
    GarbageCookie,
    StoreSigned,
    StoreWrongSecret,
    StoreBodyOnly,
    StoreStaleTimestamp,
    StoreReplay,
    CustomerOwn,
    CustomerGarbage,
    CustomerExpired,
    CustomerWrongKey,
    CustomerOther,
];

/// The expectation table: whether `caller` may call a route with this access.
pub fn may_call(access: Access, caller: Caller) -> bool {
    match access {
        Access::Public => true,
        Access::Start => !matches!(caller, CustomerGarbage | CustomerExpired | CustomerWrongKey),
        Access::OwnConversation => caller == ShopperA,
        Access::Login => matches!(caller, Agent | OtherAgent | Admin),
        Access::AgentRead => matches!(caller, Agent | AgentNoCsrf | OtherAgent | Admin),
        Access::AssignedRead => matches!(caller, Agent | AgentNoCsrf | Admin),
        Access::AgentAct => matches!(caller, Agent | OtherAgent | Admin),
        Access::AssignedAct => matches!(caller, Agent | Admin),
        Access::AdminRead | Access::AdminAct => caller == Admin,
        Access::Store => caller == StoreSigned,
    }
}

/// Login takes credentials in its body, so only callers that have some (and one without) try it.
fn tries_login(caller: Caller) -> bool {
    matches!(caller, Anonymous | Agent | OtherAgent | Admin | DisabledAgent)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Allowed,
    Refused,
    RateLimited,
    Odd,
}

fn judge(route: &Route, caller: Caller, reply: &Reply) -> Outcome {
    let customer = matches!(caller, CustomerOwn | CustomerGarbage | CustomerExpired | CustomerWrongKey | CustomerOther);
    match reply.status {
        429 => Outcome::RateLimited,
        201 if route.access == Access::Start && customer => {
            if reply.json["verified"] == true {
                Outcome::Allowed
            } else {
                Outcome::Refused
            }
        }
        200 if caller == StoreReplay && reply.json["duplicate"] == true => Outcome::Refused,
        200..=299 => Outcome::Allowed,
        401 | 403 | 404 => Outcome::Refused,
        // Past authorization, stopped by a business rule (already rated, nothing to roll back...).
        400 | 409 | 422 if may_call(route.access, caller) => Outcome::Allowed,
        _ => Outcome::Odd,
    }
}

#[derive(Default)]
pub struct Tally {
    pub cases: usize,
    pub allowed: usize,
    pub refused: usize,
    pub rate_limited: usize,
    pub unexpected_allows: Vec<String>,
    pub unexpected_refusals: Vec<String>,
    pub odd: Vec<String>,
    pub not_run: Vec<String>,
}

/// Runs every case against the server at `base`.
pub async fn run(base: &str) -> Tally {
    let fixture = Fixture::build(base).await;
    let mut tally = Tally::default();
    // Login last: its failures count against the address's login limit.
    let (login, others): (Vec<&Route>, Vec<&Route>) = ROUTES.iter().partition(|r| r.access == Access::Login);
    for route in others.into_iter().chain(login) {
        for caller in CALLERS {
            if route.access == Access::Login && !tries_login(caller) {
                continue;
            }
            let expected = may_call(route.access, caller);
            if let (true, Some(why)) = (expected && caller == Admin, not_called_as_admin(route)) {
                tally.not_run.push(format!("{} as {caller:?}: {why}", route.label()));
                continue;
            }
            let line = |r: &Result<Reply, String>| match r {
                Ok(r) => format!("{} as {caller:?}: {} {}", route.label(), r.status, r.body_text()),
                Err(e) => format!("{} as {caller:?}: {e}", route.label()),
            };
            let reply = call(&fixture, route, caller, expected).await;
            tally.cases += 1;
            let outcome = reply.as_ref().map_or(Outcome::Odd, |r| judge(route, caller, r));
            match (expected, outcome) {
                (_, Outcome::RateLimited) => tally.rate_limited += 1,
                (true, Outcome::Allowed) => tally.allowed += 1,
                (false, Outcome::Refused) => tally.refused += 1,
                (false, Outcome::Allowed) => tally.unexpected_allows.push(line(&reply)),
                (true, Outcome::Refused) => tally.unexpected_refusals.push(line(&reply)),
                (_, Outcome::Odd) => tally.odd.push(line(&reply)),
            }
        }
    }
    tally
}

/// One case: the route called by `caller` with a valid body; an allowed call that changes
/// state gets fresh targets (and a fresh session for log-out).
async fn call(f: &Fixture, route: &Route, caller: Caller, expected: bool) -> Result<Reply, String> {
    let mut values = std::collections::HashMap::new();
    for placeholder in placeholders(route.path) {
        let value = if expected { f.fresh(placeholder).await } else { f.shared(placeholder) };
        values.insert(placeholder.to_string(), value);
    }
    let path = route.path_with(|p| values[p].clone());
    let mut body = f.body_for(route.path);
    if route.access == Access::Start {
        body = start_body(caller);
    } else if route.access == Access::Login {
        body = login_body(caller);
    }
    let bytes = body.to_string().into_bytes();
    let method = Method::from_bytes(route.method.as_bytes()).expect("a method");
    let mut request = f.client.request(method, format!("{}{path}", f.base)).header("content-type", "application/json");
    if route.method != "GET" {
        request = request.body(bytes.clone());
    }
    if caller == StoreReplay {
        let headers = store_headers(DEMO_STORE_API_SECRET, now(), &format!("replay-{}", hex8()), &bytes);
        let first = with_headers(request.try_clone().expect("a plain body"), &headers);
        send(first).await?;
        return send(with_headers(request, &headers)).await;
    }
    let fresh_session = expected && route.path == "/api/v1/agent/logout";
    send(authenticate(f, request, caller, &bytes, fresh_session).await).await
}

fn placeholders(path: &str) -> Vec<&str> {
    path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).collect()
}

fn with_headers(mut request: reqwest::RequestBuilder, headers: &[(&'static str, String)]) -> reqwest::RequestBuilder {
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request
}

/// What `caller` adds to a request: a bearer token, a session, a signature.
async fn authenticate(
    f: &Fixture,
    request: reqwest::RequestBuilder,
    caller: Caller,
    body: &[u8],
    fresh_session: bool,
) -> reqwest::RequestBuilder {
    let session = |s: &Session, csrf: bool| s.apply(request.try_clone().expect("a plain body"), &f.base, csrf);
    let signed = |secret: &str, at: i64| {
        with_headers(request.try_clone().expect("a plain body"), &store_headers(secret, at, &hex8(), body))
    };
    match caller {
        Anonymous => request,
        ShopperA => request.bearer_auth(&f.conv_a.token),
        ShopperB => request.bearer_auth(&f.conv_b.token),
        Agent | OtherAgent | Admin if fresh_session => session(&fresh_login(f, caller).await, true),
        Agent => session(&f.agent, true),
        AgentNoCsrf => session(&f.agent, false),
        OtherAgent => session(&f.other_agent, true),
        DisabledAgent => session(&f.disabled_agent, true),
        Admin => session(&f.admin, true),
        LoggedOutCookie => session(&f.logged_out, true),
        GarbageCookie => {
            let garbage = Session { cookie: hex8(), csrf: hex8(), agent_id: String::new() };
            session(&garbage, true)
        }
        StoreSigned | StoreReplay => signed(DEMO_STORE_API_SECRET, now()),
        StoreWrongSecret => signed("not-the-store-api-secret", now()),
        StoreStaleTimestamp => signed(DEMO_STORE_API_SECRET, now() - 3600),
        StoreBodyOnly => request.header("x-switchboard-signature", body_only_signature(body)),
        CustomerOwn | CustomerGarbage | CustomerExpired | CustomerWrongKey | CustomerOther => {
            request.bearer_auth(customer_token_of(caller).unwrap_or_default())
        }
    }
}

async fn fresh_login(f: &Fixture, caller: Caller) -> Session {
    let (email, password) = credentials(caller).expect("a caller with an account");
    login(&f.client, &f.base, email, password).await.unwrap_or_else(|r| panic!("login {email}: {}", r.status))
}

fn credentials(caller: Caller) -> Option<(&'static str, &'static str)> {
    match caller {
        Agent => Some((DEMO_AGENT_EMAIL, DEMO_AGENT_PASSWORD)),
        Admin => Some((DEMO_ADMIN_EMAIL, DEMO_AGENT_PASSWORD)),
        OtherAgent => Some((OTHER_AGENT_EMAIL, PASSWORD)),
        DisabledAgent => Some((DISABLED_AGENT_EMAIL, PASSWORD)),
        _ => None,
    }
}

fn login_body(caller: Caller) -> Value {
    let (email, password) = credentials(caller).unwrap_or(("nobody@example.com", "not the password"));
    serde_json::json!({"email": email, "password": password})
}

fn start_body(caller: Caller) -> Value {
    match customer_token_of(caller) {
        Some(token) => serde_json::json!({"customer_token": token}),
        None => serde_json::json!({}),
    }
}

/// The customer-token variants.
fn customer_token_of(caller: Caller) -> Option<String> {
    let in_an_hour = now() + 3600;
    match caller {
        CustomerOwn => Some(customer_token(DEMO_CUSTOMER_ID)),
        CustomerGarbage => Some("not-a-token.at-all".to_string()),
        CustomerExpired => Some(customer_token_with(DEMO_IDENTITY_KEYS, DEMO_CUSTOMER_ID, now() - 60)),
        CustomerWrongKey => Some(customer_token_with("demo:some-other-signing-secret", DEMO_CUSTOMER_ID, in_an_hour)),
        CustomerOther => Some(customer_token("cust_0002")),
        _ => None,
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn hex8() -> String {
    switchboard::util::random_hex(8)
}
