/**
 * Inline SVG charts for the report: line charts with axes, ticks and a legend, and a scatter
 * plot. Pure string building, deterministic (fixed decimals), every text escaped.
 *
 * @module
 */
import { escapeHtml } from "./escape.ts";
import { SERIES_COLORS } from "./palette.ts";
import type { Series } from "./types.ts";

/** A vertical marker line on a line chart (e.g. the chosen threshold). */
export interface VerticalMarker {
  /** X position in data units. */
  x: number;
  /** Label drawn beside the line. */
  label: string;
}

/** Options for {@link lineChart}. */
export interface LineChartOptions {
  /** X axis label. */
  xLabel?: string;
  /** Y axis label. */
  yLabel?: string;
  /** Log scale on y (non-positive values are dropped). */
  logY?: boolean;
  /** Fixed y domain, e.g. `[0, 1]` for precision and recall. */
  yDomain?: [number, number];
  /** Vertical marker lines. */
  markers?: VerticalMarker[];
  /** Accessible title of the SVG. */
  title?: string;
  /** Width in CSS pixels of the drawing (default 560). */
  width?: number;
  /** Height in CSS pixels of the drawing (default 300). */
  height?: number;
}

/** Format a number compactly and deterministically for ticks and labels. */
export function _fmt(v: number, step = 0): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (step === 0 && Number.isInteger(v) && a < 1e5) return String(v);
  if (a >= 1e5 || a < 1e-4) return v.toExponential(1).replace("e+", "e");
  let decimals: number;
  if (step > 0) decimals = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  else decimals = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : Math.min(6, 2 - Math.floor(Math.log10(a)));
  return v.toFixed(decimals);
}

/** Round a coordinate to 0.1 px. */
function _c(v: number): string {
  return (Math.round(v * 10) / 10).toString();
}

/** "Nice" ticks (1, 2, 5 × 10^k steps) covering [lo, hi]. */
export function _niceTicks(
  lo: number,
  hi: number,
  count = 5,
): { ticks: number[]; step: number; lo: number; hi: number } {
  if (!(hi > lo)) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const norm = raw / mag;
  const step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  const start = Math.floor(lo / step + 1e-9) * step;
  const end = Math.ceil(hi / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let i = 0; start + i * step <= end + step * 1e-9; i++) ticks.push(Number((start + i * step).toPrecision(12)));
  return { ticks, step, lo: start, hi: end };
}

function _logTicks(lo: number, hi: number): { ticks: number[]; lo: number; hi: number } {
  const a = Math.floor(Math.log10(lo));
  const b = Math.ceil(Math.log10(hi));
  const ticks: number[] = [];
  const decades = b - a;
  for (let e = a; e <= b; e++) {
    ticks.push(Number(Math.pow(10, e).toPrecision(12)));
    if (decades <= 2 && e < b) {
      ticks.push(Number((2 * Math.pow(10, e)).toPrecision(12)), Number((5 * Math.pow(10, e)).toPrecision(12)));
    }
  }
  ticks.sort((x, y) => x - y);
  return { ticks, lo: Math.pow(10, a), hi: Math.pow(10, b === a ? a + 1 : b) };
}

/**
 * Draw a line chart as an inline SVG element.
 *
 * @param series the lines (x and y of equal length; non-finite y values leave gaps)
 * @param options axis labels, log scale, fixed domain, markers, size
 * @returns an `<svg>` string
 * @example
 * ```ts
 * import { lineChart } from "@likeness/report";
 * const svg = lineChart([{ name: "loss", x: [1, 2, 3], y: [0.9, 0.5, 0.3] }], { xLabel: "epoch" });
 * console.log(svg.startsWith("<svg")); // true
 * ```
 */
