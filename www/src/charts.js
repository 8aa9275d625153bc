// The playground's live charts, drawn with ECharts (tree-shaken: only the charts and
// components used below are bundled).
//
//   const charts = createCharts({objective, curves, parallel, brackets, importance, boundary});
//   charts.update({trials, objective: {name, direction}, selectedId, tunerKind, hyperband});
//   charts.setBoundary({n, extent, values, task, points, title});
//   charts.onSelect((trialId) => ...);  charts.resize();  charts.dispose();
//
// Every element is optional; a missing one skips its chart. Each container needs a height
// (ECharts draws into the element's current size). update() may be called many times a second:
// it renders at most every MIN_GAP_MS (the last call always lands), skips charts whose input did
// not change, and hands ECharts lazy updates, so a burst of epochs costs one frame.

import * as echarts from "echarts/core";
import { LineChart, ScatterChart, ParallelChart, BarChart, CustomChart } from "echarts/charts";
import {
  GridComponent,
  TooltipComponent,
  ParallelComponent,
  VisualMapContinuousComponent,
  TitleComponent,
  LegendPlainComponent,
} from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";
import { hpImportance, hyperbandPlan, bestSoFar } from "./importance.js";

echarts.use([
  LineChart,
  ScatterChart,
  ParallelChart,
  BarChart,
  CustomChart,
  GridComponent,
  TooltipComponent,
  ParallelComponent,
  VisualMapContinuousComponent,
  TitleComponent,
  LegendPlainComponent,
  CanvasRenderer,
]);

const MIN_GAP_MS = 120;
const MIN_IMPORTANCE_TRIALS = 6;

// TensorFlow Playground's palette: orange for 0 / low, a light grey-white middle, blue for 1 / high.
const ORANGE = "#f59322";
const MID = "#e8eaeb";
const BLUE = "#0877bd";
const HIGHLIGHT = "#d81b60"; // the selected (or best) trial
const FADED = "#8a94a6";
const MUTED_TEXT = "#888";
// Parallel coordinates: from poor to good scores.
const QUALITY = ["#fcd7a4", "#7fb1d6", BLUE];

const KEYS = ["objective", "curves", "parallel", "brackets", "importance", "boundary"];
const LABELS = {
  objective: "Objective score per trial",
  curves: "Learning curves of the trials",
  parallel: "Parallel coordinates of hyperparameters and score",
  brackets: "Hyperband brackets",
  importance: "Hyperparameter importance",
  boundary: "Decision boundary of the shown model",
};

// ----------------------------------------------------------------------------- small helpers

