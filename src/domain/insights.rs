//! The figures a store owner runs support by, computed from facts the store reads for a time
//! window: how conversations ended, hand-offs and how fast people answered, ratings,
//! re-contacts, how each intent fares, and whether live traffic drifts from what the live model
//! was trained on. Every formula is here, in one place, and published in the README as written.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use super::outcome::{Outcome, Settled};
use super::triage::{DecisionKind, HandoffReason, TriageReason};

pub const DAY_MS: i64 = 86_400_000;
/// The default window: the last 7 days.
pub const DEFAULT_WINDOW_DAYS: i64 = 7;
/// The longest window a report covers.
pub const MAX_WINDOW_DAYS: i64 = 400;
/// Confidence histograms have 10 bins of width 0.1; a confidence of exactly 1 is in the last.
pub const CONFIDENCE_BINS: usize = 10;
/// Population stability index above which the distribution has moved (`moderate`)...
pub const PSI_MODERATE: f64 = 0.1;
/// ...and above which it has drifted (`drift`).
pub const PSI_DRIFT: f64 = 0.25;
/// Below this many messages a PSI is mostly chance; the report says so.
pub const DRIFT_MIN_MESSAGES: u64 = 100;
/// Shares below this count as this in the PSI, so an empty bin does not make it infinite.
pub const PSI_FLOOR: f64 = 1e-4;
/// A rating of 4 or 5 (out of 5) is a satisfied shopper.
pub const SATISFIED_FROM: i64 = 4;
/// The upper bounds (seconds) of the first-reply time distribution; the last bin is open.
pub const FIRST_REPLY_BOUNDS: [f64; 9] = [30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 14400.0, 86400.0];

/// A report's time window, `[from, to)` in Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: i64,
    pub to: i64,
}

/// A window or grouping the report cannot use, said so the caller can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

impl Window {
    /// `from` and `to` as ISO-8601 times (`2026-12-01T09:30:00Z`, an offset, or a date, which
    /// means its midnight UTC); by default the 7 days up to `now`.
    pub fn parse(from: Option<&str>, to: Option<&str>, now: i64) -> Result<Self, QueryError> {
        let to = to.map(|t| parse_time("to", t)).transpose()?.unwrap_or(now);
        let from = from.map(|f| parse_time("from", f)).transpose()?.unwrap_or(to - DEFAULT_WINDOW_DAYS * DAY_MS);
        if from > to {
            return Err(QueryError(format!("from ({}) is after to ({})", iso(from), iso(to))));
        }
        if to - from > MAX_WINDOW_DAYS * DAY_MS {
            return Err(QueryError(format!("the window is longer than {MAX_WINDOW_DAYS} days: choose a shorter one")));
        }
        Ok(Self { from, to })
    }

    pub fn contains(&self, at: i64) -> bool {
        self.from <= at && at < self.to
    }
}

fn parse_time(name: &str, text: &str) -> Result<i64, QueryError> {
    let text = text.trim();
    let parsed = DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").map(|t| t.and_utc()))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M").map(|t| t.and_utc()))
        .or_else(|_| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).expect("midnight").and_utc())
        });
    parsed.map(|t| t.timestamp_millis()).map_err(|_| {
        QueryError(format!("{name}={text:?} is not an ISO-8601 time: write it like 2026-12-01T09:30:00Z or 2026-12-01"))
    })
}

/// A time as ISO-8601 in UTC, to the millisecond when it has them.
pub fn iso(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map_or_else(String::new, |t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

named_enum! {
    /// How a report's figures are broken down.
    pub enum GroupBy {
        /// The UTC day a conversation started (its first shopper message) or a message was sent.
        Day = "day",
        /// The top intent of a conversation's first shopper message, or of a message.
        Intent = "intent",
        /// The model version that classified it.
        ModelVersion = "model_version",
    }
}

impl GroupBy {
    pub fn parse_query(text: &str) -> Result<Self, QueryError> {
        Self::parse(text)
            .ok_or_else(|| QueryError(format!("by={text:?} is not a breakdown: use day, intent or model_version")))
    }
}

/// What the live model's training data looked like, to compare live traffic with: the share of
/// held-out training examples in each confidence bin, and the share predicted as each intent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrafficReference {
    pub confidence: Vec<f64>,
    pub intents: BTreeMap<String, f64>,
    pub examples: usize,
}

impl TrafficReference {
    /// From (top intent, top confidence) predictions.
    pub fn of<'a>(predictions: impl IntoIterator<Item = (&'a str, f64)>) -> Self {
        let mut bins = vec![0usize; CONFIDENCE_BINS];
        let mut intents: BTreeMap<String, usize> = BTreeMap::new();
        let mut n = 0;
        for (intent, confidence) in predictions {
            bins[confidence_bin(confidence)] += 1;
            *intents.entry(intent.to_string()).or_default() += 1;
            n += 1;
        }
        let share = |c: usize| if n == 0 { 0.0 } else { c as f64 / n as f64 };
        Self {
            confidence: bins.into_iter().map(share).collect(),
            intents: intents.into_iter().map(|(k, c)| (k, share(c))).collect(),
            examples: n,
        }
    }
}

