// Retry delays: doubling, with random jitter so clients that lost one server don't all return at once.

/** Milliseconds to wait before retry number `attempt` (0-based): base·2^attempt, at most `max`. */
export function backoff(attempt, base = 1000, max = 30000) {
  const delay = Math.min(max, base * 2 ** attempt);
  return Math.round(delay * (0.6 + Math.random() * 0.4));
}