const finite = (v) => typeof v === "number" && Number.isFinite(v);
const isDone = (t) => t.status === "COMPLETED" && finite(t.score);

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function fmtNum(v) {
  if (!finite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e7) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

const fmtVal = (v) => (typeof v === "number" ? fmtNum(v) : String(v));

function hpsHtml(hps, max = 14) {
  if (!hps || typeof hps !== "object") return "";
  const entries = Object.entries(hps);
  const lines = entries.slice(0, max).map(([k, v]) => `${esc(k)}: <b>${esc(fmtVal(v))}</b>`);
  if (entries.length > max) lines.push(`… ${entries.length - max} more`);
  return lines.join("<br>");
}

function byId(a, b) {
  const na = Number(a.id), nb = Number(b.id);
  if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  const sa = String(a.id), sb = String(b.id);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** The trial's number on the x axis: its id when the id is an integer, else its position. */
function trialX(t, i) {
  const n = Number(t.id);
  return t.id !== "" && t.id != null && Number.isInteger(n) ? n : i;
}

function bestTrial(sorted, dir) {
  let best = null;
  for (const t of sorted) {
    if (!isDone(t)) continue;
    if (!best || (dir === "max" ? t.score > best.score : t.score < best.score)) best = t;
  }
  return best;
}

/**
 * An axis bound that keeps a few diverged values (a loss of 1e6) from squashing the rest:
 * for "min" objectives an upper cap, for "max" a lower one; undefined when nothing sticks out.
 */
function robustBound(values, dir) {
  const v = values.filter(finite).sort((a, b) => a - b);
  if (v.length < 5) return undefined;
  const q = (p) => v[Math.min(v.length - 1, Math.floor(p * (v.length - 1)))];
  if (dir === "max") {
    const hi = v[v.length - 1], q10 = q(0.1), span = hi - q10;
    if (span > 0 && hi - v[0] > 4 * span) return { min: q10 - 0.6 * span };
  } else {
    const lo = v[0], q90 = q(0.9), span = q90 - lo;
    if (span > 0 && v[v.length - 1] - lo > 4 * span) return { max: q90 + 0.6 * span };
  }
  return undefined;
}

/** With a robust bound the axis ends at an odd value: its label would crowd the next one. */
function capLabels(bound) {
  // null is ECharts' "automatic"; set explicitly so that a merge clears an earlier false.
  return { showMaxLabel: bound.max !== undefined ? false : null, showMinLabel: bound.min !== undefined ? false : null };
}

/** The curve drawn for a trial: the objective's metric, else val_loss, else loss. */
function curveOf(t, metric) {
  const curves = t.curves && typeof t.curves === "object" ? t.curves : {};
  for (const name of [metric, "val_loss", "loss"]) {
    const c = curves[name];
    if (Array.isArray(c) && c.length) return { name, points: c };
  }
  return { name: metric, points: [] };
}

function hexRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
const RGB_ORANGE = hexRgb(ORANGE), RGB_MID = hexRgb(MID), RGB_BLUE = hexRgb(BLUE);

/** t in [0, 1] -> [r, g, b] on orange -> middle -> blue (the same linear RGB blend as visualMap). */
function diverging(t) {
  const x = t <= 0 ? 0 : t >= 1 ? 1 : t;
  const [a, b, u] = x < 0.5 ? [RGB_ORANGE, RGB_MID, x * 2] : [RGB_MID, RGB_BLUE, (x - 0.5) * 2];
  return [a[0] + (b[0] - a[0]) * u, a[1] + (b[1] - a[1]) * u, a[2] + (b[2] - a[2]) * u];
}

function rgbCss(c) {
  return `rgb(${Math.round(c[0])},${Math.round(c[1])},${Math.round(c[2])})`;
}

/** White -> blue, for how full a Hyperband cell is. */
function fillColour(frac) {
  const w = [247, 249, 251], b = RGB_BLUE;
  const u = Math.max(0, Math.min(1, frac));
  return rgbCss([w[0] + (b[0] - w[0]) * u, w[1] + (b[1] - w[1]) * u, w[2] + (b[2] - w[2]) * u]);
}

const TOOLTIP = { confine: true, textStyle: { fontSize: 11 }, padding: [4, 8] };
const AXIS_LABEL = { fontSize: 10 };
const AXIS_NAME = { fontSize: 10, color: MUTED_TEXT };
const EDGE = { onZero: false }; // value axes stay at the plot's edge, not where the other axis is 0

/** A chart that shows only a short centred text. */
function messageOption(text) {
  return {
    __mode: "message",
    animation: false,
    title: { text, left: "center", top: "middle", textStyle: { fontSize: 12, fontWeight: "normal", color: MUTED_TEXT } },
  };
}

// ----------------------------------------------------------------------------- the charts

function objectiveOption(s) {
  const { sorted, dir, metric, selectedId } = s;
  const points = [];
  const xs = [];
  const scores = [];
  sorted.forEach((t, i) => {
    if (!isDone(t)) return;
    const x = trialX(t, i);
    const item = { value: [x, t.score], id: t.id, hps: t.hps };
    if (t.id === selectedId) {
      item.symbolSize = 13;
      item.itemStyle = { color: HIGHLIGHT, borderColor: "#fff", borderWidth: 1.5, opacity: 1 };
      item.z = 10;
    }
    points.push(item);
    xs.push(x);
    scores.push(t.score);
  });
  if (!points.length) return messageOption("no completed trials yet");
  const best = bestSoFar(scores, dir);
  const bound = robustBound(scores, dir) || {};
  // Scores (nearly) all equal: a narrow band around them, not ECharts' wide default (0.4 to 1.6
  // around a single accuracy of 0.98).
  const lo = Math.min(...scores), hi = Math.max(...scores);
  if (bound.min === undefined && bound.max === undefined && hi - lo <= 1e-3 * Math.max(1, Math.abs(hi))) {
    const pad = Math.max(0.01, Math.abs(hi) * 0.02);
    bound.min = lo - pad;
    bound.max = hi + pad;
  }
  // Scores beyond a robust bound sit on the plot's edge as triangles; the tooltip keeps the value.
  for (const item of points) {
    const y = item.value[1];
    if (bound.max !== undefined && y > bound.max) { item.value = [item.value[0], bound.max]; item.symbol = "triangle"; }
    if (bound.min !== undefined && y < bound.min) { item.value = [item.value[0], bound.min]; item.symbol = "triangle"; item.symbolRotate = 180; }
    item.score = y;
  }
  return {
    __mode: "chart",
    animation: false,
    grid: { left: 8, right: 14, top: 26, bottom: 6 },
    tooltip: {
      ...TOOLTIP,
      trigger: "item",
      formatter: (p) =>
        p.seriesId === "scores" && p.data
          ? `trial <b>${esc(p.data.id)}</b><br>${esc(metric)}: <b>${esc(fmtNum(p.data.score))}</b><br>${hpsHtml(p.data.hps)}`
          : "",
    },
    xAxis: { type: "value", minInterval: 1, scale: true, axisLine: EDGE, axisLabel: AXIS_LABEL, splitLine: { show: false } },
    yAxis: {
      type: "value",
      scale: true,
      axisLine: EDGE,
      name: `${metric} (${dir === "max" ? "higher" : "lower"} is better)`,
      nameTextStyle: { ...AXIS_NAME, align: "left" },
      nameGap: 8,
      axisLabel: { ...AXIS_LABEL, formatter: fmtNum, ...capLabels(bound) },
      min: bound.min ?? null,
      max: bound.max ?? null,
    },
    series: [
      {
        type: "line",
        id: "best",
        name: "best so far",
        step: "end",
        data: xs.map((x, i) => [x, best[i]]),
        showSymbol: false,
        silent: true,
        lineStyle: { color: ORANGE, width: 1.5 },
        z: 2,
      },
      {
        type: "scatter",
        id: "scores",
        name: metric,
        data: points,
        symbolSize: 7,
        itemStyle: { color: BLUE, opacity: 0.8 },
        cursor: "pointer",
        z: 3,
      },
    ],
  };
}

// Finished trials share one faded series (a break between trials), which keeps a search with
// hundreds of trials cheap to redraw after every epoch; running trials and the highlighted one
// get their own series. Hover and click find the nearest curve by hand (see nearestCurve), so a
// thin line is easy to pick, also with a finger.
function curvesOption(s) {
  const { sorted, dir, metric, selectedId } = s;
  let highlight = selectedId != null ? sorted.find((t) => t.id === selectedId) : null;
  if (!highlight) highlight = bestTrial(sorted, dir);
  const faded = [];
  const own = [];
  const index = [];
  const ys = [];
  let xMax = 1;
  let top = null;
  for (const t of sorted) {
    const { name, points } = curveOf(t, metric);
    const data = [];
    for (const p of points) {
      if (!Array.isArray(p) || !finite(p[0]) || !finite(p[1])) continue;
      data.push([p[0] + 1, p[1]]);
      ys.push(p[1]);
      if (p[0] + 1 > xMax) xMax = p[0] + 1;
    }
    if (finite(t.epochs) && t.epochs > xMax) xMax = t.epochs;
    if (!data.length) continue;
    const running = t.status === "RUNNING";
    const label = `trial ${t.id}` + (name !== metric ? ` (${name})` : "") + (running ? ", running" : "");
    index.push({ id: String(t.id), label, pts: data });
    if (highlight && t === highlight) {
      top = {
        type: "line",
        id: "highlight",
        data,
        showSymbol: data.length <= 40,
        symbol: "circle",
        symbolSize: 4,
        silent: true,
        lineStyle: { width: 2.5, color: HIGHLIGHT, opacity: 1 },
        itemStyle: { color: HIGHLIGHT },
        z: 10,
      };
    } else if (running) {
      own.push({
        type: "line",
        id: "run:" + t.id,
        data,
        showSymbol: false,
        silent: true,
        lineStyle: { width: 1.2, color: BLUE, opacity: 0.8 },
        z: 3,
      });
    } else {
      if (faded.length) faded.push([data[0][0], "-"]); // a gap between two trials' curves
      for (const p of data) faded.push(p);
    }
  }
  if (!index.length) return messageOption("no learning curves yet");
  const series = [
    {
      type: "line",
      id: "done",
      data: faded,
      showSymbol: false,
      silent: true,
      connectNulls: false,
      lineStyle: { width: 1, color: FADED, opacity: 0.35 },
      z: 2,
    },
    ...own,
  ];
  if (top) series.push(top);
  const bound = robustBound(ys, dir) || {};
  return {
    __mode: "chart",
    __index: index,
    animation: false,
    grid: { left: 8, right: 14, top: 26, bottom: 6 },
    tooltip: { ...TOOLTIP, triggerOn: "none" },
    xAxis: { type: "value", min: 1, max: xMax, minInterval: 1, axisLine: EDGE, axisLabel: AXIS_LABEL, splitLine: { show: false } },
    yAxis: {
      type: "value",
      scale: true,
      axisLine: EDGE,
      name: `${metric} per epoch`,
      nameTextStyle: { ...AXIS_NAME, align: "left" },
      nameGap: 8,
      axisLabel: { ...AXIS_LABEL, formatter: fmtNum, ...capLabels(bound) },
      min: bound.min ?? null,
      max: bound.max ?? null,
    },
    series,
  };
}

/**
 * The curve point nearest to the pixel (px, py), measured to the segments between points,
 * within `reach` pixels: {curve, i} or null.
 */
function nearestCurve(chart, index, px, py, reach) {
  if (!index || !index.length || !chart.containPixel({ gridIndex: 0 }, [px, py])) return null;
  const o = chart.convertToPixel({ gridIndex: 0 }, [0, 0]);
  const u = chart.convertToPixel({ gridIndex: 0 }, [1, 1]);
  if (!o || !u) return null;
  const bx = u[0] - o[0], by = u[1] - o[1];
  let best = null;
  let bestD = reach * reach;
  for (const c of index) {
    let x0 = 0, y0 = 0;
    for (let i = 0; i < c.pts.length; i++) {
      const x = o[0] + bx * c.pts[i][0], y = o[1] + by * c.pts[i][1];
      let d = (px - x) ** 2 + (py - y) ** 2;
      let at = i;
      if (i > 0) {
        const vx = x - x0, vy = y - y0, len = vx * vx + vy * vy;
        const t = len > 0 ? Math.max(0, Math.min(1, ((px - x0) * vx + (py - y0) * vy) / len)) : 0;
        const ds = (px - x0 - t * vx) ** 2 + (py - y0 - t * vy) ** 2;
        if (ds < d) { d = ds; at = t < 0.5 ? i - 1 : i; }
      }
      if (d <= bestD) { bestD = d; best = { curve: c, i: at, x: o[0] + bx * c.pts[at][0], y: o[1] + by * c.pts[at][1] }; }
      x0 = x; y0 = y;
    }
  }
  return best;
}

function parallelOption(s, width) {
  const { sorted, dir, metric, selectedId } = s;
  const done = sorted.filter(isDone);
  if (!done.length) return messageOption("no completed trials yet");
  const names = [];
  const seen = new Set();
  for (const t of done) {
    if (!t.hps || typeof t.hps !== "object") continue;
    for (const k of Object.keys(t.hps)) if (!seen.has(k)) { seen.add(k); names.push(k); }
  }
  const axes = [];
  const columns = []; // per axis: trial -> the value on that axis
  for (const name of names) {
    const vals = done.map((t) => (t.hps && t.hps[name] != null ? t.hps[name] : undefined));
    const present = vals.filter((v) => v !== undefined);
    const distinct = new Set(vals.map((v) => (v === undefined ? "\u0000" : typeof v + ":" + String(v))));
    if (distinct.size < 2 && done.length > 1) continue; // constant: an axis with nothing to say
    const numeric = present.length > 0 && present.every(finite);
    if (numeric) {
      let lo = Infinity, hi = -Infinity;
      for (const v of present) { if (v < lo) lo = v; if (v > hi) hi = v; }
      const log = lo > 0 && hi / lo > 100;
      axes.push({ name, type: log ? "log" : "value", scale: !log, axisLabel: { ...AXIS_LABEL, fontSize: 9, formatter: fmtNum } });
      columns.push(vals.map((v) => (v === undefined ? null : v)));
    } else {
      const cats = [...new Set(present.map(String))].sort((a, b) => {
        const na = Number(a), nb = Number(b);
        return Number.isFinite(na) && Number.isFinite(nb) ? na - nb : a < b ? -1 : a > b ? 1 : 0;
      });
      if (present.length < vals.length) cats.push("–");
      axes.push({ name, type: "category", data: cats, axisLabel: { ...AXIS_LABEL, fontSize: 9 } });
      columns.push(vals.map((v) => (v === undefined ? "–" : String(v))));
    }
  }
  const scores = done.map((t) => t.score);
  let lo = Math.min(...scores), hi = Math.max(...scores);
  const bound = robustBound(scores, dir);
  if (bound && bound.max !== undefined) hi = bound.max;
  if (bound && bound.min !== undefined) lo = bound.min;
  if (!(hi > lo)) hi = lo + (Math.abs(lo) || 1) * 1e-6;
  axes.push({
    name: metric,
    type: "value",
    scale: true,
    inverse: dir !== "max", // the best scores on top
    // An inverted axis ends at the bottom; its name still goes on top.
    nameLocation: dir !== "max" ? "start" : "end",
    min: bound && bound.min !== undefined ? lo : undefined,
    max: bound && bound.max !== undefined ? hi : undefined,
    axisLabel: { ...AXIS_LABEL, fontSize: 9, formatter: fmtNum, ...capLabels(bound || {}) },
    nameTextStyle: { fontSize: 10, fontWeight: "bold" },
  });
  const k = axes.length;
  axes.forEach((a, i) => { a.dim = i; });
  // Axis names are centred on their axes: the outer margins leave room for half a name.
  const left = 36, right = 40;
  const spacing = k > 1 ? (Math.max(width, 200) - left - right) / (k - 1) : 120;
  const nameWidth = Math.max(28, Math.min(spacing - 6, 2 * left - 4));
  const data = done.map((t, j) => {
    const value = columns.map((c) => c[j]);
    value.push(Math.min(hi, Math.max(lo, t.score))); // outliers rest on the axis' end
    const item = { name: t.id, value, hps: t.hps, score: t.score };
    if (t.id === selectedId) item.lineStyle = { width: 3, opacity: 1, color: HIGHLIGHT };
    return item;
  });
  return {
    __mode: "chart",
    animation: false,
    parallel: { left, right, top: 36, bottom: 14 },
    parallelAxisDefault: {
      nameLocation: "end",
      nameGap: 8,
      nameTextStyle: { fontSize: 10 },
      nameTruncate: { maxWidth: nameWidth, ellipsis: "…" },
      axisLabel: AXIS_LABEL,
    },
    parallelAxis: axes,
    visualMap: {
      type: "continuous",
      show: false,
      dimension: k - 1,
      seriesIndex: 0,
      min: lo,
      max: hi,
      inRange: { color: dir === "max" ? QUALITY : [...QUALITY].reverse() },
    },
    tooltip: {
      ...TOOLTIP,
      trigger: "item",
      formatter: (p) =>
        p.data
          ? `trial <b>${esc(p.data.name)}</b><br>${esc(metric)}: <b>${esc(fmtNum(p.data.score))}</b><br>${hpsHtml(p.data.hps)}`
          : "",
    },
    series: [
      {
        type: "parallel",
        id: "trials",
        name: "trials",
        data,
        lineStyle: { width: 1.3, opacity: 0.75 },
        emphasis: { lineStyle: { width: 2.5, opacity: 1 } },
        cursor: "pointer",
      },
    ],
  };
}

// Hyperband's and BOHB's brackets (the same plan); ASHA's rungs are the plan's most aggressive
// bracket, one row whose cells count the trials that reached each rung (it has no fixed total).
function bracketsOption(s) {
  const hb = s.hyperband;
  if (!hb) return messageOption("Hyperband, BOHB and ASHA only");
  const asha = s.tunerKind === "asha";
  let plan = hyperbandPlan(hb.maxEpochs, hb.factor);
  if (!plan.length) return messageOption("no valid max epochs / factor");
  if (asha) plan = [{ bracket: 0, rounds: plan[0].rounds.map((r) => ({ ...r, trials: null })) }];
  const iterations = finite(hb.iterations) && hb.iterations >= 1 && !asha ? Math.floor(hb.iterations) : 1;
  // A trial's `tuner/bracket` is the bracket current when it was created (KerasTuner's rule): with
  // parallel workers a later round of an older bracket can carry a newer one. Its round and
  // epochs name its own bracket (each bracket's round r trains a different number of epochs).
  const bracketOf = new Map();
  for (const p of plan) for (const r of p.rounds) bracketOf.set(r.round + ":" + r.epochs, p.bracket);
  const counts = new Map();
  for (const t of s.sorted) {
    const tu = t.tuner;
    if (!tu || !Number.isInteger(tu.bracket) || !Number.isInteger(tu.round)) continue;
    const key = (asha ? 0 : bracketOf.get(tu.round + ":" + tu.epochs) ?? tu.bracket) + ":" + tu.round;
    const c = counts.get(key) || { done: 0, completed: 0, failed: 0, running: 0 };
    if (t.status === "RUNNING") c.running++;
    else {
      c.done++;
      if (t.status === "COMPLETED") c.completed++;
      else c.failed++;
    }
    counts.set(key, c);
  }
  const rows = asha ? ["rungs"] : plan.map((p) => `b${p.bracket}`);
  const nRounds = Math.max(...plan.map((p) => p.rounds.length));
  const cols = Array.from({ length: nRounds }, (_, r) => `${asha ? "rung" : "round"} ${r}`);
  // ASHA's cells fill in proportion to the fullest rung (the first, as a rule).
  const most = Math.max(1, ...[...counts.values()].map((c) => c.done));
  const data = [];
  let doneAll = 0, totalAll = 0;
  plan.forEach((p, yi) => {
    for (const r of p.rounds) {
      const c = counts.get(p.bracket + ":" + r.round) || { done: 0, completed: 0, failed: 0, running: 0 };
      const total = asha ? null : r.trials * iterations;
      const frac = asha ? c.done / most : total > 0 ? Math.min(1, c.done / total) : 0;
      doneAll += asha ? c.done : Math.min(c.done, total);
      totalAll += total ?? 0;
      data.push({
        value: [r.round, yi],
        bracket: p.bracket,
        round: r.round,
        epochs: r.epochs,
        total,
        frac,
        ...c,
      });
    }
  });
  // Each cell is a rounded rectangle filled in proportion to the trials done, with its count and
  // epochs; an orange border while some of its trials run.
  const renderCell = (params, api) => {
    const d = data[params.dataIndex];
    const [cx, cy] = api.coord([api.value(0), api.value(1)]);
    const [w, h] = api.size([1, 1]);
    return {
      type: "group",
      children: [
        {
          type: "rect",
          shape: { x: cx - w / 2 + 1.5, y: cy - h / 2 + 1.5, width: Math.max(1, w - 3), height: Math.max(1, h - 3), r: 3 },
          style: { fill: fillColour(d.frac), stroke: d.running ? ORANGE : "#d5dce4", lineWidth: d.running ? 2 : 1 },
        },
        {
          type: "text",
          silent: true,
          style: {
            x: cx,
            y: cy,
            text: (asha ? `${d.done}` : `${d.done}/${d.total}`) + (h >= 26 ? `\n${d.epochs} ep` : ""),
            align: "center",
            verticalAlign: "middle",
            fontSize: 10,
            lineHeight: 12,
            fill: d.frac > 0.55 ? "#fff" : "#333",
          },
        },
      ],
    };
  };
  return {
    __mode: "chart",
    __summary: asha ? `${doneAll} trials done` : `${doneAll} of ${totalAll} trials done`,
    animation: false,
    grid: { left: 4, right: 6, top: 22, bottom: 4 },
    tooltip: {
      ...TOOLTIP,
      trigger: "item",
      formatter: (p) => {
        const d = p.data;
        if (!d) return "";
        return (
          (asha ? `rung ${d.round}: ${d.epochs} epochs<br>${d.done} done (${d.completed} completed` : `bracket ${d.bracket}, round ${d.round}: ${d.epochs} epochs<br>${d.done} / ${d.total} done (${d.completed} completed`) +
          (d.failed ? `, ${d.failed} failed` : "") +
          `)` +
          (d.running ? `<br>${d.running} running` : "")
        );
      },
    },
    xAxis: {
      type: "category",
      data: cols,
      position: "top",
      axisTick: { show: false },
      axisLine: { show: false },
      axisLabel: AXIS_LABEL,
    },
    yAxis: {
      type: "category",
      data: rows,
      inverse: true,
      axisTick: { show: false },
      axisLine: { show: false },
      axisLabel: AXIS_LABEL,
    },
    series: [
      {
        type: "custom",
        id: "cells",
        data,
        renderItem: renderCell,
        encode: { x: 0, y: 1, tooltip: [] },
      },
    ],
  };
}

function importanceOption(s) {
  const done = s.sorted.filter(isDone);
  if (done.length < MIN_IMPORTANCE_TRIALS) {
    return messageOption(`needs ${MIN_IMPORTANCE_TRIALS} completed trials (${done.length} so far)`);
  }
  const imp = hpImportance(done, s.dir);
  if (!imp.length) return messageOption("no hyperparameter varies over the trials");
  if (!imp.some((r) => r.importance > 0)) return messageOption("no hyperparameter explains the score yet");
  return {
    __mode: "chart",
    __summary: imp.slice(0, 5).map((r) => `${r.name} ${Math.round(r.importance * 100)}%`).join(", "),
    animation: false,
    grid: { left: 8, right: 40, top: 6, bottom: 6 },
    tooltip: {
      ...TOOLTIP,
      trigger: "item",
      formatter: (p) => `${esc(p.name)}: <b>${Math.round(p.value * 1000) / 10}%</b>`,
    },
    xAxis: { type: "value", min: 0, max: 1, show: false },
    yAxis: {
      type: "category",
      data: imp.map((r) => r.name),
      inverse: true,
      axisTick: { show: false },
      axisLabel: { ...AXIS_LABEL, width: 96, overflow: "truncate" },
    },
    series: [
      {
        type: "bar",
        id: "importance",
        data: imp.map((r) => r.importance),
        barMaxWidth: 14,
        itemStyle: { color: BLUE },
        label: { show: true, position: "right", fontSize: 10, formatter: (p) => `${Math.round(p.value * 100)}%` },
      },
    ],
  };
}

// ----------------------------------------------------------------------------- decision boundary

/** The counts of true (rows) against predicted (columns) classes of a confusion payload. */
function confusionOf(c) {
  const k = Math.max(2, Math.floor(Number(c.classes)) || 2);
  const labels = Array.from(c.labels ?? []);
  const counts = Array.from({ length: k }, () => new Array(k).fill(0));
  let correct = 0;
  const values = c.values;
  const perRow = values && labels.length ? values.length / labels.length : 0;
  labels.forEach((label, i) => {
    const t = Math.round(label);
    let p = t;
    if (values) {
      if (perRow === 1) p = values[i] >= 0.5 ? 1 : 0;
      else {
        p = 0;
        for (let j = 1; j < perRow; j++) if (values[i * perRow + j] > values[i * perRow + p]) p = j;
      }
    }
    if (t >= 0 && t < k && p >= 0 && p < k) counts[t][p]++;
    if (p === t) correct++;
  });
  return { k, counts, total: labels.length, correct, model: !!values, title: c.title ? String(c.title) : "" };
}

/** The confusion as a grid of coloured cells (scatter of squares: no extra chart type bundled). */
function confusionOption(c, width, height) {
  const { k, counts, total, correct } = c;
  const rowSum = counts.map((r) => r.reduce((a, b) => a + b, 0) || 1);
  const plot = Math.max(60, Math.min(width - 60, height - 70));
  const cell = plot / k;
  const names = Array.from({ length: k }, (_, i) => String(i));
  const data = [];
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) {
      const share = counts[t][p] / rowSum[t];
      const base = t === p ? hexRgb(BLUE) : hexRgb(ORANGE);
      const rgb = base.map((v) => Math.round(255 - (255 - v) * Math.min(1, share * (t === p ? 1 : 2.5))));
      data.push({ value: [p, t, counts[t][p]], itemStyle: { color: rgbCss(rgb) } });
    }
  }
  return {
    animation: false,
    title: { text: c.model ? `${c.title}: ${correct} of ${total} test rows right (${((100 * correct) / Math.max(1, total)).toFixed(1)}%)` : `${total} test rows, ${k} classes (no model yet)`, left: "center", top: 0, textStyle: { fontSize: 12, fontWeight: "normal" } },
    grid: { left: (width - plot) / 2 + 8, top: 26, width: plot, height: plot },
    tooltip: { ...TOOLTIP, trigger: "item", formatter: (p) => `true ${p.value[1]}, predicted ${p.value[0]}: <b>${p.value[2]}</b>` },
    xAxis: { type: "category", data: names, position: "bottom", axisLine: EDGE, axisTick: { show: false }, name: "predicted", nameLocation: "middle", nameGap: 20, nameTextStyle: AXIS_NAME, axisLabel: AXIS_LABEL, splitLine: { show: false } },
    yAxis: { type: "category", data: names, inverse: true, axisLine: EDGE, axisTick: { show: false }, name: "true", nameLocation: "middle", nameGap: 20, nameTextStyle: AXIS_NAME, axisLabel: AXIS_LABEL, splitLine: { show: false } },
    series: [
      {
        type: "scatter",
        id: "cells",
        symbol: "rect",
        symbolSize: [cell - 1, cell - 1],
        data,
        label: { show: k <= 12, formatter: (p) => (p.value[2] ? String(p.value[2]) : ""), fontSize: Math.max(8, Math.min(12, cell / 3)), color: "#1d2330" },
      },
    ],
  };
}

