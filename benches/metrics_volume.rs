//! The outcomes report (`GET /api/v1/admin/metrics`) over a database of 1,000,000 messages:
//! 90 days of synthetic shop traffic written into a fresh SQLite database (and a fresh PostgreSQL
//! database when `SWITCHBOARD_TEST_POSTGRES_URL` is set), then `insights::report` plus its JSON
//! encoding timed for the windows the console asks for. The target is under 200 ms for the
//! default 7-day window on both engines.
//!
//! `make bench-metrics`, or `cargo bench --bench metrics_volume`. Settings: `BENCH_MESSAGES`
//! (1000000), `BENCH_RUNS` (10 timed runs per case), `BENCH_SEED` (1), `BENCH_KEEP=1` to keep the
//! databases afterwards (to run EXPLAIN on them).

use std::str::FromStr;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{ConnectOptions, Connection, PgConnection, Postgres, QueryBuilder, Sqlite};
use switchboard::domain::insights::{DAY_MS, GroupBy, LiveReference, TrafficReference, Window};
use switchboard::store::{Store, now_ms};

const POSTGRES_ENV: &str = "SWITCHBOARD_TEST_POSTGRES_URL";
const SPAN_DAYS: i64 = 90;
/// The second model version went live this many days ago.
const LIVE_FOR_DAYS: i64 = 35;
const HOUR_MS: i64 = 3_600_000;
/// The outcome sweeper's silence after the bot's answer (`DEFAULT_ASSUME_RESOLVED_AFTER`).
const ASSUME_AFTER_MS: i64 = 30 * 60 * 1000;
/// Messages written per transaction.
const CHUNK_MESSAGES: usize = 10_000;
const WARM_UP_RUNS: usize = 2;
const TARGET_MS: f64 = 200.0;

/// (intent, weight, what a shopper types): order status is asked most, as in real shops.
const INTENTS: [(&str, u32, &str); 22] = [
    ("order_status", 300, "Hi, where is my order? It was supposed to arrive yesterday"),
    ("refund_status", 70, "I sent my parcel back two weeks ago, when do I get my money?"),
    ("return_policy", 65, "Can I still return shoes I bought last month?"),
    ("delivery_options", 55, "Do you deliver on Saturdays and how much is express shipping?"),
    ("cancel_order", 45, "Please cancel my order, I picked the wrong size"),
    ("refund_request", 40, "The jacket doesn't fit, I would like a refund"),
    ("change_shipping_address", 35, "I moved, can I change the delivery address of my order?"),
    ("damaged_or_wrong_item", 35, "The mug arrived broken"),
    ("greeting", 35, "hello"),
    ("out_of_scope", 30, "what's the weather like in Paris tomorrow"),
    ("payment_methods", 30, "Can I pay with PayPal or by invoice?"),
    ("invoice_request", 28, "I need an invoice with my company name on it"),
    ("talk_to_human", 28, "I want to talk to a real person"),
    ("account_help", 25, "How do I change the email address of my account?"),
    ("password_reset", 25, "I forgot my password and the reset email never comes"),
    ("reorder", 25, "I'd like to order the same coffee beans again"),
    ("payment_issue", 22, "I was charged twice for the same order"),
    ("contact_info", 18, "What is your phone number?"),
    ("complaint", 18, "This is the third time my delivery is late, very disappointed"),
    ("thanks", 15, "thanks!"),
    ("goodbye", 8, "bye"),
    ("fraud_or_security", 8, "Someone placed an order with my account, it wasn't me"),
];
/// Intents whose answer needs a verified order first.
const NEEDS_ORDER: [&str; 6] =
    ["order_status", "cancel_order", "refund_status", "change_shipping_address", "reorder", "invoice_request"];
const AGENTS: [(&str, &str); 4] = [("ag_sam", "Sam"), ("ag_lea", "Léa"), ("ag_omar", "Omar"), ("ag_kim", "Kim")];
/// Shares of ratings 1 to 5, in percent.
const RATINGS: [u32; 5] = [7, 6, 12, 27, 48];
const ANSWER: &str = "Here is what I found: your request is noted and the details are in the link below. \
                      Is there anything else I can do for you?";

#[derive(Debug, Clone)]
struct Conversation {
    id: String,
    token_hash: String,
    state: &'static str,
    handoff_reason: Option<&'static str>,
    handoff_priority: Option<i64>,
    handoff_intent: Option<&'static str>,
    queued_at: Option<i64>,
    assigned_agent: Option<&'static str>,
    rating: Option<i64>,
    rated_at: Option<i64>,
    last_seq: i64,
    created_at: i64,
    updated_at: i64,
    outcome: Option<&'static str>,
    outcome_at: Option<i64>,
    answered_at: Option<i64>,
    recontacted: i64,
    got_answer: i64,
    last_message_at: Option<i64>,
    first_shopper_at: Option<i64>,
    first_intent: Option<&'static str>,
    first_model_version: Option<&'static str>,
    clarified_last: i64,
    out_of_scope_last: i64,
}

#[derive(Debug, Clone)]
struct Message {
    id: String,
    conversation_id: String,
    seq: i64,
    sender: &'static str,
    body: String,
    quick_replies: Option<String>,
    agent_id: Option<&'static str>,
    client_message_id: Option<String>,
    top_intents: Option<String>,
    decision: Option<&'static str>,
    reason: Option<&'static str>,
    model_version: Option<&'static str>,
    created_at: i64,
    top_intent: Option<&'static str>,
    top_confidence: Option<f64>,
}

#[derive(Debug, Clone)]
struct Handoff {
    id: String,
    conversation_id: String,
    reason: &'static str,
    intent: Option<&'static str>,
    queued_at: i64,
    first_claimed_at: Option<i64>,
    first_agent_reply_at: Option<i64>,
    ended_at: Option<i64>,
    ended_by: Option<&'static str>,
    could_have_answered: Option<&'static str>,
}

/// One conversation with its messages (in `seq` order, strictly increasing times) and hand-off.
#[derive(Debug, Clone)]
struct Generated {
    conversation: Conversation,
    messages: Vec<Message>,
    handoff: Option<Handoff>,
}

