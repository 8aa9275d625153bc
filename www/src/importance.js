// Pure helpers behind the playground's charts: hp importance, Hyperband's schedule and the
// running best of a list of scores. No DOM and no ECharts here, so Node can test this file.

const isNum = (v) => typeof v === "number" && Number.isFinite(v);

// ---------------------------------------------------------------------------------------------
// Hp importance
//
// How much of the spread in the score does each hp account for, on its own? This is a simple
// marginal estimate over the completed trials, not fANOVA and not a model of interactions:
//
// - a numeric hp: the squared Spearman rank correlation between its value and the score (the
//   share of the score's rank variance that a monotone trend in the hp explains; ties get
//   average ranks, so an Int with few distinct values works too);
// - a categorical or boolean hp (or one whose values mix types): eta squared, the variance of
//   the score between the groups of trials sharing a value over the total variance of the score.
//   A trial in which the hp is absent (inactive) forms its own group.
//
// Both measures are R^2-like and both reward chance when trials are few: with n trials and k
// groups, pure noise gives eta^2 about (k - 1) / (n - 1), and rho^2 about 1 / (n - 1). So that a
// categorical hp with many values is not favoured over a numeric one, each raw value is
// corrected for chance the way adjusted R^2 is: 1 - (1 - R^2) (n - 1) / (n - 1 - df), with df = 1
// for a correlation and k - 1 for groups, clipped at 0 (0 when n - 1 - df <= 0: no evidence).
// A numeric hp absent from some trials is measured over the trials that have it.
//
// The values are then divided by their sum, so they sum to 1 (or are all 0 when no hp explains
// anything, e.g. when every score is equal). Hps with a single value over the trials are left out.
// The direction of the objective does not change the result (both measures ignore the sign of
// the relationship); the argument is accepted so callers pass what they have.
// ---------------------------------------------------------------------------------------------

/** Ranks from 1, with ties sharing their average rank. */
function ranks(xs) {
  const order = xs.map((x, i) => i).sort((a, b) => xs[a] - xs[b]);
  const r = new Array(xs.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && xs[order[j + 1]] === xs[order[i]]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[order[k]] = avg;
    i = j + 1;
  }
  return r;
}

function pearson(a, b) {
  const n = a.length;
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i]; mb += b[i]; }
  ma /= n; mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma, db = b[i] - mb;
    sab += da * db; saa += da * da; sbb += db * db;
  }
  if (saa <= 0 || sbb <= 0) return 0;
  return sab / Math.sqrt(saa * sbb);
}

/** Adjusted R^2 for `df` explanatory degrees of freedom over `n` observations, clipped to [0, 1]. */
function adjust(r2, n, df) {
  const resid = n - 1 - df;
  if (!(resid > 0) || !Number.isFinite(r2)) return 0;
  const a = 1 - ((1 - r2) * (n - 1)) / resid;
  return Math.min(1, Math.max(0, a));
}

function spearmanSquared(values, scores) {
  const rho = pearson(ranks(values), ranks(scores));
  return rho * rho;
}

/** Between-group over total sum of squares of `scores`, groups given by `keys`. */
function etaSquared(keys, scores) {
  const n = scores.length;
  let mean = 0;
  for (const s of scores) mean += s;
  mean /= n;
  let total = 0;
  for (const s of scores) total += (s - mean) ** 2;
  if (!(total > 0)) return 0;
  const groups = new Map();
  keys.forEach((k, i) => {
    const g = groups.get(k) || { sum: 0, count: 0 };
    g.sum += scores[i];
    g.count += 1;
    groups.set(k, g);
  });
  let between = 0;
  for (const g of groups.values()) between += g.count * (g.sum / g.count - mean) ** 2;
  return Math.min(1, between / total);
}

const ABSENT = "\u0000absent";

/**
 * Hp importance over the completed trials with a finite score (status "COMPLETED", or no
 * status at all for plain {hps, score} records).
 * @param {Array<{status?: string, score?: number|null, hps?: object}>} trials
 * @param {"min"|"max"} [direction] accepted for symmetry with the charts; does not change the result
 * @returns {Array<{name: string, importance: number}>} sorted by importance, descending
 */