/** Checks the boundary payload; returns a normalised copy or null. */
function readBoundary(b) {
  if (!b || typeof b !== "object") return null;
  const n = Math.floor(Number(b.n));
  const ext = Array.isArray(b.extent) ? b.extent.map(Number) : [];
  if (!(n >= 1) || ext.length !== 4 || !ext.every(Number.isFinite) || !(ext[1] > ext[0]) || !(ext[3] > ext[2])) return null;
  if (!b.values || typeof b.values.length !== "number" || b.values.length < n * n) return null;
  const binary = b.task !== "regression";
  const pts = (list) => (Array.isArray(list) ? list.filter((p) => Array.isArray(p) && finite(p[0]) && finite(p[1]) && finite(p[2])) : []);
  let train = pts(b.points && b.points.train);
  let test = pts(b.points && b.points.test);
  let lo = 0, hi = 1;
  if (binary) {
    // Labels may come as 0/1 or -1/+1: anything at or above one half is class 1.
    const cls = (p) => [p[0], p[1], p[2] >= 0.5 ? 1 : 0];
    train = train.map(cls);
    test = test.map(cls);
  } else {
    lo = Infinity;
    hi = -Infinity;
    for (let i = 0; i < n * n; i++) {
      const v = b.values[i];
      if (finite(v)) { if (v < lo) lo = v; if (v > hi) hi = v; }
    }
    for (const p of train.concat(test)) { if (p[2] < lo) lo = p[2]; if (p[2] > hi) hi = p[2]; }
    if (!(hi >= lo)) { lo = 0; hi = 1; }
    if (hi === lo) { lo -= 0.5; hi += 0.5; }
  }
  return { n, extent: ext, values: b.values, binary, lo, hi, train, test, title: b.title ? String(b.title) : "" };
}