impl Generated {
    /// What the database holds of this conversation at `now`: later messages, outcomes,
    /// ratings and hand-off steps have not happened yet.
    fn cut(&mut self, now: i64) {
        self.messages.retain(|m| m.created_at <= now);
        let c = &mut self.conversation;
        let later = |at: Option<i64>| at.filter(|&t| t <= now);
        if c.outcome_at.is_some_and(|t| t > now) {
            c.outcome = None;
            c.outcome_at = None;
            c.recontacted = 0;
        }
        if c.first_shopper_at.is_some_and(|t| t > now) {
            (c.first_shopper_at, c.first_intent, c.first_model_version) = (None, None, None);
        }
        c.rated_at = later(c.rated_at);
        c.rating = c.rating.filter(|_| c.rated_at.is_some());
        c.answered_at = later(c.answered_at);
        if let Some(h) = &mut self.handoff {
            h.first_claimed_at = later(h.first_claimed_at);
            h.first_agent_reply_at = later(h.first_agent_reply_at);
            if h.ended_at.is_some_and(|t| t > now) {
                h.ended_at = None;
                h.ended_by = None;
                h.could_have_answered = None;
                c.state = if h.first_claimed_at.is_some() { "assigned" } else { "queued" };
                c.assigned_agent = c.assigned_agent.filter(|_| h.first_claimed_at.is_some());
            }
        }
        c.got_answer = i64::from(self.messages.iter().any(|m| m.sender == "agent" || m.decision == Some("answer")));
        c.last_seq = self.messages.len() as i64;
        c.last_message_at = self.messages.last().map(|m| m.created_at);
        c.updated_at =
            [c.last_message_at, c.outcome_at, c.rated_at].into_iter().flatten().max().unwrap_or(c.created_at);
    }
}

/// The model's top intents for a message, and the decision the bot took on it.
struct Triage {
    intent: &'static str,
    confidence: f64,
    decision: &'static str,
    reason: &'static str,
}

/// What the bot waits for after its reply.
#[derive(Clone, Copy)]
enum Next {
    Typed,
    Clarify(&'static str, &'static str),
    OrderNumber,
    Helped,
    OutOfScope,
}

enum End {
    Confirmed,
    Silent,
    Handoff(&'static str, &'static str),
}

/// Builds one conversation that starts at `start`. How it goes depends only on the RNG, never on
/// `start`, so a run that counts messages and a run that writes them agree.
struct Builder<'r> {
    rng: &'r mut StdRng,
    id: String,
    version: &'static str,
    t: i64,
    messages: Vec<Message>,
    clarified: bool,
    out_of_scope: bool,
    verified: bool,
    answered_at: Option<i64>,
}

