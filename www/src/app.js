// The playground page's main thread: controls, the trials table, progress, results and
// sharing. All training and searching happens in www/src/search-worker.js (and its trial
// workers); this thread only sends the page state there and draws what comes back.

import { defaultState, validateState, encodeState, decodeState, engineOptions, hasOption, usesMaxTrials, taskOf, objectivesFor, defaultObjective, tunerAbout, tunerClass, FEATURES, SECTIONS, TUNERS, PLANE_DATASETS as PLAYGROUND } from "./state.js";
import { buildSpec, cliCommand, cliLine, hpDefault } from "./spec.js";
import { kerasSnippet } from "./python.js";
import { mountEditor } from "./editor.js";
import { createCharts } from "./charts.js";
import { hyperbandPlan, progressLine } from "./importance.js";
import { LESSONS, lessonById, lessonLink } from "./lessons.js";
import { raceOf, raceCurve } from "./race.js";
import { createRaceChart } from "./charts.js";

const $ = (id) => document.getElementById(id);
const TUNER_TEXT = {
  random: "Random search draws every trial's hyperparameters at random from the ranges. Simple, hard to beat with few trials, and every trial is independent, so trials train side by side.",
  grid: "Grid search tries every combination of the ranges in order (numbers are stepped). Thorough for a small space; the number of trials grows fast with each range.",
  hyperband: "Hyperband trains many configurations for a few epochs, keeps the best 1/factor of them and trains those longer, round after round. Good trials get the epochs; poor ones stop early.",
  bayesian: "Bayesian optimization fits a Gaussian process to the scores seen so far and picks the next trial where the model expects a good score or is unsure. It learns from each trial, so it needs them one after another.",
};
const LABELS = { data: "Data", features: "Input features", editor: "Network editor", json: "Spec JSON", tuner: "Tuner settings", device: "Device", charts: "Live views", results: "Results", share: "Share" };

let state = defaultState();
let info = null; // the data set's description, from the worker
let trials = new Map();
let selectedId = null;
let running = false;
let project = null;
let summaryText = "";
let shownBoundary = null; // {trialId, values}
let worker = null;
let editor = null;
let charts = null;
let loadError = null;
let maxRunning = 0; // the most trials seen training at once (the worker pool at work)
let searchesEnded = 0; // searches that ran to their end (or Stop) since the page opened

// ------------------------------------------------------------------------------------------
// State <-> URL

function readHash() {
  loadError = null;
  if (!location.hash || location.hash === "#") return defaultState();
  try {
    return decodeState(location.hash);
  } catch (e) {
    loadError = `The link's settings could not be used (${e.message}); the defaults are shown instead.`;
    return defaultState();
  }
}

function writeHash() {
  const h = "#" + encodeState(state);
  if (location.hash !== h) history.replaceState(null, "", h);
  updateShare();
}

function setState(next, { data = false } = {}) {
  state = validateState(next);
  writeHash();
  if (data) requestData();
  refreshControls();
}

// ------------------------------------------------------------------------------------------
// The worker

function startWorker() {
  const w = new Worker(new URL("./search-worker.js", import.meta.url), { type: "module" });
  worker = w;
  // A worker ended by Pause (or a failed save) may still have messages on the way: dropped.
  w.onmessage = (e) => {
    if (w === worker) onMessage(e.data);
  };
  w.onerror = (e) => {
    if (w === worker) showError("search-error", `the engine worker failed: ${e.message ?? "unknown error"}`);
  };
}

function send(m) {
  worker.postMessage(m);
}

let dataTimer = null;
function requestData() {
  clearTimeout(dataTimer);
  dataTimer = setTimeout(() => {
    if (state.data.source === "csv" && !csvLoaded) {
      info = null;
      $("data-info").textContent = "Upload a CSV file to start.";
      return;
    }
    send({ type: "data", state });
  }, 60);
}

function onMessage(m) {
  switch (m.type) {
    case "ready":
      $("engine-status").textContent = `engine ${m.version} ready`;
      requestData();
      break;
    case "data":
      info = m.info;
      showError("data-error", null);
      onData();
      break;
    case "csv-header":
      onCsvHeader(m);
      break;
    case "status":
      project = m.project;
      trials = new Map(m.trials.map((t) => [t.id, t]));
      summaryText = m.summary;
      $("btn-resume").disabled = running || !m.trials.length || searchFinished();
      if (localStorage.getItem("tunelab.running") === project && m.trials.length && !searchFinished()) {
        // The page was reloaded (or closed) mid-search: carry on where it stopped.
        start(false);
      } else if (!running) {
        // Stored as running, but nothing runs: paused (Resume carries on).
        for (const t of trials.values()) if (t.status === "RUNNING") t.status = "PAUSED";
      }
      render();
      break;
    case "search-start":
      project = m.project;
      localStorage.setItem("tunelab.running", project);
      for (const t of m.trials) trials.set(t.id, t);
      $("device-status").textContent = "";
      render();
      break;
    case "trial": {
      const prev = trials.get(m.trial.id);
      trials.set(m.trial.id, { ...prev, ...m.trial, curves: m.trial.curves ?? prev?.curves ?? {} });
      maxRunning = Math.max(maxRunning, [...trials.values()].filter((t) => t.status === "RUNNING").length);
      if (m.trial.device) $("device-status").textContent = `trials train on: ${m.trial.device}`;
      if (m.trial.status === "COMPLETED" && !selectedId) requestBest();
      scheduleRender();
      break;
    }
    case "epoch": {
      const t = trials.get(m.trialId);
      if (t) {
        t.epoch = m.epoch + 1;
        t.epochs = m.epochs;
        t.curves ??= {};
        for (const [k, v] of Object.entries(m.logs)) (t.curves[k] ??= []).push([m.epoch, v]);
      }
      scheduleRender();
      break;
    }
    case "boundary":
      // Live: the selected trial, else whichever trial is training (the best one once done).
      if (m.selected || m.trialId === selectedId || (!selectedId && (!shownBoundary || shownBoundary.trialId === m.trialId || !isRunning(shownBoundary.trialId)))) {
        shownBoundary = { trialId: m.trialId, values: m.values };
        drawBoundary();
      }
      break;
    case "search-end":
      searchesEnded++;
      running = false;
      stoppedEarly = m.stopped;
      summaryText = m.summary;
      for (const t of m.trials) trials.set(t.id, { ...trials.get(t.id), ...t });
      localStorage.removeItem("tunelab.running");
      setRunning(false);
      requestBest();
      render();
      break;
    case "summary":
      showSummary(m);
      break;
    case "retrain-epoch":
      $("retrain-status").textContent = `retraining on all ${info?.rows ?? ""} rows: epoch ${m.epoch + 1}/${m.epochs}`;
      break;
    case "retrained": {
      const last = Object.entries(m.history).map(([k, v]) => `${k} ${fmt(v[v.length - 1])}`).join(", ");
      $("retrain-status").textContent = `retrained trial ${m.trialId}'s hyperparameters on all ${m.rows} rows for ${m.epochs} epochs: ${last}`;
      $("btn-retrain").disabled = false;
      retrained = true;
      if (m.boundary) {
        shownBoundary = { trialId: `${m.trialId} (retrained)`, values: m.boundary };
        drawBoundary();
      }
      break;
    }
    case "export":
      if (m.format === "csv") download("tunelab-trials.csv", m.text, "text/csv");
      else download("tunelab-trials.json", m.text, "application/json");
      break;
    case "weights":
      download(`tunelab-${m.retrained ? "retrained" : "trial-" + m.trialId}-weights.json`, m.json, "application/json");
      break;
    case "error":
      if (m.where === "data" || m.where === "csv-header") {
        info = null;
        showError("data-error", m.message);
        $("data-info").textContent = "";
      } else if (m.where === "storage") {
        // Nothing more can be saved: the search stops here, as Pause stops it. Every trial the
        // table shows as finished is stored (the worker reports one only once it is saved).
        pause();
        const saved = [...trials.values()].filter((t) => ["COMPLETED", "FAILED", "INVALID"].includes(t.status)).length;
        const kept = saved ? `The ${saved} finished trial${saved === 1 ? " is" : "s are"} saved and kept.` : "No trial had finished yet; the epochs shown are saved.";
        showError("search-error", `${m.message} ${kept} Free some space (for example, clear other sites' data in the browser's settings), then press Resume to carry on.`);
      } else if (m.where === "retrain") {
        $("retrain-status").textContent = m.message;
        $("btn-retrain").disabled = false;
      } else {
        showError("search-error", m.message);
        if (m.where === "start") {
          // The search ended with an error (e.g. too many failed trials in a row): it is not
          // resumed by a reload; trials it left unfinished wait for Resume.
          running = false;
          stoppedByError = true;
          localStorage.removeItem("tunelab.running");
          for (const t of trials.values()) if (t.status === "RUNNING") t.status = "PAUSED";
          setRunning(false);
          render();
        }
      }
      break;
  }
}