/** The model's output as an n x n image (row 0 at the top = ymax), in the diverging palette. */
function surfaceCanvas(bd) {
  const { n, values, lo, hi } = bd;
  const canvas = document.createElement("canvas");
  canvas.width = n;
  canvas.height = n;
  const ctx = canvas.getContext("2d");
  if (!ctx) return canvas;
  const img = ctx.createImageData(n, n);
  const px = img.data;
  const span = hi - lo;
  for (let r = 0; r < n; r++) {
    const row = n - 1 - r; // values go from ymin upward; the image from the top down
    for (let c = 0; c < n; c++) {
      const v = values[r * n + c];
      const o = (row * n + c) * 4;
      if (!finite(v)) { px[o] = px[o + 1] = px[o + 2] = 255; px[o + 3] = 255; continue; }
      const col = diverging((v - lo) / span);
      // A little lighter than the points' colours, so the points stand out.
      px[o] = col[0] + (255 - col[0]) * 0.2;
      px[o + 1] = col[1] + (255 - col[1]) * 0.2;
      px[o + 2] = col[2] + (255 - col[2]) * 0.2;
      px[o + 3] = 255;
    }
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

function boundaryOption(bd, width, height) {
  const [x0, x1, y0, y1] = bd.extent;
  const titleH = bd.title ? 22 : 6;
  const legendH = 26;
  const w = width > 0 ? width : 300;
  const h = height > 0 ? height : 300;
  // Keep the data's aspect ratio (square for the usual symmetric extents).
  const availW = Math.max(60, w - 40);
  const availH = Math.max(60, h - titleH - legendH - 18);
  const aspect = (x1 - x0) / (y1 - y0);
  const gw = availW / availH > aspect ? availH * aspect : availW;
  const gh = gw / aspect;
  const left = Math.max(32, (w - gw) / 2);
  const canvas = surfaceCanvas(bd);
  const pointTip = (kind) => (p) =>
    `${kind} point (${esc(fmtNum(p.value[0]))}, ${esc(fmtNum(p.value[1]))})<br>` +
    (bd.binary ? `class ${p.value[2]}` : `value ${esc(fmtNum(p.value[2]))}`);
  return {
    animation: false,
    title: { show: !!bd.title, text: bd.title, left: "center", top: 2, textStyle: { fontSize: 12, fontWeight: "normal" } },
    grid: { left, top: titleH, width: gw, height: gh, outerBoundsMode: "none", show: false },
    tooltip: { ...TOOLTIP, trigger: "item" },
    xAxis: { type: "value", min: x0, max: x1, axisLine: EDGE, splitLine: { show: false }, axisLabel: { ...AXIS_LABEL, fontSize: 9, formatter: fmtNum } },
    yAxis: { type: "value", min: y0, max: y1, axisLine: EDGE, splitLine: { show: false }, axisLabel: { ...AXIS_LABEL, fontSize: 9, formatter: fmtNum } },
    visualMap: {
      type: "continuous",
      min: bd.lo,
      max: bd.hi,
      dimension: 2,
      seriesIndex: [1, 2],
      calculable: false,
      hoverLink: false,
      orient: "horizontal",
      left: "center",
      top: titleH + gh + 20,
      itemWidth: 8,
      itemHeight: Math.min(120, gw * 0.5),
      text: bd.binary ? ["class 1", "class 0"] : [fmtNum(bd.hi), fmtNum(bd.lo)],
      textStyle: { fontSize: 9 },
      inRange: { color: [ORANGE, MID, BLUE] },
      outOfRange: { color: [MUTED_TEXT] },
    },
    series: [
      {
        type: "custom",
        id: "surface",
        silent: true,
        clip: true,
        z: 1,
        data: [[x0, y0, x1, y1]],
        encode: { x: [0, 2], y: [1, 3] },
        tooltip: { show: false },
        renderItem: (params, api) => {
          const a = api.coord([x0, y1]);
          const b = api.coord([x1, y0]);
          return { type: "image", silent: true, style: { image: canvas, x: a[0], y: a[1], width: b[0] - a[0], height: b[1] - a[1] } };
        },
      },
      {
        type: "scatter",
        id: "train",
        name: "train",
        data: bd.train,
        symbolSize: 6,
        itemStyle: { borderColor: "#fff", borderWidth: 1, opacity: 1 },
        tooltip: { formatter: pointTip("train") },
        z: 3,
      },
      {
        type: "scatter",
        id: "test",
        name: "test",
        data: bd.test,
        symbolSize: 6,
        itemStyle: { borderColor: "#222", borderWidth: 1.5, opacity: 1 },
        tooltip: { formatter: pointTip("test") },
        z: 4,
      },
    ],
  };
}

// ----------------------------------------------------------------------------- signatures

// Cheap strings that change when a chart's input does, so unchanged charts are not redrawn.
function completedSig(s) {
  let out = `${s.metric}|${s.dir}|${s.selectedId}|`;
  for (const t of s.sorted) if (isDone(t)) out += t.id + "=" + t.score + ",";
  return out;
}

function curvesSig(s) {
  let out = `${s.metric}|${s.dir}|${s.selectedId}|`;
  for (const t of s.sorted) {
    const { name, points } = curveOf(t, s.metric);
    const last = points.length ? points[points.length - 1] : null;
    out += `${t.id}:${t.status}:${t.score}:${name}:${points.length}:${last ? last[1] : ""}:${t.epochs},`;
  }
  return out;
}

function bracketsSig(s) {
  const hb = s.hyperband || {};
  let out = `${s.tunerKind}|${hb.maxEpochs}|${hb.factor}|${hb.iterations}|`;
  if (!s.hyperband) return out;
  for (const t of s.sorted) {
    const tu = t.tuner;
    if (tu) out += `${t.status}:${tu.bracket}:${tu.round},`;
  }
  return out;
}

// ----------------------------------------------------------------------------- createCharts

/**
 * @param {{objective?: HTMLElement, curves?: HTMLElement, parallel?: HTMLElement,
 *          brackets?: HTMLElement, importance?: HTMLElement, boundary?: HTMLElement}} el
 */
export function createCharts(el) {
  const nodes = el && typeof el === "object" ? el : {};
  const recs = {};
  const listeners = new Set();
  const emit = (id) => {
    if (id == null) return;
    for (const cb of listeners) {
      try { cb(String(id)); } catch (e) { console.error(e); }
    }
  };
  for (const key of KEYS) {
    const node = nodes[key];
    if (!node || typeof node !== "object" || !node.nodeType) continue;
    node.setAttribute("role", "img");
    node.setAttribute("aria-label", LABELS[key]);
    recs[key] = { node, chart: echarts.init(node, null, { renderer: "canvas" }), sig: null, mode: null, warned: false };
  }
  if (recs.objective) {
    recs.objective.chart.on("click", (p) => { if (p.seriesId === "scores" && p.data) emit(p.data.id); });
  }
  if (recs.curves) {
    const rec = recs.curves;
    const zr = rec.chart.getZr();
    let tip = false;
    const showNearest = (e) => {
      const hit = nearestCurve(rec.chart, rec.curveIndex, e.offsetX, e.offsetY, 14);
      if (!hit) {
        if (tip) { rec.chart.dispatchAction({ type: "hideTip" }); tip = false; }
        return null;
      }
      const p = hit.curve.pts[hit.i];
      rec.chart.dispatchAction({
        type: "showTip",
        x: hit.x,
        y: hit.y,
        tooltip: { content: `${esc(hit.curve.label)}<br>epoch ${p[0]}: <b>${esc(fmtNum(p[1]))}</b>` },
      });
      tip = true;
      return hit;
    };
    zr.on("mousemove", (e) => {
      const hit = showNearest(e);
      zr.setCursorStyle(hit ? "pointer" : "default");
    });
    zr.on("globalout", () => {
      if (tip) { rec.chart.dispatchAction({ type: "hideTip" }); tip = false; }
    });
    zr.on("click", (e) => {
      const hit = showNearest(e);
      if (hit) emit(hit.curve.id);
    });
  }
  if (recs.parallel) {
    recs.parallel.chart.on("click", (p) => { if (p.data && p.data.name != null) emit(p.data.name); });
  }

  let pending = null;
  let timer = null;
  let lastRender = -Infinity;
  let lastArgs = null;
  let boundary = null;
  let confusion = null;
  let disposed = false;

  const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());

  function apply(rec, option, replace, label) {
    const mode = option.__mode;
    delete option.__mode;
    const summary = option.__summary;
    delete option.__summary;
    if (mode !== rec.mode) {
      rec.chart.setOption(option, { notMerge: true, lazyUpdate: true });
      rec.mode = mode;
    } else {
      rec.chart.setOption(option, { replaceMerge: replace, lazyUpdate: true });
    }
    const text = mode === "message" ? `${LABELS[rec.key]}: ${option.title.text}` : label + (summary ? `: ${summary}` : "");
    rec.node.setAttribute("aria-label", text);
  }

  function guarded(key, fn) {
    const rec = recs[key];
    if (!rec) return;
    rec.key = key;
    try {
      fn(rec);
    } catch (e) {
      // A chart must never take the page down; report once per chart.
      if (!rec.warned) { rec.warned = true; console.error(`charts: ${key}:`, e); }
    }
  }

  // Each chart's update goes in its own animation frame: painting every chart in one task
  // (several at once when a trial completes) held the page's main thread for 60-120 ms on a
  // 2-core machine while trials trained; one chart a frame keeps each task short.
  const nextFrame = typeof requestAnimationFrame === "function" ? requestAnimationFrame : (f) => setTimeout(f, 0);
  let queue = [];
  function drain() {
    const job = queue.shift();
    if (disposed || !job) return;
    job();
    if (queue.length) nextFrame(drain);
  }
  function later(key, fn) {
    const idle = queue.length === 0;
    queue = queue.filter((q) => q.key !== key);
    const job = () => guarded(key, fn);
    job.key = key;
    queue.push(job);
    if (idle) nextFrame(drain);
  }

  function render() {
    timer = null;
    if (disposed || !pending) return;
    lastRender = now();
    const a = pending;
    pending = null;
    const objective = a.objective && typeof a.objective === "object" ? a.objective : {};
    const s = {
      sorted: (Array.isArray(a.trials) ? a.trials : []).filter((t) => t && typeof t === "object").slice().sort(byId),
      metric: objective.name ? String(objective.name) : "score",
      dir: objective.direction === "max" ? "max" : "min",
      selectedId: a.selectedId == null ? null : String(a.selectedId),
      tunerKind: a.tunerKind,
      hyperband: a.hyperband && typeof a.hyperband === "object" ? a.hyperband : null,
    };
    let done = null;
    const cSig = () => (done === null ? (done = completedSig(s)) : done);

    later("objective", (rec) => {
      const sig = cSig();
      if (sig === rec.sig) return;
      rec.sig = sig;
      const n = s.sorted.filter(isDone).length;
      const best = bestTrial(s.sorted, s.dir);
      apply(rec, objectiveOption(s), ["series"],
        `${LABELS.objective}: ${n} completed` + (best ? `, best ${s.metric} ${fmtNum(best.score)} (trial ${best.id})` : ""));
    });
    later("curves", (rec) => {
      const sig = curvesSig(s);
      if (sig === rec.sig) return;
      rec.sig = sig;
      const option = curvesOption(s);
      rec.curveIndex = option.__index || null;
      delete option.__index;
      apply(rec, option, ["series"], `${LABELS.curves} (${s.metric}), ${s.sorted.length} trials`);
    });
    later("parallel", (rec) => {
      const sig = cSig(); // resize() clears it: the layout depends on the width
      if (sig === rec.sig) return;
      rec.sig = sig;
      apply(rec, parallelOption(s, rec.node.clientWidth), ["series", "parallelAxis"],
        `${LABELS.parallel}: ${s.sorted.filter(isDone).length} completed trials`);
    });
    later("brackets", (rec) => {
      const sig = bracketsSig(s);
      if (sig === rec.sig) return;
      rec.sig = sig;
      apply(rec, bracketsOption(s), ["series"], { asha: "ASHA rungs", bohb: "BOHB brackets" }[s.tunerKind] ?? LABELS.brackets);
    });
    later("importance", (rec) => {
      const sig = cSig();
      if (sig === rec.sig) return;
      rec.sig = sig;
      apply(rec, importanceOption(s), ["series"], LABELS.importance);
    });
  }

  function drawBoundary() {
    guarded("boundary", (rec) => {
      if (!boundary) {
        rec.chart.clear();
        rec.mode = null;
        rec.node.setAttribute("aria-label", LABELS.boundary);
        return;
      }
      const option = boundaryOption(boundary, rec.node.clientWidth, rec.node.clientHeight);
      rec.chart.setOption(option, rec.mode === "chart" ? { lazyUpdate: true } : { notMerge: true, lazyUpdate: true });
      rec.mode = "chart";
      rec.node.setAttribute("aria-label",
        `${boundary.binary ? "Decision boundary" : "Regression surface"}${boundary.title ? " of " + boundary.title : ""}, ` +
        `with ${boundary.train.length} training and ${boundary.test.length} test points`);
    });
  }

  function drawConfusion(c) {
    guarded("boundary", (rec) => {
      const option = confusionOption(c, rec.node.clientWidth, rec.node.clientHeight);
      rec.chart.setOption(option, rec.mode === "confusion" ? { lazyUpdate: true } : { notMerge: true, lazyUpdate: true });
      rec.mode = "confusion";
      rec.node.setAttribute("aria-label", `Confusion of ${c.title}: ${c.correct} of ${c.total} test rows right`);
    });
  }

  function update(args) {
    if (disposed) return;
    pending = lastArgs = args || {};
    if (timer !== null) return; // a render is already due; it will take this latest state
    const wait = lastRender + MIN_GAP_MS - now();
    if (wait <= 0) render();
    else timer = setTimeout(render, wait);
  }

  // The methods use no `this`, so they may be passed around unbound
  // (window.addEventListener("resize", charts.resize)).
  return {
    update,
    setBoundary(b) {
      if (disposed || !recs.boundary) return;
      boundary = readBoundary(b);
      confusion = null;
      if (boundary && recs.boundary.mode === "confusion") recs.boundary.mode = null;
      drawBoundary();
    },
    /**
     * The confusion view (classes without a plane): `{classes, labels, values, title}`, values
     * the model's outputs on the labelled rows (one probability for 2 classes, else one per
     * class); null shows the labels alone.
     */
    setConfusion(c) {
      if (disposed || !recs.boundary) return;
      boundary = null;
      confusion = confusionOf(c);
      drawConfusion(confusion);
    },
    resize() {
      if (disposed) return;
      for (const key of Object.keys(recs)) {
        guarded(key, (rec) => rec.chart.resize());
      }
      // Layouts that depend on the element's size are recomputed.
      if (recs.parallel) recs.parallel.sig = null;
      if (boundary) drawBoundary();
      if (confusion) drawConfusion(confusion);
      if (recs.parallel && lastArgs) update(lastArgs);
    },
    onSelect(cb) {
      if (typeof cb === "function") listeners.add(cb);
      return () => listeners.delete(cb);
    },
    dispose() {
      disposed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      pending = null;
      listeners.clear();
      for (const key of Object.keys(recs)) {
        try { recs[key].chart.dispose(); } catch (e) { /* already gone */ }
      }
    },
  };
}

// ----------------------------------------------------------------------------- the race

const RACE_COLOURS = [BLUE, ORANGE];

/**
 * The race chart: each tuner's best score so far against the epochs it has spent.
 *   const c = createRaceChart(el);  c.update({sides: [{label, points: [[epochs, best], ...]}], budget, metric});
 */
export function createRaceChart(node) {
  if (!node || !node.nodeType) return { update() {}, resize() {}, clear() {} };
  node.setAttribute("role", "img");
  node.setAttribute("aria-label", "Race: best score so far against epochs spent");
  const chart = echarts.init(node, null, { renderer: "canvas" });
  const waiting = messageOption("start a race: two tuners, the same epochs to spend");
  delete waiting.__mode;
  chart.setOption(waiting);
  let drawn = false;
  return {
    /** Back to the empty chart (a new race is about to start, or another link was opened). */
    clear() {
      chart.setOption(waiting, { notMerge: true });
      drawn = false;
      node.setAttribute("aria-label", "Race: best score so far against epochs spent");
    },
    update({ sides, budget, metric }) {
      const option = {
        animation: false,
        title: { show: false },
        legend: { top: 0, textStyle: { fontSize: 11 } },
        grid: { left: 8, right: 16, top: 30, bottom: 24, containLabel: true },
        tooltip: { ...TOOLTIP, trigger: "axis", valueFormatter: fmtNum },
        xAxis: { type: "value", min: 0, max: Math.max(budget, ...sides.map((s) => s.spent ?? 0)), name: "epochs spent", nameLocation: "middle", nameGap: 22, nameTextStyle: AXIS_NAME, axisLine: EDGE, axisLabel: AXIS_LABEL },
        yAxis: { type: "value", scale: true, name: `best ${metric} so far`, nameTextStyle: { ...AXIS_NAME, align: "left" }, axisLine: EDGE, axisLabel: { ...AXIS_LABEL, formatter: fmtNum } },
        series: sides.map((s, i) => ({
          type: "line",
          id: `side${i}`,
          name: s.label,
          step: "end",
          data: s.points,
          symbolSize: 5,
          lineStyle: { color: RACE_COLOURS[i % 2], width: 2 },
          itemStyle: { color: RACE_COLOURS[i % 2] },
        })),
      };
      chart.setOption(option, { notMerge: !drawn, lazyUpdate: true });
      drawn = true;
      node.setAttribute("aria-label", "Race: best score so far against epochs spent: " + sides.map((s) => `${s.label}, ${s.points.length ? fmtNum(s.points[s.points.length - 1][1]) : "no score yet"}`).join("; "));
    },
    resize() {
      chart.resize();
    },
  };
}