impl Builder<'_> {
    fn step(&mut self, min_ms: i64, max_ms: i64) -> i64 {
        self.t += self.rng.random_range(min_ms..=max_ms);
        self.t
    }

    fn push(&mut self, sender: &'static str, body: String, at: i64) -> &mut Message {
        let id = hex(self.rng, 16);
        let seq = self.messages.len() as i64 + 1;
        self.messages.push(Message {
            id,
            conversation_id: self.id.clone(),
            seq,
            sender,
            body,
            quick_replies: None,
            agent_id: None,
            client_message_id: None,
            top_intents: None,
            decision: None,
            reason: None,
            model_version: None,
            created_at: at,
            top_intent: None,
            top_confidence: None,
        });
        self.messages.last_mut().expect("just pushed")
    }

    fn shopper(&mut self, text: &str, triage: &Triage) {
        let at = self.step(6_000, 90_000);
        self.shopper_at(at, text, triage);
    }

    fn shopper_at(&mut self, at: i64, text: &str, triage: &Triage) {
        self.t = at.max(self.t + 1);
        let at = self.t;
        let (version, client_id) = (self.version, hex(self.rng, 8));
        let top_intents = top_intents(self.rng, triage.intent, triage.confidence);
        let m = self.push("shopper", text.to_string(), at);
        m.client_message_id = Some(client_id);
        m.top_intents = Some(top_intents);
        m.top_intent = Some(triage.intent);
        m.top_confidence = Some(triage.confidence);
        m.decision = Some(triage.decision);
        m.reason = Some(triage.reason);
        m.model_version = Some(version);
    }

    fn bot(&mut self, text: &str, quick_replies: &[&str]) {
        let at = self.step(300, 1_500);
        let m = self.push("bot", text.to_string(), at);
        if !quick_replies.is_empty() {
            let replies: Vec<_> =
                quick_replies.iter().map(|r| json!({ "label": r, "value": format!("intent:{r}") })).collect();
            m.quick_replies = Some(json!(replies).to_string());
        }
    }

    fn event(&mut self, event: serde_json::Value, at: i64) {
        self.t = at.max(self.t + 1);
        let at = self.t;
        self.push("event", event.to_string(), at);
    }

    fn answer(&mut self, intent: &'static str) -> Next {
        if NEEDS_ORDER.contains(&intent) && !self.verified && self.rng.random_bool(0.5) {
            self.bot("Sure. What is your order number?", &[]);
            return Next::OrderNumber;
        }
        self.bot(ANSWER, &["Yes, thanks", "No"]);
        self.answered_at = Some(self.t);
        Next::Helped
    }

    /// The model's decision on a typed message, as `chat::turn` takes it.
    fn typed(&mut self) -> Triage {
        let intent = pick_intent(self.rng);
        let confidence = confidence(self.rng);
        let (decision, reason) = if intent == "fraud_or_security" || self.rng.random_bool(0.02) {
            ("handoff", "sensitive")
        } else if self.rng.random_bool(0.003) {
            ("handoff", "handler_error")
        } else if confidence < 0.45 {
            if self.clarified { ("handoff", "low_confidence") } else { ("clarify", "low_confidence") }
        } else if confidence < 0.6 && self.rng.random_bool(0.5) {
            if self.clarified { ("handoff", "ambiguous") } else { ("clarify", "ambiguous") }
        } else if intent == "out_of_scope" {
            if self.out_of_scope && self.rng.random_bool(0.5) {
                ("handoff", "out_of_scope_twice")
            } else {
                ("out_of_scope", "out_of_scope")
            }
        } else if intent == "talk_to_human" {
            ("handoff", "customer_requested")
        } else {
            ("answer", "confident")
        };
        self.clarified = decision == "clarify";
        self.out_of_scope = decision == "out_of_scope";
        Triage { intent, confidence, decision, reason }
    }

    /// The shopper's messages and the bot's replies until the shopper leaves, is satisfied or
    /// is handed to a person.
    fn chat(&mut self) -> End {
        let mut next = Next::Typed;
        for _ in 0..8 {
            let r: f64 = self.rng.random();
            next = match next {
                Next::Typed => {
                    let triage = self.typed();
                    let text = INTENTS.iter().find(|i| i.0 == triage.intent).map_or("?", |i| i.2);
                    self.shopper(text, &triage);
                    self.answered_at = None;
                    match triage.decision {
                        "answer" => self.answer(triage.intent),
                        "clarify" => {
                            let other = pick_intent(self.rng);
                            self.bot(
                                "Sorry, I'm not sure I understood. Did you mean one of these?",
                                &[triage.intent, other, "talk_to_human"],
                            );
                            Next::Clarify(triage.intent, other)
                        }
                        "out_of_scope" => {
                            self.bot("I can help with orders, refunds, invoices, delivery, returns and payments.", &[]);
                            Next::OutOfScope
                        }
                        _ => return End::Handoff(triage.reason, triage.intent),
                    }
                }
                Next::Clarify(a, b) if r < 0.8 => {
                    let intent = if r < 0.45 {
                        a
                    } else if r < 0.7 {
                        b
                    } else {
                        "talk_to_human"
                    };
                    let confidence = 0.9 + 0.1 * self.rng.random::<f64>();
                    let (decision, reason) =
                        if r < 0.7 { ("answer", "quick_reply") } else { ("handoff", "customer_requested") };
                    self.shopper(intent, &Triage { intent, confidence: round4(confidence), decision, reason });
                    self.clarified = false;
                    if decision == "handoff" {
                        return End::Handoff(reason, intent);
                    }
                    self.answer(intent)
                }
                Next::OrderNumber => {
                    let ok = r < 0.94;
                    let (decision, reason) =
                        if ok { ("answer", "verification") } else { ("handoff", "verification_failed") };
                    let confidence = round4(0.3 + 0.5 * self.rng.random::<f64>());
                    let number = format!("#{}", self.rng.random_range(10_000..99_999));
                    self.shopper(&number, &Triage { intent: "order_status", confidence, decision, reason });
                    if !ok {
                        return End::Handoff(reason, "order_status");
                    }
                    self.verified = true;
                    self.bot(ANSWER, &["Yes, thanks", "No"]);
                    self.answered_at = Some(self.t);
                    Next::Helped
                }
                Next::Helped if r < 0.2 => {
                    let confidence = round4(0.85 + 0.15 * self.rng.random::<f64>());
                    let triage = Triage { intent: "thanks", confidence, decision: "answer", reason: "confirmed" };
                    self.shopper("Yes, thanks", &triage);
                    self.bot("Glad I could help!", &[]);
                    return End::Confirmed;
                }
                Next::Helped if r < 0.26 => {
                    let confidence = round4(0.4 + 0.5 * self.rng.random::<f64>());
                    let triage =
                        Triage { intent: "complaint", confidence, decision: "handoff", reason: "not_answered" };
                    self.shopper("No", &triage);
                    return End::Handoff("not_answered", "complaint");
                }
                Next::Clarify(..) if r < 0.9 => Next::Typed,
                Next::Helped if r < 0.45 => Next::Typed,
                Next::OutOfScope if r < 0.35 => Next::Typed,
                _ => return End::Silent,
            };
        }
        End::Silent
    }

    /// The hand-off: queued, claimed by an agent, answered, resolved. Returns the hand-off and
    /// when it was resolved.
    fn hand_off(&mut self, reason: &'static str, intent: &'static str) -> (Handoff, &'static str, i64) {
        self.bot("I'm passing you to a colleague, they will answer here shortly.", &[]);
        let queued_at = self.t + 1;
        self.event(json!({ "type": "state", "state": "queued", "reason": reason }), queued_at);
        let wait = lognormal(self.rng, 180_000.0, 1.3).min(8.0 * HOUR_MS as f64) as i64;
        let claimed_at = queued_at + wait.max(5_000);
        if self.rng.random_bool(0.3) {
            let at = queued_at + wait / 2;
            self.with_agent(at);
        }
        let (agent_id, agent_name) = AGENTS[self.rng.random_range(0..AGENTS.len())];
        self.event(
            json!({ "type": "state", "state": "assigned", "agent": { "id": agent_id, "name": agent_name } }),
            claimed_at,
        );
        let first_reply = self.step(15_000, 120_000);
        self.push("agent", "Hi, I'm looking into this for you right now.".into(), first_reply).agent_id =
            Some(agent_id);
        for _ in 0..self.rng.random_range(0..=1) {
            let at = self.step(20_000, 120_000);
            self.with_agent(at);
            let at = self.step(30_000, 180_000);
            self.push("agent", "Done: I have sorted it out and sent you an email.".into(), at).agent_id =
                Some(agent_id);
        }
        let resolved_at = self.step(60_000, 600_000);
        let by = json!({ "id": agent_id, "name": agent_name });
        self.event(json!({ "type": "state", "state": "resolved", "resolved_by": by }), resolved_at);
        let answerable = !matches!(reason, "sensitive" | "customer_requested" | "handler_error");
        let handoff = Handoff {
            id: hex(self.rng, 16),
            conversation_id: self.id.clone(),
            reason,
            intent: Some(intent),
            queued_at,
            first_claimed_at: Some(claimed_at),
            first_agent_reply_at: Some(first_reply),
            ended_at: Some(resolved_at),
            ended_by: Some("resolved"),
            could_have_answered: (answerable && self.rng.random_bool(0.25)).then_some(intent),
        };
        (handoff, agent_id, resolved_at)
    }

    /// A shopper message while a person has the conversation: stored, not decided.
    fn with_agent(&mut self, at: i64) {
        let intent = pick_intent(self.rng);
        let triage = Triage { intent, confidence: confidence(self.rng), decision: "none", reason: "with_agent" };
        self.shopper_at(at, "Hello? Is anyone there? I also have a question about my invoice.", &triage);
    }
}

