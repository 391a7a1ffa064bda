/**
 * Render a {@link ReportData} as one self-contained HTML file: inline CSS, inline SVG charts,
 * inline PNG thumbnails; no scripts, fonts or external requests. Same input, same bytes.
 *
 * @module
 */
import { checkLabels, checkPositiveInt, createRng, ShapeError, toMatrix, ValueError } from "@likeness/core";
import { _fmt, lineChart, scatterPlot } from "./chart.ts";
import { escapeHtml } from "./escape.ts";
import { classPalette } from "./palette.ts";
import { pngDataUrl } from "./png.ts";
import { project2d } from "./project.ts";
import type {
  Calibration,
  Curve,
  EmbeddingMap,
  ExampleItem,
  MetricsComparison,
  QueryExample,
  ReportData,
  RunSummary,
} from "./types.ts";

const CSS = `
:root{--fg:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f8fafc;--card:#fff;--accent:#2563eb;--good:#15803d;--bad:#b91c1c}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;-webkit-font-smoothing:antialiased}
header{background:#0f172a;color:#f8fafc;padding:28px 0 22px}
header h1{margin:0 0 4px;font-size:26px;font-weight:650;letter-spacing:-.01em}
header p{margin:0;color:#cbd5e1}
nav{margin-top:14px;display:flex;gap:16px;flex-wrap:wrap}
nav a{color:#93c5fd;text-decoration:none;font-size:14px}
nav a:hover{text-decoration:underline}
.wrap{max-width:1160px;margin:0 auto;padding:0 24px}
main{padding:24px 0 8px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:20px 22px;margin:0 0 22px}
h2{font-size:18px;margin:0 0 14px;font-weight:640}
h3{font-size:14px;margin:0 0 6px;font-weight:600;color:#374151}
.note{color:var(--muted);font-size:13px;margin:6px 0 0}
dl.summary{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:12px 24px;margin:0}
dl.summary div{border-left:3px solid var(--accent);padding-left:10px}
dl.summary dt{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted)}
dl.summary dd{margin:0;font-weight:550;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:8px 12px;border-bottom:1px solid var(--line);text-align:right}
th:first-child,td:first-child{text-align:left}
thead th{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600}
tbody tr:hover{background:#f1f5f9}
td.trained{font-weight:650}
.up{color:var(--good)} .down{color:var(--bad)}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:18px}
figure{margin:0}
figcaption{font-size:14px;font-weight:600;margin:0 0 4px;color:#374151}
svg.chart,svg.scatter{width:100%;height:auto;display:block}
svg text{font-family:inherit}
svg .grid{stroke:#eef0f3;stroke-width:1}
svg .frame{fill:none;stroke:#cbd5e1;stroke-width:1}
svg .tick{font-size:12px;fill:#6b7280}
svg .axis-label{font-size:13px;fill:#374151}
svg .legend{font-size:13px;fill:#374151}
svg .line{fill:none;stroke-width:2.2;stroke-linejoin:round;stroke-linecap:round}
svg .marker{stroke:#111827;stroke-width:1.4;stroke-dasharray:4 3}
svg .marker-label{font-size:12px;fill:#111827;font-weight:600}
svg.scatter circle{fill-opacity:.78;stroke:#fff;stroke-width:.4}
.map{display:grid;grid-template-columns:minmax(0,3fr) minmax(180px,1fr);gap:18px;align-items:start}
ul.classes{list-style:none;margin:0;padding:0;columns:2 120px;column-gap:12px;font-size:13px}
ul.classes li{display:flex;align-items:center;gap:6px;break-inside:avoid;padding:1px 0}
ul.classes .sw{width:11px;height:11px;border-radius:50%;flex:none}
ul.classes .n{color:var(--muted);margin-left:auto;font-variant-numeric:tabular-nums}
.query{display:flex;gap:16px;align-items:flex-start;padding:14px 0;border-bottom:1px solid var(--line)}
.query:last-child{border-bottom:0}
.q{flex:none;min-width:150px;max-width:240px}
.q .item{border-color:var(--accent);border-width:2px}
.nbrs{display:flex;gap:10px;flex-wrap:wrap;flex:1}
.item{border:1px solid var(--line);border-radius:8px;padding:6px;background:#fff;width:132px;font-size:12px}
.item.text{width:220px}
.item.match{border-color:#86efac;background:#f0fdf4}
.item.miss{border-color:#fca5a5;background:#fef2f2}
.item img{display:block;width:100%;height:auto;image-rendering:pixelated;border-radius:4px;background:#000}
.item .txt{font-size:13px;line-height:1.4;display:-webkit-box;-webkit-line-clamp:5;-webkit-box-orient:vertical;overflow:hidden;margin-bottom:4px}
.item .meta{display:flex;justify-content:space-between;gap:6px;color:var(--muted);margin-top:4px}
.item .lab{color:#374151;font-weight:600;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.cal{display:grid;grid-template-columns:minmax(0,2fr) minmax(200px,1fr);gap:18px;align-items:start}
footer{color:var(--muted);font-size:13px;padding:8px 0 32px}
@media (max-width:760px){.map,.cal{grid-template-columns:1fr}.grid2{grid-template-columns:1fr}}
`;

