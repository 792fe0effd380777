// The two charts, drawn as inline SVG: executions per minute by status (stacked bars), and the
// dispatcher's queue depth and running count over the samples taken at each refresh.

const svgNS = "http://www.w3.org/2000/svg";
export const statusOrder = ["resolved", "started", "queued", "failed", "error", "aborted", "canceled"];
const colors = { resolved: "#2e9e5b", started: "#2f6fd6", queued: "#8a94a6", failed: "#d64545",
                 error: "#b4308c", aborted: "#d98a1c", canceled: "#5b6475" };

function svg(tag, attributes, text) {
  const node = document.createElementNS(svgNS, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Counts `executions` (with `createdAt`, `statusName`) per minute over the `minutes` before `now`. */
export function perMinute(executions, now, minutes = 30) {
  const end = Math.floor(now / 60000) + 1;
  const buckets = Array.from({ length: minutes }, (_, i) => ({ minute: end - minutes + i, counts: {} }));
  for (const execution of executions) {
    const index = Math.floor(new Date(execution.createdAt) / 60000) - (end - minutes);
    if (index < 0 || index >= minutes) continue;
    const counts = buckets[index].counts;
    counts[execution.statusName] = (counts[execution.statusName] || 0) + 1;
  }
  return buckets;
}

/** Stacked bars of `perMinute` buckets into `target` (viewBox 600 × 160). */
export function drawPerMinute(target, buckets) {
  target.replaceChildren();
  const width = 600, height = 160, left = 30, bottom = 18, top = 8;
  const max = Math.max(1, ...buckets.map(b => Object.values(b.counts).reduce((a, c) => a + c, 0)));
  const slot = (width - left) / buckets.length;
  target.append(svg("text", { x: 2, y: top + 8 }, String(max)), svg("text", { x: 2, y: height - bottom }, "0"),
                svg("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, stroke: "#d8dde6" }));
  buckets.forEach((bucket, i) => {
    let y = height - bottom;
    for (const status of statusOrder) {
      const count = bucket.counts[status] || 0;
      if (!count) continue;
      const h = (count / max) * (height - bottom - top);
      y -= h;
      const bar = svg("rect", { x: left + i * slot + 1, y, width: Math.max(1, slot - 2), height: h, fill: colors[status],
                                "data-status": status, "data-count": count });
      bar.append(svg("title", {}, `${count} ${status}`));
      target.append(bar);
    }
    if (i % 5 === 0) {
      const date = new Date(bucket.minute * 60000);
      const label = `${String(date.getHours()).padStart(2, "0")}:${String(date.getMinutes()).padStart(2, "0")}`;
      target.append(svg("text", { x: left + i * slot, y: height - 4 }, label));
    }
  });
}

/** A legend of the statuses, as HTML. */
export function legend() {
  return statusOrder.map(status => {
    const item = document.createElement("span");
    item.className = "legend";
    const swatch = document.createElement("i");
    swatch.style.background = colors[status];
    item.append(swatch, status);
    return item;
  });
}

/** Lines of the queue depth (dark) and running count (blue) over `samples` ({queue, running}). */
export function drawDepth(target, samples) {
  target.replaceChildren();
  const width = 300, height = 160, left = 30, bottom = 18, top = 8;
  const max = Math.max(1, ...samples.map(s => Math.max(s.queue, s.running)));
  target.append(svg("text", { x: 2, y: top + 8 }, String(max)), svg("text", { x: 2, y: height - bottom }, "0"),
                svg("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, stroke: "#d8dde6" }));
  if (samples.length === 0) return;
  const step = (width - left) / Math.max(1, samples.length - 1);
  const line = (pick, color, name) => {
    const points = samples.map((s, i) => `${left + i * step},${height - bottom - (pick(s) / max) * (height - bottom - top)}`);
    target.append(svg("polyline", { points: points.join(" "), fill: "none", stroke: color, "stroke-width": 2, "data-series": name }));
  };
  line(s => s.queue, "#1d2330", "queue");
  line(s => s.running, "#2f6fd6", "running");
  const last = samples[samples.length - 1];
  target.append(svg("text", { x: left + 4, y: height - 4 }, `queue ${last.queue} · running ${last.running}`));
}
