//! Sends the outbox's events to the store's endpoints, in the background: a slow or failing
//! endpoint delays only its own events, never a chat. An event is sent until an endpoint
//! answers 2xx; a failure is retried after 2 s, 4 s, 8 s ... (up to an hour apart) and given up
//! after [`MAX_ATTEMPTS`]. Every attempt is recorded with its status. Several instances may
//! send from one database: each event is taken by one of them at a time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::config::Secret;
use crate::domain::outbound::{EVENT_ID_HEADER, MAX_ATTEMPTS, SIGNATURE_HEADER, TIMESTAMP_HEADER, backoff, signature};
use crate::store::{AfterAttempt, Attempt, DueEvent, Store, now_ms};

/// Where events go and how they are signed.
#[derive(Debug, Clone)]
pub struct EventSettings {
    pub endpoints: Vec<String>,
    pub secret: Secret,
    /// The wait after the first failed attempt; it doubles after each further one.
    pub first_retry: Duration,
    /// How long one attempt may take.
    pub timeout: Duration,
}

impl EventSettings {
    pub const DEFAULT_FIRST_RETRY: Duration = Duration::from_secs(2);
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

    /// From `SWITCHBOARD_EVENT_ENDPOINTS` (comma-separated) and the secret; `None` without endpoints.
    pub fn new(endpoints: &str, secret: Option<Secret>) -> anyhow::Result<Option<Self>> {
        let endpoints: Vec<String> =
            endpoints.split(',').map(str::trim).filter(|e| !e.is_empty()).map(str::to_string).collect();
        if endpoints.is_empty() {
            return Ok(None);
        }
        for e in &endpoints {
            check_endpoint(e).map_err(|m| anyhow::anyhow!("SWITCHBOARD_EVENT_ENDPOINTS: {m}"))?;
        }
        let secret = secret.ok_or_else(|| {
            anyhow::anyhow!("SWITCHBOARD_EVENT_ENDPOINTS is set but SWITCHBOARD_EVENT_SECRET is not: give the secret events are signed with (16+ characters)")
        })?;
        anyhow::ensure!(secret.expose().len() >= 16, "SWITCHBOARD_EVENT_SECRET must be at least 16 characters");
        Ok(Some(Self { endpoints, secret, first_retry: Self::DEFAULT_FIRST_RETRY, timeout: Self::DEFAULT_TIMEOUT }))
    }
}

/// Whether `url` may receive events: https anywhere, plain http only to this machine. Read
/// with the same URL parser the sender uses, so what is checked is where events go.
pub fn check_endpoint(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("{url}: not a URL ({e})"))?;
    let host = parsed.host_str().filter(|h| !h.is_empty()).ok_or_else(|| format!("{url}: the URL has no host"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback =
        host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(format!("{url}: events go over https (plain http only to a loopback address such as 127.0.0.1)")),
        _ => Err(format!("{url}: an event endpoint is an https:// URL")),
    }
}

/// How many events are being sent at once, in all and to one endpoint (so a slow endpoint
/// holds up only its own events).
const CONCURRENCY: usize = 16;
const PER_ENDPOINT: usize = 4;
/// How many due events are read per round.
const BATCH: i64 = 64;
/// How often the outbox is looked at when nothing rings (retries coming due, events queued by
/// other instances).
const POLL: Duration = Duration::from_secs(1);

