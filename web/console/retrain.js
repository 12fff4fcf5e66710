// Retraining from the admin page: starts the background job (or follows the one already
// running) and shows its progress every half second, then its notes and the new candidate's
// gate verdict. A reload keeps following the job (its id is kept for the tab's session).

import { clear, h } from "../shared/dom.js";
import { api } from "./api.js";
import { $, toast } from "./page.js";
import { state } from "./state.js";

const POLL_MS = 500;
const KEY = "switchboard:retrain-job";
const STAGES = {
  queued: "Waiting to start",
  loading: "Loading the intents and approved examples",
  embedding: "Reading the examples (embeddings)",
  validating: "Cross-validating",
  fitting: "Fitting the new model",
  gating: "Comparing with the live model (the gate)",
  saving: "Saving the candidate",
  done: "Done",
};

let following = null; // the job id being followed
let timer = null;
let onFinished = async () => null; // (job) => the new model's summary, once the list is read again

/** `finished(job)` reads the models again and returns the job's new model (or null). */
export function initRetrain(finished) {
  onFinished = finished;
  $("#retrain-btn").addEventListener("click", start);
}

/** Follows the job running now, wherever it was started (or this tab's, after a reload). */
export async function resumeRetrain() {
  if (following) return;
  const id = (await runningJob()) || sessionStorage.getItem(KEY);
  if (id && !following) follow(id, false);
}

/** The id of the retraining job running now, if any. */
async function runningJob() {
  try {
    const { jobs } = await api("GET", "/api/v1/admin/jobs?active=true");
    return jobs.length ? jobs[0].id : null;
  } catch {
    return null;
  }
}

/** While a job runs the button stays focusable (aria-disabled) but does nothing. */
function busy(on) {
  $("#retrain-btn").setAttribute("aria-disabled", String(on));
}

async function start() {
  if ($("#retrain-btn").getAttribute("aria-disabled") === "true") return;
  busy(true);
  try {
    const job = await api("POST", "/api/v1/admin/models/retrain");
    announce("Retraining started.");
    follow(job.job_id, true, job);
  } catch (e) {
    busy(false);
    if (e.status === 401) return;
    const running = e.code === "retrain_running" ? await runningJob() : null;
    showPanel();
    const text = running ? "A retraining job is already running (started elsewhere): its progress shows here." : e.message;
    clear($("#retrain-result")).append(h("p", { class: running ? "retrain-note" : "form-error", text }));
    if (running) follow(running, false);
  }
}

function follow(id, fresh, first = null) {
  following = id;
  sessionStorage.setItem(KEY, id);
  busy(true);
  showPanel();
  if (fresh) clear($("#retrain-result"));
  if (first) progress({ stage: first.stage, progress: first.progress, state: first.state });
  clearTimeout(timer);
  poll();
}

async function poll() {
  const id = following;
  if (!id || !state.me) return stop();
  let job;
  try {
    job = await api("GET", `/api/v1/admin/jobs/${encodeURIComponent(id)}`);
  } catch (e) {
    if (e.status === 404) sessionStorage.removeItem(KEY);
    if (e.status === 401 || e.status === 404 || e.status === 403) {
      if (e.status === 404) $("#retrain-panel").hidden = true;
      return stop();
    }
    timer = setTimeout(poll, POLL_MS * 4); // the server is briefly unreachable: keep trying
    return;
  }
  if (following !== id) return;
  progress(job);
  if (job.state === "queued" || job.state === "running") {
    timer = setTimeout(poll, POLL_MS);
  } else {
    stop();
    await finished(job);
  }
}

function stop() {
  clearTimeout(timer);
  following = null;
  busy(false);
}

function showPanel() {
  $("#retrain-panel").hidden = false;
}

/** The bar, the stage in words. */
function progress(job) {
  const pct = Math.round(Math.max(0, Math.min(1, job.progress || 0)) * 100);
  const words = job.state === "failed" ? "Failed" : STAGES[job.stage] || job.stage;
  const bar = $("#retrain-bar");
  bar.setAttribute("aria-valuenow", String(pct));
  bar.setAttribute("aria-valuetext", `${words}: ${pct}%`);
  bar.classList.toggle("is-failed", job.state === "failed");
  bar.firstElementChild.style.transform = `scaleX(${pct / 100})`;
  $("#retrain-label").textContent = job.state === "queued" || job.state === "running" ? "Retraining" : "Last retraining";
  $("#retrain-stage").textContent = `${words} · ${pct}%`;
}

async function finished(job) {
  sessionStorage.removeItem(KEY);
  const result = clear($("#retrain-result"));
  if (job.state === "failed") {
    result.append(h("p", { class: "form-error", text: `Retraining failed: ${job.error || "no reason given"}` }));
    announce(`Retraining failed: ${job.error || "no reason given"}`);
    if ($("#admin-view").hidden) toast("Retraining failed.", "error");
    await onFinished(job);
    return;
  }
  const model = await onFinished(job);
  const name = model ? `#${model.number}` : "The new model";
  let verdict;
  if (!model || !model.gate) verdict = `${name} is saved.`;
  else if (model.gate.passed) verdict = `${name} is a candidate: it passed the gate and can be promoted.`;
  else verdict = `${name} failed the gate and is rejected: ${model.gate.reasons.join("; ")}.`;
  result.append(h("p", { class: `retrain-verdict ${model && model.gate && !model.gate.passed ? "is-failed" : "is-passed"}` }, h("strong", { text: "Finished. " }), verdict));
  if (job.notes && job.notes.length) {
    result.append(h("ul", { class: "retrain-notes", "aria-label": "Notes on the data" }, job.notes.map((n) => h("li", { text: n }))));
  }
  announce(`Retraining finished. ${verdict}`);
  if ($("#admin-view").hidden) toast(`Retraining finished: ${verdict}`, "ok");
}

/** Start and finish are said once to screen readers (the bar carries the progress). */
function announce(text) {
  const el = $("#retrain-status");
  el.textContent = "";
  setTimeout(() => (el.textContent = text), 50);
}
