// Rendering of the dashboard's panels from plain data. Everything is built with the DOM (textContent, never innerHTML), so
// nothing the gateway reports (an upstream's error message, a session's transcript) can inject markup.

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) node.append(c instanceof Node ? c : String(c));
  return node;
}

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

export const fmt = {
  tokens: (n) => integer.format(n),
  cost: (c) => (c === 0 ? "$0" : c < 0.01 ? `$${c.toFixed(4)}` : `$${c.toFixed(2)}`),
  ms: (ms) => (ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`),
  clock: (iso) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" }),
  /** "29 s left", "4 min 10 s left", "2 h 3 min left". */
  left(ms) {
    if (ms <= 0) return "ending now";
    const s = Math.ceil(ms / 1000);
    if (s < 60) return `${s} s left`;
    if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s left`;
    return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min left`;
  },
};

/** The state a key shows now: a cooldown whose end has passed is ready (its actor confirms it a moment later). */
export function liveState(key, now) {
  if (key.state !== "ready" && key.until && Date.parse(key.until) <= now) return "ready";
  return key.state;
}

/** One provider's table of keys. onReset(keyId, button) runs for a reset click. */
export function providerTable(provider, now, onReset) {
  const caption = h("caption", {}, h("span", { class: "provider-name" }, provider.id), " ", h("span", { class: "muted" }, provider.api));
  const head = h("thead", {}, h("tr", {},
    h("th", { scope: "col" }, "Key"), h("th", { scope: "col" }, "State"), h("th", { scope: "col" }, "Errors"),
    h("th", { scope: "col", class: "num" }, "Requests"), h("th", { scope: "col", class: "num" }, "Tokens"),
    h("th", { scope: "col", class: "num" }, "Spend"), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions"))));
  const body = h("tbody");
  for (const key of provider.keys) body.append(keyRow(key, now, onReset));
  return h("table", { class: "keys", dataset: { provider: provider.id } }, caption, head, body);
}

export function keyRow(key, now, onReset) {
  const row = h("tr", { dataset: { key: key.id } });
  const button = h("button", { type: "button", class: "reset", "aria-label": `Reset key ${key.id}`,
    onclick: () => onReset(key.id, button) }, "Reset");
  const labels = ["Key", "State", "Errors", "Requests", "Tokens", "Spend", ""];
  labels.forEach((label, i) => row.append(h(i === 0 ? "th" : "td", i === 0 ? { scope: "row" } : { dataset: { label } })));
  row.cells[6].append(button);
  updateKeyRow(row, key, now);
  return row;
}

/** Refreshes a key's row in place (the reset button stays the same element, so keyboard focus is kept). */
export function updateKeyRow(row, key, now) {
  const state = liveState(key, now);
  const [name, stateCell, errors, requests, tokens, spend, actions] = row.cells;
  name.replaceChildren(h("code", {}, key.id), h("span", { class: "muted sub" }, `${key.key} · ${key.source}`));
  const parts = [h("span", { class: `badge ${state}` }, state)];
  if (state !== "ready" && key.until) {
    parts.push(" ", h("span", { class: "countdown", dataset: { until: key.until } }, fmt.left(Date.parse(key.until) - now)));
  }
  if (state !== "ready" && key.reason) parts.push(h("span", { class: "muted sub" }, key.reason));
  stateCell.replaceChildren(...parts);
  const counts = Object.entries(key.failureCounts || {}).map(([r, n]) => `${r} ${n}`).join(", ");
  errors.replaceChildren(String(key.errorCount), counts ? h("span", { class: "muted sub" }, counts) : "");
  requests.className = tokens.className = spend.className = "num";
  requests.textContent = fmt.tokens(key.requests);
  tokens.textContent = fmt.tokens(key.usage.input + key.usage.output);
  spend.textContent = fmt.cost(key.usage.cost);
  const button = actions.querySelector("button");
  button.disabled = state === "ready";
  button.title = state === "ready" ? "The key is ready" : "Clear this key's cooldown or disable";
}

/** One completed request with its attempt path. */
export function requestItem(r) {
  const ok = r.outcome === "ok";
  const usage = r.usage ? `${fmt.tokens(r.usage.input)} in / ${fmt.tokens(r.usage.output)} out` : "no usage";
  const head = h("div", { class: "req-head" },
    h("span", { class: `status ${ok ? "ok" : "bad"}` }, String(r.status)),
    h("strong", { class: "req-model" }, r.model ?? r.requestedModel),
    h("span", { class: "muted" }, `${r.stream ? "stream" : "json"} · asked ${r.requestedModel} · ${fmt.clock(r.at)}`),
    h("span", { class: "req-figures" }, `${fmt.ms(r.durationMs)}`, r.firstOutputMs != null ? ` (first output ${fmt.ms(r.firstOutputMs)})` : "",
      ` · ${usage} · ${fmt.cost(r.cost)}`));
  const attempts = h("ol", { class: "attempts", "aria-label": `Attempts of request ${r.id}` });
  for (const a of r.attempts) {
    const good = a.outcome === "ok";
    attempts.append(h("li", { class: `attempt ${good ? "ok" : "failed"}` },
      h("span", { class: "mark", "aria-hidden": "true" }, good ? "✓" : "✕"),
      h("span", { class: "sr-only" }, good ? "answered: " : "failed: "),
      h("code", {}, a.keyId ?? "no key"), " ", h("span", {}, a.model), " ",
      h("span", { class: "reason" }, good ? "answered" : a.outcome), a.status != null ? ` ${a.status}` : "",
      h("span", { class: "muted" }, ` at ${fmt.ms(a.atMs)}`),
      !good && a.message ? h("span", { class: "msg" }, a.message) : ""));
  }
  if (r.attempts.length === 0) attempts.append(h("li", { class: "attempt failed" }, "No attempt could be made."));
  const error = !ok && r.error ? h("p", { class: "req-error" }, `${r.code ?? r.outcome}: ${r.error}`) : "";
  return h("li", { class: "req", dataset: { id: String(r.id), outcome: r.outcome } }, head, attempts, error);
}

/** The cluster's members, this node and the leader marked; shards per node when known. */
export function clusterTable(cluster, shards) {
  if (!cluster) return h("p", { class: "muted" }, "This node runs without a cluster.");
  const rows = cluster.members.map((m) => {
    const notes = [m.address === cluster.self ? "this node" : "", m.address === cluster.leader ? "leader" : ""].filter(Boolean).join(", ");
    const s = shards && shards[m.address];
    return h("tr", {},
      h("th", { scope: "row" }, h("code", {}, m.address), notes ? h("span", { class: "muted sub" }, notes) : ""),
      h("td", {}, h("span", { class: `badge ${m.reachable && m.status === "up" ? "ready" : "cooling"}` }, m.reachable ? m.status : `${m.status}, unreachable`)),
      h("td", {}, m.roles.join(", ")),
      h("td", { class: "num" }, s ? `${s.sessions} in ${s.shards} shards` : "–"));
  });
  return h("table", { class: "cluster" },
    h("caption", { class: "sr-only" }, "Cluster members"),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Member"), h("th", { scope: "col" }, "Status"),
      h("th", { scope: "col" }, "Roles"), h("th", { scope: "col", class: "num" }, "Sessions"))),
    h("tbody", {}, rows));
}

/** One row of the session list (GET /v1/sessions); the key opens the session below the list. */
export function sessionRow(s, onOpen) {
  return h("tr", { dataset: { session: s.key } },
    h("th", { scope: "row" }, h("button", { type: "button", class: "link", "aria-label": `Show session ${s.key}`, onclick: () => onOpen(s.key) }, s.key)),
    h("td", { dataset: { label: "Last activity" } }, h("time", { datetime: s.lastActivity }, new Date(s.lastActivity).toLocaleString())),
    h("td", { dataset: { label: "Last model" } }, s.lastModel ?? "–"),
    h("td", { dataset: { label: "Model override" } }, s.modelOverride ?? "–"));
}

/** A session's settings and transcript page. */
export function sessionView(view, page) {
  const o = view.overrides;
  const settings = Object.entries(o).filter(([, v]) => v !== null).map(([k, v]) => `${k} ${v}`).join(", ") || "none";
  const facts = h("dl", { class: "facts" },
    h("dt", {}, "Overrides"), h("dd", {}, settings),
    h("dt", {}, "Last model"), h("dd", {}, view.lastModel ?? "–"),
    h("dt", {}, "Usage"), h("dd", {}, `${fmt.tokens(view.usage.total)} tokens · ${fmt.cost(view.usage.cost)}`),
    h("dt", {}, "Transcript"), h("dd", {}, `${view.transcriptLength} messages${view.running ? " · running" : ""}${view.queued ? ` · ${view.queued} queued` : ""}`));
  const list = h("ol", { class: "transcript", start: page.offset + 1 });
  for (const m of page.messages) {
    list.append(h("li", { class: `msg-${m.role}` },
      h("span", { class: "role" }, m.role), h("span", { class: "muted" }, ` ${fmt.clock(m.at)}${m.model ? ` · ${m.model}` : ""}`),
      h("p", {}, m.content)));
  }
  const more = page.total > page.offset + page.messages.length
    ? h("p", { class: "muted" }, `Showing ${page.messages.length} of ${page.total} messages.`) : "";
  return [h("h3", {}, `Session ${view.key}`), facts, page.messages.length ? list : h("p", { class: "muted" }, "No messages yet."), more];
}
