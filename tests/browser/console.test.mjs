// The agent console at /console, in headless Chromium against the real server, with a shopper
// on the demo store in a second browser context. Run with tests/browser/run.sh.

import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";

import {
  ADMIN,
  AGENT,
  ARTIFACTS,
  BASE,
  agentApi,
  apiConversation,
  apiHandoff,
  apiMessages,
  apiSend,
  assertClean,
  consoleLogin,
  eventually,
  gotoStore,
  openWidget,
  say,
  storedConversation,
  useBrowser,
  widget,
} from "./helpers.mjs";

const fresh = useBrowser();

const row = (page, id) => page.locator(`.qrow[data-id="${id}"]`);

/** Resolves every queued or assigned conversation, so each test starts with a known queue. */
async function emptyTheQueue() {
  const admin = await agentApi(ADMIN);
  for (const state of ["assigned", "queued"]) {
    const { body } = await admin.get(`/api/v1/agent/conversations?state=${state}`);
    for (const c of body.conversations) {
      if (state === "queued") await admin.post(`/api/v1/agent/conversations/${c.conversation_id}/claim`);
      await admin.post(`/api/v1/agent/conversations/${c.conversation_id}/resolve`);
    }
  }
  await admin.dispose();
}

describe("agent console", { concurrency: false }, () => {
  test("log-in: a wrong password shows the error, the right one shows the queue; CSP on the page; log-out", async () => {
    const { context, page, problems } = await fresh();
    problems.ignore.push(/status of 401 \(Unauthorized\)/);
    const res = await page.goto(BASE + "/console");
    const csp = res.headers()["content-security-policy"];
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /object-src 'none'/);
    await page.locator("#login-form").waitFor();
    assert.match(await page.title(), /Log in/);
    assert.equal(await page.locator("#app-view").isVisible(), false);
    await page.screenshot({ path: join(ARTIFACTS, "console-login.png") });

    await page.fill("#login-email", AGENT.email);
    await page.fill("#login-password", "not-the-password");
    await page.click("#login-submit");
    const err = page.locator("#login-error");
    await err.waitFor({ state: "visible" });
    assert.equal(await err.textContent(), "Wrong email or password.");
    assert.equal(await page.locator("#app-view").isVisible(), false);

    await page.fill("#login-password", AGENT.password);
    await page.press("#login-password", "Enter");
    await page.locator("#queue-list").waitFor();
    assert.equal(await page.locator("#tab-queued").getAttribute("aria-selected"), "true");
    assert.equal(await page.locator("#me-name").textContent(), AGENT.name);
    assert.equal(await page.locator("#nav-admin").isVisible(), false, "no admin page for an agent");
    assert.equal(await page.locator("#login-view").isVisible(), false);

    // The session survives a reload; log-out ends it.
    await page.reload();
    await page.locator("#queue-list").waitFor();
    await page.click("#logout-btn");
    await page.locator("#login-form").waitFor();
    await page.reload();
    await page.locator("#login-form").waitFor();
    assert.equal(await page.locator("#app-view").isVisible(), false, "logged out for good");
    assertClean(problems);
    await context.close();
  });

  test("hand-off end to end: arrives live, claim, reply reaches the widget, private note stays private, resolve, rating stored", async () => {
    await emptyTheQueue();
    const agent = await fresh();
    await consoleLogin(agent.page, agent.problems, AGENT);
    await agent.page.evaluate(() => (window.__noReload = true));
    await agent.page.click("body"); // a user gesture: the beep may play

    const shopper = await fresh();
    await gotoStore(shopper.page);
    const w = await openWidget(shopper.page);
    await say(shopper.page, "hi, I have a question about my parcel");
    await w.bubbles("bot").nth(1).waitFor();
    const conv = await storedConversation(shopper.page);
    await w.loc(".header-actions button").click();
    await w.status.filter({ hasText: "You're in the queue for a person" }).waitFor();

    // Live, without reload: the row appears, with a title badge and a beep.
    const r = row(agent.page, conv.id);
    await r.waitFor();
    assert.equal(await agent.page.evaluate(() => window.__noReload), true, "no reload");
    assert.match(await agent.page.title(), /^\(1\) Switchboard$/);
    assert.ok((await agent.page.evaluate(() => window.SwitchboardConsole.stats.beeps)) >= 1, "a beep");
    assert.match(await r.textContent(), /Asked for a person/);
    assert.match(await r.locator(".qrow-preview").textContent(), /question about my parcel/);
    assert.match(await r.locator(".wait").textContent(), /^\d+s$/);
    assert.equal(await r.locator(".chip-guest").textContent(), "Not verified");

    await r.click();
    await agent.page.locator(".msg.shopper .bubble").filter({ hasText: "question about my parcel" }).waitFor();
    assert.equal(await agent.page.title(), "Switchboard", "opening it clears the badge");
    assert.match(await agent.page.locator(".msg.shopper .triage").first().textContent(), /\d+%/);
    assert.match(await agent.page.locator("#customer-pane").textContent(), /Guest, not verified/);

    // Claim with the keyboard shortcut.
    await agent.page.keyboard.press("c");
    await agent.page.locator("#conv-meta .state-mine").waitFor();
    await w.status.filter({ hasText: `${AGENT.name} joined the conversation` }).waitFor();

    // Reply: Shift+Enter is a new line, Enter sends.
    const input = agent.page.locator("#composer-input");
    await input.focus();
    await agent.page.keyboard.type("Hello! I'm Riley.");
    await agent.page.keyboard.press("Shift+Enter");
    await agent.page.keyboard.type("Which order is it about?");
    await agent.page.keyboard.press("Enter");
    await agent.page.locator(".msg.agent .bubble").filter({ hasText: "Which order" }).waitFor();
    assert.equal(await input.inputValue(), "");
    const agentBubble = w.bubbles("agent").filter({ hasText: "Which order is it about?" });
    await agentBubble.waitFor();
    assert.ok((await agentBubble.textContent()).includes("Hello! I'm Riley.\nWhich order is it about?"));

    // The shopper answers: it arrives live in the console.
    await say(shopper.page, "order 10004, it never came");
    await agent.page.locator(".msg.shopper .bubble").filter({ hasText: "order 10004, it never came" }).waitFor();

    // A private note (n toggles the note mode).
    await input.press("Escape");
    await agent.page.keyboard.press("n");
    assert.equal(await agent.page.locator("#mode-note").getAttribute("aria-checked"), "true");
    const secret = "Private: check the carrier claim before refunding " + Date.now();
    await agent.page.keyboard.type(secret);
    await agent.page.keyboard.press("Enter");
    const note = agent.page.locator(".msg.note").filter({ hasText: secret });
    await note.waitFor();
    assert.match(await note.locator(".note-tag").textContent(), /Private note/);
    assert.equal(await agent.page.locator("#mode-note").getAttribute("aria-checked"), "false", "back to replies");
    await agent.page.screenshot({ path: join(ARTIFACTS, "console-conversation.png") });

    // The widget never shows the note, neither live nor in the shopper API.
    await shopper.page.waitForTimeout(1200);
    assert.doesNotMatch(await w.log.textContent(), /check the carrier claim/);
    const { messages } = await apiMessages(conv);
    assert.equal(messages.filter((m) => m.text.includes("check the carrier claim") || m.sender === "note").length, 0);

    // Resolve with the shortcut; the widget shows the rating prompt.
    await input.press("Escape");
    await agent.page.keyboard.press("e");
    await agent.page.locator("#conv-meta .state-resolved").waitFor();
    await agent.page.locator(".event").filter({ hasText: `Resolved by ${AGENT.name} · the shopper was asked for a rating` }).waitFor();
    const rating = w.loc("form.rating");
    await rating.waitFor();
    await rating.locator('button[data-score="5"]').click();
    await rating.locator('button[type="submit"]').click();
    await rating.filter({ hasText: "You rated this conversation 5 out of 5" }).waitFor();
    const stored = await agent.page.request.get(`${BASE}/api/v1/agent/conversations/${conv.id}`);
    assert.equal(stored.status(), 200);
    assert.equal((await stored.json()).rating, 5, "the rating is stored");
    // The console shows it too, once refreshed by the stream.
    await eventually(async () => /★★★★★/.test(await agent.page.locator("#customer-pane").textContent()), { message: "rating in the console" });

    assert.equal(await agent.page.evaluate(() => window.__noReload), true, "still no reload");
    assertClean(agent.problems);
    assertClean(shopper.problems);
    await agent.context.close();
    await shopper.context.close();
  });

  test("conversation events in each app's words: hand-off, claim, release, reassign, back to the bot", async () => {
    const shopper = await fresh();
    await gotoStore(shopper.page);
    const w = await openWidget(shopper.page);
    const conv = await storedConversation(shopper.page);
    await w.loc(".header-actions button").click();
    const statusLines = (text) => w.status.filter({ hasText: text });
    await statusLines("You're in the queue for a person").waitFor();

    const riley = await agentApi(AGENT);
    const sam = await agentApi(ADMIN);
    const base = `/api/v1/agent/conversations/${conv.id}`;
    const steps = [
      [riley, "claim", undefined, `${AGENT.name} joined the conversation`],
      [riley, "release", undefined, "You're in the queue for a person"],
      [sam, "claim", undefined, `${ADMIN.name} joined the conversation`],
      [sam, "reassign", { agent_id: riley.agent.id }, `${AGENT.name} joined the conversation`],
      [riley, "return-to-bot", undefined, "You're back with the assistant"],
    ];
    for (const [who, action, body, shopperSees] of steps) {
      const before = await statusLines(shopperSees).count();
      assert.equal((await who.post(`${base}/${action}`, body)).status, 200, action);
      await eventually(async () => (await statusLines(shopperSees).count()) > before, { message: `the widget shows "${shopperSees}"` });
    }
    await riley.dispose();
    await sam.dispose();

    const { context, page, problems } = await fresh();
    await consoleLogin(page, problems, ADMIN);
    await page.goto(`${BASE}/console#/inbox/${conv.id}`);
    await page.locator(".event").nth(5).waitFor();
    assert.deepEqual(await page.locator(".event-text").allTextContents(), [
      "Handed to a person · Asked for a person",
      `${AGENT.name} joined the conversation`,
      `Released back to the queue by ${AGENT.name}`,
      `${ADMIN.name} joined the conversation`,
      `Reassigned to ${AGENT.name} by ${ADMIN.name}`,
      `Handed back to the bot by ${AGENT.name}`,
    ]);
    assertClean(problems);
    assertClean(shopper.problems);
    await context.close();
    await shopper.context.close();
  });

  test("connection banner: Reconnecting… when the stream drops, Connected again when it is back", async () => {
    const { context, page, problems } = await fresh();
    await consoleLogin(page, problems, AGENT);
    problems.allowNetworkErrors = true;
    await context.setOffline(true);
    const banner = page.locator("#banner");
    await banner.filter({ hasText: "Reconnecting…" }).waitFor();
    assert.equal(await banner.getAttribute("class"), "banner banner-down");
    // Meanwhile a hand-off happens; it is there after the reconnect.
    const conv = await apiConversation();
    await apiSend(conv, "can someone call me back please");
    await apiHandoff(conv);
    await context.setOffline(false);
    await banner.filter({ hasText: "Connected again" }).waitFor({ timeout: 30000 });
    await row(page, conv.id).waitFor();
    await banner.waitFor({ state: "hidden", timeout: 10000 });
    assert.deepEqual(problems.dialogs, []);
    await context.close();
  });

  test("hostile text from a shopper appears literally in the console; no dialog fires; layout holds", async () => {
    const conv = await apiConversation();
    const rtl = "مرحبا، أين طلبي؟ 🙂📦🚚 שלום, איפה ההזמנה שלי? ".repeat(6) + "👩🏽‍💻🏳️‍🌈".repeat(20);
    const texts = ["<img src=x onerror=alert(1)>", "<script>alert(1)</script>", rtl, '"><svg onload=alert(2)> javascript:alert(3) https://evil.example/x'];
    for (const t of texts) await apiSend(conv, t);
    await apiHandoff(conv).catch(() => {}); // may already be queued by the bot

    const { context, page, problems } = await fresh();
    await consoleLogin(page, problems, AGENT);
    const r = row(page, conv.id);
    await r.waitFor();
    assert.equal(await r.locator(".qrow-preview").textContent(), texts[texts.length - 1], "preview is literal");
    await r.click();
    for (const t of texts) await page.locator(".msg.shopper .bubble").filter({ hasText: t.slice(0, 20) }).first().waitFor();
    const shown = await page.locator(".msg.shopper .bubble").allTextContents();
    for (const t of texts) assert.ok(shown.includes(t), `shown literally: ${t.slice(0, 30)}`);
    const injected = await page.evaluate(() => ({
      img: document.querySelectorAll("#transcript img, #queue-list img").length,
      script: document.querySelectorAll("body script").length,
      svgOnload: [...document.querySelectorAll("svg")].filter((s) => s.hasAttribute("onload")).length,
      shopperLinks: document.querySelectorAll(".msg.shopper a").length,
    }));
    assert.deepEqual(injected, { img: 0, script: 0, svgOnload: 0, shopperLinks: 0 });
    // Nothing scrolls sideways; every bubble stays inside the transcript.
    const overflow = await page.evaluate(() => {
      const log = document.querySelector("#transcript");
      const box = log.getBoundingClientRect();
      return {
        page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        log: log.scrollWidth - log.clientWidth,
        outside: [...log.querySelectorAll(".bubble")].filter((b) => b.getBoundingClientRect().right > box.right + 0.5).length,
      };
    });
    assert.deepEqual(overflow, { page: 0, log: 0, outside: 0 });
    await page.locator(".msg.shopper .bubble").filter({ hasText: "<script>" }).evaluate((el) => el.scrollIntoView({ block: "start" }));
    await page.screenshot({ path: join(ARTIFACTS, "console-hostile-text.png") });
    await page.waitForTimeout(300);
    assertClean(problems);
    await context.close();
  });

  test("label a shopper message through the dialog; the admin sees it for review and approves it", async () => {
    const conv = await apiConversation();
    const tag = Array.from({ length: 8 }, () => "abcdefghijklmnopqrstuvwxyz"[Math.floor(Math.random() * 26)]).join("");
    const text = `my package was crushed and the mug inside is broken, ${tag}`;
    await apiSend(conv, text);
    await apiHandoff(conv).catch(() => {});

    const { context, page, problems } = await fresh();
    await consoleLogin(page, problems, ADMIN);
    await row(page, conv.id).click();
    const msg = page.locator(".msg.shopper").filter({ hasText: text });
    await msg.waitFor();
    await msg.locator(".label-btn").click();
    const dialog = page.locator("#label-dialog");
    await dialog.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement.id), "label-search", "the search box has focus");
    await page.keyboard.type("damag");
    const opts = dialog.locator(".label-opt");
    await eventually(async () => (await opts.count()) === 1, { message: "filtered to one intent" });
    assert.equal(await opts.first().getAttribute("data-intent"), "damaged_or_wrong_item");
    await page.screenshot({ path: join(ARTIFACTS, "console-label-dialog.png") });
    await page.keyboard.press("Enter"); // choose
    await page.keyboard.press("Enter"); // save
    await dialog.waitFor({ state: "hidden" });
    await msg.locator(".labelled").filter({ hasText: "Damaged or wrong item" }).waitFor();

    // The admin page lists it as pending; approve it.
    await page.click("#nav-admin");
    await page.locator("#admin-view").waitFor();
    const ex = page.locator("#examples-body tr").filter({ hasText: tag });
    await ex.waitFor();
    assert.match(await ex.textContent(), /Damaged or wrong item/);
    await page.locator("#agents-body tr").first().waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "console-admin.png"), fullPage: true });
    await ex.locator(".ex-check").check();
    await page.click("#bulk-approve");
    await ex.waitFor({ state: "detached" });
    await page.locator('.seg-btn[data-status="approved"]').click();
    await page.locator("#examples-body tr").filter({ hasText: tag }).waitFor();

    // Add an agent: the generated password is shown once; the new agent can log in with it.
    const email = `new.agent.${Date.now()}@example.com`;
    await page.fill('#agent-form input[name="name"]', "Noor <b>Haddad</b>");
    await page.fill('#agent-form input[name="email"]', email);
    await page.click('#agent-form button[type="submit"]');
    const pw = page.locator("#new-password .password");
    await pw.waitFor();
    const password = await pw.textContent();
    assert.ok(password.length >= 12, "a generated password");
    await page.locator("#agents-body tr").filter({ hasText: email }).waitFor();
    assert.equal(await page.locator("#agents-body b").count(), 0, "names are text");
    const newcomer = await agentApi({ email, password });
    assert.equal(newcomer.agent.name, "Noor <b>Haddad</b>");
    await newcomer.dispose();
    // Disable them (two clicks, no confirm dialog), then enable them again.
    const agentRow = () => page.locator("#agents-body tr").filter({ hasText: email });
    const disable = agentRow().getByRole("button", { name: /disable/i });
    await disable.click();
    await disable.click();
    await agentRow().filter({ hasText: "Disabled" }).waitFor();
    await agentRow().getByRole("button", { name: "Enable" }).click();
    await agentRow().filter({ hasText: "Active" }).waitFor();
    // A new password, shown once; the old one stops working.
    const reset = agentRow().getByRole("button", { name: /password/i });
    await reset.click();
    await reset.click();
    await page.locator("#new-password").filter({ hasText: "logged out everywhere" }).waitFor();
    const newPassword = await page.locator("#new-password .password").textContent();
    assert.notEqual(newPassword, password);
    const again = await agentApi({ email, password: newPassword });
    assert.equal(again.agent.email, email.toLowerCase());
    await again.dispose();
    assertClean(problems);
    await context.close();
  });

  test("screenshots: queue and open conversation at 1280x800, narrower widths degrade", async () => {
    await emptyTheQueue();
    const identity = await (await fetch(`${BASE}/api/v1/demo/identity`)).json();
    // A few believable hand-offs: a signed-in customer (orders attached), guests.
    const made = [];
    const add = async (token, lines, handoff = true) => {
      const conv = await apiConversation(token);
      for (const l of lines) await apiSend(conv, l);
      if (handoff) await apiHandoff(conv).catch(() => {});
      made.push(conv);
      return conv;
    };
    await add(null, ["Hi", "someone used my card on your site, I didn't place this order"]);
    const alex = await add(identity.customer_token, ["where is my order", "the tracking hasn't moved in 4 days, can a person look at it?"]);
    await add(null, ["do you have the scarf in green?"]);
    await add(null, ["I want to speak to a human"]);

    const { context, page, problems } = await fresh();
    await consoleLogin(page, problems, AGENT);
    await row(page, alex.id).click();
    await page.locator(".msg.shopper").filter({ hasText: "tracking hasn't moved" }).waitFor();
    await page.locator("#customer-pane .order").first().waitFor();
    assert.match(await page.locator("#customer-pane .cust-name").textContent(), /Alex Morgan/);
    const track = page.locator("#customer-pane .ship a").first();
    assert.match(await track.getAttribute("href"), /^https:\/\//);
    assert.equal(await track.getAttribute("rel"), "noopener noreferrer");
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(ARTIFACTS, "console-queue.png") });

    // Claim it and write, so the second screenshot shows a live conversation.
    await page.click("#act-claim");
    await page.locator("#composer-input:not([disabled])").waitFor();
    await page.fill("#composer-input", "Hi Alex, I'm checking with UPS now. I'll update you within the hour.");
    await page.press("#composer-input", "Enter");
    await page.locator(".msg.agent").last().waitFor();
    await page.click("#mode-note");
    await page.fill("#composer-input", "UPS claim opened, ref 88231. Offer a reship if no scan by Friday.");
    await page.press("#composer-input", "Enter");
    await page.locator(".msg.note").waitFor();
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(ARTIFACTS, "console-1280.png") });

    // j/k move in the queue; ? opens the help.
    await page.locator("#tab-queued").click();
    await page.locator("#composer-input").blur();
    await page.keyboard.press("j");
    await eventually(async () => (await page.locator(".qrow.is-selected").count()) === 1, { message: "j selects a row" });
    await page.keyboard.press("?");
    await page.locator("#help-dialog").waitFor();
    await page.screenshot({ path: join(ARTIFACTS, "console-shortcuts.png") });
    await page.keyboard.press("Escape");
    await page.locator("#help-dialog").waitFor({ state: "hidden" });

    // Narrower: the customer pane becomes a drawer; on a phone one pane at a time.
    await page.goto(`${BASE}/console#/inbox/${alex.id}`);
    await page.setViewportSize({ width: 1024, height: 768 });
    await page.locator(".msg.note").waitFor();
    assert.equal(await page.locator("#customer-pane").isVisible(), false);
    await page.click("#customer-toggle");
    assert.equal(await page.locator("#customer-pane").isVisible(), true);
    await page.screenshot({ path: join(ARTIFACTS, "console-1024.png") });
    await page.click("#customer-pane .drawer-head button");
    assert.equal(await page.locator("#customer-pane").isVisible(), false);
    await page.setViewportSize({ width: 390, height: 800 });
    assert.equal(await page.locator("#queue-pane").isVisible(), false);
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth), 0);
    await page.screenshot({ path: join(ARTIFACTS, "console-390.png") });
    await page.click("#back-btn");
    await page.locator("#queue-pane").waitFor();
    assertClean(problems);
    await context.close();
  });
});
