// The dashboard: one live event stream from the gateway (GET /v1/admin/events) feeds every panel; the page polls nothing.
// Countdowns tick locally against the gateway's clock (each event carries the server time).

import { AuthError, call, setToken, stream, token } from "./api.js";
import { drawChart } from "./chart.js";
import { clusterTable, fmt, h, liveState, providerTable, requestItem, sessionRow, sessionView, updateKeyRow } from "./views.js";

const $ = (id) => document.getElementById(id);

const state = {
  offset: 0, // server clock minus this browser's clock, in ms
  providers: [], // [{ id, api, keys: [key] }] as in GET /v1/admin/providers
  requests: [],
  capacity: 0,
  totals: [],
  cluster: null,
  shards: null,
};

const now = () => Date.now() + state.offset;
const syncClock = (iso) => { if (iso) state.offset = Date.parse(iso) - Date.now(); };

function setStatus(kind, text) {
  const status = $("status");
  status.dataset.state = kind;
  status.textContent = text;
}

function showProblem(text) {
  const p = $("problem");
  p.hidden = !text;
  p.textContent = text || "";
}

// ---- keys ----

async function resetKey(id, button) {
  button.disabled = true;
  button.textContent = "Resetting…";
  try {
    await call(`/v1/admin/keys/${encodeURIComponent(id)}/reset`, { method: "POST" });
    showProblem("");
  } catch (e) {
    if (e instanceof AuthError) askToken(e.message);
    showProblem(`Reset of ${id} failed: ${e.message}`);
    button.disabled = false;
  } finally {
    button.textContent = "Reset";
  }
  // The new state arrives on the event stream (the key actor pushes it), which updates the row.
}

/** A provider that needs no key (a local server, echo) lists a stand-in key whose source is "none". */
const keyless = (p) => p.keys.length > 0 && p.keys.every((k) => k.source === "none");

function renderProviders() {
  const t = now();
  const keyed = state.providers.filter((p) => p.keys.length > 0 && !keyless(p));
  const free = state.providers.filter(keyless);
  const parts = keyed.length
    ? keyed.map((p) => providerTable(p, t, resetKey))
    : [h("p", { class: "muted" }, "No provider has a key. Set one in the config or the environment (see the README).")];
  if (free.length > 0) {
    // Folded away unless one of them is not ready: they are rarely what an operator looks for.
    const open = free.some((p) => p.keys.some((k) => liveState(k, t) !== "ready"));
    parts.push(h("details", { class: "keyless", open },
      h("summary", {}, `${free.length} providers need no key: ${free.map((p) => p.id).join(", ")}`),
      free.map((p) => providerTable(p, t, resetKey))));
  }
  $("providers").replaceChildren(...parts);
  const none = state.providers.filter((p) => p.keys.length === 0).length;
  $("keyless").textContent = none > 0 ? `${none} more providers of the catalog have no key configured.` : "";
}

function onKey(data) {
  syncClock(data.now);
  const provider = state.providers.find((p) => p.id === data.provider);
  if (!provider) return;
  const i = provider.keys.findIndex((k) => k.id === data.key.id);
  if (i < 0) return;
  provider.keys[i] = data.key;
  const row = document.querySelector(`tr[data-key="${CSS.escape(data.key.id)}"]`);
  if (row) updateKeyRow(row, data.key, now());
  else renderProviders();
}

function tick() {
  const t = now();
  for (const el of document.querySelectorAll(".countdown[data-until]")) el.textContent = fmt.left(Date.parse(el.dataset.until) - t);
  // A cooldown that has just ended shows ready at once; its key actor's push confirms it.
  for (const p of state.providers) for (const k of p.keys) {
    if (k.state !== "ready" && k.until && Date.parse(k.until) <= t) {
      const row = document.querySelector(`tr[data-key="${CSS.escape(k.id)}"]`);
      if (row && !row.querySelector(".badge.ready")) updateKeyRow(row, k, t);
    }
  }
}

// ---- totals and chart ----

function onTotals(sample) {
  state.totals.push(sample);
  const keep = 2000;
  if (state.totals.length > keep) state.totals.splice(0, state.totals.length - keep);
  // Per-key figures in the table follow the newest sample (usage reaches the keys once per flush interval).
  for (const p of sample.providers) {
    const provider = state.providers.find((x) => x.id === p.id);
    if (!provider) continue;
    for (const k of p.keys) {
      const key = provider.keys.find((x) => x.id === k.id);
      if (!key) continue;
      key.requests = k.requests;
      key.usage = { ...key.usage, input: k.input, output: k.output, cost: k.cost };
      const row = document.querySelector(`tr[data-key="${CSS.escape(k.id)}"]`);
      if (row) updateKeyRow(row, key, now());
    }
  }
  renderChart();
}

function renderChart() {
  const metric = $("metric").value;
  const group = $("group").value;
  const value = (x) => (metric === "cost" ? x.cost : metric === "tokens" ? x.input + x.output : x.requests);
  const series = new Map();
  for (const s of state.totals) {
    const t = Date.parse(s.at);
    for (const p of s.providers) {
      const items = group === "provider" ? [p] : p.keys;
      for (const item of items) {
        if (!series.has(item.id)) series.set(item.id, { label: item.id, points: [] });
        series.get(item.id).points.push({ t, v: value(item) });
      }
    }
  }
  const format = metric === "cost" ? fmt.cost : fmt.tokens;
  const label = $("metric").selectedOptions[0].textContent;
  // A line that stays at zero says nothing (keyless local providers, unused keys): only series with a value are drawn.
  const drawn = [...series.values()].filter((s) => s.points.some((p) => p.v > 0));
  drawChart($("chart"), `${label} per ${group}`, drawn, format);
}

// ---- requests ----

