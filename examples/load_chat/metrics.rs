//! What the servers say about themselves in `GET /metrics` (Prometheus text): where a message's
//! time goes, `switchboard_chat_stage_seconds{stage}` read before and after a phase and summed
//! over instances and other labels, and how many shopper streams they count open.

use std::collections::BTreeMap;

const METRIC: &str = "switchboard_chat_stage_seconds";
/// The stages in the order a message passes them; others the server reports follow.
const ORDER: [&str; 4] = ["classify_wait", "classify", "database", "notify"];

/// Seconds and observations per stage.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Totals(BTreeMap<String, (f64, f64)>);

/// Every instance's metrics text, in the order of `bases`.
pub struct Scrape(Vec<String>);

/// Scrapes every base's `/metrics`; an error names the instance that did not answer.
pub async fn scrape(client: &reqwest::Client, bases: &[String]) -> Result<Scrape, String> {
    let mut texts = Vec::new();
    for base in bases {
        let url = format!("{base}/metrics");
        let response = client.get(&url).send().await.map_err(|e| format!("{url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("{url}: HTTP {}", response.status()));
        }
        texts.push(response.text().await.map_err(|e| format!("{url}: {e}"))?);
    }
    Ok(Scrape(texts))
}

impl Scrape {
    /// The stage histogram's sums and counts, added up.
    pub fn stages(&self) -> Totals {
        let mut totals = Totals::default();
        for text in &self.0 {
            totals.add(text);
        }
        totals
    }

    /// `switchboard_open_streams{kind="shopper"}` added up over the instances.
    pub fn open_shopper_streams(&self) -> f64 {
        let shopper = |labels: &str| label(labels, "kind").as_deref() == Some("shopper");
        self.0
            .iter()
            .flat_map(|t| samples(t, "switchboard_open_streams"))
            .filter(|(l, _)| shopper(l))
            .map(|s| s.1)
            .sum()
    }
}

/// The samples of metric `name` in Prometheus text: their labels (the text between the braces)
/// and values.
fn samples<'a>(text: &'a str, name: &'a str) -> impl Iterator<Item = (&'a str, f64)> + 'a {
    text.lines().filter(|l| !l.starts_with('#')).filter_map(move |line| {
        let name_end = line.find(['{', ' ']).unwrap_or(line.len());
        if &line[..name_end] != name {
            return None;
        }
        let (labels, rest) = split_labels(&line[name_end..])?;
        Some((labels, rest.split_whitespace().next()?.parse::<f64>().ok()?))
    })
}

impl Totals {
    /// Adds the `_sum` and `_count` samples of the stage histogram.
    fn add(&mut self, text: &str) {
        for (suffix, is_sum) in [("_sum", true), ("_count", false)] {
            for (labels, value) in samples(text, &format!("{METRIC}{suffix}")) {
                let Some(stage) = label(labels, "stage") else { continue };
                let entry = self.0.entry(stage).or_default();
                if is_sum {
                    entry.0 += value;
                } else {
                    entry.1 += value;
                }
            }
        }
    }

    /// One line: each stage's mean milliseconds per message between `self` (before) and `after`.
    pub fn report(&self, after: &Totals) -> String {
        let mut stages: Vec<&String> = after.0.keys().collect();
        stages.sort_by_key(|s| (ORDER.iter().position(|o| o == s).unwrap_or(ORDER.len()), s.as_str()));
        let parts: Vec<String> = stages
            .into_iter()
            .filter_map(|stage| {
                let (sum, count) = after.0[stage];
                let (sum0, count0) = self.0.get(stage).copied().unwrap_or_default();
                let n = count - count0;
                (n > 0.0).then(|| format!("{stage} {:.2} ms", (sum - sum0) / n * 1e3))
            })
            .collect();
        if parts.is_empty() {
            return format!("not reported (the server has no {METRIC} histogram, or nothing was recorded)");
        }
        format!("{} (mean per message)", parts.join(", "))
    }
}

/// `{a="x",b="y"} rest` into the text between the braces and what follows; no braces, no labels.
fn split_labels(s: &str) -> Option<(&str, &str)> {
    let Some(inner) = s.strip_prefix('{') else { return Some(("", s)) };
    let mut at = 0;
    loop {
        let i = at + inner[at..].find(['"', '}'])?;
        if inner[i..].starts_with('}') {
            return Some((&inner[..i], &inner[i + 1..]));
        }
        at = i + 1 + closing_quote(&inner[i + 1..])? + 1;
    }
}

/// The value of label `name` (escapes are not expected in stage names and are left as they are).
fn label(labels: &str, name: &str) -> Option<String> {
    let mut rest = labels;
    while let Some((key, after)) = rest.split_once('=') {
        let after = after.strip_prefix('"')?;
        let end = closing_quote(after)?;
        if key.trim() == name {
            return Some(after[..end].to_string());
        }
        rest = after[end + 1..].trim_start_matches([',', ' ']);
    }
    None
}

/// Where the quoted value that `s` starts inside ends: its first quote not escaped.
fn closing_quote(s: &str) -> Option<usize> {
    let mut escaped = false;
    s.char_indices()
        .find(|&(_, c)| {
            let closes = c == '"' && !escaped;
            escaped = c == '\\' && !escaped;
            closes
        })
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_and_counts_add_up_over_other_labels_and_instances() {
        let text = "# TYPE switchboard_chat_stage_seconds histogram\n\
            switchboard_chat_stage_seconds_bucket{stage=\"classify\",le=\"0.005\"} 3\n\
            switchboard_chat_stage_seconds_sum{instance=\"a} \\\"b\\\"\",stage=\"classify\"} 0.5\n\
            switchboard_chat_stage_seconds_count{stage=\"classify\",instance=\"a, b\"} 100\n\
            switchboard_chat_stage_seconds_sum{stage=\"notify\"} 0.01 1700000000\n\
            switchboard_chat_stage_seconds_count{stage=\"notify\"} 10\n\
            switchboard_chat_stage_seconds_sum 9\n";
        let mut after = Totals::default();
        after.add(text);
        after.add(text);
        let report = Totals::default().report(&after);
        assert_eq!(report, "classify 5.00 ms, notify 1.00 ms (mean per message)");
    }

    #[test]
    fn open_shopper_streams_add_up_over_instances() {
        let one = "switchboard_open_streams{kind=\"shopper\"} 3\nswitchboard_open_streams{kind=\"agent\"} 1\n";
        let two = "# HELP x\nswitchboard_open_streams{kind=\"shopper\"} 4\n";
        assert_eq!(Scrape(vec![one.into(), two.into()]).open_shopper_streams(), 7.0);
    }

    #[test]
    fn a_server_without_the_histogram_is_said_to_have_none() {
        let mut after = Totals::default();
        after.add("switchboard_reply_seconds_sum 3\n");
        assert!(Totals::default().report(&after).starts_with("not reported"));
    }
}