let retrained = false;
let stoppedEarly = false; // the last search ended by Stop, before the oracle was done
let stoppedByError = false; // the last search ended with an error (shown under the controls)

function isRunning(id) {
  return trials.get(id)?.status === "RUNNING";
}

function searchFinished() {
  const done = [...trials.values()].filter((t) => ["COMPLETED", "FAILED", "INVALID"].includes(t.status)).length;
  return usesMaxTrials(state.tuner.kind) && done >= state.tuner.maxTrials;
}

// ------------------------------------------------------------------------------------------
// Search controls

function start(fresh) {
  if (!info) {
    showError("search-error", "the data set is not ready: fix the data settings first");
    return;
  }
  showError("search-error", null);
  if (fresh) {
    trials = new Map();
    selectedId = null;
    shownBoundary = null;
    retrained = false;
    summaryText = "";
  }
  running = true;
  bestAsked = null;
  stoppedEarly = false;
  stoppedByError = false;
  setRunning(true);
  send({ type: "start", state, fresh });
  render();
}

function pause() {
  // Stop now: the search worker and its trial workers go away mid-epoch, as on a reload. What
  // is stored (every finished trial, every finished epoch) is where Resume carries on.
  worker.terminate();
  running = false;
  localStorage.removeItem("tunelab.running");
  for (const t of trials.values()) if (t.status === "RUNNING") t.status = "PAUSED";
  setRunning(false);
  $("btn-resume").disabled = false;
  startWorker();
  render();
}

function setRunning(on) {
  $("btn-start").disabled = on;
  $("btn-pause").disabled = !on;
  $("btn-stop").disabled = !on;
  $("btn-resume").disabled = on || !trials.size;
  document.body.classList.toggle("searching", on);
  for (const id of ["sec-data", "sec-editor"]) $(id).toggleAttribute("inert", on);
  for (const el of document.querySelectorAll("#sec-tuner select, #sec-tuner input")) el.disabled = on;
}

// ------------------------------------------------------------------------------------------
// Data controls

let csvLoaded = false;
let csvFile = null; // {text, name}: the loaded file, for the race's workers

function onData() {
  const i = info;
  const task = i.task;
  const parts = [`${i.rows.toLocaleString()} rows, ${i.inputDim} input${i.inputDim === 1 ? "" : "s"}`, `${i.train.toLocaleString()} to train on, ${i.test.toLocaleString()} to test (validation)`];
  // Which file is loaded (its name is text, like every name from a file or a link).
  if (i.source === "csv" && state.data.csv?.name) parts[0] = `${state.data.csv.name}: ${parts[0]}`;
  parts.push(task.kind === "regression" ? "regression" : `${task.classes ?? 2} classes`);
  $("data-info").textContent = parts.join(" · ");
  // The objective list follows the task.
  const sel = $("tuner-objective");
  const names = objectivesFor(task);
  sel.replaceChildren(...names.map((n) => new Option(n, n)));
  if (!names.includes(state.tuner.objective)) {
    state = validateState({ ...state, tuner: { ...state.tuner, objective: defaultObjective(task) } });
    writeHash();
  }
  sel.value = state.tuner.objective;
  editor?.setTask(task, { data: state.data });
  updateShare();
  // A plane: the decision boundary; classes without a plane: the confusion on the test rows.
  $("box-boundary").hidden = !i.points && !i.confusion;
  $("boundary-kind").textContent = i.points ? "Decision boundary" : "Confusion";
  $("boundary-explain").textContent = i.points ? "(colour: the model's output; dots: training points, ringed: test points)" : `(the first ${i.confusion?.labels.length ?? 0} test rows: true class down, predicted class across; blue: right, orange: wrong)`;
  if (!trials.size || !running) send({ type: "status", state });
  drawBoundary();
}

