//! The HTML evaluation report: confusion matrix, confidence histogram for right and wrong
//! answers, the coverage-vs-precision curve, per-intent figures and misclassified examples.
//! One self-contained file with inline SVG, no scripts.

use std::fmt::Write;
use std::path::Path;

use super::evaluate::Evaluation;

pub const REPORT_FILE: &str = "report.html";

/// Escapes text for HTML element and attribute content.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Writes `report.html` into `dir` (created if needed) and returns its path.
pub fn write_report(dir: &Path, title: &str, eval: &Evaluation) -> std::io::Result<std::path::PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(REPORT_FILE);
    std::fs::write(&path, render(title, eval))?;
    Ok(path)
}

pub fn render(title: &str, eval: &Evaluation) -> String {
    document(title, &body(eval))
}

/// Two evaluations on the same rows side by side, e.g. the live model and a candidate.
pub fn render_pair(title: &str, left: (&str, &Evaluation), right: (&str, &Evaluation)) -> String {
    let column =
        |(name, eval): (&str, &Evaluation)| format!("<div class=col><h2>{}</h2>{}</div>", escape(name), body(eval));
    document(title, &format!("<div class=pair>{}{}</div>", column(left), column(right)))
}

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=en><meta charset=utf-8><title>{t}</title><style>{CSS}</style><body><h1>{t}</h1>{body}</body></html>\n",
        t = escape(title)
    )
}

fn body(eval: &Evaluation) -> String {
    let f = &eval.figures;
    let mut html = String::new();
    let pct = |v: f64| format!("{:.1} %", v * 100.0);
    let _ = write!(html, "<section class=cards>");
    let mut card = |name: &str, value: String| {
        let _ = write!(html, "<div class=card><div class=v>{}</div><div class=k>{}</div></div>", escape(&value), name);
    };
    card("accuracy (top-1, in scope)", pct(f.accuracy));
    card("in-scope accuracy after thresholds", pct(f.in_scope_accuracy));
    card("macro-F1", format!("{:.3}", f.macro_f1));
    if let Some(r) = f.oos_recall {
        card("out-of-scope recall", pct(r));
    }
    if let Some(p) = f.oos_precision {
        card("out-of-scope precision", pct(p));
    }
    card(
        "answered automatically",
        format!("{} at {} precision", pct(f.coverage_at_target_precision), pct(f.answer_precision)),
    );
    card("embedding", format!("{:.0} sentences/s", eval.embed_per_sec));
    card("test rows", format!("{} ({} out of scope)", f.test_rows, f.oos_rows));
    html.push_str("</section>");
    let t = &eval.thresholds;
    let _ = write!(
        html,
        "<p class=note>Thresholds: global {:.2}, margin {:.2}, {} per-intent thresholds for a target precision of {}.</p>",
        t.global,
        t.margin,
        t.per_intent.len(),
        pct(f64::from(t.target_precision))
    );
    html.push_str("<div class=row><section><h2>Confidence of right and wrong answers</h2>");
    html.push_str(&histogram(eval));
    html.push_str("</section><section><h2>Coverage against precision</h2>");
    html.push_str(&coverage_curve(eval));
    html.push_str("</section></div><section><h2>Confusion matrix</h2><p class=note>Rows: true intent; columns: predicted (top-1). Darker is more; the diagonal is right.</p>");
    html.push_str(&confusion_matrix(eval));
    html.push_str("</section>");
    html.push_str(&per_intent_table(eval));
    html.push_str(&misclassified_table(eval));
    html
}

const CSS: &str = "body{font:14px system-ui,sans-serif;margin:24px;color:#1d2433;max-width:1200px}h1{font-size:22px}h2{font-size:16px;margin:24px 0 8px}.cards{display:flex;flex-wrap:wrap;gap:12px}.card{background:#f3f5f9;border-radius:8px;padding:12px 16px;min-width:150px}.v{font-size:20px;font-weight:600}.k{color:#5b6478;font-size:12px}.row{display:flex;flex-wrap:wrap;gap:24px}.note{color:#5b6478}table{border-collapse:collapse;font-size:13px}td,th{padding:3px 8px;border-bottom:1px solid #e3e7ef;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}svg text{font:10px system-ui,sans-serif;fill:#1d2433}.bad{color:#b42318}.pair{display:flex;gap:32px;align-items:flex-start}.pair .col{flex:1;min-width:0;overflow-x:auto}body:has(.pair){max-width:none}";