/**
 * Render a report as one self-contained HTML document.
 *
 * Sections, each skipped when its field is absent: run summary, metrics table (trained beside
 * the untrained baseline, with the change), loss and metric curves, 2-D map of test embeddings
 * coloured by class (projected here with {@link project2d}), example queries with their nearest
 * neighbours (image thumbnails as inline PNGs, texts), and the calibration curve with the chosen
 * threshold. Every text from the data is HTML-escaped; the output has no scripts and makes no
 * requests; the same input gives the same string.
 *
 * @param data what to show (only `summary` is required)
 * @returns the HTML document
 * @throws {ValueError} INVALID_ARGUMENT when a required field is missing or a value has the wrong type;
 *   NON_FINITE for non-finite embeddings; TOO_LARGE for a t-SNE map over its point limit
 * @throws {ShapeError} LABEL_MISMATCH when embeddings and labels differ in length; SHAPE_MISMATCH for
 *   series with x and y of different lengths or images whose pixel count does not match their shape
 * @example
 * ```ts
 * import { renderReport } from "@likeness/report";
 * const html = renderReport({
 *   summary: { dataset: "digits", model: "MLP 64-32", loss: "triplet", epochs: 3 },
 *   metrics: { trained: { "precision@1": 0.93 }, baseline: { "precision@1": 0.71 } },
 *   curves: [{ title: "Loss", series: [{ name: "train", x: [1, 2, 3], y: [0.8, 0.5, 0.4] }] }],
 * });
 * console.log(html.startsWith("<!DOCTYPE html>")); // true
 * ```
 */
export function renderReport(data: ReportData): string {
  if (!data || typeof data !== "object") {
    throw new ValueError("INVALID_ARGUMENT", "Cannot render report: pass a ReportData object with at least `summary`");
  }
  _checkSummary(data.summary);
  const title = data.title ?? "likeness report";
  const sections: { id: string; name: string; html: string }[] = [];
  sections.push({ id: "summary", name: "Summary", html: _summary(data.summary) });
  if (data.metrics) sections.push({ id: "metrics", name: "Metrics", html: _metrics(data.metrics) });
  if (data.curves && data.curves.length > 0) {
    sections.push({ id: "curves", name: "Curves", html: _curves(data.curves) });
  }
  if (data.embeddingMap) sections.push({ id: "map", name: "Embedding map", html: _map(data.embeddingMap) });
  if (data.examples && data.examples.length > 0) {
    sections.push({ id: "examples", name: "Examples", html: _examples(data.examples) });
  }
  if (data.calibration) sections.push({ id: "calibration", name: "Calibration", html: _calibration(data.calibration) });
  const s = data.summary;
  const sub = [s.dataset, s.model, s.loss].map(escapeHtml).join(" · ");
  const nav = sections.map((x) => `<a href="#${x.id}">${escapeHtml(x.name)}</a>`).join("");
  const body = sections.map((x) => `<section id="${x.id}">${x.html}</section>`).join("\n");
  const footer = data.footer ? `<p>${escapeHtml(data.footer)}</p>` : "";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${CSS}</style>
</head>
<body>
<header><div class="wrap"><h1>${escapeHtml(title)}</h1><p>${sub}</p><nav>${nav}</nav></div></header>
<main class="wrap">
${body}
</main>
<footer class="wrap">${footer}<p>Generated by likeness. Self-contained: no scripts, fonts or network requests.</p></footer>
</body>
</html>
`;
}

function _checkString(v: unknown, field: string): void {
  if (typeof v !== "string") {
    throw new ValueError(
      "INVALID_ARGUMENT",
      `Cannot render report: ${field} must be a string (got ${v === undefined ? "nothing" : typeof v}); set it`,
    );
  }
}

function _checkSummary(s: RunSummary): void {
  if (!s || typeof s !== "object") {
    throw new ValueError(
      "INVALID_ARGUMENT",
      "Cannot render report: `summary` is missing; pass { dataset, model, loss } at least",
    );
  }
  _checkString(s.dataset, "summary.dataset");
  _checkString(s.model, "summary.model");
  _checkString(s.loss, "summary.loss");
}

function _duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return String(seconds);
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds - m * 60);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

function _summary(s: RunSummary): string {
  const rows: [string, string][] = [["Data set", s.dataset], ["Model", s.model], ["Loss", s.loss]];
  if (s.epochs !== undefined) rows.push(["Epochs", String(s.epochs)]);
  if (s.wallTimeSeconds !== undefined) rows.push(["Wall time", _duration(s.wallTimeSeconds)]);
  if (s.backend !== undefined) rows.push(["Backend", s.backend]);
  for (const [k, v] of Object.entries(s.extra ?? {})) rows.push([k, typeof v === "number" ? _fmt(v) : String(v)]);
  const items = rows.map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd></div>`).join("");
  return `<h2>Run summary</h2><dl class="summary">${items}</dl>`;
}