function refreshControls() {
  const d = state.data;
  $("data-source").value = d.source;
  $("data-noise").value = d.noise;
  $("data-noise-out").textContent = d.noise;
  $("data-train").value = d.trainPct;
  $("data-train-out").textContent = `${d.trainPct}%`;
  $("data-seed").value = d.seed;
  const is2d = PLAYGROUND.includes(d.source);
  for (const el of document.querySelectorAll(".playground-only")) el.hidden = !is2d || hiddenSection(el);
  $("csv-box").hidden = d.source !== "csv";
  for (const box of document.querySelectorAll("#features input")) box.checked = d.features.includes(box.value);
  const t = state.tuner;
  $("tuner-kind").value = t.kind;
  // The page's words where it has its own, else the engine's description (its catalog).
  $("tuner-explain").textContent = TUNER_TEXT[t.kind] ?? `${tunerClass(t.kind)}: ${tunerAbout(t.kind)}.`;
  $("tuner-max-trials").value = t.maxTrials;
  $("tuner-executions").value = t.executionsPerTrial;
  $("tuner-seed").value = t.seed;
  $("tuner-max-epochs").value = t.maxEpochs;
  $("tuner-factor").value = t.factor;
  $("tuner-iterations").value = t.hyperbandIterations;
  $("tuner-initial").value = t.numInitialPoints ?? "";
  $("tuner-acquisition").value = t.acquisition;
  $("tuner-beta").value = t.beta;
  $("tuner-alpha").value = t.alpha;
  $("tuner-model").value = t.model;
  $("tuner-random-fraction").value = t.randomFraction;
  $("tuner-min-points").value = t.minPointsInModel ?? "";
  $("tuner-device").value = t.device;
  $("tuner-workers").value = t.workers;
  $("tuner-pace").value = t.pace;
  // Each control shows with the tuners that take it (the options engineOptions sends): beta with
  // "lcb" alone, the model's random fraction and min points with BOHB and ASHA's "gp".
  const opts = engineOptions(t);
  const shown = {
    "max-trials": "maxTrials" in opts,
    "max-epochs": "maxEpochs" in opts,
    iterations: "hyperbandIterations" in opts,
    bayesian: t.kind === "bayesian",
    lcb: "beta" in opts,
    model: "model" in opts,
    gp: "randomFraction" in opts,
    brackets: hasOption(t.kind, "max_epochs"),
    rungs: t.kind === "asha",
  };
  $("brackets-title").textContent = t.kind === "asha" ? "ASHA rungs" : `${tunerName(t.kind)} brackets`;
  for (const el of document.querySelectorAll("[data-show]")) el.hidden = !shown[el.dataset.show];
  if ($("tuner-objective").value !== t.objective && [...$("tuner-objective").options].some((o) => o.value === t.objective)) $("tuner-objective").value = t.objective;
  for (const box of document.querySelectorAll("#hide-list input")) box.checked = state.hide.includes(box.value);
  renderLesson();
  renderRacePlan();
}

// ------------------------------------------------------------------------------------------
// Lessons: page state (in the link) and words beside the live views

function renderLessonList() {
  $("lesson-list").replaceChildren(
    ...LESSONS.map((l) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = lessonLink(l);
      a.textContent = l.title;
      a.dataset.lesson = l.id;
      // The link changes the hash (hashchange loads the state); the live views come into view.
      a.addEventListener("click", () => setTimeout(() => window.scrollTo(0, 0), 0));
      li.append(a);
      if (l.patch.race) {
        const tag = document.createElement("span");
        tag.className = "tag";
        tag.textContent = "race";
        li.append(tag);
      }
      const q = document.createElement("p");
      q.textContent = l.question;
      li.append(q);
      return li;
    }),
  );
}

function renderLesson() {
  const l = state.lesson ? lessonById(state.lesson) : null;
  $("lesson-notes").hidden = !l;
  if (state.lesson && !l) showBanner(`This page has no lesson named "${state.lesson}" (it may come from a newer page); the settings of the link are shown.`);
  if (!l) return;
  $("lesson-title").textContent = `Lesson: ${l.title}`;
  $("lesson-question").textContent = l.question;
  $("lesson-look").textContent = l.look;
  // A race lesson starts its race from here (the race's chart is under "Race two tuners").
  $("lesson-race").hidden = !state.race;
  $("lesson-explain").textContent = l.explain;
}

// ------------------------------------------------------------------------------------------
// Racing two tuners: two ordinary engine searches, each in its own search worker

let race = null; // {budget, epochs, sides: [{kind, worker, trials: Map, ended: [], done, error}]}
let raceChart = null;

function raceKinds() {
  return state.race ?? { a: "random", b: "hyperband" };
}

function renderRacePlan() {
  const k = raceKinds();
  $("race-a").value = k.a;
  $("race-b").value = k.b;
  if (race && !race.finished) return;
  try {
    const r = raceOf({ ...state, race: k });
    showError("race-error", null);
    $("race-plan").textContent = `Each tuner spends ${r.budget} epochs: ` + r.sides.map((s) => (!usesMaxTrials(s.kind) ? `${tunerName(s.kind)} its brackets (max epochs ${s.state.tuner.maxEpochs}, factor ${s.state.tuner.factor}${s.state.tuner.hyperbandIterations > 1 ? `, ${s.state.tuner.hyperbandIterations} iterations` : ""})` : s.kind === "asha" ? `ASHA its rungs (max epochs ${s.state.tuner.maxEpochs}, factor ${s.state.tuner.factor}) until it has spent as many` : `${tunerName(s.kind)} ${s.state.tuner.maxTrials} trials × ${r.epochs} epochs`)).join("; ") + (state.tuner.executionsPerTrial > 1 ? ` (each trial ${state.tuner.executionsPerTrial} times)` : "") + ".";
  } catch (e) {
    $("race-plan").textContent = "";
    showError("race-error", e.message);
  }
}

const TUNER_NAMES = { random: "random search", grid: "grid search", hyperband: "Hyperband", bayesian: "Bayesian optimization" };
/** A tuner's name on the page: its own words, else the engine's class name (BOHB, ASHA). */
const tunerName = (kind) => TUNER_NAMES[kind] ?? tunerClass(kind);

function startRace() {
  if (!info) {
    showError("race-error", "the data set is not ready: fix the data settings first");
    return;
  }
  let plan;
  try {
    plan = raceOf({ ...state, race: raceKinds() });
  } catch (e) {
    showError("race-error", e.message);
    return;
  }
  stopRace(true);
  showError("race-error", null);
  race = { budget: plan.budget, epochs: plan.epochs, finished: false, sides: [] };
  plan.sides.forEach((p, i) => {
    const w = new Worker(new URL("./search-worker.js", import.meta.url), { type: "module" });
    const side = { kind: p.kind, label: `${"AB"[i]}: ${tunerName(p.kind)}`, worker: w, trials: new Map(), ended: [], done: false, error: null, state: p.state, budgetStop: !!p.budgetStop, budgetReached: false };
    race.sides.push(side);
    const mine = race;
    w.onmessage = (e) => {
      if (race === mine) raceMessage(side, e.data);
    };
    w.onerror = (e) => {
      if (race === mine) raceMessage(side, { type: "error", where: "start", message: `the race's worker failed: ${e.message ?? "unknown error"}` });
    };
    if (state.data.source === "csv" && csvFile) w.postMessage({ type: "csv-header", text: csvFile.text, name: csvFile.name });
    w.postMessage({ type: "start", state: p.state, fresh: true, race: "ab"[i], budget: p.budgetStop ? plan.budget : null });
  });
  $("race-start").disabled = true;
  $("race-stop").disabled = false;
  $("race-a").disabled = true;
  $("race-b").disabled = true;
  $("race-plan").textContent = `Racing: each tuner spends ${plan.budget} epochs.`;
  renderRace();
}

