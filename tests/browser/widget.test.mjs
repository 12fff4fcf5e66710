// The storefront widget and the demo store, in headless Chromium against the real server.
// Run with tests/browser/run.sh (it starts `switchboard serve --demo` and sets SWITCHBOARD_URL).

import assert from "node:assert/strict";
import { createServer } from "node:http";
import { join } from "node:path";
import { describe, test } from "node:test";

import {
  AGENT,
  ARTIFACTS,
  BASE,
  STOREFRONT_ORIGIN,
  agentApi,
  ask,
  askOrderStatus,
  apiMessages,
  apiSend,
  assertClean,
  assertNoHorizontalOverflow,
  eventually,
  gotoStore,
  openWidget,
  say,
  signIn,
  storedConversation,
  useBrowser,
  widget,
} from "./helpers.mjs";

const fresh = useBrowser();

describe("storefront widget", { concurrency: false }, () => {
  test("demo store page: products, demo bar with sign-in switch and guest hint, CSP-clean", async () => {
    const { context, page, problems } = await fresh();
    await gotoStore(page);
    assert.match(await page.title(), /Juniper/);
    assert.equal(await page.locator(".grid .card").count(), 6);
    await page.locator("#guest-hint").waitFor();
    assert.equal(await page.locator("#guest-order").textContent(), "10004");
    assert.equal(await page.locator("#guest-email").textContent(), "sam.guest@example.com");
    assert.equal(await page.locator("#signin-switch").getAttribute("role"), "switch");
    // The widget's launcher is there and labelled; the panel is closed.
    const w = widget(page);
    assert.equal(await w.launcher.getAttribute("aria-label"), "Open chat");
    assert.equal(await w.panel.isVisible(), false);
    assertClean(problems);
    await context.close();
  });

  test("a store on another origin loads the widget and its modules from the chat server (CORS)", { skip: !STOREFRONT_ORIGIN }, async () => {
    const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Another store</title><link rel="icon" href="data:,">
      <script type="module" src="${BASE}/widget/widget.js" data-title="Another Store"></script></head>
      <body><main><h1>Another store</h1></main></body></html>`;
    const store = createServer((req, res) => res.writeHead(200, { "Content-Type": "text/html" }).end(page));
    await new Promise((listening) => store.listen(Number(new URL(STOREFRONT_ORIGIN).port), "127.0.0.1", listening));
    try {
      const s = await fresh();
      const modules = [];
      s.page.on("response", (r) => r.url().endsWith(".js") && modules.push(`${r.status()} ${new URL(r.url()).pathname}`));
      await s.page.goto(STOREFRONT_ORIGIN + "/");
      await s.page.waitForFunction(() => window.SwitchboardWidget && window.SwitchboardWidget.__instance);
      const w = await openWidget(s.page);
      assert.match(await w.bubbles("bot").first().textContent(), /^Another Store Assistant said: /);
      assert.match(await ask(s.page, "what payment methods do you accept?"), /\S/);
      assert.ok(modules.some((m) => m.startsWith("200 /shared/")), `shared modules load across origins: ${modules}`);
      assert.deepEqual(modules.filter((m) => !m.startsWith("200 ")), [], "every module loads");
      assertClean(s.problems);
      await s.context.close();
    } finally {
      store.close();
    }
  });

  test("signed-in demo shopper asks where the order is and gets status + tracking link", async () => {
    const { context, page, problems } = await fresh();
    await gotoStore(page);
    await signIn(page);
    const w = await openWidget(page);
    assert.equal(await w.panel.getAttribute("role"), "dialog");
    assert.ok(await w.panel.getAttribute("aria-labelledby"));
    assert.equal(await w.log.getAttribute("aria-live"), "polite");
    const answer = await askOrderStatus(page);
    const text = await answer.textContent();
    assert.match(text, /Order #\d+/);
    assert.match(text, /tracking number/i);
    const link = answer.locator("a");
    assert.equal(await link.count(), 1);
    assert.match(await link.getAttribute("href"), /^https:\/\//);
    assert.equal(await link.getAttribute("target"), "_blank");
    assert.match(await link.getAttribute("rel"), /noopener/);
    // The conversation is verified through the customer token: no verification form.
    assert.equal(await w.loc(".verify").count(), 0);
    assertClean(problems);
    await context.close();
  });

  test("guest verifies through the form; a wrong email gets nothing", async () => {
    const { context, page, problems } = await fresh();
    await gotoStore(page);
    const w = await openWidget(page);
    await say(page, "where is my order");
    await w.quick("Enter order details").last().click();
    const form = w.loc("form.verify");
    await form.waitFor();
    // Focus moved into the form.
    assert.equal(await page.evaluate(() => document.querySelector("#switchboard-widget").shadowRoot.activeElement?.name), "order_number");
    await form.locator('input[name="order_number"]').fill("10004");
    await form.locator('input[name="email"]').fill("someone.else@example.com");
    await form.locator('button[type="submit"]').click();
    await w.bubbles("bot").filter({ hasText: "couldn't match" }).waitFor();
    const all = await w.log.textContent();
    assert.doesNotMatch(all, /Order #10004|Insulated Bottle|tracking number/i, "no order data for a wrong email");

    await w.quick("Enter order details").last().click();
    await form.waitFor();
    await form.locator('input[name="order_number"]').fill(" 10004 ");
    await form.locator('input[name="email"]').fill("Sam.Guest@Example.com");
    await form.locator('button[type="submit"]').click();
    const answer = w.bubbles("bot").filter({ hasText: "Order #10004" });
    await answer.waitFor();
    assert.match(await answer.textContent(), /tracking number/i);
    assert.equal(await w.loc("form.verify").count(), 0, "the form is gone after verifying");
    assertClean(problems);
    await context.close();
  });

  test("reorder by quick replies gives one cart link on the store, even with a double click on yes", async () => {
    const { context, page, problems } = await fresh();
    await gotoStore(page);
    await signIn(page);
    const w = await openWidget(page);
    await say(page, "buy my last order again");
    const yes = w.quick("Yes").last();
    await yes.waitFor();
    await yes.dblclick();
    await w.bubbles("bot").filter({ hasText: "Here's your cart" }).first().waitFor();
    await page.waitForTimeout(1000); // let a second request land, if there were one
    assert.equal(await w.bubbles("bot").filter({ hasText: "Here's your cart" }).count(), 1);
    const conv = await storedConversation(page);
    const { messages } = await apiMessages(conv);
    const done = messages.filter((m) => m.sender === "bot" && m.text.startsWith("Here's your cart"));
    assert.equal(done.length, 1, "one cart link stored");
    assert.match(done[0].text, /https:\/\/shop\.example\.com\/cart\/\d+:\d+/, "a cart permalink on the store");
    const yesSent = messages.filter((m) => m.sender === "shopper" && /^Yes/.test(m.text));
    assert.equal(yesSent.length, 1, "one 'yes' stored");
    // The proposal's quick replies are spent; the one Yes left asks whether the answer helped.
    await w.bubbles("bot").filter({ hasText: "Did that answer your question?" }).first().waitFor();
    assert.equal(await w.quick("Yes").filter({ visible: true }).count(), 1);
    assertClean(problems);
    await context.close();
  });

  test("a reload keeps the conversation and its history, without repeats", async () => {
    const { context, page, problems } = await fresh();
    await gotoStore(page);
    await signIn(page);
    let w = await openWidget(page);
    await askOrderStatus(page);
    const before = await storedConversation(page);
    const countBefore = await w.loc(".row").count();

    await page.reload();
    await page.waitForFunction(() => window.SwitchboardWidget?.__instance);
    w = widget(page);
    await w.launcher.click();
    await w.bubbles("bot").filter({ hasText: "Order #" }).last().waitFor();
    const afterReload = await storedConversation(page);
    assert.equal(afterReload.id, before.id, "same conversation");
    assert.equal(await w.bubbles("shopper").filter({ hasText: "where is my order" }).count(), 1);
    assert.equal(await w.loc(".row").count(), countBefore, "same history, nothing repeated");
    // The switch is still on: signed in across the reload.
    assert.equal(await page.locator("#signin-switch").getAttribute("aria-checked"), "true");

    // Signing out starts a new conversation.
    await page.locator("#signin-switch").click();
    await eventually(async () => (await storedConversation(page))?.id && (await storedConversation(page)).id !== before.id, {
      message: "a new conversation after signing out",
    });
    await w.bubbles("bot").first().waitFor();
    assert.equal(await w.bubbles("shopper").count(), 0);
    assertClean(problems);
    await context.close();
  });

  for (const [width, height] of [
    [1280, 800],
    [360, 740],
  ]) {
    test(`hostile and unusual text appears literally, fires nothing, breaks no layout (${width}px)`, async () => {
      const { context, page, problems } = await fresh({ width, height });
      await gotoStore(page);
      const w = await openWidget(page);
      const rtl = "مرحبا، أين طلبي؟ 🙂📦🚚 שלום, איפה ההזמנה שלי? ".repeat(6) + "👩🏽‍💻🏳️‍🌈".repeat(20);
      const long = "x".repeat(300);
      const texts = ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>", rtl, long, '"><svg onload=alert(2)> javascript:alert(3)'];
      for (const t of texts) await say(page, t);
      await eventually(async () => (await w.loc(".row.pending").count()) === 0, { message: "all messages sent" });
      const shown = await w.bubbles("shopper").allTextContents();
      for (const t of texts) {
        assert.ok(shown.some((s) => s.endsWith(t)), `shown literally: ${t.slice(0, 30)}`);
      }
      const injected = await page.evaluate(() => {
        const root = document.querySelector("#switchboard-widget").shadowRoot;
        return {
          img: root.querySelectorAll(".log img").length,
          script: root.querySelectorAll("script").length + document.querySelectorAll("body script").length,
          svgOnload: [...root.querySelectorAll("svg")].filter((s) => s.hasAttribute("onload")).length,
          jsLinks: [...root.querySelectorAll("a")].filter((a) => !/^https?:/.test(a.href)).length,
        };
      });
      assert.deepEqual(injected, { img: 0, script: 0, svgOnload: 0, jsLinks: 0 });
      await page.waitForTimeout(300);
      await assertNoHorizontalOverflow(page);
      await w.bubbles("shopper").filter({ hasText: "<img" }).scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(ARTIFACTS, `widget-hostile-text-${width}.png`) });
      assertClean(problems);
      await context.close();
    });
  }

  test("keyboard only: Tab to the launcher, Enter opens, type, Enter sends, Escape closes", async () => {
    const { context, page, problems } = await fresh();
    await gotoStore(page);
    const active = () =>
      page.evaluate(() => {
        const host = document.querySelector("#switchboard-widget");
        if (document.activeElement !== host) return document.activeElement?.id || document.activeElement?.tagName;
        const el = host.shadowRoot.activeElement;
        return el ? el.className || el.tagName : "host";
      });
    let reached = false;
    for (let i = 0; i < 60 && !reached; i++) {
      await page.keyboard.press("Tab");
      reached = (await active()) === "launcher";
    }
    assert.ok(reached, "the launcher is reachable with Tab");
    await page.keyboard.press("Enter");
    const w = widget(page);
    await w.panel.waitFor({ state: "visible" });
    assert.equal(await page.evaluate(() => document.querySelector("#switchboard-widget").shadowRoot.activeElement?.tagName), "TEXTAREA");
    await w.bubbles("bot").first().waitFor();
    await page.keyboard.type("what are your delivery");
    await page.keyboard.press("Shift+Enter");
    await page.keyboard.type("options?");
    await page.keyboard.press("Enter");
    const mine = w.bubbles("shopper").last();
    await mine.waitFor();
    assert.ok((await mine.textContent()).endsWith("what are your delivery\noptions?"), "Shift+Enter is a new line");
    assert.equal(await w.input.inputValue(), "", "Enter sent and cleared the input");
    await eventually(async () => (await w.bubbles("bot").count()) >= 2, { message: "a reply" });
    await page.keyboard.press("Escape");
    await w.panel.waitFor({ state: "hidden" });
    assert.equal(await active(), "launcher", "focus returns to the launcher");
    assert.equal(await w.launcher.getAttribute("aria-expanded"), "false");
    assertClean(problems);
    await context.close();
  });

  test("live stream: replies sent elsewhere arrive without reload, once each, and raise the unread badge", async () => {
    const { context, page, problems } = await fresh();
    await gotoStore(page);
    const w = await openWidget(page);
    const conv = await storedConversation(page);
    await page.waitForTimeout(300); // stream connected
    await apiSend(conv, "what payment methods do you accept?");
    await w.bubbles("shopper").filter({ hasText: "what payment methods" }).waitFor();
    await eventually(async () => (await w.bubbles("bot").count()) >= 2, { message: "the bot's reply over the stream" });

    // Closed panel: a new reply raises the badge.
    await page.keyboard.press("Escape");
    await w.panel.waitFor({ state: "hidden" });
    await apiSend(conv, "how long does delivery take?");
    await w.badge.waitFor({ state: "visible" });
    assert.match(await w.badge.textContent(), /^[1-9]/);
    assert.match(await w.launcher.getAttribute("aria-label"), /unread/);
    await page.screenshot({ path: join(ARTIFACTS, "launcher-unread-badge.png"), clip: { x: 1080, y: 600, width: 200, height: 200 } });

    // The stream drops (offline); messages sent meanwhile arrive once when it resumes.
    const resumes = [];
    page.on("request", (r) => {
      if (r.url().endsWith("/events")) resumes.push(r.headers()["last-event-id"]);
    });
    problems.allowNetworkErrors = true;
    await context.setOffline(true);
    await page.waitForTimeout(300);
    await apiSend(conv, "do you ship to Ireland?");
    await apiSend(conv, "can I return a gift?");
    await context.setOffline(false);
    await w.launcher.click();
    assert.equal(await w.badge.isVisible(), false, "opening clears the badge");
    await w.bubbles("shopper").filter({ hasText: "can I return a gift?" }).waitFor({ timeout: 40000 });
    const { messages } = await apiMessages(conv);
    await eventually(async () => (await w.loc("[data-seq]").count()) === messages.length, {
      timeout: 20000,
      message: "every stored message shown once",
    });
    const seqs = await w.loc("[data-seq]").evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
    assert.deepEqual(seqs, messages.map((m) => m.seq), "no gaps, no repeats, in order");
    assert.ok(resumes.length >= 1 && resumes.every((id) => /^\d+$/.test(id)), `resumed with Last-Event-ID (${resumes})`);
    assert.deepEqual(problems.dialogs, []);
    await context.close();
  });

  test("an unsent message is kept, shown as not sent yet, and retried with the same id", async () => {
    const { context, page, problems } = await fresh();
    await gotoStore(page);
    const w = await openWidget(page);
    const conv = await storedConversation(page);
    problems.allowNetworkErrors = true;
    // The first two attempts fail at the network level; the ids of all attempts are recorded.
    const ids = [];
    let failures = 0;
    await page.route("**/api/v1/conversations/*/messages", async (route) => {
      if (route.request().method() !== "POST") return route.continue();
      ids.push(JSON.parse(route.request().postData()).client_message_id);
      if (failures < 2) {
        failures += 1;
        return route.abort("internetdisconnected");
      }
      return route.continue();
    });
    await w.input.fill("is the Stoneware Mug dishwasher safe?");
    await w.input.press("Enter");
    await w.loc(".row.pending").filter({ hasText: "Not sent yet" }).waitFor();
    // Kept in storage too (survives a closed tab).
    const stored = await storedConversation(page);
    assert.equal(stored.outbox.length, 1);
    await w.loc(".row.pending").waitFor({ state: "detached", timeout: 30000 });
    await w.bubbles("shopper").filter({ hasText: "dishwasher" }).waitFor();
    assert.ok(ids.length >= 3, `retried (${ids.length} attempts)`);
    assert.equal(new Set(ids).size, 1, "every attempt used the same client_message_id");
    const { messages } = await apiMessages(conv);
    assert.equal(messages.filter((m) => m.text === "is the Stoneware Mug dishwasher safe?").length, 1);
    assert.equal((await storedConversation(page)).outbox.length, 0);
    assert.deepEqual(problems.dialogs, []);
    await context.close();
  });

  test("hand-off: queue line, a person joins, agent replies as text, resolved, rating stored", async () => {
    // The agent's side goes through the real agent API (log-in, claim, reply, resolve); the
    // console itself is driven in console.test.mjs.
    const { context, page, problems } = await fresh();
    await gotoStore(page);
    const w = await openWidget(page);
    const conv = await storedConversation(page);
    const talk = w.loc(".header-actions button");
    assert.equal(await talk.textContent(), "Talk to a person");
    await talk.click();
    await w.status.filter({ hasText: "You're in the queue for a person" }).waitFor();
    assert.equal(await talk.isDisabled(), true, "no second hand-off while queued");

    const agent = await agentApi(AGENT);
    const base = `/api/v1/agent/conversations/${conv.id}`;
    assert.equal((await agent.post(`${base}/claim`)).status, 200, "claim");
    await w.status.filter({ hasText: `${AGENT.name} joined the conversation` }).waitFor();
    const reply = await agent.post(`${base}/messages`, { text: "Hi, I'm Riley. <b>Not bold</b>\nYour refund is on its way: https://example.com/refunds/1 ." });
    assert.equal(reply.status, 200, "reply");
    const bubble = w.bubbles("agent").last();
    await bubble.waitFor();
    assert.ok((await bubble.textContent()).includes("<b>Not bold</b>\nYour refund"), "agent text is literal, newlines kept");
    assert.equal(await bubble.locator("b").count(), 0);
    assert.equal(await bubble.locator("a").getAttribute("href"), "https://example.com/refunds/1");
    // Initials leave out notes in parentheses: "Riley (demo agent)" -> "R".
    assert.equal(await w.loc(".row.agent .avatar").last().textContent(), "R");
    // A private note never reaches the widget.
    assert.equal((await agent.post(`${base}/notes`, { text: "internal: refund approved by finance" })).status, 200, "note");
    assert.equal((await agent.post(`${base}/resolve`)).status, 200, "resolve");
    await w.status.filter({ hasText: "Conversation resolved" }).waitFor();
    assert.doesNotMatch(await w.log.textContent(), /refund approved by finance/);
    const rating = w.loc("form.rating");
    await rating.waitFor();
    await rating.locator('button[data-score="4"]').click();
    await rating.locator("textarea").fill("Quick & kind <3");
    await page.screenshot({ path: join(ARTIFACTS, "widget-agent-rating-desktop.png") });
    await rating.locator('button[type="submit"]').click();
    await rating.filter({ hasText: "You rated this conversation 4 out of 5" }).waitFor();
    const stored = await apiMessages(conv);
    assert.equal(stored.rating, 4, "the rating is stored");
    assert.equal(stored.messages.filter((m) => m.sender === "note").length, 0, "no note in the shopper's transcript");
    assert.equal((await agent.get(base)).body.rating, 4, "the agent sees the rating");
    await agent.dispose();
    assertClean(problems);
    await context.close();
  });

  test("screenshots: storefront and widget on a desktop and at 360 px", async () => {
    for (const [width, height, name] of [
      [1280, 800, "desktop"],
      [360, 740, "360"],
    ]) {
      const { context, page, problems } = await fresh({ width, height });
      await gotoStore(page);
      await page.screenshot({ path: join(ARTIFACTS, `storefront-${name}.png`) });
      await signIn(page);
      const w = await openWidget(page);
      await askOrderStatus(page);
      await say(page, "buy my last order again");
      await w.quick("Yes").last().waitFor();
      await page.waitForTimeout(400);
      await assertNoHorizontalOverflow(page);
      await page.screenshot({ path: join(ARTIFACTS, `widget-${name}.png`) });
      if (width <= 480) {
        const box = await w.panel.boundingBox();
        assert.ok(box.width === width && box.height === height, "full-screen panel on a phone");
      }
      assertClean(problems);
      await context.close();
    }
  });

  test("after a bot resolution the widget asks for a rating; without any answer the refused rating card goes away", async () => {
    const { context, page, problems } = await fresh();
    await gotoStore(page);
    const w = await openWidget(page);
    await say(page, "what is your return policy?");
    const helped = w.quick("Yes").last();
    await helped.waitFor();
    await helped.click();
    await w.status.filter({ hasText: "Conversation resolved" }).waitFor();
    await w.loc("form.rating").waitFor();
    await context.close();

    // Handed off and resolved by an agent who never replied: nothing to rate.
    const second = await fresh();
    second.problems.ignore.push(/status of 409/); // the refused rating, answered as designed
    await gotoStore(second.page);
    const w2 = await openWidget(second.page);
    await say(second.page, "I want to talk to a person");
    await w2.status.filter({ hasText: "You're in the queue for a person" }).waitFor();
    const conv = await storedConversation(second.page);
    const agent = await agentApi(AGENT);
    for (const path of ["claim", "resolve"]) {
      assert.equal((await agent.post(`/api/v1/agent/conversations/${conv.id}/${path}`)).status, 200, path);
    }
    await agent.dispose();
    const card = w2.loc("form.rating");
    await card.waitFor();
    await card.locator('button[data-score="4"]').click();
    await card.locator('button[type="submit"]').click();
    await eventually(async () => (await w2.loc("form.rating").count()) === 0, { message: "the refused rating card is removed" });
    assertClean(problems);
    assertClean(second.problems);
    await second.context.close();
  });
});
