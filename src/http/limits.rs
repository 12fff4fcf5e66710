//! Protection at the edge of the application: the client's address (read through trusted
//! proxies only), request rates on the shopper API, caps on open event streams, and a deadline
//! on every request. Rates and stream counts are kept in this instance's memory: with several
//! instances behind a balancer each allows its share. (Sign-in and verification failures,
//! which must add up across instances, are kept in the database.)

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::Method;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::{ApiError, AppState};
use crate::domain::network::{Rate, ShopperLimits, TrustedProxies};

/// The client's address: the TCP peer, or the address a trusted proxy forwarded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<ClientAddress>()
            .copied()
            .ok_or_else(|| ApiError::Internal("no client address: the address layer is missing".into()))
    }
}

/// The limits of one server, shared by its requests.
pub struct Limits {
    trusted_proxies: TrustedProxies,
    shopper: ShopperLimits,
    request_deadline: Duration,
    per_address: Option<DefaultKeyedRateLimiter<IpAddr>>,
    new_conversations: Option<DefaultKeyedRateLimiter<IpAddr>>,
    per_conversation: Option<DefaultKeyedRateLimiter<String>>,
    streams: Arc<Mutex<HashMap<StreamKey, usize>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum StreamKey {
    Conversation(String),
    Address(IpAddr),
}

fn limiter<K: std::hash::Hash + Eq + Clone>(rate: Rate) -> Option<DefaultKeyedRateLimiter<K>> {
    let quota = match rate {
        Rate::Off => return None,
        Rate::PerSecond(n) => Quota::per_second(NonZeroU32::new(n)?),
        Rate::PerMinute(n) => Quota::per_minute(NonZeroU32::new(n)?),
    };
    Some(RateLimiter::keyed(quota))
}

/// Takes one request from `key`'s allowance, or says how many seconds until the next one.
fn take<K: std::hash::Hash + Eq + Clone>(limiter: Option<&DefaultKeyedRateLimiter<K>>, key: &K) -> Result<(), u64> {
    match limiter.map(|l| l.check_key(key)) {
        None | Some(Ok(())) => Ok(()),
        Some(Err(not_until)) => Err(not_until.wait_time_from(DefaultClock::default().now()).as_secs() + 1),
    }
}

/// Conversation ids are 32 hex characters; anything longer is cut, so a client cannot make a
/// limiter key of its choosing grow without bound.
const MAX_KEY_CHARS: usize = 64;

impl Limits {
    pub fn new(trusted_proxies: TrustedProxies, shopper: ShopperLimits, request_deadline: Duration) -> Self {
        Self {
            trusted_proxies,
            shopper,
            request_deadline,
            per_address: limiter(shopper.per_address),
            new_conversations: limiter(shopper.new_conversations),
            per_conversation: limiter(shopper.per_conversation),
            streams: Arc::default(),
        }
    }

    /// The client address of a request from `peer`.
    fn client_address(&self, peer: IpAddr, headers: &axum::http::HeaderMap) -> ClientAddress {
        let values = |name| headers.get_all(name).into_iter().filter_map(|v| v.to_str().ok());
        if self.trusted_proxies.is_empty() && headers.contains_key("x-forwarded-for") {
            warn_once_about_untrusted_forwarding();
        }
        ClientAddress(self.trusted_proxies.client_address(peer, values("x-forwarded-for"), values("forwarded")))
    }

    /// Drops the rate-limit state of clients that have been quiet long enough to be back at a
    /// full allowance, so the tables do not grow with every address ever seen.
    pub fn forget_quiet_clients(&self) {
        for limiter in [&self.per_address, &self.new_conversations].into_iter().flatten() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        if let Some(limiter) = &self.per_conversation {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }

    /// Opens a slot for an event stream of `conversation` from `address`, or refuses when
    /// either already has its most.
    pub fn open_stream(&self, conversation: &str, address: IpAddr) -> Result<StreamSlot, ApiError> {
        let conversation: String = conversation.chars().take(MAX_KEY_CHARS).collect();
        let keys = [StreamKey::Conversation(conversation), StreamKey::Address(address)];
        let caps = [self.shopper.streams_per_conversation, self.shopper.streams_per_address];
        let mut open = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        for (key, cap) in keys.iter().zip(caps) {
            if open.get(key).copied().unwrap_or(0) >= cap {
                let whose =
                    if matches!(key, StreamKey::Conversation(_)) { "this conversation" } else { "this address" };
                return Err(ApiError::rate_limited(
                    "too_many_streams",
                    format!("{whose} has too many open event streams; close one (another tab?) and try again"),
                    STREAM_RETRY_AFTER,
                ));
            }
        }
        for key in &keys {
            *open.entry(key.clone()).or_insert(0) += 1;
        }
        Ok(StreamSlot { streams: self.streams.clone(), keys })
    }
}

const STREAM_RETRY_AFTER: u64 = 5;

/// An open stream's place in the counts; given back when the stream ends.
pub struct StreamSlot {
    streams: Arc<Mutex<HashMap<StreamKey, usize>>>,
    keys: [StreamKey; 2],
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        for key in &self.keys {
            if let Some(n) = open.get_mut(key) {
                *n -= 1;
                if *n == 0 {
                    open.remove(key);
                }
            }
        }
    }
}

/// A proxy in front that is not trusted makes every client look like the proxy, so the
/// per-address limits would apply to all shoppers together: say so once, with the fix.
/// (The address itself is not logged: it could be a shopper's.)
fn warn_once_about_untrusted_forwarding() {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            "requests carry X-Forwarded-For but no proxy is trusted, so the limits count each sender's address, not the client's; behind a proxy, start with --trusted-proxies ITS-ADDRESS"
        );
    }
}