fn generate(rng: &mut StdRng, start: i64, versions: &Versions) -> Generated {
    let id = hex(rng, 16);
    let token_hash = hex(rng, 32);
    let created_at = start - rng.random_range(1_000..30_000);
    let version = versions.at(start);
    let mut b = Builder {
        rng,
        id,
        version,
        t: start - 6_000,
        messages: Vec::new(),
        clarified: false,
        out_of_scope: false,
        verified: false,
        answered_at: None,
    };
    let end = b.chat();
    let first = b.messages.first().expect("a shopper message opens every conversation");
    let (first_at, first_intent) = (first.created_at, first.top_intent);
    let mut conversation = Conversation {
        id: b.id.clone(),
        token_hash,
        state: "bot",
        handoff_reason: None,
        handoff_priority: None,
        handoff_intent: None,
        queued_at: None,
        assigned_agent: None,
        rating: None,
        rated_at: None,
        last_seq: 0,
        created_at,
        updated_at: 0,
        outcome: None,
        outcome_at: None,
        answered_at: b.answered_at,
        recontacted: 0,
        got_answer: 0,
        last_message_at: None,
        first_shopper_at: Some(first_at),
        first_intent,
        first_model_version: Some(version),
        clarified_last: i64::from(b.clarified),
        out_of_scope_last: i64::from(b.out_of_scope),
    };
    let mut handoff = None;
    let (outcome, at) = match end {
        End::Confirmed => ("bot_confirmed", b.t),
        End::Silent if b.answered_at.is_some() => ("bot_assumed", b.t + ASSUME_AFTER_MS),
        End::Silent => ("abandoned", b.t + ASSUME_AFTER_MS),
        End::Handoff(reason, intent) => {
            let (h, agent, resolved_at) = b.hand_off(reason, intent);
            conversation.state = "resolved";
            conversation.handoff_reason = Some(reason);
            conversation.handoff_priority = Some(i64::from(reason == "sensitive"));
            conversation.handoff_intent = Some(intent);
            conversation.queued_at = Some(h.queued_at);
            conversation.assigned_agent = Some(agent);
            conversation.answered_at = None;
            handoff = Some(h);
            ("agent_resolved", resolved_at)
        }
    };
    if outcome != "agent_resolved" {
        b.event(json!({ "type": "outcome", "outcome": outcome }), at);
    }
    conversation.outcome = Some(outcome);
    conversation.outcome_at = Some(at);
    let answered = outcome != "abandoned";
    if answered && b.rng.random_bool(0.22) {
        conversation.rating = Some(pick(b.rng, &RATINGS) as i64 + 1);
        conversation.rated_at = Some(at + b.rng.random_range(5_000..120_000));
    }
    if outcome.starts_with("bot_") && b.rng.random_bool(0.07) {
        conversation.recontacted = 1;
    }
    let mut generated = Generated { conversation, messages: b.messages, handoff };
    generated.cut(i64::MAX);
    generated
}

/// The model versions: the first one until `LIVE_FOR_DAYS` ago, then the live one.
struct Versions {
    old: &'static str,
    live: &'static str,
    live_since: i64,
}

impl Versions {
    fn new(now: i64) -> Self {
        let name = |at: i64, suffix: &str| -> &'static str {
            let t = chrono::DateTime::from_timestamp_millis(at).expect("a valid time");
            Box::leak(format!("{}-{suffix}", t.format("%Y%m%d-%H%M%S")).into_boxed_str())
        };
        let live_since = now - LIVE_FOR_DAYS * DAY_MS;
        Self { old: name(now - 130 * DAY_MS, "5c1e7a2b"), live: name(live_since - DAY_MS, "9d04be31"), live_since }
    }

    fn at(&self, t: i64) -> &'static str {
        if t < self.live_since { self.old } else { self.live }
    }
}

/// The synthetic traffic: exactly `messages` messages, the same for every engine and run.
struct Traffic {
    messages: usize,
    seed: u64,
    now: i64,
    starts: Vec<i64>,
    versions: Versions,
}

impl Traffic {
    fn new(messages: usize, seed: u64, now: i64) -> Self {
        let versions = Versions::new(now);
        // How many conversations make up the messages (their content does not depend on time).
        let mut rng = StdRng::seed_from_u64(seed);
        let (mut count, mut conversations) = (0, 0);
        while count < messages {
            count += generate(&mut rng, 0, &versions).messages.len();
            conversations += 1;
        }
        let starts = start_times(&mut StdRng::seed_from_u64(seed.wrapping_add(1)), conversations, now);
        Self { messages, seed, now, starts, versions }
    }

    fn span_start(&self) -> i64 {
        self.now - SPAN_DAYS * DAY_MS
    }

    /// The conversations in time order, cut at `now`; the few messages that `now` cut off are made
    /// up with conversations at random earlier times, and the last one is cut to fit.
    fn conversations(&self) -> impl Iterator<Item = Generated> + '_ {
        let mut rng = StdRng::seed_from_u64(self.seed);
        let mut extra = StdRng::seed_from_u64(self.seed.wrapping_add(2));
        let mut left = self.messages;
        let mut i = 0;
        std::iter::from_fn(move || {
            if left == 0 {
                return None;
            }
            let start = match self.starts.get(i) {
                Some(&t) => t,
                None => extra.random_range(self.span_start()..self.now - DAY_MS),
            };
            i += 1;
            let mut g = generate(&mut rng, start, &self.versions);
            g.cut(self.now);
            if g.messages.len() > left {
                let at = g.messages[left - 1].created_at;
                g.cut(at);
            }
            left -= g.messages.len();
            Some(g)
        })
    }

    /// The conversations in chunks of about `CHUNK_MESSAGES` messages.
    fn chunks(&self) -> impl Iterator<Item = Vec<Generated>> + '_ {
        let mut conversations = self.conversations().peekable();
        std::iter::from_fn(move || {
            let mut chunk = Vec::new();
            let mut n = 0;
            while n < CHUNK_MESSAGES {
                let Some(g) = conversations.next() else { break };
                n += g.messages.len();
                chunk.push(g);
            }
            (!chunk.is_empty()).then_some(chunk)
        })
    }

    /// What the live model's held-out training examples looked like: every intent about as
    /// often, a little more confident than live traffic.
    fn reference(&self) -> TrafficReference {
        let mut rng = StdRng::seed_from_u64(self.seed.wrapping_add(3));
        let predictions: Vec<(&str, f64)> = (0..2_400)
            .map(|i| {
                let c =
                    if rng.random_bool(0.88) { 1.0 - 0.3 * rng.random::<f64>().powi(2) } else { confidence(&mut rng) };
                (INTENTS[i % INTENTS.len()].0, c)
            })
            .collect();
        TrafficReference::of(predictions.iter().map(|&(i, c)| (i, c)))
    }
}

