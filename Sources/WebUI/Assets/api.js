// The page's access to the server: the session (token and role in sessionStorage), JSON calls to
// /api with the token and X-Role, /metrics, and small DOM and formatting helpers.

const tokenKey = "triggerbase.token";
const roleKey = "triggerbase.role";

export const session = {
  get token() { return sessionStorage.getItem(tokenKey) || ""; },
  get role() { return sessionStorage.getItem(roleKey) || ""; },
  save(token, role) {
    sessionStorage.setItem(tokenKey, token);
    if (role) sessionStorage.setItem(roleKey, role); else sessionStorage.removeItem(roleKey);
  },
  clear() { sessionStorage.removeItem(tokenKey); sessionStorage.removeItem(roleKey); },
};

/** An answer of the API that is not 2xx: its status, and the first error's code and message. */
export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Calls `/api/<path>` with `query` (values are JSON-encoded when they are objects); answers the body. */
export async function api(path, { method = "GET", query = {}, body } = {}) {
  const url = new URL("/api/" + path, location.origin);
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    url.searchParams.set(name, typeof value === "object" ? JSON.stringify(value) : String(value));
  }
  const headers = { "Authorization": "Bearer " + session.token };
  if (session.role) headers["X-Role"] = session.role;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let parsed = null;
  try { parsed = text ? JSON.parse(text) : null; } catch { parsed = null; }
  if (!response.ok) {
    const first = parsed && Array.isArray(parsed.errors) ? parsed.errors[0] : null;
    throw new APIError(response.status, first ? first.code : "HTTP_" + response.status,
                       first ? first.message : `the server answered ${response.status}`);
  }
  return parsed;
}

/** The dispatcher's gauges from /metrics (Prometheus text): `{queue, running}`, or null. */
export async function dispatcherGauges() {
  try {
    const response = await fetch("/metrics");
    if (!response.ok) return null;
    const gauges = {};
    for (const line of (await response.text()).split("\n")) {
      const [name, value] = line.split(" ");
      if (name === "triggerbase_dispatcher_queue_depth") gauges.queue = Number(value);
      if (name === "triggerbase_dispatcher_running") gauges.running = Number(value);
    }
    return "queue" in gauges ? gauges : null;
  } catch {
    return null;
  }
}

/** `el("td", {class: "x", dataset: {id: 1}}, "text", child)`: an element, never parsed HTML. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** A status pill. */
export function statusPill(name) {
  return el("span", { class: "status " + name, dataset: { status: name } }, name);
}

/** JSON folded in a <details>, open when `open`. */
export function folded(label, value, open = false) {
  return el("details", { open }, el("summary", {}, label), el("pre", {}, JSON.stringify(value, null, 2)));
}

/** `2026-12-03 11:27:27.283` in the browser's time zone. */
export function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (isNaN(date)) return iso;
  const pad = (n, width = 2) => String(n).padStart(width, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** Milliseconds between two ISO times, as `12 ms` or `1.52 s`; empty when either is missing. */
export function formatDuration(fromISO, toISO) {
  if (!fromISO || !toISO) return "";
  const ms = new Date(toISO) - new Date(fromISO);
  if (!isFinite(ms)) return "";
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Every node of a version's `nodes`, condition branches included, by id. */
export function nodesByID(nodes, into = new Map()) {
  for (const node of nodes || []) {
    into.set(node.id, node);
    const config = node.config || {};
    for (const branch of ["then", "else"]) if (Array.isArray(config[branch])) nodesByID(config[branch], into);
  }
  return into;
}
