// A small line chart drawn as inline SVG: one line per series over the totals samples, with axes, a legend and a text
// summary for screen readers. No library: the dashboard ships as plain files.

const Svg = "http://www.w3.org/2000/svg";
const Width = 640;
const Height = 240;
const Pad = { left: 64, right: 12, top: 12, bottom: 28 };
// Distinguishable in light and dark themes, and each with a dash pattern so colour is never the only cue.
const Palette = [
  ["#1f6feb", ""], ["#c2410c", "6 3"], ["#15803d", "2 3"], ["#9333ea", "8 3 2 3"],
  ["#b91c1c", "1 3"], ["#0e7490", "10 4"], ["#a16207", "4 2"], ["#be185d", "3 3 8 3"],
];

function el(name, attrs = {}, text) {
  const node = document.createElementNS(Svg, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Draws series = [{ label, points: [{ t: ms, v: number }] }] into figure, with format(v) for values. Replaces what was there.
 */
export function drawChart(figure, title, series, format) {
  figure.replaceChildren();
  const usable = series.filter((s) => s.points.length > 0);
  if (usable.length === 0) {
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = "Nothing to draw yet: no key has served tokens or spend since the history began (sampled every gateway.dashboard.totalsInterval).";
    figure.append(p);
    return;
  }
  const all = usable.flatMap((s) => s.points);
  const t0 = Math.min(...all.map((p) => p.t));
  const t1 = Math.max(...all.map((p) => p.t), t0 + 1000);
  const vmax = Math.max(...all.map((p) => p.v), 0) || 1;
  const x = (t) => Pad.left + ((t - t0) / (t1 - t0)) * (Width - Pad.left - Pad.right);
  const y = (v) => Height - Pad.bottom - (v / vmax) * (Height - Pad.top - Pad.bottom);

  const svg = el("svg", { viewBox: `0 0 ${Width} ${Height}`, role: "img", "aria-labelledby": "chart-title chart-desc", class: "chart-svg" });
  svg.append(el("title", { id: "chart-title" }, title));
  const latest = usable.map((s) => `${s.label}: ${format(s.points[s.points.length - 1].v)}`).join("; ");
  svg.append(el("desc", { id: "chart-desc" }, `Latest values: ${latest}.`));

  // Grid and value axis: 0, half, max.
  for (const f of [0, 0.5, 1]) {
    const v = vmax * f;
    svg.append(el("line", { x1: Pad.left, x2: Width - Pad.right, y1: y(v), y2: y(v), class: "grid" }));
    svg.append(el("text", { x: Pad.left - 6, y: y(v) + 4, "text-anchor": "end", class: "axis" }, format(v)));
  }
  const clock = (t) => new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  svg.append(el("text", { x: Pad.left, y: Height - 8, class: "axis" }, clock(t0)));
  svg.append(el("text", { x: Width - Pad.right, y: Height - 8, "text-anchor": "end", class: "axis" }, clock(t1)));

  usable.forEach((s, i) => {
    const [color, dash] = Palette[i % Palette.length];
    const d = s.points.map((p, j) => `${j === 0 ? "M" : "L"}${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(" ");
    svg.append(el("path", { d, fill: "none", stroke: color, "stroke-width": 2, "stroke-dasharray": dash, "stroke-linejoin": "round" }));
    if (s.points.length === 1) svg.append(el("circle", { cx: x(s.points[0].t), cy: y(s.points[0].v), r: 3, fill: color }));
  });
  figure.append(svg);

  const legend = document.createElement("ul");
  legend.className = "legend";
  usable.forEach((s, i) => {
    const [color, dash] = Palette[i % Palette.length];
    const li = document.createElement("li");
    const swatch = el("svg", { width: 28, height: 10, "aria-hidden": "true" });
    swatch.append(el("line", { x1: 0, x2: 28, y1: 5, y2: 5, stroke: color, "stroke-width": 3, "stroke-dasharray": dash }));
    li.append(swatch, ` ${s.label}: ${format(s.points[s.points.length - 1].v)}`);
    legend.append(li);
  });
  const caption = document.createElement("figcaption");
  caption.append(legend);
  figure.append(caption);
}