function stopRace(now) {
  if (!race) return;
  for (const side of race.sides) {
    if (now) side.worker.terminate();
    else if (!side.done) side.worker.postMessage({ type: "stop" });
  }
  if (now) race = null;
}

const ENDED = ["COMPLETED", "FAILED", "INVALID"];

function raceMessage(side, m) {
  switch (m.type) {
    case "trial": {
      const t = { ...side.trials.get(m.trial.id), ...m.trial };
      side.trials.set(t.id, t);
      if (ENDED.includes(t.status) && !side.ended.some((x) => x.id === t.id)) side.ended.push(t);
      // ASHA's side ends when it has spent the budget: its search worker stops the tuner as the
      // trial that reaches it ends, before a free worker begins another (the running ones finish).
      if (side.budgetStop && raceCurve(side.ended, "max").spent >= race.budget) side.budgetReached = true;
      break;
    }
    case "search-end":
      side.done = true;
      side.stopped = m.stopped;
      for (const t of m.trials) {
        const merged = { ...side.trials.get(t.id), ...t };
        side.trials.set(t.id, merged);
        const at = side.ended.findIndex((x) => x.id === t.id);
        if (at >= 0) side.ended[at] = merged;
        else if (ENDED.includes(merged.status)) side.ended.push(merged);
      }
      side.worker.terminate();
      break;
    case "error":
      if (m.where === "start" || m.where === "storage") {
        side.done = true;
        side.error = m.message;
        side.worker.terminate();
      }
      break;
    default:
      return; // epochs and boundaries: the race draws trials as they end
  }
  if (race.sides.every((s) => s.done) && !race.finished) {
    race.finished = true;
    $("race-start").disabled = false;
    $("race-stop").disabled = true;
    $("race-a").disabled = false;
    $("race-b").disabled = false;
    const errors = race.sides.filter((s) => s.error).map((s) => `${s.label}: ${s.error}`);
    showError("race-error", errors.length ? errors.join("\n") : null);
  }
  renderRace();
}

function raceSummary() {
  if (!race) return null;
  const dir = objective().direction;
  return {
    budget: race.budget,
    epochs: race.epochs,
    finished: race.finished,
    sides: race.sides.map((s) => {
      const c = raceCurve(s.ended, dir);
      const best = c.points.length ? c.points[c.points.length - 1][1] : null;
      return { kind: s.kind, label: s.label, trials: s.ended.length, spent: c.spent, best, points: c.points, done: s.done, error: s.error, stopped: !!s.stopped && !s.budgetReached };
    }),
  };
}

function renderRace() {
  const r = raceSummary();
  if (!r) return;
  raceChart?.update({ sides: r.sides, budget: r.budget, metric: state.tuner.objective });
  $("race-sides").replaceChildren(
    ...r.sides.map((s) => {
      const div = document.createElement("div");
      div.className = "side";
      const h = document.createElement("b");
      h.textContent = s.label;
      const p = document.createElement("div");
      const status = s.error ? "stopped by an error" : s.done ? (s.stopped ? "stopped" : "finished") : "running";
      p.textContent = `${s.trials} trials ended · ${s.spent} of ${r.budget} epochs spent · best ${state.tuner.objective} ${s.best === null ? "–" : fmt(s.best)} · ${status}`;
      div.append(h, p);
      return div;
    }),
  );
  if (r.finished) {
    const [a, b] = r.sides;
    const same = a.spent === b.spent;
    $("race-plan").textContent = `Race over: ${a.label} spent ${a.spent} epochs, ${b.label} ${b.spent}${same ? " (the same budget)" : ""}.`;
  }
}

/** `next` with an objective its task offers (val_accuracy means nothing for a regression). */
function withObjective(next) {
  const task = taskOf(next, next.data.source === state.data.source ? info ?? undefined : undefined);
  if (objectivesFor(task).includes(next.tuner.objective)) return next;
  return { ...next, tuner: { ...next.tuner, objective: defaultObjective(task) } };
}

function hiddenSection(el) {
  return el.dataset.section ? state.hide.includes(el.dataset.section) && classroom : false;
}