/// The bin of a confidence: `floor(confidence × 10)`, clamped to 0..=9.
pub fn confidence_bin(confidence: f64) -> usize {
    ((confidence * CONFIDENCE_BINS as f64).floor().max(0.0) as usize).min(CONFIDENCE_BINS - 1)
}

/// A conversation whose first shopper message falls in the window.
#[derive(Debug, Clone, PartialEq)]
pub struct ConversationFacts {
    pub id: String,
    /// The first shopper message's time.
    pub started_at: i64,
    pub intent: Option<String>,
    pub model_version: Option<String>,
    pub outcome: Option<Settled>,
    pub recontacted: bool,
    pub rating: Option<i64>,
}

/// A hand-off of one of those conversations.
#[derive(Debug, Clone, PartialEq)]
pub struct HandoffFacts {
    pub conversation_id: String,
    pub reason: HandoffReason,
    pub queued_at: i64,
    pub first_agent_reply_at: Option<i64>,
    pub could_have_answered: bool,
}

/// Shopper messages in the window with the same day, top intent, decision, reason, confidence
/// bin and model version.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageCount {
    /// Days since 1970-01-01 (UTC).
    pub day: i64,
    pub intent: String,
    pub decision: DecisionKind,
    pub reason: TriageReason,
    pub bin: usize,
    pub model_version: String,
    pub count: u64,
}

impl MessageCount {
    /// The model decided this message: typed, not a click or an answer to the bot's question,
    /// and not written while a person had the conversation.
    pub fn decided_by_model(&self) -> bool {
        matches!(
            self.reason,
            TriageReason::Confident
                | TriageReason::LowConfidence
                | TriageReason::Ambiguous
                | TriageReason::Sensitive
                | TriageReason::CustomerRequested
                | TriageReason::HandlerError
                | TriageReason::NoAnswerInData
                | TriageReason::OutOfScope
        )
    }

    /// The bot fell back: it asked which intent was meant, or handed off because it was unsure.
    pub fn is_fallback(&self) -> bool {
        self.decision == DecisionKind::Clarify
            || (self.decision == DecisionKind::Handoff
                && matches!(self.reason, TriageReason::LowConfidence | TriageReason::Ambiguous))
    }
}

/// Everything a report is computed from.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub conversations: Vec<ConversationFacts>,
    pub handoffs: Vec<HandoffFacts>,
    pub messages: Vec<MessageCount>,
}

/// A median and 90th percentile, and how many values they are of.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    pub median: Option<f64>,
    pub p90: Option<f64>,
    pub count: usize,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Self {
        values.sort_by(f64::total_cmp);
        Self { median: quantile(&values, 0.5), p90: quantile(&values, 0.9), count: values.len() }
    }
}