export function lineChart(series: Series[], options: LineChartOptions = {}): string {
  const W = options.width ?? 560;
  const H = options.height ?? 300;
  const m = { l: 62, r: 18, t: 34, b: 48 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const logY = options.logY ?? false;
  let xlo = Infinity, xhi = -Infinity, ylo = Infinity, yhi = -Infinity;
  for (const s of series) {
    const n = Math.min(s.x.length, s.y.length);
    for (let i = 0; i < n; i++) {
      const x = s.x[i];
      const y = s.y[i];
      if (!Number.isFinite(x) || !Number.isFinite(y) || (logY && y <= 0)) continue;
      xlo = Math.min(xlo, x);
      xhi = Math.max(xhi, x);
      ylo = Math.min(ylo, y);
      yhi = Math.max(yhi, y);
    }
  }
  for (const mk of options.markers ?? []) {
    if (Number.isFinite(mk.x)) {
      xlo = Math.min(xlo, mk.x);
      xhi = Math.max(xhi, mk.x);
    }
  }
  if (!Number.isFinite(xlo)) {
    xlo = 0;
    xhi = 1;
  }
  if (!Number.isFinite(ylo)) {
    ylo = logY ? 1 : 0;
    yhi = logY ? 10 : 1;
  }
  if (options.yDomain) [ylo, yhi] = options.yDomain;
  const xt = _niceTicks(xlo, xhi, 6);
  // Integer x data (epochs, steps) should not get fractional ticks.
  let xTicks = xt.ticks;
  let xStep = xt.step;
  if (xt.step < 1 && series.every((s) => Array.from(s.x).every((v) => Number.isInteger(v)))) {
    xTicks = xTicks.filter((v) => Number.isInteger(v));
    xStep = 1;
  }
  const x0 = xhi > xlo ? xlo : xt.lo;
  const x1 = xhi > xlo ? xhi : xt.hi;
  let y0: number, y1: number, yTicks: number[], yStep = 0;
  if (logY) {
    const lt = _logTicks(ylo, yhi);
    y0 = lt.lo;
    y1 = lt.hi;
    yTicks = lt.ticks;
  } else {
    const yt = _niceTicks(ylo, yhi, 5);
    y0 = options.yDomain ? ylo : yt.lo;
    y1 = options.yDomain ? yhi : yt.hi;
    yTicks = yt.ticks.filter((v) => v >= y0 - 1e-12 && v <= y1 + 1e-12);
    yStep = yt.step;
  }
  const sx = (v: number): number => m.l + ((v - x0) / (x1 - x0)) * pw;
  const sy = (v: number): number =>
    logY
      ? m.t + ph - ((Math.log10(v) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0))) * ph
      : m.t + ph - ((v - y0) / (y1 - y0)) * ph;
  const out: string[] = [];
  const label = options.title ? ` aria-label="${escapeHtml(options.title)}"` : "";
  out.push(
    `<svg class="chart" role="img"${label} viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">`,
  );
  // Grid and y ticks.
  for (const t of yTicks) {
    const y = _c(sy(t));
    out.push(`<line class="grid" x1="${m.l}" x2="${m.l + pw}" y1="${y}" y2="${y}"/>`);
    out.push(
      `<text class="tick" x="${m.l - 8}" y="${y}" text-anchor="end" dominant-baseline="middle">${
        escapeHtml(_fmt(t, logY ? 0 : yStep))
      }</text>`,
    );
  }
  for (const t of xTicks) {
    if (t < x0 - 1e-12 || t > x1 + 1e-12) continue;
    const x = _c(sx(t));
    out.push(`<line class="grid" x1="${x}" x2="${x}" y1="${m.t}" y2="${m.t + ph}"/>`);
    out.push(
      `<text class="tick" x="${x}" y="${m.t + ph + 16}" text-anchor="middle">${escapeHtml(_fmt(t, xStep))}</text>`,
    );
  }
  out.push(`<rect class="frame" x="${m.l}" y="${m.t}" width="${pw}" height="${ph}"/>`);
  if (options.xLabel) {
    out.push(
      `<text class="axis-label" x="${_c(m.l + pw / 2)}" y="${H - 10}" text-anchor="middle">${
        escapeHtml(options.xLabel)
      }</text>`,
    );
  }
  if (options.yLabel) {
    out.push(
      `<text class="axis-label" transform="translate(14 ${_c(m.t + ph / 2)}) rotate(-90)" text-anchor="middle">${
        escapeHtml(options.yLabel)
      }</text>`,
    );
  }
  // Lines.
  series.forEach((s, si) => {
    const color = SERIES_COLORS[si % SERIES_COLORS.length];
    const n = Math.min(s.x.length, s.y.length);
    let d = "";
    let pen = false;
    let count = 0;
    let lastX = 0, lastY = 0;
    for (let i = 0; i < n; i++) {
      const x = s.x[i];
      const y = s.y[i];
      if (!Number.isFinite(x) || !Number.isFinite(y) || (logY && y <= 0)) {
        pen = false;
        continue;
      }
      lastX = sx(x);
      lastY = sy(y);
      d += `${pen ? "L" : "M"}${_c(lastX)} ${_c(lastY)}`;
      pen = true;
      count++;
    }
    if (count === 0) return;
    const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
    out.push(`<path class="line" d="${d}" stroke="${color}"${dash}><title>${escapeHtml(s.name)}</title></path>`);
    if (count === 1) out.push(`<circle cx="${_c(lastX)}" cy="${_c(lastY)}" r="3" fill="${color}"/>`);
  });
  // Markers.
  for (const mk of options.markers ?? []) {
    if (!Number.isFinite(mk.x)) continue;
    const x = sx(mk.x);
    const right = x < m.l + pw * 0.62;
    out.push(`<line class="marker" x1="${_c(x)}" x2="${_c(x)}" y1="${m.t}" y2="${m.t + ph}"/>`);
    out.push(
      `<text class="marker-label" x="${_c(right ? x + 6 : x - 6)}" y="${m.t + 14}" text-anchor="${
        right ? "start" : "end"
      }">${escapeHtml(mk.label)}</text>`,
    );
  }
  // Legend (top, left to right).
  let lx = m.l;
  series.forEach((s, si) => {
    const color = SERIES_COLORS[si % SERIES_COLORS.length];
    const dash = s.dashed ? ` stroke-dasharray="6 4"` : "";
    out.push(
      `<g class="legend-item"><line x1="${lx}" x2="${
        lx + 22
      }" y1="14" y2="14" stroke="${color}" stroke-width="2.5"${dash}/>` +
        `<text class="legend" x="${lx + 28}" y="14" dominant-baseline="middle">${escapeHtml(s.name)}</text></g>`,
    );
    lx += 40 + Math.min(200, s.name.length * 7);
  });
  out.push("</svg>");
  return out.join("");
}