/// Sends events until `shutdown` turns true.
pub async fn deliver_events(store: Store, settings: EventSettings, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let client = match reqwest::Client::builder()
        .timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Switchboard/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "events cannot be sent: the HTTP client did not start");
            return;
        }
    };
    match store.give_up_unlisted_events(&settings.endpoints).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(events = n, "events for endpoints no longer configured were given up"),
        Err(e) => tracing::warn!(error = %e, "events for endpoints no longer configured could not be given up"),
    }
    let client = Arc::new(client);
    let settings = Arc::new(settings);
    let mut sending: JoinSet<String> = JoinSet::new();
    let mut per_endpoint: HashMap<String, usize> = HashMap::new();
    let mut counted = Instant::now() - POLL;
    loop {
        let mut room = CONCURRENCY - sending.len();
        if room > 0 {
            match store.due_events(now_ms(), BATCH).await {
                Ok(due) => {
                    for event in due {
                        let busy = per_endpoint.entry(event.endpoint.clone()).or_default();
                        if room == 0 || *busy >= PER_ENDPOINT {
                            continue;
                        }
                        *busy += 1;
                        room -= 1;
                        let (store, client, settings) = (store.clone(), client.clone(), settings.clone());
                        sending.spawn(async move {
                            let endpoint = event.endpoint.clone();
                            send(&store, &client, &settings, event).await;
                            endpoint
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "the event outbox could not be read; trying again shortly"),
            }
        }
        // The backlog gauge costs a count: once per poll period, not after every send.
        if counted.elapsed() >= POLL
            && let Ok(backlog) = store.outbox_backlog().await
        {
            metrics::gauge!("switchboard_events_pending").set(backlog as f64);
            counted = Instant::now();
        }
        tokio::select! {
            () = store.outbox_rung() => {}
            () = tokio::time::sleep(POLL) => {}
            Some(done) = sending.join_next() => {
                if let Ok(endpoint) = done
                    && let Some(busy) = per_endpoint.get_mut(&endpoint)
                {
                    *busy = busy.saturating_sub(1);
                }
            }
            _ = shutdown.changed() => {}
        }
        if *shutdown.borrow() {
            sending.abort_all();
            return;
        }
    }
}

/// One attempt at one event, recorded.
async fn send(store: &Store, client: &reqwest::Client, settings: &EventSettings, event: DueEvent) {
    // Taken until the attempt is surely over, should this instance stop in the middle.
    let lease = now_ms() + i64::try_from((settings.timeout + Duration::from_secs(30)).as_millis()).unwrap_or(i64::MAX);
    match store.claim_event(&event, lease).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(error = %e, "an event could not be taken for sending");
            return;
        }
    }
    let at = now_ms();
    let timestamp = at / 1000;
    let started = Instant::now();
    let response = client
        .post(&event.endpoint)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(EVENT_ID_HEADER, &event.event_id)
        .header(TIMESTAMP_HEADER, timestamp.to_string())
        .header(SIGNATURE_HEADER, signature(settings.secret.expose(), timestamp, &event.body))
        .body(event.body.clone())
        .send()
        .await;
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let (status, error) = match response {
        Ok(r) if r.status().is_success() => (Some(r.status().as_u16()), None),
        Ok(r) => (Some(r.status().as_u16()), Some(format!("answered {}", r.status()))),
        Err(e) => (None, Some(describe(&e))),
    };
    let attempts = event.attempts + 1;
    let after = match &error {
        None => AfterAttempt::Delivered,
        Some(_) if attempts >= MAX_ATTEMPTS => AfterAttempt::GiveUp,
        Some(_) => AfterAttempt::RetryAt(
            now_ms() + i64::try_from(backoff(settings.first_retry, attempts).as_millis()).unwrap_or(i64::MAX),
        ),
    };
    let result = match after {
        AfterAttempt::Delivered => "delivered",
        AfterAttempt::RetryAt(_) => "failed",
        AfterAttempt::GiveUp => "gave_up",
    };
    metrics::counter!("switchboard_event_attempts_total", "result" => result).increment(1);
    if let Some(error) = &error {
        tracing::warn!(event = %event.event_id, endpoint = %host(&event.endpoint), attempt = attempts, %error, "event not delivered");
    }
    let attempt = Attempt { at, status, error, duration_ms };
    if let Err(e) = store.record_attempt(&event, &attempt, after).await {
        // The lease runs out and the event is sent again: the receiver knows it by its id.
        tracing::warn!(error = %e, event = %event.event_id, "an event attempt could not be recorded");
    }
}

/// A failed request in a few words (no URL: it may carry a token).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        "request failed".into()
    }
}

/// The endpoint's host, for logs.
fn host(url: &str) -> String {
    reqwest::Url::parse(url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::check_endpoint;

    #[test]
    fn endpoints_are_https_or_loopback_http() {
        assert!(check_endpoint("https://crm.example.com/hooks/switchboard").is_ok());
        assert!(check_endpoint("http://127.0.0.1:9000/events").is_ok());
        assert!(check_endpoint("http://localhost/events").is_ok());
        assert!(check_endpoint("http://[::1]:8080/x").is_ok());
        assert!(check_endpoint("http://crm.example.com/events").is_err());
        assert!(check_endpoint("http://127.0.0.1.evil.example/").is_err());
        assert!(check_endpoint("http://evil.example\\@127.0.0.1/").is_err(), "read as the sender reads it");
        assert!(check_endpoint("ftp://127.0.0.1/x").is_err());
        assert!(check_endpoint("https://").is_err());
    }
}
