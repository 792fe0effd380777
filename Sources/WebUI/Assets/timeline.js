// One execution's timeline: its facts, then each job in order with its node's type, status,
// start, end and duration (a node starts when the one before it ended), the node's configuration (its input, templates unrendered) and its
// result, the error of a failed node, and a request node's attempts.

import { el, folded, formatDuration, formatTime, nodesByID, statusPill } from "/ui/api.js";

const failures = new Set(["failed", "error", "aborted"]);

/**
 * Renders `execution` (with `jobs`) of `version` (null when it is gone) into `target`.
 * `actions` is null for a caller who may not retry or cancel, else `{retry(id), cancel(id)}`.
 */
export function renderTimeline(target, execution, version, actions) {
  const nodes = nodesByID(version ? version.nodes : []);
  const jobs = (execution.jobs || []).slice().sort((a, b) => a.id - b.id);
  const status = execution.statusName;
  const buttons = [];
  if (actions && failures.has(status)) {
    buttons.push(el("button", { id: "retry-execution", type: "button", onclick: () => actions.retry(execution.id) }, "Retry"));
  }
  if (actions && (status === "queued" || status === "started")) {
    buttons.push(el("button", { id: "cancel-execution", class: "danger", type: "button", onclick: () => actions.cancel(execution.id) }, "Cancel"));
  }
  const facts = [
    ["workflow", `${execution.key} (version ${version ? version.versionNumber : "gone"}, id ${execution.workflowId})`],
    ["business key", execution.businessKey ?? "—"],
    ["created", formatTime(execution.createdAt)],
    ["started", formatTime(execution.startedAt) || "—"],
    ["finished", formatTime(execution.finishedAt) || "—"],
    ["duration", formatDuration(execution.startedAt, execution.finishedAt) || "—"],
  ];
  if (execution.reason) facts.push(["reason", execution.reason]);
  if (execution.attempts) facts.push(["attempts", String(execution.attempts)]);
  if (execution.lastError) facts.push(["last error", execution.lastError]);

  target.replaceChildren(
    el("header", {},
      el("h2", {}, `Execution ${execution.id}`), statusPill(status), ...buttons,
      el("button", { type: "button", id: "close-timeline", onclick: () => { target.hidden = true; } }, "Close")),
    el("dl", { class: "facts" }, facts.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)])),
    folded("context", execution.context),
    el("h3", {}, jobs.length ? `${jobs.length} job${jobs.length === 1 ? "" : "s"}` : "No job yet"),
    el("ol", { class: "jobs" }, jobs.map((job, i) =>
      jobItem(job, nodes.get(job.nodeId), execution, i === 0 ? execution.startedAt : jobs[i - 1].updatedAt))),
  );
  target.dataset.executionId = String(execution.id);
  target.hidden = false;
}

/** A job's row is written when its node ends; the node began when the step before it ended
 *  (nodes run one after another), or when the execution started. */
function jobItem(job, node, execution, startedAt) {
  const type = node ? node.type : "unknown node";
  const parts = [
    el("div", { class: "job-head" },
      el("span", { class: "node" }, node && node.title ? `${node.title} (${job.nodeId})` : job.nodeId),
      el("span", { class: "type", dataset: { nodeType: type } }, type),
      statusPill(job.statusName),
      el("span", { class: "muted" }, `${formatTime(startedAt)} → ${formatTime(job.updatedAt)}`),
      el("span", { class: "muted duration" }, formatDuration(startedAt, job.updatedAt))),
  ];
  if (failures.has(job.statusName)) {
    const message = job.result && typeof job.result === "object" && job.result.message ? job.result.message : execution.reason;
    if (message) parts.push(el("p", { class: "error job-error" }, message));
  }
  if (type === "request" && (execution.attempts || execution.lastError)) {
    parts.push(el("p", { class: "attempts" },
      `${execution.attempts} attempt${execution.attempts === 1 ? "" : "s"}` + (execution.lastError ? `; last error: ${execution.lastError}` : "")));
  }
  if (node) parts.push(folded("input (the node's configuration)", node.config || {}));
  parts.push(folded("result", job.result, failures.has(job.statusName)));
  return el("li", { class: job.statusName, dataset: { jobNode: job.nodeId, status: job.statusName } }, parts);
}