/** Options for {@link scatterPlot}. */
export interface ScatterOptions {
  /** Accessible title of the SVG. */
  title?: string;
  /** Width in CSS pixels (default 640). */
  width?: number;
  /** Height in CSS pixels (default: from the data's aspect ratio, 300 to 560). */
  height?: number;
  /** Point radius (default: 3.2 for ≤ 500 points, shrinking to 2 for 2,000+). */
  radius?: number;
  /** Axis captions, e.g. `["PC 1 (42%)", "PC 2 (17%)"]`. */
  axisLabels?: [string, string];
}

/**
 * Draw points coloured by class as an inline SVG element (each point has a tooltip with its
 * class name). Axes are equal-scaled so distances on screen match the projection.
 *
 * @param points one `[x, y]` per point
 * @param classes class index per point (into `names` and `colors`)
 * @param names class display names
 * @param colors class colours
 * @param options size, radius, title, axis captions
 * @returns an `<svg>` string
 * @example
 * ```ts
 * import { scatterPlot } from "@likeness/report";
 * const svg = scatterPlot([[0, 0], [1, 1]], [0, 1], ["a", "b"], ["#f00", "#00f"]);
 * console.log((svg.match(/<circle/g) ?? []).length); // 2
 * ```
 */
export function scatterPlot(
  points: [number, number][],
  classes: ArrayLike<number>,
  names: string[],
  colors: string[],
  options: ScatterOptions = {},
): string {
  const W = options.width ?? 640;
  const pad = 16;
  const bottom = options.axisLabels ? 26 : 0;
  let xlo = Infinity, xhi = -Infinity, ylo = Infinity, yhi = -Infinity;
  for (const [x, y] of points) {
    xlo = Math.min(xlo, x);
    xhi = Math.max(xhi, x);
    ylo = Math.min(ylo, y);
    yhi = Math.max(yhi, y);
  }
  // Default height follows the data's aspect ratio (equal axes), within 300..560 px.
  const aspect = xhi > xlo ? (yhi - ylo) / (xhi - xlo) : 1;
  const H = options.height ?? Math.round(Math.min(560, Math.max(300, (W - 2 * pad) * aspect + 2 * pad + bottom)));
  const span = Math.max(xhi - xlo, yhi - ylo) || 1;
  const scale = Math.min((W - 2 * pad) / ((xhi - xlo) || span), (H - 2 * pad - bottom) / ((yhi - ylo) || span));
  const cx = (xlo + xhi) / 2;
  const cy = (ylo + yhi) / 2;
  const sx = (v: number): number => W / 2 + (v - cx) * scale;
  const sy = (v: number): number => (H - bottom) / 2 - (v - cy) * scale;
  const r = options.radius ??
    (points.length <= 500 ? 3.2 : points.length >= 2000 ? 2 : 3.2 - (points.length - 500) / 1250);
  const out: string[] = [];
  const label = options.title ? ` aria-label="${escapeHtml(options.title)}"` : "";
  out.push(
    `<svg class="scatter" role="img"${label} viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg">`,
  );
  out.push(`<rect class="frame" x="0.5" y="0.5" width="${W - 1}" height="${H - bottom - 1}"/>`);
  // Cross-hair at the origin of the projection when it is inside the frame.
  if (xlo < 0 && xhi > 0) {
    out.push(`<line class="grid" x1="${_c(sx(0))}" x2="${_c(sx(0))}" y1="1" y2="${H - bottom - 1}"/>`);
  }
  if (ylo < 0 && yhi > 0) out.push(`<line class="grid" x1="1" x2="${W - 1}" y1="${_c(sy(0))}" y2="${_c(sy(0))}"/>`);
  // One group per class so a class can be styled together.
  const byClass = new Map<number, number[]>();
  for (let i = 0; i < points.length; i++) {
    const c = classes[i];
    const list = byClass.get(c);
    if (list) list.push(i);
    else byClass.set(c, [i]);
  }
  const order = [...byClass.keys()].sort((a, b) => a - b);
  for (const c of order) {
    const name = escapeHtml(names[c] ?? String(c));
    out.push(`<g class="class" fill="${colors[c]}" data-class="${name}">`);
    for (const i of byClass.get(c)!) {
      const [x, y] = points[i];
      out.push(`<circle cx="${_c(sx(x))}" cy="${_c(sy(y))}" r="${_c(r)}"><title>${name}</title></circle>`);
    }
    out.push("</g>");
  }
  if (options.axisLabels) {
    out.push(
      `<text class="axis-label" x="${W / 2}" y="${H - 8}" text-anchor="middle">${
        escapeHtml(options.axisLabels[0])
      } → · ${escapeHtml(options.axisLabels[1])} ↑</text>`,
    );
  }
  out.push("</svg>");
  return out.join("");
}