/// The `q` quantile of sorted values, interpolating linearly between the two nearest ranks:
/// at h = (n − 1)·q, v[⌊h⌋] + (h − ⌊h⌋)·(v[⌊h⌋ + 1] − v[⌊h⌋]).
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let h = last as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(last);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// `part / whole`, or none when there is no whole.
fn rate(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct OutcomeCounts {
    pub bot_confirmed: usize,
    pub bot_assumed: usize,
    pub agent_resolved: usize,
    pub abandoned: usize,
    /// Not ended yet (with the bot or a person).
    pub open: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AutomationRate {
    /// (bot_confirmed + bot_assumed, not re-contacted) / conversations.
    pub rate: Option<f64>,
    pub confirmed: Option<f64>,
    pub assumed: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CouldHaveAnswered {
    pub handoffs: usize,
    /// Of all hand-offs.
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Csat {
    /// Ratings of 4 or 5 / ratings.
    pub rate: Option<f64>,
    pub ratings: usize,
    pub average: Option<f64>,
    /// How many ratings of 1, 2, 3, 4 and 5.
    pub by_score: [usize; 5],
}

/// The conversation figures of a window (or of one group in it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutcomeFigures {
    pub conversations: usize,
    pub outcomes: OutcomeCounts,
    pub automation_rate: AutomationRate,
    /// Conversations with at least one hand-off / conversations.
    pub handoff_rate: Option<f64>,
    pub handoffs: usize,
    pub handoffs_by_reason: BTreeMap<String, usize>,
    pub could_have_answered: CouldHaveAnswered,
    pub first_agent_reply_seconds: Spread,
    pub resolution_seconds: Spread,
    pub csat: Csat,
    /// Conversations re-contacted within 24 h of a resolution by the bot / conversations the
    /// bot resolved (re-contacted or not).
    pub recontact_rate_24h: Option<f64>,
    /// Shopper messages the model decided.
    pub messages: u64,
    /// Of those, the bot fell back on / messages.
    pub fallback_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntentFigures {
    pub intent: String,
    /// Messages the model decided with this top intent.
    pub volume: u64,
    pub fallbacks: u64,
    /// fallbacks / volume.
    pub fallback_rate: Option<f64>,
}

named_enum! {
    /// How far a distribution has moved, by its population stability index.
    pub enum DriftLevel {
        /// PSI of at most 0.1.
        Stable = "stable",
        /// Above 0.1.
        Moderate = "moderate",
        /// Above 0.25.
        Drift = "drift",
    }
}

impl DriftLevel {
    pub fn of(psi: f64) -> Self {
        if psi > PSI_DRIFT {
            DriftLevel::Drift
        } else if psi > PSI_MODERATE {
            DriftLevel::Moderate
        } else {
            DriftLevel::Stable
        }
    }
}

/// One bin of the confidence histogram: `[from, to)` (the last includes 1).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfidenceBin {
    pub from: f64,
    pub to: f64,
    pub messages: u64,
    pub share: Option<f64>,
    /// The share of the live model's held-out training examples in this bin.
    pub reference: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Psi {
    pub psi: f64,
    pub level: DriftLevel,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drift {
    /// The live model whose training data is the reference.
    pub model_version: Option<String>,
    pub confidence_histogram: Vec<ConfidenceBin>,
    /// None without messages in the window or without a reference.
    pub confidence: Option<Psi>,
    pub intent_mix: Option<Psi>,
    /// Why there is no PSI, when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub key: String,
    #[serde(flatten)]
    pub figures: OutcomeFigures,
    /// Messages the model decided, per confidence bin.
    pub confidence_histogram: Vec<u64>,
}

/// How many first replies took at most `le_seconds` (and more than the bound before).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReplyTimeBin {
    /// None for the last, open bin.
    pub le_seconds: Option<f64>,
    pub handoffs: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub from: String,
    pub to: String,
    #[serde(flatten)]
    pub figures: OutcomeFigures,
    pub first_agent_reply_distribution: Vec<ReplyTimeBin>,
    /// Per intent, by volume.
    pub intents: Vec<IntentFigures>,
    pub drift: Drift,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<GroupBy>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<Group>,
}

/// The live model's version and its reference, when it has one.
pub struct LiveReference<'a> {
    pub model_version: &'a str,
    pub reference: Option<&'a TrafficReference>,
}

/// Computes the report of `window` from its facts.
pub fn report(window: Window, by: Option<GroupBy>, facts: &Facts, live: Option<LiveReference<'_>>) -> Report {
    let figures = outcome_figures(&facts.conversations, &facts.handoffs, &facts.messages);
    let groups = by.map(|by| groups(window, by, facts)).unwrap_or_default();
    Report {
        from: iso(window.from),
        to: iso(window.to),
        figures,
        first_agent_reply_distribution: reply_time_distribution(&facts.handoffs),
        intents: intent_figures(&facts.messages),
        drift: drift(&facts.messages, live),
        by,
        groups,
    }
}

fn outcome_figures(
    conversations: &[ConversationFacts],
    handoffs: &[HandoffFacts],
    messages: &[MessageCount],
) -> OutcomeFigures {
    let n = conversations.len();
    let mut outcomes = OutcomeCounts::default();
    for c in conversations {
        match c.outcome.map(|s| s.outcome) {
            Some(Outcome::BotConfirmed) => outcomes.bot_confirmed += 1,
            Some(Outcome::BotAssumed) => outcomes.bot_assumed += 1,
            Some(Outcome::AgentResolved) => outcomes.agent_resolved += 1,
            Some(Outcome::Abandoned) => outcomes.abandoned += 1,
            None => outcomes.open += 1,
        }
    }
    let handed_off: HashSet<&str> = handoffs.iter().map(|h| h.conversation_id.as_str()).collect();
    let mut by_reason: BTreeMap<String, usize> = HandoffReason::ALL.iter().map(|r| (r.name().to_string(), 0)).collect();
    for h in handoffs {
        *by_reason.entry(h.reason.name().to_string()).or_default() += 1;
    }
    let marked = handoffs.iter().filter(|h| h.could_have_answered).count();
    let first_replies =
        handoffs.iter().filter_map(|h| h.first_agent_reply_at.map(|at| (at - h.queued_at) as f64 / 1000.0)).collect();
    let resolutions = conversations
        .iter()
        .filter_map(|c| {
            c.outcome.filter(|s| s.outcome != Outcome::Abandoned).map(|s| (s.at - c.started_at) as f64 / 1000.0)
        })
        .collect();
    let ratings: Vec<i64> = conversations.iter().filter_map(|c| c.rating).collect();
    let mut by_score = [0usize; 5];
    for r in &ratings {
        if let Some(slot) = usize::try_from(r - 1).ok().and_then(|i| by_score.get_mut(i)) {
            *slot += 1;
        }
    }
    let satisfied = ratings.iter().filter(|&&r| r >= SATISFIED_FROM).count();
    // A re-contacted conversation no longer counts as resolved by the bot, however it ends.
    let by_bot = |o: Outcome| {
        conversations.iter().filter(|c| !c.recontacted && c.outcome.is_some_and(|s| s.outcome == o)).count()
    };
    let (confirmed, assumed) = (by_bot(Outcome::BotConfirmed), by_bot(Outcome::BotAssumed));
    let recontacted = conversations.iter().filter(|c| c.recontacted).count();
    let resolved_by_bot_once =
        conversations.iter().filter(|c| c.recontacted || c.outcome.is_some_and(|s| s.outcome.by_bot())).count();
    let decided: Vec<&MessageCount> = messages.iter().filter(|m| m.decided_by_model()).collect();
    let message_total: u64 = decided.iter().map(|m| m.count).sum();
    let fallbacks: u64 = decided.iter().filter(|m| m.is_fallback()).map(|m| m.count).sum();
    OutcomeFigures {
        conversations: n,
        outcomes,
        automation_rate: AutomationRate {
            rate: rate(confirmed + assumed, n),
            confirmed: rate(confirmed, n),
            assumed: rate(assumed, n),
        },
        handoff_rate: rate(conversations.iter().filter(|c| handed_off.contains(c.id.as_str())).count(), n),
        handoffs: handoffs.len(),
        handoffs_by_reason: by_reason,
        could_have_answered: CouldHaveAnswered { handoffs: marked, rate: rate(marked, handoffs.len()) },
        first_agent_reply_seconds: Spread::of(first_replies),
        resolution_seconds: Spread::of(resolutions),
        csat: Csat {
            rate: rate(satisfied, ratings.len()),
            ratings: ratings.len(),
            average: (!ratings.is_empty()).then(|| ratings.iter().sum::<i64>() as f64 / ratings.len() as f64),
            by_score,
        },
        recontact_rate_24h: rate(recontacted, resolved_by_bot_once),
        messages: message_total,
        fallback_rate: (message_total > 0).then(|| fallbacks as f64 / message_total as f64),
    }
}

fn reply_time_distribution(handoffs: &[HandoffFacts]) -> Vec<ReplyTimeBin> {
    let mut bins: Vec<ReplyTimeBin> = FIRST_REPLY_BOUNDS
        .iter()
        .map(|&b| ReplyTimeBin { le_seconds: Some(b), handoffs: 0 })
        .chain(std::iter::once(ReplyTimeBin { le_seconds: None, handoffs: 0 }))
        .collect();
    for h in handoffs {
        if let Some(at) = h.first_agent_reply_at {
            let seconds = (at - h.queued_at) as f64 / 1000.0;
            let i = FIRST_REPLY_BOUNDS.iter().position(|&b| seconds <= b).unwrap_or(FIRST_REPLY_BOUNDS.len());
            bins[i].handoffs += 1;
        }
    }
    bins
}

fn intent_figures(messages: &[MessageCount]) -> Vec<IntentFigures> {
    let mut by_intent: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for m in messages.iter().filter(|m| m.decided_by_model()) {
        let entry = by_intent.entry(m.intent.as_str()).or_default();
        entry.0 += m.count;
        if m.is_fallback() {
            entry.1 += m.count;
        }
    }
    let mut out: Vec<IntentFigures> = by_intent
        .into_iter()
        .map(|(intent, (volume, fallbacks))| IntentFigures {
            intent: intent.to_string(),
            volume,
            fallbacks,
            fallback_rate: (volume > 0).then(|| fallbacks as f64 / volume as f64),
        })
        .collect();
    out.sort_by(|a, b| b.volume.cmp(&a.volume).then_with(|| a.intent.cmp(&b.intent)));
    out
}

fn histogram<'a>(messages: impl Iterator<Item = &'a MessageCount>) -> Vec<u64> {
    let mut bins = vec![0u64; CONFIDENCE_BINS];
    for m in messages.filter(|m| m.decided_by_model()) {
        bins[m.bin.min(CONFIDENCE_BINS - 1)] += m.count;
    }
    bins
}

/// The population stability index of observed shares `a` against reference shares `e`:
/// Σ (aᵢ − eᵢ)·ln(aᵢ / eᵢ), each share floored at 0.0001.
pub fn psi(observed: &[f64], reference: &[f64]) -> f64 {
    observed
        .iter()
        .zip(reference)
        .map(|(&a, &e)| {
            let (a, e) = (a.max(PSI_FLOOR), e.max(PSI_FLOOR));
            (a - e) * (a / e).ln()
        })
        .sum()
}

fn drift(messages: &[MessageCount], live: Option<LiveReference<'_>>) -> Drift {
    let counts = histogram(messages.iter());
    let total: u64 = counts.iter().sum();
    let reference = live.as_ref().and_then(|l| l.reference);
    let share = |c: u64| (total > 0).then(|| c as f64 / total as f64);
    let confidence_histogram = counts
        .iter()
        .enumerate()
        .map(|(i, &c)| ConfidenceBin {
            from: i as f64 / CONFIDENCE_BINS as f64,
            to: (i + 1) as f64 / CONFIDENCE_BINS as f64,
            messages: c,
            share: share(c),
            reference: reference.and_then(|r| r.confidence.get(i).copied()),
        })
        .collect();
    let note = match (total, reference) {
        (0, _) => Some("no messages decided by the model in this window".to_string()),
        (_, None) => Some("the live model has no reference distribution: retrain it to get one".to_string()),
        (n, _) if n < DRIFT_MIN_MESSAGES => {
            Some(format!("only {n} messages: below {DRIFT_MIN_MESSAGES} the PSI swings with chance, read it with care"))
        }
        _ => None,
    };
    let (confidence, intent_mix) = match (total, reference) {
        (1.., Some(reference)) => {
            let observed: Vec<f64> = counts.iter().map(|&c| c as f64 / total as f64).collect();
            let confidence = psi(&observed, &reference.confidence);
            let mut mix: BTreeMap<&str, u64> = reference.intents.keys().map(|k| (k.as_str(), 0)).collect();
            for m in messages.iter().filter(|m| m.decided_by_model()) {
                *mix.entry(m.intent.as_str()).or_default() += m.count;
            }
            let (observed, expected): (Vec<f64>, Vec<f64>) = mix
                .iter()
                .map(|(intent, &c)| (c as f64 / total as f64, reference.intents.get(*intent).copied().unwrap_or(0.0)))
                .unzip();
            let intents = psi(&observed, &expected);
            (
                Some(Psi { psi: confidence, level: DriftLevel::of(confidence) }),
                Some(Psi { psi: intents, level: DriftLevel::of(intents) }),
            )
        }
        _ => (None, None),
    };
    Drift {
        model_version: live.map(|l| l.model_version.to_string()),
        confidence_histogram,
        confidence,
        intent_mix,
        note,
    }
}

/// The day (UTC, `YYYY-MM-DD`) of a time.
fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

fn day_key(day: i64) -> String {
    iso(day * DAY_MS)[..10].to_string()
}

const NO_KEY: &str = "(none)";

/// The facts of one group.
#[derive(Default)]
struct Bucket {
    conversations: Vec<ConversationFacts>,
    handoffs: Vec<HandoffFacts>,
    messages: Vec<MessageCount>,
}

/// Puts every fact in its group in one pass (days as numbers until the end).
fn groups(window: Window, by: GroupBy, facts: &Facts) -> Vec<Group> {
    #[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
    enum Key {
        Day(i64),
        Name(String),
    }
    let conversation_key = |c: &ConversationFacts| match by {
        GroupBy::Day => Key::Day(day_of(c.started_at)),
        GroupBy::Intent => Key::Name(c.intent.clone().unwrap_or_else(|| NO_KEY.into())),
        GroupBy::ModelVersion => Key::Name(c.model_version.clone().unwrap_or_else(|| NO_KEY.into())),
    };
    let message_key = |m: &MessageCount| match by {
        GroupBy::Day => Key::Day(m.day),
        GroupBy::Intent => Key::Name(m.intent.clone()),
        GroupBy::ModelVersion => Key::Name(m.model_version.clone()),
    };
    let mut buckets: BTreeMap<Key, Bucket> = BTreeMap::new();
    if by == GroupBy::Day && window.to > window.from {
        // Every day of the window, empty ones too, so charts have no gaps.
        for day in day_of(window.from)..=day_of(window.to - 1) {
            buckets.entry(Key::Day(day)).or_default();
        }
    }
    let mut key_of_conversation: HashMap<&str, Key> = HashMap::new();
    for c in &facts.conversations {
        let key = conversation_key(c);
        key_of_conversation.insert(c.id.as_str(), key.clone());
        buckets.entry(key).or_default().conversations.push(c.clone());
    }
    for h in &facts.handoffs {
        if let Some(key) = key_of_conversation.get(h.conversation_id.as_str()) {
            buckets.entry(key.clone()).or_default().handoffs.push(h.clone());
        }
    }
    for m in facts.messages.iter().filter(|m| m.decided_by_model()) {
        buckets.entry(message_key(m)).or_default().messages.push(m.clone());
    }
    buckets
        .into_iter()
        .map(|(key, bucket)| Group {
            key: match key {
                Key::Day(day) => day_key(day),
                Key::Name(name) => name,
            },
            figures: outcome_figures(&bucket.conversations, &bucket.handoffs, &bucket.messages),
            confidence_histogram: histogram(bucket.messages.iter()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    fn conversation(id: &str, started_at: i64, outcome: Option<(Outcome, i64)>) -> ConversationFacts {
        ConversationFacts {
            id: id.into(),
            started_at,
            intent: Some("order_status".into()),
            model_version: Some("v1".into()),
            outcome: outcome.map(|(outcome, at)| Settled { outcome, at }),
            recontacted: false,
            rating: None,
        }
    }

    fn handoff(conversation: &str, reason: HandoffReason, queued_at: i64, reply_after: Option<i64>) -> HandoffFacts {
        HandoffFacts {
            conversation_id: conversation.into(),
            reason,
            queued_at,
            first_agent_reply_at: reply_after.map(|d| queued_at + d),
            could_have_answered: false,
        }
    }

    fn messages(intent: &str, decision: DecisionKind, reason: TriageReason, bin: usize, count: u64) -> MessageCount {
        MessageCount { day: 0, intent: intent.into(), decision, reason, bin, model_version: "v1".into(), count }
    }

    #[test]
    fn windows_default_to_the_last_7_days_and_refuse_bad_input() {
        let now = 100 * DAY_MS;
        assert_eq!(Window::parse(None, None, now), Ok(Window { from: 93 * DAY_MS, to: now }));
        let w = Window::parse(Some("2026-11-01"), Some("2026-12-01T00:00:00Z"), now).unwrap();
        assert_eq!(w.to - w.from, 30 * DAY_MS);
        let offset = Window::parse(Some("2026-12-01T01:00:00+01:00"), Some("2026-12-01T00:00:00Z"), now).unwrap();
        assert_eq!(offset.from, offset.to, "an offset is honoured");
        assert!(Window::parse(Some("2026-12-02"), Some("2026-12-01"), now).unwrap_err().0.contains("after"));
        assert!(Window::parse(Some("2025-01-01"), Some("2026-12-01"), now).unwrap_err().0.contains("400 days"));
        assert!(Window::parse(Some("yesterday"), None, now).unwrap_err().0.contains("from=\"yesterday\""));
        assert!(GroupBy::parse_query("week").unwrap_err().0.contains("day, intent or model_version"));
    }

    #[test]
    fn quantiles_interpolate_between_ranks() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[7.0], 0.9), Some(7.0));
        assert_eq!(quantile(&[10.0, 20.0], 0.5), Some(15.0));
        let p90 = quantile(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0], 0.9).unwrap();
        assert!((p90 - 9.1).abs() < 1e-12);
    }

    #[test]
    fn outcome_figures_follow_their_formulas() {
        let mut rated = conversation("c1", 0, Some((Outcome::BotConfirmed, MIN)));
        rated.rating = Some(5);
        let mut recontacted = conversation("c3", 0, None);
        recontacted.recontacted = true;
        let mut resolved_again = conversation("c6", 0, Some((Outcome::BotAssumed, 0)));
        resolved_again.recontacted = true;
        let mut agent = conversation("c4", 0, Some((Outcome::AgentResolved, 10 * MIN)));
        agent.rating = Some(2);
        let facts = Facts {
            conversations: vec![
                rated,
                conversation("c2", 0, Some((Outcome::BotAssumed, 2 * MIN))),
                recontacted,
                agent,
                conversation("c5", 0, Some((Outcome::Abandoned, 3 * MIN))),
                resolved_again,
            ],
            handoffs: vec![
                handoff("c4", HandoffReason::Sensitive, 0, Some(30_000)),
                HandoffFacts {
                    could_have_answered: true,
                    ..handoff("c3", HandoffReason::LowConfidence, 0, Some(90_000))
                },
            ],
            messages: vec![
                messages("order_status", DecisionKind::Answer, TriageReason::Confident, 9, 6),
                messages("order_status", DecisionKind::Clarify, TriageReason::LowConfidence, 3, 2),
                messages("reorder", DecisionKind::Handoff, TriageReason::Ambiguous, 4, 1),
                messages("reorder", DecisionKind::Answer, TriageReason::QuickReply, 2, 5),
            ],
        };
        let r = report(Window { from: 0, to: DAY_MS }, None, &facts, None);
        let f = &r.figures;
        assert_eq!(f.conversations, 6);
        assert_eq!(
            f.outcomes,
            OutcomeCounts { bot_confirmed: 1, bot_assumed: 2, agent_resolved: 1, abandoned: 1, open: 1 }
        );
        let sixth = 1.0 / 6.0;
        assert_eq!(
            f.automation_rate,
            AutomationRate { rate: Some(2.0 / 6.0), confirmed: Some(sixth), assumed: Some(sixth) },
            "c6 was resolved by the bot again after a re-contact: it does not count"
        );
        assert_eq!(f.handoff_rate, Some(2.0 / 6.0));
        assert_eq!((f.handoffs_by_reason["sensitive"], f.handoffs_by_reason["low_confidence"]), (1, 1));
        assert_eq!(f.handoffs_by_reason["customer_requested"], 0, "every reason is listed");
        assert_eq!(f.could_have_answered, CouldHaveAnswered { handoffs: 1, rate: Some(0.5) });
        assert_eq!(f.first_agent_reply_seconds, Spread { median: Some(60.0), p90: Some(84.0), count: 2 });
        assert_eq!(f.resolution_seconds.median, Some(90.0), "0, 60, 120 and 600 s; abandoned is not resolved");
        assert_eq!((f.csat.rate, f.csat.ratings, f.csat.average), (Some(0.5), 2, Some(3.5)));
        assert_eq!(f.csat.by_score, [0, 1, 0, 0, 1]);
        assert_eq!(f.recontact_rate_24h, Some(0.5), "c3 and c6 re-contacted, of c1, c2, c3, c6");
        assert_eq!(f.messages, 9, "clicks are not the model's decisions");
        assert_eq!(f.fallback_rate, Some(3.0 / 9.0));
        assert_eq!(
            r.intents[0],
            IntentFigures { intent: "order_status".into(), volume: 8, fallbacks: 2, fallback_rate: Some(0.25) }
        );
        assert_eq!(r.intents[1].fallback_rate, Some(1.0));
        assert_eq!(r.first_agent_reply_distribution[0].handoffs, 1, "30 s is at most 30 s");
        assert_eq!(r.first_agent_reply_distribution[2].handoffs, 1, "90 s is in (60, 120]");
    }

    #[test]
    fn an_empty_window_has_no_rates_rather_than_zeros() {
        let r = report(Window { from: 0, to: DAY_MS }, None, &Facts::default(), None);
        assert_eq!(r.figures.automation_rate.rate, None);
        assert_eq!(r.figures.csat.rate, None);
        assert_eq!(r.figures.first_agent_reply_seconds.median, None);
        assert!(r.drift.confidence.is_none() && r.drift.note.is_some());
    }

    #[test]
    fn the_psi_is_zero_for_the_reference_itself_and_flags_a_shift() {
        let reference = TrafficReference::of([("a", 0.95), ("a", 0.95), ("b", 0.85), ("b", 0.75)]);
        assert_eq!(reference.confidence[9], 0.5);
        assert_eq!(reference.intents["b"], 0.5);
        let same = vec![
            messages("a", DecisionKind::Answer, TriageReason::Confident, 9, 2),
            messages("b", DecisionKind::Answer, TriageReason::Confident, 8, 1),
            messages("b", DecisionKind::Answer, TriageReason::Confident, 7, 1),
        ];
        let live = || Some(LiveReference { model_version: "v1", reference: Some(&reference) });
        let d = drift(&same, live());
        assert!(d.confidence.as_ref().unwrap().psi.abs() < 1e-12);
        assert_eq!(d.intent_mix.as_ref().unwrap().level, DriftLevel::Stable);
        let shifted = vec![messages("c", DecisionKind::Clarify, TriageReason::LowConfidence, 3, 10)];
        let d = drift(&shifted, live());
        assert_eq!(d.confidence.as_ref().unwrap().level, DriftLevel::Drift);
        assert_eq!(d.intent_mix.as_ref().unwrap().level, DriftLevel::Drift);
        // By hand: all in bin 3 against half in 7 and half in 9, each floored at 0.0001.
        let by_hand = (1.0 - 1e-4) * (1.0f64 / 1e-4).ln()
            + 2.0 * (1e-4 - 0.25) * (1e-4f64 / 0.25).ln()
            + (1e-4 - 0.5) * (1e-4f64 / 0.5).ln();
        assert!((d.confidence.unwrap().psi - by_hand).abs() < 1e-9);
        assert_eq!(DriftLevel::of(0.1), DriftLevel::Stable);
        assert_eq!(DriftLevel::of(0.11), DriftLevel::Moderate);
        assert_eq!(DriftLevel::of(0.26), DriftLevel::Drift);
    }

    #[test]
    fn groups_by_day_cover_every_day_of_the_window() {
        let facts = Facts {
            conversations: vec![conversation("c1", DAY_MS + 5, Some((Outcome::BotConfirmed, DAY_MS + 10)))],
            handoffs: vec![],
            messages: vec![MessageCount {
                day: 1,
                ..messages("a", DecisionKind::Answer, TriageReason::Confident, 9, 3)
            }],
        };
        let r = report(Window { from: 0, to: 3 * DAY_MS }, Some(GroupBy::Day), &facts, None);
        let keys: Vec<&str> = r.groups.iter().map(|g| g.key.as_str()).collect();
        assert_eq!(keys, ["1970-01-01", "1970-01-02", "1970-01-03"]);
        assert_eq!(r.groups[1].figures.conversations, 1);
        assert_eq!(r.groups[1].figures.automation_rate.rate, Some(1.0));
        assert_eq!(r.groups[1].confidence_histogram[9], 3);
        assert_eq!(r.groups[0].figures.conversations, 0);
    }

    #[test]
    fn confidence_bins_are_tenths_with_one_in_the_last() {
        assert_eq!(confidence_bin(0.0), 0);
        assert_eq!(confidence_bin(0.0999), 0);
        assert_eq!(confidence_bin(0.1), 1);
        assert_eq!(confidence_bin(1.0), 9);
    }
}