function _num(v: number | undefined): string {
  if (v === undefined) return "–";
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1000 ? v.toFixed(0) : v.toFixed(4);
}

function _metrics(mc: MetricsComparison): string {
  if (!mc.trained || typeof mc.trained !== "object") {
    throw new ValueError("INVALID_ARGUMENT", "Cannot render report: metrics.trained must map metric names to numbers");
  }
  const names = Object.keys(mc.trained);
  for (const k of Object.keys(mc.baseline ?? {})) if (!names.includes(k)) names.push(k);
  const lower = new Set(mc.lowerIsBetter ?? []);
  const hasBase = mc.baseline !== undefined;
  const rows = names.map((name) => {
    const t = mc.trained[name];
    const b = mc.baseline?.[name];
    let change = "";
    if (hasBase) {
      if (t !== undefined && b !== undefined && Number.isFinite(t) && Number.isFinite(b)) {
        const d = t - b;
        const better = lower.has(name) ? d < 0 : d > 0;
        const cls = d === 0 ? "" : better ? "up" : "down";
        change = `<td class="${cls}">${d >= 0 ? "+" : "−"}${
          Math.abs(d) >= 1000 ? Math.abs(d).toFixed(0) : Math.abs(d).toFixed(4)
        }</td>`;
      } else change = "<td>–</td>";
    }
    return `<tr><td>${escapeHtml(name)}</td>${hasBase ? `<td>${_num(b)}</td>` : ""}<td class="trained">${
      _num(t)
    }</td>${change}</tr>`;
  }).join("");
  const head = `<tr><th>Metric</th>${hasBase ? "<th>Untrained baseline</th>" : ""}<th>Trained</th>${
    hasBase ? "<th>Change</th>" : ""
  }</tr>`;
  return `<h2>Metrics</h2><table class="metrics"><thead>${head}</thead><tbody>${rows}</tbody></table>`;
}

function _checkSeries(c: Curve, where: string): void {
  if (!c || !Array.isArray(c.series)) {
    throw new ValueError("INVALID_ARGUMENT", `Cannot render report: ${where}.series must be an array of series`);
  }
  _checkString(c.title, `${where}.title`);
  c.series.forEach((s, i) => {
    _checkString(s?.name, `${where}.series[${i}].name`);
    if (!s.x || !s.y || s.x.length !== s.y.length) {
      throw new ShapeError(
        `Cannot draw ${where}.series[${i}] "${s.name}": x has ${s.x?.length ?? 0} values but y has ${
          s.y?.length ?? 0
        }; pass one x per y`,
      );
    }
  });
}

function _curves(curves: Curve[]): string {
  const figs = curves.map((c, i) => {
    _checkSeries(c, `curves[${i}]`);
    const svg = lineChart(c.series, { xLabel: c.xLabel ?? "epoch", yLabel: c.yLabel, logY: c.logY, title: c.title });
    return `<figure><figcaption>${escapeHtml(c.title)}</figcaption>${svg}</figure>`;
  }).join("");
  return `<h2>Training curves</h2><div class="grid2">${figs}</div>`;
}