function renderRequests() {
  $("requests").replaceChildren(...state.requests.map(requestItem));
  $("requests-note").textContent = state.capacity === 0
    ? "This node keeps no recent requests (gateway.dashboard.recentRequests = 0)."
    : state.requests.length === 0 ? "No request yet." : `Up to the last ${state.capacity} requests this node served, newest first.`;
}

function onRequest(r) {
  state.requests.unshift(r);
  if (state.requests.length > state.capacity) state.requests.length = state.capacity;
  const list = $("requests");
  list.prepend(requestItem(r));
  while (list.children.length > state.capacity) list.lastElementChild.remove();
  $("requests-note").textContent = `Up to the last ${state.capacity} requests this node served, newest first.`;
}

// ---- cluster ----

function renderCluster() {
  $("cluster").replaceChildren(clusterTable(state.cluster, state.shards));
}

async function loadShards() {
  try {
    const c = await call("/v1/admin/cluster");
    state.shards = c.shards;
    renderCluster();
  } catch {
    // Shard counts are extra: the members come from the stream.
  }
}

// ---- the stream ----

function onSnapshot(s) {
  syncClock(s.now);
  $("node").textContent = `Node ${s.node}`;
  state.providers = s.providers;
  state.requests = s.requests;
  state.capacity = s.recentRequests;
  state.totals = s.totals;
  state.cluster = s.cluster;
  renderProviders();
  renderRequests();
  renderChart();
  renderCluster();
  loadShards();
}

const handlers = {
  snapshot: onSnapshot,
  key: onKey,
  request: onRequest,
  totals: onTotals,
  providers: (d) => { syncClock(d.now); state.providers = d.providers; renderProviders(); },
  cluster: (c) => { state.cluster = c; renderCluster(); },
  error: (e) => showProblem(`The gateway ended the live stream: ${e.error.message}`),
};

let retryDelay = 1000;

async function connect() {
  setStatus("connecting", "Connecting…");
  try {
    await stream("/v1/admin/events", (name, data) => {
      if (name === "snapshot") {
        retryDelay = 1000;
        setStatus("live", "Live");
        showProblem("");
        listSessions(true); // the list is read on demand (no events): refreshed on every (re)connection
      }
      handlers[name]?.(data);
    });
  } catch (e) {
    if (e instanceof AuthError) {
      setStatus("offline", "Not signed in");
      if (e.status === 401) askToken(token() ? "The gateway refused this token." : "");
      else showProblem(e.message);
      return; // the login form reconnects
    }
  }
  setStatus("offline", `Disconnected; reconnecting in ${Math.round(retryDelay / 1000)} s`);
  setTimeout(connect, retryDelay);
  retryDelay = Math.min(retryDelay * 2, 10000);
}

// ---- token ----

function askToken(message) {
  $("login-error").textContent = message || "";
  const dialog = $("login");
  if (!dialog.open) dialog.showModal();
  $("token").focus();
}

$("login-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const value = $("token").value.trim();
  if (!value) {
    $("login-error").textContent = "Enter the gateway token.";
    return;
  }
  setToken(value);
  $("token").value = "";
  $("login").close();
  $("signout").hidden = false;
  connect();
});

$("signout").addEventListener("click", () => {
  setToken(null);
  location.reload();
});

// ---- sessions ----

async function showSession(raw) {
  const out = $("session");
  const key = encodeURIComponent(raw);
  out.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  try {
    const [view, page] = await Promise.all([call(`/v1/sessions/${key}`), call(`/v1/sessions/${key}/messages?offset=0&limit=50`)]);
    out.replaceChildren(...sessionView(view, page));
  } catch (err) {
    if (err instanceof AuthError) askToken(err.message);
    out.replaceChildren(h("p", { class: "error" }, `Could not load the session: ${err.message}`));
  }
}

$("session-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = $("session-key");
  if (!input.checkValidity()) {
    $("session").replaceChildren(h("p", { class: "error" }, "A session key is 1 to 200 letters, digits or : . _ - @."));
    return;
  }
  await showSession(input.value);
});

// The list (GET /v1/sessions): newest activity first, a page of 20 at a time, "More sessions" follows the cursor.
const sessionList = { prefix: "", cursor: null };

async function listSessions(fromStart) {
  const table = $("sessions-list");
  const rows = table.tBodies[0];
  if (fromStart) {
    sessionList.prefix = $("sessions-prefix").value.trim();
    sessionList.cursor = null;
  }
  const query = new URLSearchParams({ limit: "20" });
  if (sessionList.prefix) query.set("prefix", sessionList.prefix);
  if (sessionList.cursor) query.set("cursor", sessionList.cursor);
  try {
    const page = await call(`/v1/sessions?${query}`);
    if (fromStart) rows.replaceChildren();
    for (const s of page.data) rows.append(sessionRow(s, showSession));
    sessionList.cursor = page.nextCursor;
    table.hidden = rows.children.length === 0;
    $("sessions-more").hidden = !page.hasMore;
    $("sessions-note").textContent = rows.children.length === 0
      ? (sessionList.prefix ? `No session key starts with "${sessionList.prefix}".` : "No sessions yet.")
      : `${rows.children.length} session${rows.children.length === 1 ? "" : "s"}${page.hasMore ? " so far" : ""}, newest activity first.`;
  } catch (err) {
    if (err instanceof AuthError) askToken(err.message);
    $("sessions-note").textContent = `Could not list sessions: ${err.message}`;
  }
}

$("sessions-filter").addEventListener("submit", (e) => {
  e.preventDefault();
  listSessions(true);
});
$("sessions-more").addEventListener("click", () => listSessions(false));

$("metric").addEventListener("change", renderChart);
$("group").addEventListener("change", renderChart);

$("signout").hidden = !token();
setInterval(tick, 1000);
connect();