/// Sorted conversation start times over the last `SPAN_DAYS` days: busier in the day than at
/// night, quieter at weekends, growing a little over the period.
fn start_times(rng: &mut StdRng, n: usize, now: i64) -> Vec<i64> {
    const BY_HOUR: [f64; 24] = [
        0.25, 0.2, 0.15, 0.15, 0.2, 0.3, 0.5, 0.8, 1.1, 1.4, 1.5, 1.5, 1.4, 1.4, 1.4, 1.3, 1.3, 1.3, 1.4, 1.5, 1.4,
        1.1, 0.7, 0.4,
    ];
    let first = now - SPAN_DAYS * DAY_MS;
    let hours = (SPAN_DAYS * 24) as usize;
    let mut cumulative = Vec::with_capacity(hours);
    let mut total = 0.0;
    for h in 0..hours {
        let at = first + h as i64 * HOUR_MS;
        let weekday = (at.div_euclid(DAY_MS) + 4) % 7; // 1970-01-01 was a Thursday; 0 is Sunday.
        let weekend = if weekday == 0 || weekday == 6 { 0.75 } else { 1.0 };
        let hour_of_day = (at.div_euclid(HOUR_MS) % 24) as usize;
        total += BY_HOUR[hour_of_day] * weekend * (0.85 + 0.3 * h as f64 / hours as f64);
        cumulative.push(total);
    }
    let mut starts: Vec<i64> = (0..n)
        .map(|_| {
            let u = rng.random::<f64>() * total;
            let h = cumulative.partition_point(|&c| c < u).min(hours - 1);
            (first + h as i64 * HOUR_MS + rng.random_range(0..HOUR_MS)).min(now - 5 * 60_000)
        })
        .collect();
    starts.sort_unstable();
    starts
}

fn pick(rng: &mut StdRng, weights: &[u32]) -> usize {
    let mut x = rng.random_range(0..weights.iter().sum::<u32>());
    for (i, &w) in weights.iter().enumerate() {
        if x < w {
            return i;
        }
        x -= w;
    }
    weights.len() - 1
}

fn pick_intent(rng: &mut StdRng) -> &'static str {
    let weights: [u32; INTENTS.len()] = std::array::from_fn(|i| INTENTS[i].1);
    INTENTS[pick(rng, &weights)].0
}

