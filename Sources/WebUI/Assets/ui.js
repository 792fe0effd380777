// The page: sign-in, workflows by key, executions with filters and live refresh, one execution's
// timeline, retry and cancel for root and admin, and the charts. Everything it shows comes from
// the API with the signed-in token and role, so it shows what that role may see and no more.

import { api, APIError, dispatcherGauges, el, formatDuration, formatTime, session, statusPill } from "/ui/api.js";
import { drawDepth, drawPerMinute, legend, perMinute, statusOrder } from "/ui/chart.js";
import { renderTimeline } from "/ui/timeline.js";

const $ = selector => document.querySelector(selector);
const refreshMilliseconds = 2000;
const listSize = 100;
const state = { versions: new Map(), samples: [], timer: null, openExecution: null, busy: false, again: false };

function notice(message) {
  const node = $("#notice");
  node.textContent = message || "";
  node.hidden = !message;
}

function describe(error) {
  return error instanceof APIError ? `${error.message} (${error.status} ${error.code})` : String(error && error.message || error);
}

// MARK: Sign-in

async function signIn(token, role) {
  session.save(token, role);
  try {
    // Any signed-in caller may list the versions it may start: a wrong token is 401 here.
    const startable = await api("workflow/processdefinition");
    await enter(startable.result || []);
  } catch (error) {
    session.clear();
    $("#signin-error").textContent = error instanceof APIError && error.status === 401
      ? "That token is not valid (expired or revoked?)." : describe(error);
    showSignIn();
  }
}

function showSignIn() {
  stopRefresh();
  $("#signin").hidden = false;
  $("#app").hidden = true;
  $("#signout").hidden = true;
  $("#whoami").textContent = "";
}

async function enter(startable) {
  $("#signin").hidden = true;
  $("#signin-error").textContent = "";
  $("#app").hidden = false;
  $("#signout").hidden = false;
  $("#whoami").textContent = session.role ? `role ${session.role}` : "your default role";
  try {
    await loadWorkflows();
  } catch (error) {
    if (error instanceof APIError && error.status === 403) {
      // Workflows and executions are root's and admin's (spec 03): show what this role may start.
      $("#manager-view").hidden = true;
      notice(`This role cannot see workflows or executions: ${describe(error)}.`);
      renderStartable(startable);
      return;
    }
    throw error;
  }
  $("#manager-view").hidden = false;
  $("#startable").hidden = true;
  notice("");
  await refresh();
  startRefresh();
}

function renderStartable(startable) {
  $("#startable").hidden = false;
  $("#startable tbody").replaceChildren(...startable.map(definition =>
    el("tr", {}, el("td", {}, definition.key), el("td", {}, definition.version), el("td", {}, definition.name))));
}

// MARK: Workflows

async function loadWorkflows() {
  const answer = await api("workflows:list", { query: { pageSize: 1000, sort: "key,versionNumber" } });
  const byKey = new Map();
  for (const version of answer.data) {
    state.versions.set(version.id, version);
    if (!byKey.has(version.key)) byKey.set(version.key, []);
    byKey.get(version.key).push(version);
  }
  $("#workflows tbody").replaceChildren(...[...byKey].map(([key, versions]) => {
    const current = versions.find(v => v.current) || versions[versions.length - 1];
    return el("tr", { dataset: { key } },
      el("td", {}, el("a", { href: "#", onclick: event => { event.preventDefault(); filterByKey(key); } }, key),
        el("div", { class: "muted" }, current.title || "")),
      el("td", {}, versions.map(v => el("span", {
        class: "version" + (v.current ? " current" : "") + (v.enabled ? "" : " disabled"),
        title: `id ${v.id}${v.enabled ? ", enabled" : ", disabled"}${v.current ? ", current" : ""}`,
        dataset: { versionId: v.id, enabled: v.enabled },
      }, `v${v.versionNumber}`))),
      el("td", {}, current.sync ? "sync" : "async", current.enabled ? "" : el("div", { class: "muted" }, "disabled")));
  }));
  const select = $("#filter-key"), chosen = select.value;
  select.replaceChildren(el("option", { value: "" }, "any"), ...[...byKey.keys()].map(key => el("option", { value: key }, key)));
  select.value = chosen;
}

async function version(id) {
  if (!state.versions.has(id)) {
    try {
      const answer = await api("workflows:get", { query: { filterByTk: id } });
      if (answer && answer.data) state.versions.set(id, answer.data);
    } catch { return null; }
  }
  return state.versions.get(id) || null;
}

function filterByKey(key) {
  $("#filter-key").value = key;
  refresh();
}

// MARK: Executions

/** The filter the form describes, in the list's filter language (the subject is matched here). */
function currentFilter() {
  const filter = {};
  const key = $("#filter-key").value, status = $("#filter-status").value, businessKey = $("#filter-business-key").value.trim();
  const from = $("#filter-from").value, to = $("#filter-to").value;
  if (key) filter.key = key;
  if (status) filter.statusName = status;
  if (businessKey) filter.businessKey = businessKey;
  if (from || to) {
    filter.createdAt = {};
    if (from) filter.createdAt.$gte = new Date(from).toISOString();
    if (to) filter.createdAt.$lte = new Date(to).toISOString();
  }
  return filter;
}

function subjectMatches(execution) {
  const subject = $("#filter-subject").value.trim();
  if (!subject) return true;
  const data = execution.context && execution.context.data;
  return data && typeof data === "object" && String(data.id) === subject;
}