function bindControls() {
  $("features").replaceChildren(
    ...FEATURES.map((f) => {
      const l = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = f;
      box.addEventListener("change", () => {
        const features = FEATURES.filter((n) => document.querySelector(`#features input[value="${CSS.escape(n)}"]`).checked);
        if (!features.length) {
          box.checked = true;
          return;
        }
        setState({ ...state, data: { ...state.data, features } }, { data: true });
      });
      l.append(box, f);
      return l;
    }),
  );
  const data = (patch) => setState(withObjective({ ...state, data: { ...state.data, ...patch } }), { data: true });
  $("data-source").addEventListener("change", (e) => {
    const source = e.target.value;
    const trainPct = PLAYGROUND.includes(source) ? 50 : 80;
    data({ source, trainPct });
  });
  $("data-noise").addEventListener("input", (e) => ($("data-noise-out").textContent = e.target.value));
  $("data-noise").addEventListener("change", (e) => data({ noise: Number(e.target.value) }));
  $("data-train").addEventListener("input", (e) => ($("data-train-out").textContent = `${e.target.value}%`));
  $("data-train").addEventListener("change", (e) => data({ trainPct: Number(e.target.value) }));
  $("data-seed").addEventListener("change", (e) => {
    const v = Number(e.target.value);
    if (Number.isInteger(v) && v >= 0) data({ seed: v });
    else e.target.value = state.data.seed;
  });
  $("data-regenerate").addEventListener("click", () => data({ seed: Math.floor(Math.random() * 100000) }));
  $("csv-file").addEventListener("change", onCsvFile);
  $("csv-label").addEventListener("change", () => csvChoice());
  $("csv-task").addEventListener("change", () => csvChoice());

  const tuner = (patch) => setState({ ...state, tuner: { ...state.tuner, ...patch } });
  // The engine's catalog is the list: every tuner it has, in its order.
  $("tuner-kind").replaceChildren(...TUNERS.map((k) => new Option(tunerName(k).replace(/^./, (c) => c.toUpperCase()), k)));
  $("tuner-kind").addEventListener("change", (e) => tuner({ kind: e.target.value }));
  $("tuner-objective").addEventListener("change", (e) => tuner({ objective: e.target.value }));
  const num = (id, key, { nullable = false } = {}) =>
    $(id).addEventListener("change", (e) => {
      const raw = e.target.value.trim();
      try {
        // An emptied field is refused (Number("") would be 0), unless empty means the default.
        if (raw === "" && !nullable) throw new Error(`tuner.${key}: the field is empty (a number is needed)`);
        tuner({ [key]: raw === "" ? null : Number(raw) });
        showError("search-error", null);
      } catch (err) {
        showError("search-error", err.message);
        e.target.value = state.tuner[key] ?? "";
      }
    });
  num("tuner-max-trials", "maxTrials");
  num("tuner-executions", "executionsPerTrial");
  num("tuner-seed", "seed");
  num("tuner-max-epochs", "maxEpochs");
  num("tuner-factor", "factor");
  num("tuner-iterations", "hyperbandIterations");
  num("tuner-initial", "numInitialPoints", { nullable: true });
  $("tuner-acquisition").addEventListener("change", (e) => tuner({ acquisition: e.target.value }));
  num("tuner-beta", "beta");
  num("tuner-alpha", "alpha");
  $("tuner-model").addEventListener("change", (e) => tuner({ model: e.target.value }));
  num("tuner-random-fraction", "randomFraction");
  num("tuner-min-points", "minPointsInModel", { nullable: true });
  num("tuner-workers", "workers");
  $("tuner-device").addEventListener("change", (e) => tuner({ device: e.target.value }));
  // The pace may change while a search (or a race) runs: the workers are told at once.
  $("tuner-pace").addEventListener("change", (e) => {
    tuner({ pace: e.target.value });
    send({ type: "pace", pace: state.tuner.pace });
    for (const side of race?.sides ?? []) if (!side.done) side.worker.postMessage({ type: "pace", pace: state.tuner.pace });
  });
  for (const id of ["race-a", "race-b"]) {
    $(id).replaceChildren(...TUNERS.map((k) => new Option(tunerName(k), k)));
    $(id).addEventListener("change", () => {
      const next = { a: $("race-a").value, b: $("race-b").value };
      try {
        setState({ ...state, race: next });
      } catch (err) {
        showError("race-error", err.message);
        $("race-plan").textContent = "";
      }
    });
  }
  $("race-start").addEventListener("click", startRace);
  $("race-stop").addEventListener("click", () => {
    stopRace(false);
    $("race-stop").disabled = true;
  });
  $("lesson-leave").addEventListener("click", () => setState({ ...state, lesson: null }));
  $("lesson-race").addEventListener("click", () => {
    startRace();
    $("sec-race").scrollIntoView();
  });
  $("go-lessons").addEventListener("click", () => $("sec-lessons").scrollIntoView());
  $("go-race").addEventListener("click", () => $("sec-race").scrollIntoView());

  $("btn-start").addEventListener("click", () => start(true));
  $("btn-resume").addEventListener("click", () => start(false));
  $("btn-stop").addEventListener("click", () => {
    send({ type: "stop" });
    $("btn-stop").disabled = true;
    $("search-progress-text").textContent += " — stopping after the running trials";
  });
  $("btn-pause").addEventListener("click", pause);

  $("btn-retrain").addEventListener("click", () => {
    $("btn-retrain").disabled = true;
    $("retrain-status").textContent = "retraining…";
    send({ type: "retrain" });
  });
  // The engine's exports (the CLI's --csv and --json write the same), made by the search worker.
  $("export-csv").addEventListener("click", () => send({ type: "export", format: "csv" }));
  $("export-json").addEventListener("click", () => send({ type: "export", format: "json" }));
  $("export-weights").addEventListener("click", () => {
    const best = bestTrial();
    if (retrained) send({ type: "weights", retrained: true });
    else if (best) send({ type: "weights", trialId: best.id });
  });
  $("export-python").addEventListener("click", () => download("tunelab_best_model.py", $("python-code").textContent, "text/x-python"));

  $("btn-copy-link").addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(location.href);
      $("copy-status").textContent = "Link copied.";
    } catch {
      $("copy-status").textContent = `Copy this link: ${location.href}`;
    }
  });
  $("hide-list").replaceChildren(
    ...SECTIONS.map((s) => {
      const l = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = s;
      box.addEventListener("change", () => {
        const hide = SECTIONS.filter((n) => document.querySelector(`#hide-list input[value="${CSS.escape(n)}"]`).checked);
        setState({ ...state, hide });
        $("copy-status").textContent = hide.length ? `The link now opens with ${hide.length} section${hide.length > 1 ? "s" : ""} hidden (classroom mode).` : "";
      });
      l.append(box, LABELS[s] ?? s);
      return l;
    }),
  );
  // A chart follows its box: the window's size, and the layout (a lesson's notes shown or hidden,
  // the boundary hidden for data without a plane) change it.
  let resizeQueued = false;
  const observer = new ResizeObserver(() => {
    if (resizeQueued) return;
    resizeQueued = true;
    requestAnimationFrame(() => {
      resizeQueued = false;
      charts?.resize();
      raceChart?.resize();
    });
  });
  for (const node of document.querySelectorAll(".chart")) observer.observe(node);
  window.addEventListener("hashchange", () => {
    if (location.hash === "#" + encodeState(state)) return;
    const next = readHash();
    // A good link clears what a bad one said (the classroom banner comes back just below).
    if (loadError) showBanner(loadError);
    else $("banner")?.remove();
    state = next;
    // Another link (a lesson) is another experiment: a race of the last one ends here.
    if (race) {
      stopRace(true);
      $("race-sides").replaceChildren();
      raceChart?.clear();
      for (const id of ["race-start", "race-a", "race-b"]) $(id).disabled = false;
      $("race-stop").disabled = true;
    }
    applyClassroom();
    editor?.setState(state);
    refreshControls();
    requestData();
  });
}

// CSV upload: the text goes to the worker, which reads the header; the user picks the label and
// the input columns; every later error (a non-number cell, a short line) names line and column.
const MAX_CSV_BYTES = 50 * 1024 * 1024;

async function onCsvFile(e) {
  const file = e.target.files && e.target.files[0];
  if (!file) return;
  csvLoaded = false;
  $("csv-columns").hidden = true;
  if (file.size > MAX_CSV_BYTES) {
    showError("data-error", `${file.name} is ${(file.size / 1048576).toFixed(0)} MB: the page takes CSV files up to 50 MB`);
    return;
  }
  const text = await file.text();
  csvFile = { text, name: file.name };
  send({ type: "csv-header", text, name: file.name });
}