fn histogram(eval: &Evaluation) -> String {
    const BINS: usize = 20;
    let (mut right, mut wrong) = ([0usize; BINS], [0usize; BINS]);
    for s in &eval.held_out {
        let top = s.top();
        let bin = ((top.confidence * BINS as f32) as usize).min(BINS - 1);
        if Some(top.class) == s.truth { right[bin] += 1 } else { wrong[bin] += 1 }
    }
    let max = right.iter().chain(&wrong).copied().max().unwrap_or(1).max(1) as f64;
    let (w, h, pad) = (460.0, 220.0, 30.0);
    let bw = (w - 2.0 * pad) / BINS as f64;
    let mut svg = format!("<svg width={w} height={h} role=img aria-label='confidence histogram'>");
    for i in 0..BINS {
        for (k, (counts, colour)) in [(&right, "#2e7d32"), (&wrong, "#c62828")].iter().enumerate() {
            let bh = counts[i] as f64 / max * (h - 2.0 * pad);
            let x = pad + i as f64 * bw + k as f64 * bw / 2.0;
            let _ = write!(
                svg,
                "<rect x={x:.1} y={:.1} width={:.1} height={bh:.1} fill='{colour}'><title>{} {}</title></rect>",
                h - pad - bh,
                bw / 2.0 - 1.0,
                counts[i],
                if k == 0 { "right" } else { "wrong" }
            );
        }
    }
    let _ = write!(svg, "<line x1={pad} y1={0} x2={1} y2={0} stroke='#888'/>", h - pad, w - pad);
    for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let _ = write!(
            svg,
            "<text x={:.1} y={:.1} text-anchor=middle>{tick}</text>",
            pad + tick * (w - 2.0 * pad),
            h - pad + 14.0
        );
    }
    let _ = write!(
        svg,
        "<rect x={} y=8 width=10 height=10 fill='#2e7d32'/><text x={} y=17>right</text><rect x={} y=8 width=10 height=10 fill='#c62828'/><text x={} y=17>wrong</text></svg>",
        w - 150.0,
        w - 136.0,
        w - 90.0,
        w - 76.0
    );
    svg
}

/// Precision and coverage as the global threshold sweeps 0..1 (per-intent thresholds aside).
fn coverage_curve(eval: &Evaluation) -> String {
    let (w, h, pad) = (460.0, 220.0, 34.0);
    let oos = crate::domain::intent::out_of_scope_index(&eval.labels);
    let tops: Vec<_> = eval.held_out.iter().map(|s| (s.top(), s.truth)).collect();
    let n = tops.len().max(1) as f64;
    let mut points = Vec::new();
    for step in 0..=100 {
        let t = step as f32 / 100.0;
        let answered: Vec<_> = tops.iter().filter(|(top, _)| top.confidence >= t && Some(top.class) != oos).collect();
        if answered.is_empty() {
            continue;
        }
        let right = answered.iter().filter(|(top, truth)| Some(top.class) == *truth).count();
        points.push((answered.len() as f64 / n, right as f64 / answered.len() as f64));
    }
    let x = |c: f64| pad + c * (w - 2.0 * pad);
    let y = |p: f64| h - pad - p * (h - 2.0 * pad);
    let path: Vec<String> = points.iter().map(|(c, p)| format!("{:.1},{:.1}", x(*c), y(*p))).collect();
    let target = f64::from(eval.thresholds.target_precision);
    let mut svg = format!("<svg width={w} height={h} role=img aria-label='coverage against precision'>");
    let _ = write!(svg, "<polyline fill=none stroke='#1f5fbf' stroke-width=2 points='{}'/>", path.join(" "));
    let _ = write!(
        svg,
        "<line x1={pad} x2={} y1={:.1} y2={:.1} stroke='#c62828' stroke-dasharray='4 3'/><text x={} y={:.1}>target {target}</text>",
        w - pad,
        y(target),
        y(target),
        w - pad - 60.0,
        y(target) - 4.0
    );
    let _ = write!(
        svg,
        "<circle cx={:.1} cy={:.1} r=4 fill='#c62828'><title>calibrated thresholds</title></circle>",
        x(eval.figures.coverage_at_target_precision),
        y(eval.figures.answer_precision)
    );
    let _ = write!(
        svg,
        "<line x1={pad} y1={0} x2={1} y2={0} stroke='#888'/><line x1={pad} y1={pad} x2={pad} y2={0} stroke='#888'/>",
        h - pad,
        w - pad
    );
    let _ = write!(
        svg,
        "<text x={} y={}>coverage (share answered) →</text><text x=2 y={}>precision</text>",
        w / 2.0 - 60.0,
        h - 6.0,
        pad - 8.0
    );
    for tick in [0.0, 0.5, 1.0] {
        let _ = write!(
            svg,
            "<text x={:.1} y={:.1} text-anchor=middle>{tick}</text><text x={:.1} y={:.1} text-anchor=end>{tick}</text>",
            x(tick),
            h - pad + 14.0,
            pad - 4.0,
            y(tick) + 3.0
        );
    }
    svg.push_str("</svg>");
    svg
}

