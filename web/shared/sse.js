// Server-sent events read from a fetch() body, so callers choose the headers (Authorization, Last-Event-ID).

/**
 * Yields `{event, data, id}` for each event in the stream, `event` defaulting to "message" and
 * `data` being the data lines joined with "\n". `onBytes` is called whenever anything arrives,
 * comments (keep-alives) included. Leaving the loop early cancels the body.
 */
export async function* sseEvents(body, onBytes = () => {}) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let pending = null;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      onBytes();
      buffer += value;
      // A "\r" at the very end may be the first half of "\r\n": wait for the next chunk.
      const lineEnd = /\r\n|\n|\r(?!$)/;
      let m;
      while ((m = lineEnd.exec(buffer))) {
        const line = buffer.slice(0, m.index);
        buffer = buffer.slice(m.index + m[0].length);
        if (line === "") {
          if (pending) yield { event: pending.event, data: pending.data.join("\n"), id: pending.id };
          pending = null;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field !== "event" && field !== "data" && field !== "id") continue;
        pending ??= { event: "message", data: [], id: null };
        if (field === "event") pending.event = text;
        else if (field === "data") pending.data.push(text);
        else pending.id = text;
      }
    }
  } finally {
    reader.cancel().catch(() => {});
  }
}
