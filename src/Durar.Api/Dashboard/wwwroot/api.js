// The dashboard's side of the gateway's admin API: the token (kept in this tab's sessionStorage), authorised fetches, and
// the live event stream (GET /v1/admin/events) read with fetch, since EventSource cannot send an Authorization header.

const TokenKey = "durar.gatewayToken";

/** Raised when the gateway refuses the token (401) or wants one from this host (403). */
export class AuthError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function token() {
  return sessionStorage.getItem(TokenKey);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TokenKey, value);
  else sessionStorage.removeItem(TokenKey);
}

function headers(extra) {
  const h = new Headers(extra);
  const t = token();
  if (t) h.set("Authorization", `Bearer ${t}`);
  return h;
}

/** The gateway's error message from an OpenAI-shaped error body, or the status line. */
async function errorOf(res) {
  try {
    const body = await res.json();
    if (body && body.error && body.error.message) return body.error.message;
  } catch {
    // not JSON: the status says enough
  }
  return `${res.status} ${res.statusText}`;
}

/** GET or POST a JSON route; throws AuthError on 401/403 and Error with the gateway's message otherwise. */
export async function call(path, options = {}) {
  const res = await fetch(path, { ...options, headers: headers(options.headers), cache: "no-store" });
  if (res.status === 401 || res.status === 403) throw new AuthError(res.status, await errorOf(res));
  if (!res.ok) throw new Error(await errorOf(res));
  return res.status === 204 ? null : res.json();
}

/**
 * Reads the event stream until it ends: onEvent(name, data) for every event. Resolves when the stream ends (the caller
 * reconnects), rejects with AuthError when the token is refused, or with Error when the connection fails.
 */
export async function stream(path, onEvent, signal) {
  const res = await fetch(path, { headers: headers({ Accept: "text/event-stream" }), cache: "no-store", signal });
  if (res.status === 401 || res.status === 403) throw new AuthError(res.status, await errorOf(res));
  if (!res.ok || !res.body) throw new Error(await errorOf(res));
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      }
      if (data.length > 0) onEvent(name, JSON.parse(data.join("\n")));
    }
  }
}
