//! `switchboard report --from .. --to .. [--by day|intent|model_version] [--json]`: the outcomes
//! report of the console's Insights page, in the terminal, from the server's database.

use anyhow::Context;
use clap::Args;

use crate::domain::insights::{GroupBy, Report, Spread, Window};
use crate::store::{Store, now_ms};

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Database URL (the one `serve` uses).
    #[arg(long, env = "SWITCHBOARD_DATABASE_URL", default_value = "sqlite://data/switchboard.db")]
    pub database: String,
    /// Start of the window, ISO-8601 (2026-11-24 or 2026-11-24T09:00:00Z); default 7 days before --to.
    #[arg(long)]
    pub from: Option<String>,
    /// End of the window (exclusive); default now.
    #[arg(long)]
    pub to: Option<String>,
    /// Break the figures down by day, intent or model_version.
    #[arg(long)]
    pub by: Option<String>,
    /// Print the JSON of GET /api/v1/admin/metrics instead of a summary.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ReportArgs) -> anyhow::Result<()> {
    let window = Window::parse(args.from.as_deref(), args.to.as_deref(), now_ms()).map_err(anyhow::Error::msg)?;
    let by = args.by.as_deref().map(GroupBy::parse_query).transpose().map_err(anyhow::Error::msg)?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let report = runtime.block_on(async {
        if let Some(path) = args.database.strip_prefix("sqlite://").map(|p| p.split('?').next().unwrap_or(p)) {
            anyhow::ensure!(
                path == ":memory:" || std::path::Path::new(path).exists(),
                "there is no database at {path}: give the one the server uses with --database or SWITCHBOARD_DATABASE_URL (the demo's is sqlite://data/demo.db)"
            );
        }
        let store = Store::connect(&args.database)
            .await
            .with_context(|| format!("opening the database {}", crate::startup::redact(&args.database)))?;
        let report = crate::insights::report(&store, window, by).await;
        store.close().await;
        anyhow::Ok(report?)
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", summary(&report));
    }
    Ok(())
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".into(), |r| format!("{:.1} %", r * 100.0))
}

fn seconds(spread: &Spread) -> String {
    let show = |s: Option<f64>| s.map_or_else(|| "-".into(), |s| format!("{s:.0} s"));
    format!("median {}, p90 {} ({} values)", show(spread.median), show(spread.p90), spread.count)
}

fn summary(r: &Report) -> String {
    let f = &r.figures;
    let mut out = format!("Outcomes from {} to {}\n\n", r.from, r.to);
    let mut line = |label: &str, value: String| out.push_str(&format!("  {label:<28} {value}\n"));
    line("conversations", f.conversations.to_string());
    line(
        "automation rate",
        format!(
            "{} (confirmed {}, assumed {})",
            percent(f.automation_rate.rate),
            percent(f.automation_rate.confirmed),
            percent(f.automation_rate.assumed)
        ),
    );
    line("hand-off rate", format!("{} ({} hand-offs)", percent(f.handoff_rate), f.handoffs));
    line(
        "could have answered",
        format!("{} ({})", f.could_have_answered.handoffs, percent(f.could_have_answered.rate)),
    );
    line("first agent reply", seconds(&f.first_agent_reply_seconds));
    line("resolution time", seconds(&f.resolution_seconds));
    line("CSAT (4 or 5 of 5)", format!("{} of {} ratings", percent(f.csat.rate), f.csat.ratings));
    line("re-contacts within 24 h", percent(f.recontact_rate_24h));
    line("fallback rate", format!("{} of {} messages", percent(f.fallback_rate), f.messages));
    let psi = |p: &Option<crate::domain::insights::Psi>| {
        p.as_ref().map_or_else(|| "-".into(), |p| format!("PSI {:.3} ({})", p.psi, p.level))
    };
    line("drift: confidence", psi(&r.drift.confidence));
    line("drift: intent mix", psi(&r.drift.intent_mix));
    if let Some(note) = &r.drift.note {
        line("", note.clone());
    }
    out.push_str("\n  Hand-offs by reason\n");
    for (reason, n) in f.handoffs_by_reason.iter().filter(|(_, n)| **n > 0) {
        out.push_str(&format!("    {reason:<26} {n}\n"));
    }
    out.push_str("\n  Intents (by volume)          volume  fallback\n");
    for i in &r.intents {
        out.push_str(&format!("    {:<26} {:>7}  {:>8}\n", i.intent, i.volume, percent(i.fallback_rate)));
    }
    if let Some(by) = r.by {
        out.push_str(&format!("\n  By {by}{:>28}  automation  hand-off  CSAT\n", "conversations"));
        for g in &r.groups {
            out.push_str(&format!(
                "    {:<26} {:>7}  {:>10}  {:>8}  {:>6}\n",
                g.key,
                g.figures.conversations,
                percent(g.figures.automation_rate.rate),
                percent(g.figures.handoff_rate),
                percent(g.figures.csat.rate)
            ));
        }
    }
    out
}