/// Mostly confident (0.65 to 1, most near 1), one message in five unsure (0.12 to 0.72).
fn confidence(rng: &mut StdRng) -> f64 {
    let c =
        if rng.random_bool(0.8) { 1.0 - 0.35 * rng.random::<f64>().powi(2) } else { 0.12 + 0.6 * rng.random::<f64>() };
    round4(c)
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn lognormal(rng: &mut StdRng, median: f64, sigma: f64) -> f64 {
    let (u1, u2): (f64, f64) = (1.0 - rng.random::<f64>(), rng.random());
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    median * (sigma * z).exp()
}

fn top_intents(rng: &mut StdRng, intent: &str, confidence: f64) -> String {
    let rest = 1.0 - confidence;
    let second = round4(rest * rng.random_range(0.3..0.8));
    let third = round4((rest - second) * rng.random_range(0.2..0.6));
    json!([
        { "intent": intent, "confidence": confidence },
        { "intent": pick_intent(rng), "confidence": second },
        { "intent": pick_intent(rng), "confidence": third },
    ])
    .to_string()
}

fn hex(rng: &mut StdRng, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rng.fill(buf.as_mut_slice());
    hex::encode(buf)
}

fn progress(engine: &str, total: usize) -> ProgressBar {
    let bar = ProgressBar::new(total as u64);
    let style = ProgressStyle::with_template(
        "{prefix:>10} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} messages ({per_sec}, {eta} left)",
    )
    .expect("a valid progress template");
    bar.set_style(style);
    bar.set_prefix(engine.to_string());
    bar
}

fn model_versions(traffic: &Traffic) -> [(&'static str, i64, &'static str, String, Option<&'static str>); 2] {
    let v = &traffic.versions;
    let head = json!({ "version": v.live, "reference": traffic.reference() }).to_string();
    [(v.old, 1, "retired", json!({ "version": v.old }).to_string(), None), (v.live, 2, "live", head, Some(v.old))]
}

const CONVERSATION_COLUMNS: &str = "id, token_hash, state, handoff_reason, handoff_priority, handoff_intent, queued_at, \
     assigned_agent, rating, rated_at, last_seq, created_at, updated_at, outcome, outcome_at, answered_at, recontacted, \
     got_answer, last_message_at, first_shopper_at, first_intent, first_model_version, clarified_last, out_of_scope_last";
const MESSAGE_COLUMNS: &str = "id, conversation_id, seq, sender, body, quick_replies, agent_id, client_message_id, \
     top_intents, decision, reason, model_version, created_at, top_intent, top_confidence";
const HANDOFF_COLUMNS: &str = "id, conversation_id, reason, intent, queued_at, first_claimed_at, first_agent_reply_at, ended_at, ended_by, could_have_answered";
const MODEL_INSERT: &str = "INSERT INTO model_versions (version, number, status, shadow, created_at, examples, metrics, \
     head_json, head_onnx, neighbours, encoder_sha256, promoted_at, previous_live) \
     VALUES ($1, $2, $3, 0, $4, 2400, '{}', $5, $6, $6, '', $4, $7)";

/// Writes the traffic into SQLite with multi-row INSERTs, a transaction per chunk.
async fn load_sqlite(url: &str, traffic: &Traffic) -> anyhow::Result<SqliteConnection> {
    let mut conn = SqliteConnectOptions::from_str(url)?.connect().await?;
    // Synthetic data need not survive a power cut: skip the fsyncs while loading.
    sqlx::raw_sql("PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;").execute(&mut conn).await?;
    for (version, number, status, head, previous) in model_versions(traffic) {
        let q = sqlx::query(MODEL_INSERT).bind(version).bind(number).bind(status).bind(traffic.span_start());
        q.bind(head).bind(Vec::<u8>::new()).bind(previous).execute(&mut conn).await?;
    }
    let bar = progress("SQLite", traffic.messages);
    for chunk in traffic.chunks() {
        let mut tx = conn.begin().await?;
        for part in chunk.chunks(400) {
            let mut q = QueryBuilder::<Sqlite>::new(format!("INSERT INTO conversations ({CONVERSATION_COLUMNS}) "));
            q.push_values(part, |mut b, g| {
                let c = &g.conversation;
                b.push_bind(c.id.as_str()).push_bind(c.token_hash.as_str()).push_bind(c.state);
                b.push_bind(c.handoff_reason).push_bind(c.handoff_priority).push_bind(c.handoff_intent);
                b.push_bind(c.queued_at).push_bind(c.assigned_agent).push_bind(c.rating).push_bind(c.rated_at);
                b.push_bind(c.last_seq).push_bind(c.created_at).push_bind(c.updated_at).push_bind(c.outcome);
                b.push_bind(c.outcome_at).push_bind(c.answered_at).push_bind(c.recontacted).push_bind(c.got_answer);
                b.push_bind(c.last_message_at).push_bind(c.first_shopper_at).push_bind(c.first_intent);
                b.push_bind(c.first_model_version).push_bind(c.clarified_last).push_bind(c.out_of_scope_last);
            });
            q.build().execute(&mut *tx).await?;
        }
        let messages: Vec<&Message> = chunk.iter().flat_map(|g| &g.messages).collect();
        for part in messages.chunks(1_000) {
            let mut q = QueryBuilder::<Sqlite>::new(format!("INSERT INTO messages ({MESSAGE_COLUMNS}) "));
            q.push_values(part, |mut b, m| {
                b.push_bind(m.id.as_str()).push_bind(m.conversation_id.as_str()).push_bind(m.seq).push_bind(m.sender);
                b.push_bind(m.body.as_str()).push_bind(m.quick_replies.as_deref()).push_bind(m.agent_id);
                b.push_bind(m.client_message_id.as_deref()).push_bind(m.top_intents.as_deref()).push_bind(m.decision);
                b.push_bind(m.reason).push_bind(m.model_version).push_bind(m.created_at).push_bind(m.top_intent);
                b.push_bind(m.top_confidence);
            });
            q.build().execute(&mut *tx).await?;
        }
        let handoffs: Vec<&Handoff> = chunk.iter().filter_map(|g| g.handoff.as_ref()).collect();
        for part in handoffs.chunks(1_000) {
            let mut q = QueryBuilder::<Sqlite>::new(format!("INSERT INTO handoffs ({HANDOFF_COLUMNS}) "));
            q.push_values(part, |mut b, h| {
                b.push_bind(h.id.as_str())
                    .push_bind(h.conversation_id.as_str())
                    .push_bind(h.reason)
                    .push_bind(h.intent);
                b.push_bind(h.queued_at).push_bind(h.first_claimed_at).push_bind(h.first_agent_reply_at);
                b.push_bind(h.ended_at).push_bind(h.ended_by).push_bind(h.could_have_answered);
            });
            q.build().execute(&mut *tx).await?;
        }
        tx.commit().await?;
        bar.inc(messages.len() as u64);
    }
    bar.finish_and_clear();
    sqlx::raw_sql("ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);").execute(&mut conn).await?;
    Ok(conn)
}

/// Writes the traffic into PostgreSQL, one `INSERT ... SELECT FROM UNNEST(arrays)` per table and chunk.
async fn load_postgres(url: &str, traffic: &Traffic) -> anyhow::Result<PgConnection> {
    let mut conn = PgConnection::connect(url).await?;
    sqlx::query("SET synchronous_commit = off").execute(&mut conn).await?;
    for (version, number, status, head, previous) in model_versions(traffic) {
        let q = sqlx::query(MODEL_INSERT).bind(version).bind(number).bind(status).bind(traffic.span_start());
        q.bind(head).bind(Vec::<u8>::new()).bind(previous).execute(&mut conn).await?;
    }
    let bar = progress("PostgreSQL", traffic.messages);
    for chunk in traffic.chunks() {
        let mut tx = conn.begin().await?;
        let cs: Vec<&Conversation> = chunk.iter().map(|g| &g.conversation).collect();
        let col = |f: fn(&Conversation) -> Option<i64>| cs.iter().map(|c| f(c)).collect::<Vec<_>>();
        let text = |f: fn(&Conversation) -> Option<&str>| cs.iter().map(|c| f(c)).collect::<Vec<_>>();
        sqlx::query::<Postgres>(&format!(
            "INSERT INTO conversations ({CONVERSATION_COLUMNS}) SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], \
             $4::text[], $5::int8[], $6::text[], $7::int8[], $8::text[], $9::int8[], $10::int8[], $11::int8[], $12::int8[], \
             $13::int8[], $14::text[], $15::int8[], $16::int8[], $17::int8[], $18::int8[], $19::int8[], $20::int8[], \
             $21::text[], $22::text[], $23::int8[], $24::int8[])"
        ))
        .bind(text(|c| Some(c.id.as_str())))
        .bind(text(|c| Some(c.token_hash.as_str())))
        .bind(text(|c| Some(c.state)))
        .bind(text(|c| c.handoff_reason))
        .bind(col(|c| c.handoff_priority))
        .bind(text(|c| c.handoff_intent))
        .bind(col(|c| c.queued_at))
        .bind(text(|c| c.assigned_agent))
        .bind(col(|c| c.rating))
        .bind(col(|c| c.rated_at))
        .bind(col(|c| Some(c.last_seq)))
        .bind(col(|c| Some(c.created_at)))
        .bind(col(|c| Some(c.updated_at)))
        .bind(text(|c| c.outcome))
        .bind(col(|c| c.outcome_at))
        .bind(col(|c| c.answered_at))
        .bind(col(|c| Some(c.recontacted)))
        .bind(col(|c| Some(c.got_answer)))
        .bind(col(|c| c.last_message_at))
        .bind(col(|c| c.first_shopper_at))
        .bind(text(|c| c.first_intent))
        .bind(text(|c| c.first_model_version))
        .bind(col(|c| Some(c.clarified_last)))
        .bind(col(|c| Some(c.out_of_scope_last)))
        .execute(&mut *tx)
        .await?;
        let ms: Vec<&Message> = chunk.iter().flat_map(|g| &g.messages).collect();
        let col = |f: fn(&Message) -> Option<i64>| ms.iter().map(|m| f(m)).collect::<Vec<_>>();
        let text = |f: fn(&Message) -> Option<&str>| ms.iter().map(|m| f(m)).collect::<Vec<_>>();
        sqlx::query::<Postgres>(&format!(
            "INSERT INTO messages ({MESSAGE_COLUMNS}) SELECT * FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[], \
             $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::int8[], \
             $14::text[], $15::float8[])"
        ))
        .bind(text(|m| Some(m.id.as_str())))
        .bind(text(|m| Some(m.conversation_id.as_str())))
        .bind(col(|m| Some(m.seq)))
        .bind(text(|m| Some(m.sender)))
        .bind(text(|m| Some(m.body.as_str())))
        .bind(text(|m| m.quick_replies.as_deref()))
        .bind(text(|m| m.agent_id))
        .bind(text(|m| m.client_message_id.as_deref()))
        .bind(text(|m| m.top_intents.as_deref()))
        .bind(text(|m| m.decision))
        .bind(text(|m| m.reason))
        .bind(text(|m| m.model_version))
        .bind(col(|m| Some(m.created_at)))
        .bind(text(|m| m.top_intent))
        .bind(ms.iter().map(|m| m.top_confidence).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await?;
        let hs: Vec<&Handoff> = chunk.iter().filter_map(|g| g.handoff.as_ref()).collect();
        let col = |f: fn(&Handoff) -> Option<i64>| hs.iter().map(|h| f(h)).collect::<Vec<_>>();
        let text = |f: fn(&Handoff) -> Option<&str>| hs.iter().map(|h| f(h)).collect::<Vec<_>>();
        sqlx::query::<Postgres>(&format!(
            "INSERT INTO handoffs ({HANDOFF_COLUMNS}) SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], \
             $5::int8[], $6::int8[], $7::int8[], $8::int8[], $9::text[], $10::text[])"
        ))
        .bind(text(|h| Some(h.id.as_str())))
        .bind(text(|h| Some(h.conversation_id.as_str())))
        .bind(text(|h| Some(h.reason)))
        .bind(text(|h| h.intent))
        .bind(col(|h| Some(h.queued_at)))
        .bind(col(|h| h.first_claimed_at))
        .bind(col(|h| h.first_agent_reply_at))
        .bind(col(|h| h.ended_at))
        .bind(text(|h| h.ended_by))
        .bind(text(|h| h.could_have_answered))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        bar.inc(ms.len() as u64);
    }
    bar.finish_and_clear();
    // What autovacuum does in a running database (the migration asks it to vacuum `messages`
    // after 1 % new rows): statistics, and a visibility map for index-only scans.
    sqlx::query("VACUUM ANALYZE").execute(&mut conn).await?;
    Ok(conn)
}

/// A fresh PostgreSQL database next to the one `SWITCHBOARD_TEST_POSTGRES_URL` names, dropped at
/// the end unless kept.
struct PgDatabase {
    admin: String,
    name: String,
    url: String,
    keep: bool,
}

impl PgDatabase {
    async fn create(admin: &str, keep: bool) -> anyhow::Result<Self> {
        let name = format!("sb_bench_{}", switchboard::util::random_hex(6));
        let mut conn =
            PgConnection::connect(admin).await.map_err(|e| anyhow::anyhow!("{POSTGRES_ENV}={admin}: {e}"))?;
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await?;
        conn.close().await?;
        let mut url = reqwest::Url::parse(admin)?;
        url.set_path(&format!("/{name}"));
        Ok(Self { admin: admin.to_string(), name, url: url.to_string(), keep })
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("kept the PostgreSQL database: {}", self.url);
            return;
        }
        let (admin, name) = (self.admin.clone(), self.name.clone());
        // From a thread of its own: this may run inside the benchmark's runtime.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            runtime.block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&admin).await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
                    let _ = conn.close().await;
                }
            });
        })
        .join();
    }
}