/// Finds the client's address once per request, for every handler and limit after it.
pub async fn client_address(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let peer = peer.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let client = state.limits.client_address(peer, request.headers());
    request.extensions_mut().insert(client);
    next.run(request).await
}

/// The shopper API's request rates: per client address, new conversations per address, and
/// per conversation. Over a limit: 429 with `Retry-After`.
pub async fn shopper_rates(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limits = &state.limits;
    let Some(&ClientAddress(address)) = request.extensions().get::<ClientAddress>() else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    let conversation = path
        .strip_prefix("/api/v1/conversations/")
        .map(|rest| rest.split('/').next().unwrap_or_default().chars().take(MAX_KEY_CHARS).collect::<String>());
    let starts_one = conversation.is_none() && request.method() == Method::POST;
    let refused = take(limits.per_address.as_ref(), &address)
        .map_err(|wait| (wait, "too many requests from this address"))
        .and_then(|()| {
            if starts_one {
                take(limits.new_conversations.as_ref(), &address)
                    .map_err(|wait| (wait, "too many new conversations from this address"))
            } else {
                Ok(())
            }
        })
        .and_then(|()| match &conversation {
            Some(id) => take(limits.per_conversation.as_ref(), id)
                .map_err(|wait| (wait, "too many requests in this conversation")),
            None => Ok(()),
        });
    match refused {
        Ok(()) => next.run(request).await,
        Err((wait, what)) => {
            metrics::counter!("switchboard_rate_limited_total").increment(1);
            ApiError::rate_limited("rate_limited", format!("{what}; try again in {wait} s"), wait).into_response()
        }
    }
}

/// No request waits longer than the deadline: past it the client gets 503 and may retry (a
/// message retried with the same `client_message_id` is never stored twice). Event streams
/// answer at once and then live on in their bodies, which the deadline does not cover.
pub async fn deadline(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = state.limits.request_deadline;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(limit_ms = limit.as_millis() as u64, "request passed its deadline; answering 503");
            metrics::counter!("switchboard_request_deadline_total").increment(1);
            ApiError::unavailable().into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn streams_are_capped_per_conversation_and_per_address_and_given_back() {
        let shopper = ShopperLimits { streams_per_conversation: 2, streams_per_address: 3, ..ShopperLimits::default() };
        let limits = Limits::new(TrustedProxies::default(), shopper, Duration::from_secs(5));
        let a = limits.open_stream("c1", ip("10.0.0.1")).unwrap();
        let _b = limits.open_stream("c1", ip("10.0.0.1")).unwrap();
        assert!(limits.open_stream("c1", ip("10.0.0.2")).is_err(), "a third tab of one conversation");
        let _c = limits.open_stream("c2", ip("10.0.0.1")).unwrap();
        assert!(limits.open_stream("c3", ip("10.0.0.1")).is_err(), "a fourth stream from one address");
        assert!(limits.open_stream("c3", ip("10.0.0.9")).is_ok(), "another address is not affected");
        drop(a);
        assert!(limits.open_stream("c3", ip("10.0.0.1")).is_ok(), "a closed stream gives its slot back");
    }

    #[test]
    fn a_rate_allows_its_burst_then_says_how_long_to_wait() {
        let l = limiter::<IpAddr>(Rate::PerMinute(2));
        assert_eq!(take(l.as_ref(), &ip("10.0.0.1")), Ok(()));
        assert_eq!(take(l.as_ref(), &ip("10.0.0.1")), Ok(()));
        let wait = take(l.as_ref(), &ip("10.0.0.1")).unwrap_err();
        assert!((1..=31).contains(&wait), "{wait}");
        assert_eq!(take(l.as_ref(), &ip("10.0.0.2")), Ok(()), "keys are independent");
        assert_eq!(take(limiter::<IpAddr>(Rate::Off).as_ref(), &ip("10.0.0.1")), Ok(()));
    }
}