async function loadExecutions() {
  const filter = currentFilter();
  const bySubject = $("#filter-subject").value.trim() !== "";
  // The subject lives in the context; the newest 1000 matching the rest are searched for it.
  const answer = await api("executions:list", { query: { filter, sort: "-id", pageSize: bySubject ? 1000 : listSize } });
  const executions = answer.data.filter(subjectMatches).slice(0, listSize);
  const total = bySubject ? `${executions.length} shown` : `${executions.length} shown of ${answer.meta.count}`;
  $("#execution-count").textContent = total;
  $("#executions tbody").replaceChildren(...executions.map(execution => {
    const data = execution.context && execution.context.data;
    const subject = data && typeof data === "object" && data.id !== undefined ? String(data.id) : "";
    const row = el("tr", { dataset: { executionId: execution.id, status: execution.statusName }, onclick: () => openExecution(execution.id) },
      el("td", {}, execution.id),
      el("td", {}, execution.key, el("span", { class: "muted" }, ` #${execution.workflowId}`)),
      el("td", {}, statusPill(execution.statusName)),
      el("td", {}, execution.businessKey ?? ""),
      el("td", {}, subject),
      el("td", {}, formatTime(execution.createdAt)),
      el("td", {}, formatDuration(execution.startedAt, execution.finishedAt)),
      el("td", {}, execution.attempts || ""));
    if (execution.id === state.openExecution) row.classList.add("selected");
    return row;
  }));
}

async function openExecution(id) {
  state.openExecution = id;
  for (const row of document.querySelectorAll("#executions tr.selected")) row.classList.remove("selected");
  const row = document.querySelector(`#executions tr[data-execution-id="${id}"]`);
  if (row) row.classList.add("selected");
  await showTimeline();
}

async function showTimeline() {
  const id = state.openExecution;
  if (id === null) return;
  const target = $("#timeline");
  const answer = await api("executions:get", { query: { filterByTk: id, appends: "jobs" } });
  if (state.openExecution !== id) return;
  renderTimeline(target, answer.data, await version(answer.data.workflowId), { retry: retryOne, cancel: cancelOne });
}

async function act(work) {
  try {
    notice("");
    await work();
  } catch (error) {
    notice(describe(error));
  }
  await refresh();
}

const retryOne = id => act(() => api("executions:retry", { method: "POST", query: { filterByTk: id } }));
const cancelOne = id => act(() => api("executions:cancel", { method: "POST", query: { filterByTk: id } }));

function retryMatching() {
  if (!confirm("Retry every failed, errored or aborted execution these filters select?")) return;
  act(async () => {
    const answer = await api("executions:retry", { method: "POST", query: { filter: currentFilter() } });
    notice(`Retried ${answer.meta ? answer.meta.count : answer.data.length} execution(s).`);
  });
}

function cancelMatching() {
  if (!confirm("Cancel every queued or started execution these filters select?")) return;
  act(async () => {
    const unfinished = [];
    for (const statusName of ["queued", "started"]) {
      const answer = await api("executions:list", { query: { filter: { ...currentFilter(), statusName }, fields: "id", pageSize: 1000 } });
      unfinished.push(...answer.data.map(execution => execution.id));
    }
    let canceled = 0;
    for (const id of unfinished) {
      try {
        await api("executions:cancel", { method: "POST", query: { filterByTk: id } });
        canceled += 1;
      } catch (error) {
        if (!(error instanceof APIError && error.code === "EXECUTION_FINISHED")) throw error;
      }
    }
    notice(`Canceled ${canceled} execution(s).`);
  });
}

// MARK: Charts

async function drawCharts() {
  const since = new Date(Date.now() - 30 * 60000).toISOString();
  const answer = await api("executions:list", {
    query: { filter: { createdAt: { $gte: since } }, fields: "id,statusName,createdAt", sort: "-id", pageSize: 1000 },
  });
  drawPerMinute($("#per-minute"), perMinute(answer.data, Date.now()));
  const gauges = await dispatcherGauges();
  if (gauges) {
    state.samples.push(gauges);
    if (state.samples.length > 90) state.samples.shift();
  }
  drawDepth($("#queue-depth"), state.samples);
}

// MARK: Refresh

/** Reloads the list, the open timeline and the charts. A call while one runs makes it run once
 *  more when it ends, so what an action changed is always shown. */
async function refresh() {
  if (state.busy) { state.again = true; return; }
  state.busy = true;
  try {
    do {
      state.again = false;
      await loadExecutions();
      await showTimeline();
      await drawCharts();
    } while (state.again);
  } catch (error) {
    if (error instanceof APIError && error.status === 401) { session.clear(); showSignIn(); $("#signin-error").textContent = "Signed out: the token is no longer valid."; }
    else notice(describe(error));
  } finally {
    state.busy = false;
  }
}

function startRefresh() {
  stopRefresh();
  if ($("#live").checked) state.timer = setInterval(refresh, refreshMilliseconds);
}

function stopRefresh() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
}

// MARK: Wiring

function start() {
  const statuses = $("#filter-status");
  statuses.append(...statusOrder.map(name => el("option", { value: name }, name)));
  $("#per-minute-legend").append(...legend());
  $("#signin-form").addEventListener("submit", event => {
    event.preventDefault();
    signIn($("#token").value.trim(), $("#role").value.trim());
  });
  $("#signout").addEventListener("click", () => { session.clear(); state.versions.clear(); state.openExecution = null; showSignIn(); });
  // Apply also reloads the workflows (new keys and versions); the live refresh reloads executions.
  $("#filters").addEventListener("submit", event => { event.preventDefault(); loadWorkflows().then(refresh, error => notice(describe(error))); });
  $("#live").addEventListener("change", startRefresh);
  $("#retry-matching").addEventListener("click", retryMatching);
  $("#cancel-matching").addEventListener("click", cancelMatching);
  if (session.token) signIn(session.token, session.role); else showSignIn();
}

start();