function onCsvHeader(m) {
  showError("data-error", null);
  csvLoaded = true;
  const cols = m.columns;
  const prev = state.data.csv;
  const label = prev && cols.includes(prev.label) ? prev.label : cols[cols.length - 1];
  $("csv-label").replaceChildren(...cols.map((c) => new Option(c, c)));
  $("csv-label").value = label;
  $("csv-task").value = prev?.task ?? "classification";
  $("csv-inputs").replaceChildren(
    ...cols.map((c) => {
      const l = document.createElement("label");
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = c;
      box.checked = prev && prev.columns && prev.columns.length ? prev.columns.includes(c) : c !== label;
      box.addEventListener("change", () => csvChoice());
      l.append(box, c);
      return l;
    }),
  );
  $("csv-columns").hidden = false;
  $("data-info").textContent = `${m.name}: ${m.rows.toLocaleString()} rows, columns ${cols.join(", ")}`;
  csvChoice(m.name);
}

function csvChoice(name) {
  const label = $("csv-label").value;
  const columns = [...document.querySelectorAll("#csv-inputs input")].filter((b) => b.checked && b.value !== label).map((b) => b.value);
  for (const b of document.querySelectorAll("#csv-inputs input")) b.disabled = b.value === label;
  const csv = { name: name ?? state.data.csv?.name ?? "data.csv", label, columns, task: $("csv-task").value };
  try {
    setState(withObjective({ ...state, data: { ...state.data, source: "csv", csv } }), { data: true });
  } catch (e) {
    showError("data-error", e.message);
  }
}

// ------------------------------------------------------------------------------------------
// Rendering

let renderQueued = false;
// A search's epochs can arrive faster than a learner can watch (MNIST trains an epoch in a
// fraction of a second): the table and charts are redrawn at most every RENDER_EVERY_MS, on an
// animation frame, so that the page stays responsive while trials train.
const RENDER_EVERY_MS = 250;
let lastRender = 0;

function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  const wait = Math.max(0, lastRender + RENDER_EVERY_MS - performance.now());
  setTimeout(() => {
    requestAnimationFrame(() => {
      renderQueued = false;
      lastRender = performance.now();
      render();
    });
  }, wait);
}

function objective() {
  const name = state.tuner.objective;
  return { name, direction: /acc|auc|precision|recall/.test(name) ? "max" : "min" };
}

function ordered() {
  return [...trials.values()].sort((a, b) => Number(a.id) - Number(b.id));
}

function bestTrial() {
  const dir = objective().direction;
  let best = null;
  for (const t of trials.values()) {
    if (t.status !== "COMPLETED" || typeof t.score !== "number") continue;
    if (!best || (dir === "max" ? t.score > best.score : t.score < best.score)) best = t;
  }
  return best;
}

function totalTrials() {
  const t = state.tuner;
  if (!usesMaxTrials(t.kind)) {
    const plan = hyperbandPlan(t.maxEpochs, t.factor);
    return plan.reduce((s, b) => s + b.rounds.reduce((r, x) => r + x.trials, 0), 0) * t.hyperbandIterations;
  }
  return t.maxTrials;
}

function render() {
  const list = ordered();
  renderTable(list);
  renderProgress(list);
  renderResults();
  charts?.update({
    trials: list,
    objective: objective(),
    selectedId,
    tunerKind: state.tuner.kind,
    hyperband: hasOption(state.tuner.kind, "max_epochs") ? { maxEpochs: state.tuner.maxEpochs, factor: state.tuner.factor, iterations: state.tuner.hyperbandIterations } : null,
  });
}

function renderProgress(list) {
  const done = list.filter((t) => ["COMPLETED", "FAILED", "INVALID"].includes(t.status)).length;
  const total = Math.max(totalTrials(), done);
  const bar = $("search-progress");
  let phase = "not started";
  if (running) phase = "running";
  else if (list.some((t) => t.status === "RUNNING" || t.status === "PAUSED")) phase = "paused";
  else if (stoppedByError) phase = "stopped by an error (see above)";
  else if (stoppedEarly) phase = "stopped (Resume carries on)";
  else if (list.length) phase = "finished";
  const line = progressLine(done, total, phase);
  bar.max = line.max;
  bar.value = done;
  const text = $("search-progress-text");
  if (!text.textContent.includes("stopping") || !running) text.textContent = line.text;
  const runningTrials = list.filter((t) => t.status === "RUNNING");
  $("running").replaceChildren(
    ...runningTrials.map((t) => {
      const row = document.createElement("div");
      row.className = "trial-progress";
      const label = document.createElement("span");
      label.textContent = `trial ${t.id}: epoch ${t.epoch ?? 0}/${t.epochs ?? "?"}`;
      const p = document.createElement("progress");
      p.max = t.epochs || 1;
      p.value = Math.min(t.epoch ?? 0, p.max);
      p.setAttribute("aria-label", `trial ${t.id} progress`);
      row.append(label, p);
      return row;
    }),
  );
}

let sortKey = "id";
let sortDir = 1;

// The table is updated in place: one <tr> per shown trial, kept by trial id, and a row is redrawn
// only when one of its cells or its marks (selected, best) changed. The rows are re-sorted only
// when the sort column or some row's sort value changed, and at most TABLE_ROWS rows are in the
// DOM (the first ones in sort order; a line under them says how many more there are). During a
// fast search this keeps the main thread's work per frame to the rows that changed.
const TABLE_ROWS = 200;
const tableRows = new Map(); // trial id -> {tr, sig}: the rows in the DOM
let tableHead = ""; // the head's signature (labels, sort) as last drawn
let sortedIds = []; // every trial id, in the table's order
const sortValues = new Map(); // trial id -> its sort value when last sorted
let sortedBy = ""; // the sort column and direction sortedIds follow

function tableColumns(list) {
  const hpNames = [...new Set(list.flatMap((t) => Object.keys(t.hps ?? {})))];
  return [
    { key: "id", label: "trial", get: (t) => t.id, text: true },
    { key: "status", label: "status", get: (t) => t.status, text: true },
    ...hpNames.map((h) => ({ key: `hp:${h}`, label: h, get: (t) => t.hps?.[h], text: false })),
    { key: "score", label: `score (${state.tuner.objective})`, get: (t) => t.score },
    { key: "bestEpoch", label: "best epoch", get: (t) => (typeof t.bestEpoch === "number" ? t.bestEpoch + 1 : null) },
    { key: "epochs", label: "epochs", get: (t) => (t.tuner ? `${t.tuner.initialEpoch ?? 0}→${t.tuner.epochs}` : t.epochs ?? null), text: true },
    { key: "message", label: "note", get: (t) => t.message ?? "", text: true },
  ];
}

function renderTableHead(cols) {
  const sig = JSON.stringify([sortKey, sortDir, cols.map((c) => c.label)]);
  if (sig === tableHead) return;
  tableHead = sig;
  const head = document.createElement("tr");
  for (const c of cols) {
    const th = document.createElement("th");
    th.scope = "col";
    if (c.text) th.className = "text";
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = c.label + (sortKey === c.key ? (sortDir > 0 ? " ▲" : " ▼") : "");
    b.addEventListener("click", () => {
      sortDir = sortKey === c.key ? -sortDir : 1;
      sortKey = c.key;
      render();
    });
    th.setAttribute("aria-sort", sortKey === c.key ? (sortDir > 0 ? "ascending" : "descending") : "none");
    th.append(b);
    head.append(th);
  }
  $("trials").tHead.replaceChildren(head);
}

