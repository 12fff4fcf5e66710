// The hand-off alert: a two-tone WebAudio beep (no audio file) and the toolbar switch that mutes it.

import { svgIcon } from "../shared/dom.js";
import { $ } from "./page.js";
import { stats } from "./state.js";

const STORAGE_KEY = "switchboard:console:sound";
let audio = null;
let soundOn = localStorage.getItem(STORAGE_KEY) !== "off";

export function initSound() {
  // Browsers only allow sound after a user gesture: the context is made on the first one.
  document.addEventListener("pointerdown", unlockAudio, { capture: true });
  document.addEventListener("keydown", unlockAudio, { capture: true });
  $("#sound-toggle").addEventListener("click", toggle);
  renderToggle();
}

export function unlockAudio() {
  try {
    if (!audio) {
      const AudioContext = window.AudioContext || window.webkitAudioContext;
      if (AudioContext) audio = new AudioContext();
    }
    if (audio && audio.state === "suspended") audio.resume().catch(() => {});
  } catch {
    audio = null;
  }
}

/** Plays the alert (counted in stats.beeps) unless muted. */
export function beep() {
  if (!soundOn) return;
  stats.beeps += 1;
  play();
}

function play() {
  if (!audio) return;
  try {
    const t = audio.currentTime + 0.01;
    for (const [freq, at] of [
      [880, 0],
      [1318.5, 0.14],
    ]) {
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = "sine";
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t + at);
      gain.gain.exponentialRampToValueAtTime(0.18, t + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + at + 0.22);
      osc.connect(gain).connect(audio.destination);
      osc.start(t + at);
      osc.stop(t + at + 0.25);
    }
  } catch {
    /* no sound, no harm */
  }
}

function toggle() {
  soundOn = !soundOn;
  localStorage.setItem(STORAGE_KEY, soundOn ? "on" : "off");
  renderToggle();
  if (soundOn) {
    // Let the agent hear what they turned on (a sample, not an alert).
    unlockAudio();
    play();
  }
}

function renderToggle() {
  const b = $("#sound-toggle");
  b.setAttribute("aria-pressed", String(soundOn));
  b.setAttribute("aria-label", soundOn ? "Sound on for new hand-offs" : "Sound off for new hand-offs");
  b.title = soundOn ? "Sound on for new hand-offs (click to mute)" : "Sound off (click to turn on)";
  const paths = soundOn
    ? ["M4 9v6h4l5 4V5L8 9H4z", "M16 8.5a5 5 0 0 1 0 7", "M18.5 6a8.5 8.5 0 0 1 0 12"]
    : ["M4 9v6h4l5 4V5L8 9H4z", "M17 9l5 6", "M22 9l-5 6"];
  b.replaceChildren(svgIcon(paths, "icon"));
}