/// Rows in the database after loading.
struct Counts {
    messages: i64,
    shopper_messages: i64,
    conversations: i64,
    handoffs: i64,
    bytes: i64,
}

macro_rules! counts {
    ($conn:expr, $size_sql:expr) => {{
        let count = |table: &'static str| format!("SELECT COUNT(*) FROM {table}");
        Counts {
            messages: sqlx::query_scalar(&count("messages")).fetch_one(&mut *$conn).await?,
            shopper_messages: sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE sender = 'shopper'")
                .fetch_one(&mut *$conn)
                .await?,
            conversations: sqlx::query_scalar(&count("conversations")).fetch_one(&mut *$conn).await?,
            handoffs: sqlx::query_scalar(&count("handoffs")).fetch_one(&mut *$conn).await?,
            bytes: sqlx::query_scalar($size_sql).fetch_one(&mut *$conn).await?,
        }
    }};
}

struct Case {
    name: &'static str,
    /// None: the whole generated period.
    days: Option<i64>,
    by: Option<GroupBy>,
}

const CASES: [Case; 4] = [
    Case { name: "7 days (default)", days: Some(7), by: None },
    Case { name: "7 days, by=day", days: Some(7), by: Some(GroupBy::Day) },
    Case { name: "30 days", days: Some(30), by: None },
    Case { name: "90 days, by=day", days: None, by: Some(GroupBy::Day) },
];

struct Timing {
    case: &'static str,
    conversations: usize,
    messages: u64,
    json_bytes: usize,
    total: Spread,
    /// The store's queries alone, and the formulas plus the JSON alone.
    facts: Spread,
    compute: Spread,
}

/// Median, 90th percentile (nearest rank) and maximum of some timings in ms.
struct Spread {
    median: f64,
    p90: f64,
    max: f64,
}

impl Spread {
    fn of(mut ms: Vec<f64>) -> Self {
        ms.sort_by(f64::total_cmp);
        let n = ms.len();
        let median = if n.is_multiple_of(2) { (ms[n / 2 - 1] + ms[n / 2]) / 2.0 } else { ms[n / 2] };
        Self { median, p90: ms[((n as f64 * 0.9).ceil() as usize).clamp(1, n) - 1], max: ms[n - 1] }
    }
}

struct EngineRun {
    engine: &'static str,
    load: Duration,
    counts: Counts,
    timings: Vec<Timing>,
    /// The machine's 1-minute load average after timing: other work skews the figures.
    busy: String,
}

fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().next().unwrap_or("?").to_string()
}

fn window_of(case: &Case, traffic: &Traffic) -> anyhow::Result<Window> {
    let now = now_ms();
    Ok(match case.days {
        Some(7) => Window::parse(None, None, now)?,
        Some(days) => Window { from: now - days * DAY_MS, to: now },
        None => Window { from: traffic.span_start(), to: now },
    })
}

fn ms_since(started: Instant) -> f64 {
    started.elapsed().as_secs_f64() * 1000.0
}