/** Every trial id in the table's order; sorts again only when something the order hangs on changed. */
function tableOrder(list, col) {
  const by = `${col.key}\u0000${sortDir}`;
  let stale = by !== sortedBy || list.length !== sortedIds.length;
  for (const t of list) {
    const v = col.get(t);
    if (!sortValues.has(t.id) || !Object.is(sortValues.get(t.id), v)) stale = true;
    sortValues.set(t.id, v);
  }
  if (!stale) return sortedIds;
  if (sortValues.size > list.length) {
    const ids = new Set(list.map((t) => t.id));
    for (const id of sortValues.keys()) if (!ids.has(id)) sortValues.delete(id);
  }
  sortedBy = by;
  // `list` is in id order: a stable sort keeps ties in it, as before.
  sortedIds = list
    .map((t) => t.id)
    .sort((a, b) => {
      const x = sortValues.get(a);
      const y = sortValues.get(b);
      if (x == null && y == null) return 0;
      if (x == null) return 1;
      if (y == null) return -1;
      const cmp = col.key === "id" ? Number(x) - Number(y) : typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return cmp * sortDir;
    });
  return sortedIds;
}

function tableRow(id) {
  const tr = document.createElement("tr");
  tr.dataset.trial = id;
  tr.tabIndex = 0;
  tr.addEventListener("click", () => select(id));
  tr.addEventListener("keydown", (e) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      select(id);
    }
  });
  return tr;
}

/** Draws row `tr` for trial `t` (text cells only: trial data is never parsed as HTML). */
function fillRow(tr, t, cols, cells, best) {
  tr.classList.toggle("selected", t.id === selectedId);
  tr.classList.toggle("best", !!best && t.id === best.id);
  const tds = tr.children;
  if (tds.length !== cols.length) {
    tr.replaceChildren(...cols.map(() => document.createElement("td")));
  }
  cols.forEach((c, i) => {
    const td = tds[i];
    if (td.textContent !== cells[i]) td.textContent = cells[i];
    const cls = `${c.text ? "text" : ""}${c.key === "status" ? ` status-${t.status}` : ""}`.trim();
    if (td.className !== cls) td.className = cls;
  });
}

function renderTable(list) {
  const cols = tableColumns(list);
  renderTableHead(cols);
  const col = cols.find((c) => c.key === sortKey) ?? cols[0];
  const order = tableOrder(list, col);
  const shown = order.slice(0, TABLE_ROWS);
  const best = bestTrial();
  const body = $("trials").tBodies[0];
  const keep = new Set(shown);
  for (const [id, row] of tableRows) {
    if (!keep.has(id)) {
      row.tr.remove();
      tableRows.delete(id);
    }
  }
  shown.forEach((id, i) => {
    const t = trials.get(id);
    const cells = cols.map((c) => {
      const v = c.get(t);
      return v == null ? "" : typeof v === "number" ? fmt(v) : String(v);
    });
    const sig = `${cols.map((c) => c.key).join("\u0001")}\u0002${cells.join("\u0001")}\u0002${t.status}\u0002${t.id === selectedId}\u0002${!!best && t.id === best.id}`;
    let row = tableRows.get(id);
    if (!row) {
      row = { tr: tableRow(id), sig: null };
      tableRows.set(id, row);
    }
    if (row.sig !== sig) {
      fillRow(row.tr, t, cols, cells, best);
      row.sig = sig;
    }
    // Moves only rows out of place (a moved row loses the keyboard focus).
    const at = body.children[i];
    if (at !== row.tr) body.insertBefore(row.tr, at ?? null);
  });
  const more = order.length - shown.length;
  const table = $("trials");
  let foot = table.tFoot;
  if (more > 0) {
    foot ??= table.createTFoot();
    const text = `${more} more trial${more === 1 ? "" : "s"} not shown (the table shows the first ${TABLE_ROWS} in this order: sort by a column to see others; the CSV and JSON exports have every trial)`;
    const td = foot.rows[0]?.cells[0];
    if (!td || td.textContent !== text || td.colSpan !== cols.length) {
      const cell = document.createElement("td");
      cell.className = "text more";
      cell.style.whiteSpace = "normal";
      cell.colSpan = cols.length;
      cell.textContent = text;
      const tr = document.createElement("tr");
      tr.append(cell);
      foot.replaceChildren(tr);
    }
  } else if (foot) {
    foot.remove();
  }
}

function select(id) {
  selectedId = selectedId === id ? null : id;
  bestAsked = null; // another trial's boundary may be shown now
  const t = trials.get(id);
  if (selectedId && t && t.status !== "RUNNING") send({ type: "show", trialId: id });
  if (selectedId && t && t.status === "COMPLETED") send({ type: "summary", trialId: id });
  if (!selectedId) requestBest();
  $("boundary-which").textContent = selectedId ? `trial ${selectedId}` : "the best trial";
  render();
}

let bestShown = null;
let bestAsked = null; // the best trial (id and stored epoch) whose boundary was last asked for
function requestBest() {
  const best = bestTrial();
  if (!best || selectedId) return;
  if (bestShown !== best.id) {
    bestShown = best.id;
    send({ type: "summary", trialId: best.id });
  }
  // The worker predicts the whole boundary grid for it: ask again only when the best trial or
  // its stored epoch changed (while a search runs, the trials training show theirs meanwhile),
  // or, with no search running, when another trial's boundary is shown.
  const key = `${best.id}\u0000${best.bestEpoch}`;
  if (key === bestAsked && (running || shownBoundary?.trialId === best.id)) return;
  if (!running || !shownBoundary || !isRunning(shownBoundary.trialId)) {
    bestAsked = key;
    send({ type: "show", trialId: best.id });
  }
}

function renderResults() {
  const best = bestTrial();
  $("results").hidden = !best;
  $("results-empty").hidden = !!best;
  $("results-summary").textContent = summaryText || "";
  if (!best) return;
  $("best-score").textContent = `Trial ${best.id}: ${state.tuner.objective} = ${fmt(best.score)}${typeof best.bestEpoch === "number" ? ` at epoch ${best.bestEpoch + 1}` : ""}.`;
  const rows = Object.entries(best.hps).map(([k, v]) => {
    const tr = document.createElement("tr");
    const a = document.createElement("td");
    a.textContent = k;
    const b = document.createElement("td");
    b.textContent = typeof v === "number" ? fmt(v) : String(v);
    tr.append(a, b);
    return tr;
  });
  $("best-hps").replaceChildren(...rows);
}

