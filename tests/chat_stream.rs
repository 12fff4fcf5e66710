//! The shopper's server-sent-event stream over real HTTP: the token in a header, messages in
//! sequence order, resuming after `Last-Event-ID` (or `?after=`), and state changes.

#[macro_use]
mod common;

use std::time::Duration;

use common::{Conv, TestApp};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

on_both_engines!(the_stream_delivers_replies_and_state_changes_in_order, the_stream_resumes_after_a_sequence_number,);

#[derive(Debug, Clone)]
struct SseEvent {
    id: Option<String>,
    event: Option<String>,
    data: String,
}

impl SseEvent {
    fn message(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("{e}: {:?}", self.data))
    }
}

/// A minimal SSE reader over a streaming response.
struct Sse {
    stream: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl Sse {
    async fn open(app: &TestApp, conv: &Conv, last_event_id: Option<i64>, query: &str) -> Self {
        let mut request = app
            .client
            .get(app.url(&format!("/api/v1/conversations/{}/events{query}", conv.id)))
            .bearer_auth(&conv.token)
            .timeout(Duration::from_secs(3600));
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.expect("the stream opens");
        assert_eq!(response.status(), StatusCode::OK);
        let content_type =
            response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        assert!(content_type.starts_with("text/event-stream"), "{content_type}");
        Self { stream: response.bytes_stream().boxed(), buffer: String::new() }
    }

    /// The next event (comments and keep-alives skipped), or None after `wait`.
    async fn next(&mut self, wait: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let frame: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent { id: None, event: None, data: String::new() };
                let mut has_data = false;
                for line in frame.lines() {
                    if line.starts_with(':') || line.is_empty() {
                        continue;
                    }
                    let (field, value) = line.split_once(':').unwrap_or((line, ""));
                    let value = value.strip_prefix(' ').unwrap_or(value);
                    match field {
                        "id" => event.id = Some(value.to_string()),
                        "event" => event.event = Some(value.to_string()),
                        "data" => {
                            if has_data {
                                event.data.push('\n');
                            }
                            event.data.push_str(value);
                            has_data = true;
                        }
                        _ => {}
                    }
                }
                if has_data {
                    return Some(event);
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.stream.next()).await;
            match chunk {
                Ok(Some(Ok(bytes))) => {
                    self.buffer.push_str(&String::from_utf8_lossy(&bytes).replace("\r\n", "\n"));
                }
                Ok(Some(Err(e))) => panic!("the stream failed: {e}"),
                Ok(None) | Err(_) => return None,
            }
        }
    }

    /// The next `n` message events.
    async fn messages(&mut self, n: usize) -> Vec<(SseEvent, Value)> {
        let mut out = Vec::new();
        while out.len() < n {
            let event =
                self.next(Duration::from_secs(10)).await.unwrap_or_else(|| panic!("expected {n} events, got {out:?}"));
            assert_eq!(event.event.as_deref(), Some("message"), "{event:?}");
            let message = event.message();
            out.push((event, message));
        }
        out
    }
}

fn assert_in_order(events: &[(SseEvent, Value)], first_seq: i64) {
    for (i, (event, message)) in events.iter().enumerate() {
        let seq = message["seq"].as_i64().expect("seq");
        assert_eq!(seq, first_seq + i as i64, "in sequence order: {events:?}");
        assert_eq!(event.id.as_deref(), Some(seq.to_string().as_str()));
    }
}

async fn the_stream_delivers_replies_and_state_changes_in_order(app: &TestApp) {
    let conv = app.start_signed_in(switchboard::demo::DEMO_CUSTOMER_ID).await;
    let mut sse = Sse::open(app, &conv, None, "").await;
    let greeting = sse.messages(1).await;
    assert_in_order(&greeting, 1);
    assert_eq!(greeting[0].1["sender"], "bot");
    assert_eq!(greeting[0].1, conv.started["messages"][0]);

    let turn = app.send(&conv, "where is my order").await;
    let n = 1 + turn["replies"].as_array().unwrap().len();
    let got = sse.messages(n).await;
    assert_in_order(&got, 2);
    assert_eq!(got[0].1["sender"], "shopper");
    assert_eq!(got[0].1["text"], "where is my order");
    assert_eq!(got[0].1, turn["message"]);
    for (i, reply) in turn["replies"].as_array().unwrap().iter().enumerate() {
        assert_eq!(&got[i + 1].1, reply, "the stream carries the reply as returned");
    }
    let order = app.store.order("10001").await.unwrap().unwrap();
    assert!(got[1].1["text"].as_str().unwrap().contains(&order.shipments[0].tracking_url));

    // A hand-off arrives as a bot message and a state event, in order.
    let handed = app.handoff(&conv).await;
    let replies = handed["replies"].as_array().unwrap();
    let got = sse.messages(replies.len()).await;
    assert_in_order(&got, 2 + n as i64 - 1 + 1);
    let event = got.iter().map(|(_, m)| m).find(|m| m["sender"] == "event").expect("a state event");
    assert_eq!((&event["event"]["type"], &event["event"]["state"]), (&json!("state"), &json!("queued")), "{event}");
    assert_eq!(got.last().unwrap().1["sender"], "event");
    // Nothing more is pending on the stream.
    assert!(sse.next(Duration::from_millis(300)).await.is_none());
    // Messages while queued reach the stream too (for the agent's view), without replies.
    let quiet = app.send(&conv, "hello?").await;
    assert_eq!(quiet["replies"], serde_json::json!([]));
    let got = sse.messages(1).await;
    assert_eq!(got[0].1["text"], "hello?");
}

async fn the_stream_resumes_after_a_sequence_number(app: &TestApp) {
    let conv = app.start(None).await;
    let first = app.send(&conv, "what are your delivery options?").await;
    let second = app.send(&conv, "do you take paypal").await;
    let all = app.messages(&conv, 0).await;
    let all = all["messages"].as_array().unwrap().clone();
    let last_seq = all.last().unwrap()["seq"].as_i64().unwrap();
    assert_eq!(second["replies"].as_array().unwrap().last().unwrap()["seq"].as_i64().unwrap(), last_seq);
    let resume_at = first["message"]["seq"].as_i64().unwrap();

    // Last-Event-ID: only what came after it.
    let mut sse = Sse::open(app, &conv, Some(resume_at), "").await;
    let expected = (last_seq - resume_at) as usize;
    let got = sse.messages(expected).await;
    assert_in_order(&got, resume_at + 1);
    for (_, m) in &got {
        assert!(m["seq"].as_i64().unwrap() > resume_at);
    }
    assert!(sse.next(Duration::from_millis(300)).await.is_none());
    drop(sse);

    // ?after= does the same (for clients that cannot set headers on reconnect).
    let mut sse = Sse::open(app, &conv, None, &format!("?after={resume_at}")).await;
    let got_again = sse.messages(expected).await;
    assert_eq!(
        got.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>(),
        got_again.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>()
    );
    // Both: the header wins.
    let mut sse2 = Sse::open(app, &conv, Some(last_seq), "?after=0").await;
    assert!(sse2.next(Duration::from_millis(300)).await.is_none());

    // New messages arrive on both open streams.
    let turn = app.send(&conv, "thanks").await;
    let n = 1 + turn["replies"].as_array().unwrap().len();
    let a = sse.messages(n).await;
    let b = sse2.messages(n).await;
    assert_in_order(&a, last_seq + 1);
    assert_in_order(&b, last_seq + 1);
    // The GET endpoint agrees.
    let after = app.messages(&conv, last_seq).await;
    assert_eq!(after["messages"].as_array().unwrap().clone(), a.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>());
}