fn confusion_matrix(eval: &Evaluation) -> String {
    let n = eval.labels.len();
    // Rows whose truth the model does not know are drawn in an extra last row.
    let mut counts = vec![vec![0usize; n]; n + 1];
    for s in &eval.held_out {
        counts[s.truth.unwrap_or(n)][s.top().class] += 1;
    }
    let has_unknown = counts[n].iter().any(|&c| c > 0);
    let rows = if has_unknown { n + 1 } else { n };
    let cell = if n > 60 {
        5.0
    } else if n > 30 {
        10.0
    } else {
        18.0
    };
    let label_w = if n > 60 { 0.0 } else { 170.0 };
    let size = cell * n as f64;
    let mut svg = format!(
        "<svg width={:.0} height={:.0} role=img aria-label='confusion matrix'>",
        label_w + size + 10.0,
        label_w + cell * rows as f64 + 10.0
    );
    let max = counts.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    for (r, row) in counts.iter().take(rows).enumerate() {
        let name = eval.labels.get(r).map_or("(unknown to the model)", String::as_str);
        if label_w > 0.0 {
            let _ = write!(
                svg,
                "<text x={:.0} y={:.1} text-anchor=end>{}</text>",
                label_w - 4.0,
                label_w + r as f64 * cell + cell * 0.7,
                escape(name)
            );
        }
        for (c, &count) in row.iter().enumerate() {
            if count == 0 {
                continue;
            }
            let shade = (count as f64 / max).sqrt();
            let colour = if r == c {
                format!("rgba(31,95,191,{:.2})", 0.15 + 0.85 * shade)
            } else {
                format!("rgba(198,40,40,{:.2})", 0.25 + 0.75 * shade)
            };
            let _ = write!(
                svg,
                "<rect x={:.1} y={:.1} width={cell} height={cell} fill='{colour}'><title>{} → {}: {count}</title></rect>",
                label_w + c as f64 * cell,
                label_w + r as f64 * cell,
                escape(name),
                escape(&eval.labels[c])
            );
        }
    }
    if label_w > 0.0 {
        for (c, name) in eval.labels.iter().enumerate() {
            let (x, y) = (label_w + c as f64 * cell + cell * 0.7, label_w - 4.0);
            let _ = write!(svg, "<text transform='translate({x:.1},{y:.1}) rotate(-60)'>{}</text>", escape(name));
        }
    }
    svg.push_str("</svg>");
    svg
}

fn per_intent_table(eval: &Evaluation) -> String {
    let mut html = String::from(
        "<section><h2>Per intent (top-1)</h2><table><tr><th>intent<th>precision<th>recall<th>F1<th>support<th>confused with</tr>",
    );
    let mut rows: Vec<_> = eval.figures.per_intent.iter().collect();
    rows.sort_by(|a, b| a.1.f1.total_cmp(&b.1.f1));
    for (name, f) in rows {
        let confused: Vec<String> =
            f.confused_with.iter().map(|c| format!("{} ({})", escape(&c.intent), c.count)).collect();
        let _ = write!(
            html,
            "<tr><td>{}<td class=n>{:.3}<td class=n>{:.3}<td class=n>{:.3}<td class=n>{}<td>{}</tr>",
            escape(name),
            f.precision,
            f.recall,
            f.f1,
            f.support,
            confused.join(", ")
        );
    }
    html.push_str("</table></section>");
    html
}

fn misclassified_table(eval: &Evaluation) -> String {
    let wrong: Vec<_> = eval.rows.iter().filter(|r| r.predicted != r.intent).collect();
    let mut html = format!(
        "<section><h2>Misclassified examples ({})</h2><table><tr><th>text<th>true<th>predicted<th>confidence<th>decision</tr>",
        wrong.len()
    );
    for r in wrong.iter().take(500) {
        let _ = write!(
            html,
            "<tr><td>{}<td>{}<td class=bad>{}<td class=n>{:.2}<td>{}</tr>",
            escape(&r.text),
            escape(&r.intent),
            escape(&r.predicted),
            r.confidence,
            r.decision
        );
    }
    html.push_str("</table></section>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("<img src=x onerror='a'>&\""), "&lt;img src=x onerror=&#39;a&#39;&gt;&amp;&quot;");
    }
}
