// Demo storefront: the "sign in as a demo customer" switch, the guest hint, and loading the
// Switchboard widget the way a store would (one script tag, with the customer token when the
// shopper is signed in). The identity comes from the server's demo-only endpoint.

const SIGNED_IN_KEY = "juniper-demo:signed-in";
const TOKEN_KEY = "juniper-demo:customer-token";
const WIDGET = { title: "Juniper & Co.", accent: "#1f5f4c" };

const $ = (id) => document.getElementById(id);
let identity = null;

async function fetchIdentity(attempts = 1) {
  for (let i = 0; i < attempts; i++) {
    try {
      const res = await fetch("/api/v1/demo/identity", { cache: "no-store", headers: { Accept: "application/json" } });
      if (res.ok) return await res.json();
    } catch {
      /* server not reachable: retry */
    }
    if (i + 1 < attempts) await new Promise((r) => setTimeout(r, 1000 * (i + 1)));
  }
  return null;
}

function tokenExpired(token) {
  try {
    const p = token.split(".")[0].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(p + "===".slice((p.length + 3) % 4)));
    return !claims.exp || claims.exp * 1000 < Date.now() + 60_000;
  } catch {
    return true;
  }
}

/** The demo customer's token: kept while valid, so a reload is the same signed-in session. */
function customerToken() {
  const kept = localStorage.getItem(TOKEN_KEY);
  if (kept && !tokenExpired(kept)) return kept;
  if (identity && identity.customer_token) {
    localStorage.setItem(TOKEN_KEY, identity.customer_token);
    return identity.customer_token;
  }
  return null;
}

function isSignedIn() {
  return localStorage.getItem(SIGNED_IN_KEY) === "1";
}

function renderSignIn() {
  const on = isSignedIn();
  const sw = $("signin-switch");
  sw.setAttribute("aria-checked", String(on));
  const name = (identity && identity.customer_name) || "Alex Morgan";
  $("signin-label").textContent = on ? `Signed in as ${name}` : `Sign in as demo customer ${name}`;
  $("account").textContent = on ? `Hi, ${name.split(" ")[0]}` : "Guest";
}

function loadWidget(token) {
  const s = document.createElement("script");
  s.type = "module";
  s.src = "/widget/widget.js";
  s.dataset.title = WIDGET.title;
  s.dataset.accent = WIDGET.accent;
  if (token) s.dataset.customerToken = token;
  document.head.append(s);
}

function toast(text) {
  const t = $("toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    t.hidden = true;
  }, 2600);
}

async function main() {
  identity = await fetchIdentity(3);
  const sw = $("signin-switch");
  if (identity) {
    sw.disabled = false;
    $("guest-order").textContent = identity.guest_order_number;
    $("guest-email").textContent = identity.guest_email;
    $("guest-hint").hidden = false;
  } else {
    $("signin-label").textContent = "Demo sign-in unavailable (server not in demo mode)";
  }
  if (!identity && isSignedIn() && !localStorage.getItem(TOKEN_KEY)) localStorage.setItem(SIGNED_IN_KEY, "0");
  renderSignIn();
  loadWidget(isSignedIn() ? customerToken() : null);

  sw.addEventListener("click", async () => {
    const on = !isSignedIn();
    if (on && !customerToken()) {
      identity = (await fetchIdentity(1)) || identity;
      if (!customerToken()) {
        toast("Couldn't sign in: the demo identity is unavailable.");
        return;
      }
    }
    localStorage.setItem(SIGNED_IN_KEY, on ? "1" : "0");
    if (!on) localStorage.removeItem(TOKEN_KEY);
    renderSignIn();
    // Another shopper: the widget starts a new conversation.
    window.SwitchboardWidget?.reset({ customerToken: on ? customerToken() : null });
    toast(on ? `Signed in as ${identity?.customer_name || "the demo customer"}` : "Signed out");
  });

  $("open-chat").addEventListener("click", () => window.SwitchboardWidget?.open());

  let bag = 0;
  for (const b of document.querySelectorAll("button.add")) {
    b.addEventListener("click", () => {
      bag += 1;
      $("bag-count").textContent = String(bag);
      $("bag-count").hidden = false;
      $("bag").setAttribute("aria-label", `Shopping bag, ${bag} item${bag === 1 ? "" : "s"}`);
      toast(`Added ${b.dataset.product} to your bag (demo)`);
    });
  }
}

main();