function showSummary(m) {
  $("best-summary").textContent = m.text;
  const fit = m.fit ?? {};
  $("python-code").textContent = kerasSnippet(m.spec, {
    inputDim: m.inputDim,
    batchSize: fit.batch_size,
    epochs: typeof m.bestEpoch === "number" ? m.bestEpoch + 1 : fit.epochs,
    hps: m.hps,
    dataset: state.data.source,
  });
}

function drawBoundary() {
  // Which model the box shows: the selected trial, a trial while it trains, or the best one.
  if (!selectedId) {
    const id = shownBoundary?.trialId;
    const note = id === undefined ? "" : isRunning(id) ? " (training)" : bestTrial()?.id === id ? " (the best)" : "";
    $("boundary-which").textContent = id === undefined ? "the best trial" : `trial ${id}${note}`;
  }
  if (info?.confusion && charts) {
    charts.setConfusion({ ...info.confusion, values: shownBoundary ? shownBoundary.values : null, title: shownBoundary ? `trial ${shownBoundary.trialId}` : "" });
    return;
  }
  if (!charts || !info || !info.points) {
    charts?.setBoundary(null);
    return;
  }
  charts.setBoundary({
    n: info.grid,
    extent: info.extent,
    // Before any model: the data alone, on a neutral background.
    values: shownBoundary ? shownBoundary.values : new Float32Array(info.grid * info.grid).fill(info.task.kind === "regression" ? NaN : 0.5),
    task: info.task.kind === "regression" ? "regression" : "binary",
    points: info.points,
    title: shownBoundary ? `trial ${shownBoundary.trialId}` : "the data (no model yet)",
  });
}

// ------------------------------------------------------------------------------------------
// Exports and sharing

function fmt(v) {
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : v.toPrecision(4).replace(/\.?0+$/, "");
}

function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function base64url(text) {
  let bin = "";
  for (const b of new TextEncoder().encode(text)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const plainOrDefault = (v) => (v && typeof v === "object" && "hp" in v ? hpDefault(v) : v);

function updateShare() {
  const words = cliCommand(state);
  $("cli-command").value = words ? cliLine(words) : "The command line has the built-in data sets (the playground's and the 8x8 digits); this search uses MNIST or an uploaded CSV file.";
  const box = $("embed-code");
  const d = state.data;
  if (!info || state.spec || !(PLAYGROUND.includes(d.source) || d.source === "digits") || (PLAYGROUND.includes(d.source) && (d.features.join() !== "x1,x2"))) {
    box.value = "The notebook embed (lib/embed.html) runs built-in data sets with the x1, x2 inputs and form-made models; this state uses something it cannot take (MNIST, a CSV file, other input features or a hand-written spec).";
    return;
  }
  try {
    const { spec, fit } = buildSpec(state, info.task);
    const t = state.tuner;
    const options = { objective: t.objective, seed: t.seed, executionsPerTrial: t.executionsPerTrial, ...engineOptions(t) };
    const cfg = {
      title: `tunelab: ${d.source}`,
      spec,
      dataset: d.source,
      noise: d.noise,
      seed: d.seed,
      tuner: tunerClass(t.kind),
      options,
      fit: { epochs: plainOrDefault(fit.epochs), batchSize: plainOrDefault(fit.batch_size), validationSplit: Math.round(100 - d.trainPct) / 100 },
      device: t.device,
    };
    const src = new URL(`lib/embed.html#${base64url(JSON.stringify(cfg))}`, location.href.split("#")[0]).href;
    box.value = `<iframe src="${src.replace(/"/g, "&quot;")}" width="100%" height="640" style="border:0" title="tunelab search"></iframe>`;
  } catch (e) {
    box.value = `no embed: ${e.message}`;
  }
}

// ------------------------------------------------------------------------------------------
// Classroom mode and errors

let classroom = false;

function applyClassroom() {
  classroom = state.hide.length > 0;
  for (const el of document.querySelectorAll("[data-section]")) {
    el.hidden = state.hide.includes(el.dataset.section);
  }
  const json = document.querySelector("[data-section=json]");
  if (json) json.hidden = state.hide.includes("json");
  if (classroom) {
    showBanner(`Classroom view: ${state.hide.map((s) => LABELS[s] ?? s).join(", ")} ${state.hide.length > 1 ? "are" : "is"} hidden.`, "Show everything", () => {
      setState({ ...state, hide: [] });
      applyClassroom();
      refreshControls();
    });
  }
}

function showBanner(text, action, onAction) {
  let b = $("banner");
  if (!b) {
    b = document.createElement("div");
    b.id = "banner";
    b.className = "panel";
    b.setAttribute("role", "status");
    b.style.margin = "0 20px";
    document.querySelector("header").after(b);
  }
  const p = document.createElement("span");
  p.textContent = text + " ";
  b.replaceChildren(p);
  if (action) {
    const btn = document.createElement("button");
    btn.type = "button";
    btn.textContent = action;
    btn.addEventListener("click", () => {
      b.remove();
      onAction();
    });
    b.append(btn);
  }
}

function showError(id, message) {
  const el = $(id);
  el.hidden = !message;
  el.textContent = message ?? "";
}

// ------------------------------------------------------------------------------------------

function main() {
  const fromLink = location.hash.length > 1;
  state = readHash();
  if (loadError) showBanner(loadError);
  // A first visit trains one trial per core (a shared link keeps its own setting).
  if (!fromLink && navigator.hardwareConcurrency) {
    state = validateState({ ...state, tuner: { ...state.tuner, workers: Math.max(1, Math.min(8, navigator.hardwareConcurrency)) } });
  }
  bindControls();
  applyClassroom();
  editor = mountEditor($("editor"), {
    state,
    task: taskOf(state, { classes: 2 }),
    onChange: (next) => {
      try {
        setState({ ...state, model: next.model, spec: next.spec ?? null });
        showError("search-error", null);
      } catch (e) {
        showError("search-error", e.message);
      }
    },
  });
  charts = createCharts({
    objective: $("chart-objective"),
    curves: $("chart-curves"),
    parallel: $("chart-parallel"),
    brackets: $("chart-brackets"),
    importance: $("chart-importance"),
    boundary: $("chart-boundary"),
  });
  charts.onSelect((id) => select(id));
  raceChart = createRaceChart($("chart-race"));
  renderLessonList();
  refreshControls();
  writeHash();
  startWorker();
  render();
  // For tests and the curious: the page's state and a way to ask whether it is idle.
  window.tunelabPage = { get state() { return state; }, get trials() { return ordered(); }, get running() { return running; }, get info() { return info; }, get maxRunning() { return maxRunning; }, get searchesEnded() { return searchesEnded; }, get race() { return raceSummary(); } };
}

main();