/// What the endpoint does minus HTTP: the report of the window, then its JSON. Then the same in
/// two parts, to see where the time goes: the store's queries (as `insights::report` runs them),
/// and the formulas plus the JSON.
async fn time_cases(url: &str, traffic: &Traffic, runs: usize) -> anyhow::Result<Vec<Timing>> {
    let store = Store::connect(url).await?;
    let mut timings = Vec::new();
    for case in &CASES {
        let (mut total, mut facts_ms, mut compute_ms) = (Vec::new(), Vec::new(), Vec::new());
        let mut last = (0, 0, 0);
        for run in 0..WARM_UP_RUNS + runs {
            let window = window_of(case, traffic)?;
            let started = Instant::now();
            let report = switchboard::insights::report(&store, window, case.by).await?;
            let json = serde_json::to_vec(&report)?;
            if run >= WARM_UP_RUNS {
                total.push(ms_since(started));
            }
            last = (report.figures.conversations, report.figures.messages, json.len());
        }
        for _ in 0..runs {
            let window = window_of(case, traffic)?;
            let started = Instant::now();
            let (facts, live) = tokio::try_join!(store.insight_facts(window), store.live_reference())?;
            facts_ms.push(ms_since(started));
            let started = Instant::now();
            let live = live.as_ref().map(|(v, r)| LiveReference { model_version: v, reference: r.as_ref() });
            let report = switchboard::domain::insights::report(window, case.by, &facts, live);
            serde_json::to_vec(&report)?;
            compute_ms.push(ms_since(started));
        }
        timings.push(Timing {
            case: case.name,
            conversations: last.0,
            messages: last.1,
            json_bytes: last.2,
            total: Spread::of(total),
            facts: Spread::of(facts_ms),
            compute: Spread::of(compute_ms),
        });
    }
    store.close().await;
    Ok(timings)
}

fn env_number<T: FromStr>(name: &str, default: T) -> anyhow::Result<T> {
    match std::env::var(name) {
        Ok(text) => {
            text.trim().replace('_', "").parse().map_err(|_| anyhow::anyhow!("{name}={text:?} is not a number"))
        }
        Err(_) => Ok(default),
    }
}

fn print_report(runs: usize, traffic: &Traffic, engines: &[EngineRun]) {
    println!();
    println!(
        "Outcomes report (GET /api/v1/admin/metrics without HTTP: insights::report + serde_json::to_vec), \
         {WARM_UP_RUNS} warm-up + {runs} timed runs per case"
    );
    println!();
    println!(
        "{:<11} {:>10} {:>10} {:>14} {:>9} {:>9} {:>10} {:>9}",
        "engine", "messages", "shopper", "conversations", "handoffs", "size MB", "loaded in", "load avg"
    );
    for e in engines {
        let c = &e.counts;
        println!(
            "{:<11} {:>10} {:>10} {:>14} {:>9} {:>9.0} {:>9.1}s {:>9}",
            e.engine,
            c.messages,
            c.shopper_messages,
            c.conversations,
            c.handoffs,
            c.bytes as f64 / 1e6,
            e.load.as_secs_f64(),
            e.busy
        );
    }
    println!();
    println!(
        "{:<11} {:<17} {:>13} {:>12} {:>7} {:>10} {:>8} {:>8} {:>12} {:>12}",
        "engine",
        "window",
        "conversations",
        "decided msgs",
        "JSON KB",
        "median ms",
        "p90 ms",
        "max ms",
        "│ queries ms",
        "formulas ms"
    );
    for e in engines {
        for t in &e.timings {
            println!(
                "{:<11} {:<17} {:>13} {:>12} {:>7.1} {:>10.1} {:>8.1} {:>8.1} │ {:>10.1} {:>12.1}",
                e.engine,
                t.case,
                t.conversations,
                t.messages,
                t.json_bytes as f64 / 1024.0,
                t.total.median,
                t.total.p90,
                t.total.max,
                t.facts.median,
                t.compute.median
            );
        }
    }
    println!();
    let verdicts: Vec<String> = engines
        .iter()
        .map(|e| {
            let t = &e.timings[0];
            let ok = if t.total.p90 < TARGET_MS { "yes" } else { "NO" };
            format!("{} {ok} (median {:.1} ms, p90 {:.1} ms)", e.engine, t.total.median, t.total.p90)
        })
        .collect();
    let skipped =
        if engines.len() < 2 { format!("; PostgreSQL not run ({POSTGRES_ENV} unset)") } else { String::new() };
    println!(
        "7-day default under {TARGET_MS:.0} ms over {} messages: {}{skipped}",
        traffic.messages,
        verdicts.join(", ")
    );
}

async fn run() -> anyhow::Result<()> {
    let messages: usize = env_number("BENCH_MESSAGES", 1_000_000)?;
    let runs: usize = env_number("BENCH_RUNS", 10)?.max(1);
    let seed: u64 = env_number("BENCH_SEED", 1)?;
    let keep = std::env::var_os("BENCH_KEEP").is_some();
    anyhow::ensure!(messages > 0, "BENCH_MESSAGES must be at least 1");

    let started = Instant::now();
    let traffic = Traffic::new(messages, seed, now_ms());
    eprintln!(
        "traffic: {messages} messages in about {} conversations over {SPAN_DAYS} days (seed {seed}), planned in {:.1}s",
        traffic.starts.len(),
        started.elapsed().as_secs_f64()
    );
    let mut engines = Vec::new();

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("bench.db");
    let url = format!("sqlite://{}", path.display());
    Store::connect(&url).await?.close().await;
    let started = Instant::now();
    let mut conn = load_sqlite(&url, &traffic).await?;
    let load = started.elapsed();
    let counts = counts!(&mut conn, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
    conn.close().await?;
    eprintln!("SQLite: {messages} messages loaded in {:.1}s; timing the report", load.as_secs_f64());
    let timings = time_cases(&url, &traffic, runs).await?;
    engines.push(EngineRun { engine: "SQLite", load, counts, timings, busy: load_average() });
    if keep {
        eprintln!("kept the SQLite database: sqlite://{}", dir.keep().join("bench.db").display());
    }

    match std::env::var(POSTGRES_ENV) {
        Ok(admin) => {
            let db = PgDatabase::create(&admin, keep).await?;
            Store::connect(&db.url).await?.close().await;
            let started = Instant::now();
            let mut conn = load_postgres(&db.url, &traffic).await?;
            let load = started.elapsed();
            let counts = counts!(&mut conn, "SELECT pg_database_size(current_database())");
            conn.close().await?;
            eprintln!("PostgreSQL: {messages} messages loaded in {:.1}s; timing the report", load.as_secs_f64());
            let timings = time_cases(&db.url, &traffic, runs).await?;
            engines.push(EngineRun { engine: "PostgreSQL", load, counts, timings, busy: load_average() });
        }
        Err(_) => eprintln!("PostgreSQL skipped: set {POSTGRES_ENV}=postgres://USER@HOST:5432/DB to run it too"),
    }
    print_report(runs, &traffic, &engines);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(run())
}
