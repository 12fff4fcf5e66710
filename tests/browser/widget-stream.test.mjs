// The widget's event stream is open only while its panel is open or a reply is awaited: counted
// in the page (requests still running) and on the server (switchboard_open_streams{kind="shopper"}).
// Run with tests/browser/run.sh.

import assert from "node:assert/strict";
import { describe, test } from "node:test";

import {
  AGENT,
  agentApi,
  apiMessages,
  apiSend,
  ask,
  assertClean,
  eventually,
  gotoStore,
  openShopperStreams,
  openWidget,
  say,
  storedConversation,
  useBrowser,
  watchStreams,
  widget,
} from "./helpers.mjs";

/** How long the widget keeps a stream nothing needs any more (STREAM_GRACE_MS in chat.js). */
const GRACE_MS = 5000;

const fresh = useBrowser();

/** Waits until the page has `n` streams open and the server counts as many. */
async function streamsOpen(streams, n) {
  await eventually(async () => streams.open === n && (await openShopperStreams()) === n, {
    timeout: GRACE_MS + 20000,
    interval: 250,
    message: `${n} open stream(s) (page: ${streams.open})`,
  });
}

/** Every stored message is shown once, in order. */
async function showsEveryMessageOnce(page, conv) {
  const w = widget(page);
  const { messages } = await apiMessages(conv);
  await eventually(async () => (await w.loc("[data-seq]").count()) === messages.length, { message: "every stored message shown" });
  const seqs = await w.loc("[data-seq]").evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
  assert.deepEqual(seqs, messages.map((m) => m.seq), "no gaps, no repeats, in order");
}

describe("widget stream: open only while needed", { concurrency: false }, () => {
  test("a returning shopper's page holds no stream: one history request, the unread badge; opening resumes, closing ends it", async () => {
    const { context, page, problems } = await fresh();
    const streams = watchStreams(page);
    await gotoStore(page);
    const w = await openWidget(page);
    await ask(page, "what payment methods do you accept?");
    await streamsOpen(streams, 1);
    // Closed with nothing awaited: the stream goes after the grace.
    await page.keyboard.press("Escape");
    await w.panel.waitFor({ state: "hidden" });
    await page.waitForTimeout(GRACE_MS / 2);
    assert.equal(streams.open, 1, "the stream stays during the grace");
    await streamsOpen(streams, 0);

    // Meanwhile the shopper writes from elsewhere: its answer is unread here.
    const conv = await storedConversation(page);
    await apiSend(conv, "how long does delivery take?");

    const histories = [];
    page.on("request", (r) => r.method() === "GET" && /\/messages\?after=0$/.test(r.url()) && histories.push(r.url()));
    const openedBefore = streams.opened;
    await page.reload();
    await page.waitForFunction(() => window.SwitchboardWidget?.__instance);
    await w.badge.waitFor({ state: "visible" });
    assert.match(await w.launcher.getAttribute("aria-label"), /unread/);
    await page.waitForTimeout(1500);
    assert.equal(streams.opened, openedBefore, "no stream on a page load with the panel closed");
    assert.equal(await openShopperStreams(), 0, "the server holds no stream");
    assert.equal(histories.length, 1, "one history request");

    // Opening resumes after the last message shown: everything once.
    const { lastSeq } = await storedConversation(page);
    await w.launcher.click();
    await streamsOpen(streams, 1);
    assert.equal(streams.resumedAfter.at(-1), lastSeq, "resumed with Last-Event-ID");
    assert.equal(await w.badge.isVisible(), false, "opening clears the badge");
    await showsEveryMessageOnce(page, conv);
    await apiSend(conv, "do you ship to Ireland?");
    await w.bubbles("shopper").filter({ hasText: "do you ship to Ireland?" }).waitFor();
    await showsEveryMessageOnce(page, conv);

    await page.keyboard.press("Escape");
    await streamsOpen(streams, 0);
    assertClean(problems);
    await context.close();
  });

  test("after a hand-off a closed panel keeps the stream until the agent answers; the reply raises the badge", async () => {
    const { context, page, problems } = await fresh();
    const streams = watchStreams(page);
    await gotoStore(page);
    const w = await openWidget(page);
    const conv = await storedConversation(page);
    await w.loc(".header-actions button").click();
    await w.status.filter({ hasText: "You're in the queue for a person" }).waitFor();

    // Queued: a page load with the panel closed opens the stream.
    await page.keyboard.press("Escape");
    await page.reload();
    await page.waitForFunction(() => window.SwitchboardWidget?.__instance);
    await streamsOpen(streams, 1);

    const agent = await agentApi(AGENT);
    const base = `/api/v1/agent/conversations/${conv.id}`;
    assert.equal((await agent.post(`${base}/claim`)).status, 200, "claim");
    await page.waitForTimeout(GRACE_MS + 1500);
    assert.equal(streams.open, 1, "assigned, the agent has not written yet: the stream stays");
    assert.equal((await agent.post(`${base}/messages`, { text: "Hi, I'm Riley. How can I help?" })).status, 200, "reply");
    await w.badge.filter({ hasText: "1" }).waitFor();
    // Answered: the stream goes after the grace.
    await streamsOpen(streams, 0);

    await w.launcher.click();
    await w.bubbles("agent").filter({ hasText: "How can I help?" }).waitFor();
    await showsEveryMessageOnce(page, conv);

    // The shopper writes and closes the panel: the agent's next reply still arrives.
    await say(page, "my parcel never came");
    await page.keyboard.press("Escape");
    await page.waitForTimeout(GRACE_MS + 1500);
    assert.equal(streams.open, 1, "the shopper wrote last: the stream stays");
    assert.equal((await agent.post(`${base}/messages`, { text: "Sorry to hear! Let me check." })).status, 200, "second reply");
    await w.badge.filter({ hasText: "1" }).waitFor();
    await streamsOpen(streams, 0);
    await agent.dispose();

    await w.launcher.click();
    await w.bubbles("agent").filter({ hasText: "Let me check." }).waitFor();
    await showsEveryMessageOnce(page, conv);
    assertClean(problems);
    await context.close();
  });
});