export function hpImportance(trials, direction) { // eslint-disable-line no-unused-vars
  const done = (Array.isArray(trials) ? trials : []).filter(
    (t) => t && (t.status === undefined || t.status === "COMPLETED") && isNum(t.score),
  );
  if (done.length < 2) return [];
  const scores = done.map((t) => t.score);
  const names = new Set();
  for (const t of done) if (t.hps && typeof t.hps === "object") for (const k of Object.keys(t.hps)) names.add(k);

  const raw = [];
  for (const name of names) {
    const vals = done.map((t) => (t.hps && t.hps[name] !== undefined && t.hps[name] !== null ? t.hps[name] : undefined));
    const present = vals.filter((v) => v !== undefined);
    const distinct = new Set(vals.map((v) => (v === undefined ? ABSENT : typeof v + ":" + String(v))));
    if (distinct.size < 2) continue; // constant over the trials: left out
    const numeric = present.length > 0 && present.every(isNum);
    let value;
    if (numeric) {
      const idx = [];
      vals.forEach((v, i) => { if (v !== undefined) idx.push(i); });
      const xs = idx.map((i) => vals[i]);
      const ys = idx.map((i) => scores[i]);
      if (new Set(xs).size < 2) {
        // The only variation is presence versus absence: treat it as two groups.
        const keys = vals.map((v) => (v === undefined ? ABSENT : "present"));
        value = adjust(etaSquared(keys, scores), scores.length, 1);
      } else {
        value = adjust(spearmanSquared(xs, ys), xs.length, 1);
      }
    } else {
      const keys = vals.map((v) => (v === undefined ? ABSENT : typeof v + ":" + String(v)));
      value = adjust(etaSquared(keys, scores), scores.length, distinct.size - 1);
    }
    raw.push({ name, importance: Number.isFinite(value) ? value : 0 });
  }
  const sum = raw.reduce((s, r) => s + r.importance, 0);
  const out = raw.map((r) => ({ name: r.name, importance: sum > 0 ? r.importance / sum : 0 }));
  out.sort((a, b) => b.importance - a.importance || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Hyperband's schedule, as KerasTuner's Hyperband oracle computes it (min_epochs = 1):
//
//   brackets      = how many times max_epochs can be divided by factor while it stays >= 1
//                   (a float loop: epochs = max_epochs; while epochs >= 1: epochs /= factor)
//   bracket b     has b + 1 rounds; the oracle starts at the last bracket (the most aggressive)
//   size(b, r)    = ceil( ceil(1 + log_factor(max_epochs)) / (b + 1) * factor^(b - r) )
//   epochs(b, r)  = ceil( max_epochs / factor^(b - r) )
//
// One detail: KerasTuner evaluates log_factor(max_epochs) as math.log(max_epochs, factor) =
// ln(max_epochs) / ln(factor) with C's log, which for exact powers such as 81 = 3^4 gives 4.0.
// JavaScript's Math.log(3) is one unit in the last place below C's, so Math.log(81) /
// Math.log(3) is 4.000000000000001 and the ceil would jump to 6 (98 trials instead of 81 in
// bracket 4). The ceiling of 1 + log is therefore taken in integers here: 1 + the smallest k
// with factor^k >= max_epochs. That equals CPython's float result for every max_epochs below
// 15625 with factor 2..10 (checked against CPython on glibc); beyond that, CPython's own
// rounding drifts for a few exact powers (5^6, 6^6, 7^5), which no browser run will reach.
// The rest is ordinary float arithmetic, done in the same order as KerasTuner does it.
// ---------------------------------------------------------------------------------------------

function ceilLogPlusOne(maxEpochs, factor) {
  let k = 0;
  let p = 1;
  while (p < maxEpochs) { p *= factor; k++; }
  return 1 + k;
}

/**
 * KerasTuner's Hyperband schedule for one iteration, most aggressive bracket first.
 * @returns {Array<{bracket: number, rounds: Array<{round: number, trials: number, epochs: number}>}>}
 *   [] when the arguments are not usable (factor < 2, max_epochs < 1, not finite).
 */
export function hyperbandPlan(maxEpochs, factor) {
  const m = Number(maxEpochs);
  const f = Number(factor);
  if (!Number.isFinite(m) || !Number.isFinite(f) || m < 1 || f < 2) return [];
  let numBrackets = 0;
  for (let e = m; e >= 1; e /= f) numBrackets++;
  const end0 = ceilLogPlusOne(m, f);
  const plan = [];
  for (let b = numBrackets - 1; b >= 0; b--) {
    const endSize = end0 / (b + 1);
    const rounds = [];
    for (let r = 0; r <= b; r++) {
      const pow = f ** (b - r);
      rounds.push({ round: r, trials: Math.ceil(endSize * pow), epochs: Math.ceil(m / pow) });
    }
    plan.push({ bracket: b, rounds });
  }
  return plan;
}

/**
 * The best score so far at each position (min or max by direction). Entries that are not finite
 * numbers are skipped (the previous best carries on); positions before the first finite score
 * are null.
 * @param {Array<number|null>} scores
 * @param {"min"|"max"} direction
 * @returns {Array<number|null>}
 */
export function bestSoFar(scores, direction) {
  const max = direction === "max";
  let best = null;
  return (Array.isArray(scores) ? scores : []).map((s) => {
    if (isNum(s) && (best === null || (max ? s > best : s < best))) best = s;
    return best;
  });
}

// ---------------------------------------------------------------------------------------------
// The search's progress line

// `done` trials ended out of `total` planned, in `phase` ("running", "finished", ...). A
// search that finished before its planned count (a grid smaller than max trials, a random
// search that found no new configuration) says so instead of reading "4 of 6 trials ·
// finished"; the bar then shows full.
export function progressLine(done, total, phase) {
  if (phase === "finished" && done < total) {
    return { text: `${done} of ${total} trials · finished: no new configuration was left to try`, max: done };
  }
  return { text: `${done} of ${total} trials · ${phase}`, max: total };
}