/** Sorted distinct labels: numbers first (numeric order), then strings (code-unit order). */
function _classes(labels: ArrayLike<string | number>): (string | number)[] {
  const seen = new Set<string | number>();
  for (let i = 0; i < labels.length; i++) seen.add(labels[i]);
  return [...seen].sort((a, b) => {
    if (typeof a === "number" && typeof b === "number") return a - b;
    if (typeof a === "number") return -1;
    if (typeof b === "number") return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

function _className(label: string | number, names?: string[]): string {
  return typeof label === "number" && names && names[label] !== undefined ? names[label] : String(label);
}

function _map(em: EmbeddingMap): string {
  const all = toMatrix(em.embeddings, "embeddingMap.embeddings");
  checkLabels(em.labels, all.rows, "embeddingMap.embeddings");
  const maxPoints = checkPositiveInt(em.maxPoints ?? 2000, "embeddingMap.maxPoints");
  const rng = createRng(em.seed ?? 0);
  let m = all;
  let labels: ArrayLike<string | number> = em.labels;
  if (all.rows > maxPoints) {
    // Seeded subsample, kept in input order.
    const keep = rng.shuffle([...Array(all.rows).keys()]).slice(0, maxPoints).sort((a, b) => a - b);
    const data = new Float32Array(keep.length * all.cols);
    keep.forEach((r, i) => data.set(all.data.subarray(r * all.cols, (r + 1) * all.cols), i * all.cols));
    m = { data, rows: keep.length, cols: all.cols };
    labels = keep.map((r) => em.labels[r]);
  }
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (typeof l !== "string" && typeof l !== "number") {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `Cannot render embedding map: label ${i} is ${typeof l}; use numbers or strings`,
      );
    }
  }
  let points: [number, number][];
  let axes: [string, string];
  if (em.projected) {
    if (m.cols !== 2) {
      throw new ShapeError(
        `Cannot draw embedding map: projected points need 2 columns but have ${m.cols}; drop \`projected\` to project them here`,
      );
    }
    points = [];
    for (let i = 0; i < m.rows; i++) points.push([m.data[2 * i], m.data[2 * i + 1]]);
    axes = ["x", "y"];
  } else {
    const p = project2d(m, { method: em.method ?? "pca", seed: em.seed ?? 0 });
    points = p.points;
    if (p.explainedVariance) {
      const [a, b] = p.explainedVariance;
      axes = [`PC 1 (${(a * 100).toFixed(1)}% var.)`, `PC 2 (${(b * 100).toFixed(1)}% var.)`];
    } else axes = ["t-SNE 1", "t-SNE 2"];
  }
  const classes = _classes(labels);
  const index = new Map(classes.map((c, i) => [c, i]));
  const cls = new Int32Array(m.rows);
  for (let i = 0; i < m.rows; i++) cls[i] = index.get(labels[i])!;
  const names = classes.map((c) => _className(c, em.classNames));
  const colors = classPalette(classes.length);
  const counts = new Array(classes.length).fill(0);
  for (const c of cls) counts[c]++;
  // Draw in a seeded random order so no class is always painted on top.
  const order = rng.shuffle([...Array(m.rows).keys()]);
  const title = em.title ?? "Test embeddings";
  const svg = scatterPlot(order.map((i) => points[i]), order.map((i) => cls[i]), names, colors, {
    title,
    axisLabels: axes,
  });
  const legend = names.map((n, i) =>
    `<li><span class="sw" style="background:${colors[i]}"></span><span>${escapeHtml(n)}</span><span class="n">${
      counts[i]
    }</span></li>`
  ).join("");
  const method = em.projected ? "given 2-D points" : (em.method ?? "pca") === "pca" ? "PCA" : "t-SNE";
  return `<h2>${
    escapeHtml(title)
  }</h2><div class="map"><figure>${svg}</figure><div><h3>${classes.length} classes</h3>` +
    `<ul class="classes">${legend}</ul><p class="note">${m.rows}${
      m.rows < all.rows ? ` of ${all.rows}` : ""
    } points, ${m.cols}-D, projected by ${method}. Hover a point for its class.</p></div></div>`;
}

function _item(it: ExampleItem, extra: string, cls: string, distance?: number): string {
  const parts: string[] = [];
  const kind = it.image ? "image" : "text";
  if (it.image) {
    const label = it.label !== undefined ? escapeHtml(it.label) : "image";
    parts.push(
      `<img alt="${label}" src="${pngDataUrl(it.image)}" width="${it.image.width}" height="${it.image.height}">`,
    );
  }
  if (it.text !== undefined) parts.push(`<div class="txt" title="${escapeHtml(it.text)}">${escapeHtml(it.text)}</div>`);
  const lab = it.label !== undefined
    ? `<span class="lab" title="${escapeHtml(it.label)}">${escapeHtml(it.label)}</span>`
    : "<span></span>";
  const dist = distance !== undefined ? `<span>${escapeHtml(_fmt(distance, 0.001))}</span>` : "";
  parts.push(`<div class="meta">${lab}${dist}</div>`);
  return `<div class="item ${kind}${cls}"${extra}>${parts.join("")}</div>`;
}

function _examples(examples: QueryExample[]): string {
  const rows = examples.map((ex, qi) => {
    if (!ex || !ex.query || !Array.isArray(ex.neighbours)) {
      throw new ValueError(
        "INVALID_ARGUMENT",
        `Cannot render examples[${qi}]: pass { query, neighbours: [{ item, distance }] }`,
      );
    }
    const q = _item(ex.query, "", "");
    const nb = ex.neighbours.map((n, ni) => {
      if (!n || !n.item || typeof n.distance !== "number") {
        throw new ValueError(
          "INVALID_ARGUMENT",
          `Cannot render examples[${qi}].neighbours[${ni}]: pass { item, distance: number }`,
        );
      }
      const match = n.match ??
        (ex.query.label !== undefined && n.item.label !== undefined
          ? String(ex.query.label) === String(n.item.label)
          : undefined);
      const cls = match === undefined ? "" : match ? " match" : " miss";
      return _item(n.item, ` data-rank="${ni + 1}"`, cls, n.distance);
    }).join("");
    return `<div class="query"><div class="q"><h3>Query ${qi + 1}</h3>${q}</div><div class="nbrs">${nb}</div></div>`;
  }).join("");
  return `<h2>Example queries and nearest neighbours</h2><p class="note">Neighbours best first with their distance; ` +
    `green = same class as the query, red = different class.</p>${rows}`;
}

function _calibration(cal: Calibration): string {
  if (!cal || !Array.isArray(cal.points) || cal.points.length === 0) {
    throw new ValueError(
      "INVALID_ARGUMENT",
      "Cannot render calibration: points must be a non-empty array of { threshold, precision, recall }",
    );
  }
  const pts = [...cal.points].sort((a, b) => a.threshold - b.threshold);
  for (const p of pts) {
    if (![p.threshold, p.precision, p.recall].every((v) => typeof v === "number" && Number.isFinite(v))) {
      throw new ValueError(
        "NON_FINITE",
        "Cannot render calibration: every point needs finite threshold, precision and recall",
      );
    }
  }
  const name = cal.distanceName ?? "distance";
  const x = pts.map((p) => p.threshold);
  const markers = cal.chosen
    ? [{ x: cal.chosen.threshold, label: `threshold ${_fmt(cal.chosen.threshold, 0.001)}` }]
    : [];
  const svg = lineChart(
    [{ name: "precision", x, y: pts.map((p) => p.precision) }, { name: "recall", x, y: pts.map((p) => p.recall) }],
    {
      xLabel: `${name} threshold`,
      yLabel: "precision / recall",
      yDomain: [0, 1],
      markers,
      title: "Calibration",
      width: 680,
      height: 340,
    },
  );
  let side = `<p class="note">A pair is called a match when its ${escapeHtml(name)} is within the threshold.</p>`;
  if (cal.chosen) {
    const c = cal.chosen;
    side = `<table class="chosen"><tbody><tr><td>Threshold</td><td class="trained">${
      escapeHtml(_fmt(c.threshold, 0.0001))
    }</td></tr><tr><td>Precision</td><td>${_num(c.precision)}</td></tr><tr><td>Recall</td><td>${
      _num(c.recall)
    }</td></tr></tbody></table>${cal.note ? `<p class="note">${escapeHtml(cal.note)}</p>` : ""}${side}`;
  } else if (cal.note) side = `<p class="note">${escapeHtml(cal.note)}</p>${side}`;
  return `<h2>Calibration</h2><div class="cal"><figure><figcaption>Precision and recall vs ${
    escapeHtml(name)
  } threshold</figcaption>${svg}</figure><div>${side}</div></div>`;
}
