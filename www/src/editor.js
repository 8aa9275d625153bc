// The network and search-space editor: the hidden layers as rows, the training settings, and
// the model spec as JSON text. Every setting ("P field") is a fixed value or, switched with its
// "⇄ range" toggle, a search range (Int, Float, Choice, or on/off for a dropout layer).
//
// mountEditor(container, {state, task, onChange}) renders into `container` and calls
// onChange(newState) with a fresh state after every valid change. User text only ever reaches
// the DOM through textContent and input values.

import { LIMITS, P_FIELDS, defaultLayer, validateModel, validateP, validateState } from "./state.js";
import { HP_NAMES, OPTIONAL_DROPOUT_RATE, layerHpName, lossFor, parseSpecText, specText } from "./spec.js";

// ---------------------------------------------------------------------------------------------
// Small DOM helpers (no innerHTML anywhere)

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "className") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (k === "value") e.value = v;
    else if (k === "checked") e.checked = Boolean(v);
    else if (k === "on") for (const [type, f] of Object.entries(v)) e.addEventListener(type, f);
    else e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return e;
}

function button(text, attrs = {}) {
  return el("button", { type: "button", ...attrs }, text);
}

function clone(v) {
  return JSON.parse(JSON.stringify(v));
}

// A number from an input's text; "" and junk give NaN (which validation then refuses).
function readNumber(input) {
  const s = input.value.trim();
  return s === "" ? NaN : Number(s);
}

// The part of a validation message after the field path ("model.hidden[0].units.max: ...").
function shortMessage(message) {
  const m = /^[\w.[\]]+: (.*)$/s.exec(message);
  let s = m ? m[1] : message;
  s = s.replace(/^NaN is not/, "this is not");
  return s;
}

function errorPath(message) {
  const m = /^([\w.[\]]+): /.exec(message);
  return m ? m[1] : "";
}

// A readable number for a default range end (3 significant digits).
function round3(x) {
  return Number(x.toPrecision(3));
}

// ---------------------------------------------------------------------------------------------
// Switching a P between a value and a range

function clamp(x, lo, hi) {
  return Math.min(hi, Math.max(lo, x));
}

/** A sensible range around a fixed value, to start the range editor with. */
function rangeAround(fieldKey, p) {
  const f = P_FIELDS[fieldKey];
  const v = p.value;
  if (f.type === "enum") {
    const other = f.list.find((x) => x !== v && (x === "relu" || x === "tanh" || x === "adam" || x === "sgd"));
    return { hp: "Choice", values: other ? [v, other] : [v] };
  }
  if (f.type === "int") {
    const min = clamp(Math.max(1, Math.round(v / 2)), f.min, f.max);
    const max = clamp(Math.max(min + 1, v * 2), f.min, f.max);
    return { hp: "Int", min: Math.min(min, max), max, step: 1, sampling: "linear" };
  }
  if (fieldKey === "rate") {
    return { hp: "Float", min: 0, max: round3(clamp(Math.max(0.5, v * 2), 0, f.max)), sampling: "linear" };
  }
  const base = v > 0 ? v : f.max / 100;
  const min = round3(clamp(base / 10, f.min > 0 ? f.min : 1e-6, f.max));
  const max = round3(clamp(base * 10, min, f.max));
  return { hp: "Float", min, max, sampling: "log" };
}

/** A fixed value inside a range, to fall back to when the toggle goes back to "fixed". */
function valueInside(fieldKey, p) {
  const f = P_FIELDS[fieldKey];
  if (p.hp === "Choice") return { value: p.values[0] };
  if (p.hp === "Boolean") return { value: OPTIONAL_DROPOUT_RATE };
  if (p.hp === "Int") return { value: clamp(Math.round((p.min + p.max) / 2), f.min, f.max) };
  const mid = p.sampling === "log" ? Math.sqrt(p.min * p.max) : (p.min + p.max) / 2;
  return { value: clamp(round3(mid), f.min, f.max) };
}

// ---------------------------------------------------------------------------------------------
// The editor

/**
 * Mounts the editor. `state`: a valid page state; `task`: taskOf(state, info); `onChange`:
 * called with a fresh state after each valid change. Returns {setState, setTask, destroy}.
 */
export function mountEditor(container, { state, task, onChange = () => {} } = {}) {
  let cur = clone(state);
  let curTask = task ?? null;
  let destroyed = false;
  // The last fixed value / range of each P field, so toggling back restores what was there.
  const memory = new Map();
  let jsonError = "";
  let jsonDraft = null; // text typed in the JSON box and not yet applied

  const root = el("div", { className: "editor" });
  container.replaceChildren(root);

  function commit(next, { rerender = false, focus = null } = {}) {
    cur = next;
    jsonError = "";
    jsonDraft = null;
    onChange(clone(next));
    if (rerender) render(focus);
    else syncJson();
  }

  /** Validates a new model; on success commits it, else shows the message at its field. */
  function tryModel(model, opts = {}) {
    let valid;
    try {
      valid = validateModel(model);
    } catch (e) {
      showError(e.message);
      return false;
    }
    clearErrors(opts.clear);
    commit({ ...clone(cur), model: valid }, opts);
    return true;
  }

  // --- errors at fields ---------------------------------------------------------------------

  function showError(message) {
    const path = errorPath(message);
    // The input whose data-path is the longest prefix of the error's path.
    let best = null;
    for (const input of root.querySelectorAll("[data-path]")) {
      const p = input.dataset.path;
      if ((path === p || path.startsWith(p + ".") || path.startsWith(p + "[")) && (!best || p.length > best.dataset.path.length)) best = input;
    }
    const holder = best?.closest("[data-errors]") ?? root.querySelector("#layers-error");
    const box = holder?.querySelector(":scope > .field-error") ?? root.querySelector("#layers-error");
    if (best) {
      best.setAttribute("aria-invalid", "true");
      if (box?.id) best.setAttribute("aria-describedby", box.id);
    }
    if (box) {
      box.textContent = best ? shortMessage(message) : message;
      box.hidden = false;
    }
  }

  // Clears the errors inside `scope` (an element) or everywhere.
  function clearErrors(scope) {
    const within = scope ?? root;
    for (const i of within.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
    for (const b of within.querySelectorAll(".field-error:not(#spec-json-error)")) {
      b.textContent = "";
      b.hidden = true;
    }
  }

  // --- P fields -------------------------------------------------------------------------------

  /**
   * One P field. `key`: its stable test id (units_0, learning_rate, ...); `fieldKey`: its entry
   * in P_FIELDS; `path`: its path in the state ("model.hidden[0].units"); `hpName`: the hp
   * name the range gets in the spec; `get`/`set`: read it from / write it into a model.
   */
  function pField({ key, fieldKey, label, path, hpName, get, set }) {
    const f = P_FIELDS[fieldKey];
    const p = get(cur.model); // as rendered
    const now = () => get(cur.model); // as committed since
    const isRange = "hp" in p;
    const idBase = `p-${key}`;
    const labelId = `${idBase}-label`;
    const errId = `${idBase}-error`;
    const wrap = el("div", {
      className: "p-field",
      role: "group",
      "aria-labelledby": labelId,
      dataset: { p: key, mode: isRange ? p.hp : "value", errors: "" },
    });

    const change = (next) => {
      let valid;
      try {
        valid = validateP(fieldKey, next, path);
      } catch (e) {
        clearErrors(wrap);
        showError(e.message);
        return;
      }
      const model = clone(cur.model);
      set(model, valid);
      if (!tryModel(model, { clear: wrap })) return;
      memory.set(key + (("hp" in valid) ? ":range" : ":value"), valid);
      // A new range kind (Float <-> on/off) changes the inputs shown.
      if (("hp" in valid) && valid.hp !== p.hp) render(`${idBase}-kind`);
    };

    const toggle = button("⇄ range", {
      className: "range-toggle",
      id: `${idBase}-toggle`,
      "aria-pressed": isRange ? "true" : "false",
      title: isRange ? "searched as a range: press to use one fixed value" : "one fixed value: press to search a range",
      "aria-label": `${label}: search a range`,
      on: {
        click: () => {
          const pc = now();
          const ranged = "hp" in pc;
          memory.set(key + (ranged ? ":range" : ":value"), pc);
          const fresh = () => (ranged ? valueInside(fieldKey, pc) : rangeAround(fieldKey, pc));
          let valid;
          try {
            valid = validateP(fieldKey, memory.get(key + (ranged ? ":value" : ":range")) ?? fresh(), path);
          } catch {
            valid = validateP(fieldKey, fresh(), path);
          }
          const model = clone(cur.model);
          set(model, valid);
          tryModel(model, { rerender: true, focus: `${idBase}-toggle` });
        },
      },
    });

    const parts = [];
    if (!isRange) {
      const id = `${idBase}-value`;
      let input;
      if (f.type === "enum") {
        input = el("select", { id, dataset: { path: `${path}.value` } }, ...f.list.map((x) => el("option", { value: x, text: x })));
        input.value = p.value;
        input.addEventListener("change", () => change({ value: input.value }));
      } else {
        input = el("input", {
          id,
          type: "number",
          inputmode: f.type === "int" ? "numeric" : "decimal",
          min: f.min,
          max: f.max,
          step: f.type === "int" ? 1 : "any",
          value: String(p.value),
          dataset: { path: `${path}.value` },
        });
        input.addEventListener("change", () => change({ value: readNumber(input) }));
      }
      input.setAttribute("aria-describedby", errId);
      parts.push(el("label", { for: id, className: "p-label", id: labelId, text: label }), input);
    } else {
      parts.push(el("span", { className: "p-label", id: labelId, text: label }));
      if (f.ranges.length > 1) {
        // The kind of range: a Float range or on/off (the dropout rate).
        const id = `${idBase}-kind`;
        const kind = el(
          "select",
          { id, dataset: { path: `${path}.hp` } },
          ...f.ranges.map((r) => el("option", { value: r, text: r === "Boolean" ? "on/off" : `${r} range` })),
        );
        kind.value = p.hp;
        kind.addEventListener("change", () => {
          const next = kind.value === "Boolean" ? { hp: "Boolean" } : memory.get(`${key}:range:${kind.value}`) ?? rangeAround(fieldKey, { value: 0.25 });
          const pc = now();
          if ("hp" in pc) memory.set(`${key}:range:${pc.hp}`, pc);
          change(next);
        });
        parts.push(el("label", { for: id, text: "search" }), kind);
      }
      if (p.hp === "Int" || p.hp === "Float") {
        const inputs = {};
        const read = () => {
          const next = { hp: p.hp, min: readNumber(inputs.min), max: readNumber(inputs.max), sampling: inputs.log.checked ? "log" : "linear" };
          if (p.hp === "Int") next.step = readNumber(inputs.step);
          return next;
        };
        const numberInput = (name, text) => {
          const id = `${idBase}-${name}`;
          const input = el("input", {
            id,
            type: "number",
            inputmode: p.hp === "Int" ? "numeric" : "decimal",
            min: name === "step" ? 1 : f.min,
            max: f.max,
            step: p.hp === "Int" ? 1 : "any",
            value: String(p[name]),
            "aria-describedby": errId,
            dataset: { path: `${path}.${name}` },
          });
          input.addEventListener("change", () => change(read()));
          inputs[name] = input;
          parts.push(el("label", { for: id, text }), input);
        };
        numberInput("min", "min");
        numberInput("max", "max");
        if (p.hp === "Int") numberInput("step", "step");
        const logId = `${idBase}-log`;
        inputs.log = el("input", { id: logId, type: "checkbox", checked: p.sampling === "log", dataset: { path: `${path}.sampling` } });
        inputs.log.addEventListener("change", () => change(read()));
        parts.push(el("label", { for: logId, className: "check" }, inputs.log, " log"));
        if (p.hp === "Int" && p.sampling === "log") {
          inputs.step.title = "with log sampling the step multiplies (1: none)";
        }
      } else if (p.hp === "Choice") {
        const boxes = [];
        const group = el("span", { className: "choice-values checks", dataset: { path: `${path}.values` } });
        for (const x of f.list) {
          const id = `${idBase}-c-${x}`;
          const box = el("input", { id, type: "checkbox", value: x, checked: p.values.includes(x), "aria-describedby": errId });
          box.addEventListener("change", () => {
            // Keeps the order the values had, new ones at the end.
            const ticked = boxes.filter((b) => b.checked).map((b) => b.value);
            const before = now().values ?? [];
            const values = [...before.filter((v) => ticked.includes(v)), ...ticked.filter((v) => !before.includes(v))];
            change({ hp: "Choice", values });
          });
          boxes.push(box);
          group.append(el("label", { for: id }, box, ` ${x}`));
        }
        parts.push(group);
      } else if (p.hp === "Boolean") {
        parts.push(el("span", { className: "hint", text: `on/off: Dropout(${OPTIONAL_DROPOUT_RATE}) or no dropout` }));
      }
      parts.push(el("code", { className: "hp-name", title: "the hyperparameter's name in the search", text: hpName }));
    }
    wrap.append(...parts, toggle, el("span", { className: "field-error", id: errId, "aria-live": "polite", hidden: true }));
    return wrap;
  }

  // --- layers ---------------------------------------------------------------------------------

  function layerRow(layer, j, count) {
    const model = cur.model;
    const path = `model.hidden[${j}]`;
    const row = el("li", { className: "layer-row", dataset: { layer: String(j), errors: "" } });
    const typeId = `layer-${j}-type`;
    const type = el("select", { id: typeId, dataset: { path: `${path}.type` } }, el("option", { value: "dense", text: "Dense" }), el("option", { value: "dropout", text: "Dropout" }));
    type.value = layer.type;
    type.addEventListener("change", () => {
      const m = clone(cur.model);
      m.hidden[j] = defaultLayer(type.value);
      tryModel(m, { rerender: true, focus: typeId });
    });
    row.append(el("label", { for: typeId, className: "layer-name", text: `Layer ${j + 1}` }), type);
    if (layer.type === "dense") {
      row.append(
        pField({
          key: `units_${j}`,
          fieldKey: "units",
          label: "units",
          path: `${path}.units`,
          hpName: layerHpName(model, j, "units"),
          get: (m) => m.hidden[j].units,
          set: (m, v) => (m.hidden[j].units = v),
        }),
        pField({
          key: `activation_${j}`,
          fieldKey: "activation",
          label: "activation",
          path: `${path}.activation`,
          hpName: layerHpName(model, j, "activation"),
          get: (m) => m.hidden[j].activation,
          set: (m, v) => (m.hidden[j].activation = v),
        }),
      );
    } else {
      row.append(
        pField({
          key: `dropout_${j}`,
          fieldKey: "rate",
          label: "rate",
          path: `${path}.rate`,
          hpName: layerHpName(model, j, "rate"),
          get: (m) => m.hidden[j].rate,
          set: (m, v) => (m.hidden[j].rate = v),
        }),
      );
    }
    const move = (to, focus) => {
      const m = clone(cur.model);
      const [l] = m.hidden.splice(j, 1);
      m.hidden.splice(to, 0, l);
      tryModel(m, { rerender: true, focus });
    };
    const name = `layer ${j + 1} (${layer.type === "dense" ? "Dense" : "Dropout"})`;
    row.append(
      el(
        "span",
        { className: "layer-buttons" },
        button("↑", { id: `layer-${j}-up`, "aria-label": `move ${name} up`, disabled: j === 0, on: { click: () => move(j - 1, j - 1 === 0 ? `layer-${j - 1}-down` : `layer-${j - 1}-up`) } }),
        button("↓", { id: `layer-${j}-down`, "aria-label": `move ${name} down`, disabled: j === count - 1, on: { click: () => move(j + 1, j + 1 === count - 1 ? `layer-${j + 1}-up` : `layer-${j + 1}-down`) } }),
        button("✕", {
          id: `layer-${j}-remove`,
          "aria-label": `remove ${name}`,
          on: {
            click: () => {
              const m = clone(cur.model);
              m.hidden.splice(j, 1);
              const n = m.hidden.length;
              tryModel(m, { rerender: true, focus: n === 0 ? "add-dense" : `layer-${Math.min(j, n - 1)}-remove` });
            },
          },
        }),
      ),
      el("span", { className: "field-error", id: `layer-${j}-error`, "aria-live": "polite", hidden: true }),
    );
    return row;
  }

  function outputText() {
    if (!curTask) return "Output: set by the data (not known yet)";
    const { loss, metrics } = lossFor(curTask);
    let layer;
    if (curTask.kind === "binary") layer = "Dense(1, sigmoid)";
    else if (curTask.kind === "regression") layer = "Dense(1, linear)";
    else layer = `Dense(${curTask.classes ?? "one per class"}, softmax)`;
    return `Output: ${layer} · loss ${loss} · metrics ${metrics.join(", ")}`;
  }

  /**
   * CSV data: the Normalization step in front of the hidden layers (Keras's layer, adapted by
   * the engine on the training rows at the start of each fit), on by default, switchable.
   */
  function normalizationRow() {
    const on = cur.model.normalize;
    const box = el("input", { id: "normalize", type: "checkbox", checked: on, "aria-describedby": "normalize-hint" });
    box.addEventListener("change", () => {
      const m = clone(cur.model);
      m.normalize = box.checked;
      tryModel(m, { rerender: true, focus: "normalize" });
    });
    return el(
      "div",
      { className: "layer-row normalization-row", dataset: { layer: "normalization" } },
      el("label", { for: "normalize", className: "check" }, box, " Normalization"),
      el("span", {
        id: "normalize-hint",
        className: "hint",
        text: on
          ? "each input column is shifted and scaled to mean 0 and variance 1, with the mean and variance of the training rows (adapted at the start of fit): columns of very different scales train well"
          : "off: the columns reach the first layer as they are in the file",
      }),
    );
  }

  function layersSection() {
    const model = cur.model;
    const sec = el("fieldset", { className: "editor-layers" }, el("legend", { text: "Hidden layers" }));
    if (cur.data?.source === "csv") sec.append(normalizationRow());

    // The tunable number of layers.
    const repeatOn = model.repeat !== null;
    const tune = el("input", { id: "tune-layers", type: "checkbox", checked: repeatOn, "aria-describedby": "tune-layers-hint" });
    tune.addEventListener("change", () => {
      const m = clone(cur.model);
      if (tune.checked) {
        const most = Math.max(1, Math.floor(LIMITS.hiddenLayers / Math.max(1, m.hidden.length)));
        m.repeat = { min: 1, max: Math.min(3, most) };
      } else m.repeat = null;
      if (!tryModel(m, { rerender: true, focus: "tune-layers" })) tune.checked = !tune.checked;
    });
    const repeatRow = el(
      "div",
      { className: "repeat-row row", dataset: { errors: "" } },
      el("label", { for: "tune-layers", className: "check" }, tune, " tune the number of layers"),
    );
    if (repeatOn) {
      const inputs = {};
      for (const k of ["min", "max"]) {
        const id = `repeat-${k}`;
        inputs[k] = el("input", {
          id,
          type: "number",
          inputmode: "numeric",
          min: 1,
          max: LIMITS.hiddenLayers,
          step: 1,
          value: String(model.repeat[k]),
          "aria-describedby": "repeat-error",
          dataset: { path: `model.repeat.${k}` },
        });
        inputs[k].addEventListener("change", () => {
          const m = clone(cur.model);
          m.repeat = { min: readNumber(inputs.min), max: readNumber(inputs.max) };
          tryModel(m, { clear: repeatRow });
        });
        repeatRow.append(el("label", { for: id, text: `${HP_NAMES.numLayers} ${k}` }), inputs[k]);
      }
      repeatRow.append(el("code", { className: "hp-name", text: HP_NAMES.numLayers }));
    }
    repeatRow.append(el("span", { className: "field-error", id: "repeat-error", "aria-live": "polite", hidden: true }));
    const hint = el("p", {
      className: "hint",
      id: "tune-layers-hint",
      text: repeatOn
        ? `The layers below form one block that the search repeats ${HP_NAMES.numLayers} times (from min to max). Names inside end in _{i}, the repetition: units_{i} is one hp per repetition.`
        : "On: the layers below become one block, repeated a searched number of times (num_layers).",
    });

    const list = el("ol", { className: "layer-list" });
    model.hidden.forEach((l, j) => list.append(layerRow(l, j, model.hidden.length)));
    const full = model.hidden.length >= LIMITS.hiddenLayers;
    const add = (type, focus) => () => {
      const m = clone(cur.model);
      m.hidden.push(defaultLayer(type));
      tryModel(m, { rerender: true, focus });
    };
    const buttons = el(
      "div",
      { className: "buttons" },
      button("+ Dense", { id: "add-dense", disabled: full, on: { click: add("dense", "add-dense") } }),
      button("+ Dropout", { id: "add-dropout", disabled: full, on: { click: add("dropout", "add-dropout") } }),
    );
    const listError = el("p", { className: "field-error", id: "layers-error", role: "alert", hidden: true });
    const output = el("div", { className: "output-row", id: "output-layer", text: outputText() });
    sec.append(repeatRow, hint, list, buttons, listError, output);
    return sec;
  }

  // --- training settings ----------------------------------------------------------------------

  function trainingSection() {
    const model = cur.model;
    const sec = el("fieldset", { className: "editor-training" }, el("legend", { text: "Training" }));
    const regRow = el("div", { className: "row", dataset: { errors: "" } });
    const reg = el(
      "select",
      { id: "regularizer", dataset: { path: "model.regularizer" } },
      el("option", { value: "none", text: "none" }),
      el("option", { value: "l1", text: "L1" }),
      el("option", { value: "l2", text: "L2" }),
    );
    reg.value = model.regularizer;
    reg.addEventListener("change", () => {
      const m = clone(cur.model);
      m.regularizer = reg.value;
      tryModel(m, { rerender: true, focus: "regularizer" });
    });
    regRow.append(el("label", { for: "regularizer", text: "regularizer" }), reg);
    if (model.regularizer !== "none") {
      regRow.append(
        pField({
          key: HP_NAMES.regRate,
          fieldKey: "regRate",
          label: "rate",
          path: "model.regRate",
          hpName: HP_NAMES.regRate,
          get: (m) => m.regRate,
          set: (m, v) => (m.regRate = v),
        }),
      );
    }
    regRow.append(el("span", { className: "field-error", id: "regularizer-error", hidden: true }));
    sec.append(regRow);
    const fields = [
      ["optimizer", "optimizer", "optimizer"],
      ["learningRate", "learning_rate", "learning rate"],
      ["batchSize", "batch_size", "batch size"],
      ["epochs", "epochs", "epochs"],
    ];
    for (const [fieldKey, key, label] of fields) {
      sec.append(
        el(
          "div",
          { className: "row" },
          pField({ key, fieldKey, label, path: `model.${fieldKey}`, hpName: HP_NAMES[fieldKey], get: (m) => m[fieldKey], set: (m, v) => (m[fieldKey] = v) }),
        ),
      );
    }
    return sec;
  }

  // --- JSON -----------------------------------------------------------------------------------

  let textarea = null;
  let jsonErrorBox = null;

  function currentSpecText() {
    if (cur.spec !== null && cur.spec !== undefined) return cur.spec;
    if (!curTask) return "";
    return specText(cur, curTask);
  }

  function syncJson() {
    if (!textarea) return;
    if (jsonDraft !== null) return;
    try {
      textarea.value = currentSpecText();
      if (!jsonError) setJsonError("");
    } catch (e) {
      textarea.value = "";
      setJsonError(e.message);
    }
  }

  function setJsonError(message) {
    jsonError = message;
    if (!jsonErrorBox) return;
    jsonErrorBox.textContent = message;
    jsonErrorBox.hidden = !message;
    if (message) textarea?.setAttribute("aria-invalid", "true");
    else textarea?.removeAttribute("aria-invalid");
  }

  function apply() {
    const text = textarea.value;
    let result;
    try {
      if (!curTask) throw new Error("the data's task is not known yet: pick or load the data first");
      result = parseSpecText(text, curTask, cur.model, { csv: cur.data?.source === "csv" });
    } catch (e) {
      jsonDraft = text;
      setJsonError(e.message);
      return;
    }
    if (result.model) {
      clearErrors();
      commit({ ...clone(cur), model: result.model, spec: null }, { rerender: true, focus: "apply-json" });
      return;
    }
    let next;
    try {
      next = validateState({ ...clone(cur), spec: text });
    } catch (e) {
      jsonDraft = text;
      setJsonError(e.message);
      return;
    }
    commit(next, { rerender: true, focus: "apply-json" });
  }

  function jsonSection() {
    const custom = cur.spec !== null && cur.spec !== undefined;
    const sec = el("section", { className: "editor-json", dataset: { section: "json" }, "aria-labelledby": "spec-json-heading" });
    sec.append(el("h3", { id: "spec-json-heading", text: "Model spec (JSON)" }));
    sec.append(
      el("p", {
        className: "hint",
        id: "spec-json-hint",
        text: "The engine's model spec with the search ranges as hp objects, and fit's batch_size and epochs. Edit it and press Apply JSON: a spec the form can show updates the form; any other spec is used as written.",
      }),
    );
    textarea = el("textarea", {
      id: "spec-json",
      className: "mono",
      "aria-label": "model spec JSON",
      "aria-describedby": "spec-json-hint spec-json-error",
      spellcheck: "false",
      autocomplete: "off",
      rows: 16,
    });
    textarea.addEventListener("input", () => {
      jsonDraft = textarea.value;
    });
    jsonErrorBox = el("p", { className: "field-error", id: "spec-json-error", role: "alert", hidden: true });
    const buttons = el("div", { className: "buttons" }, button("Apply JSON", { id: "apply-json", on: { click: apply } }));
    if (custom) {
      buttons.append(
        button("Back to the form", {
          id: "back-to-form",
          on: {
            click: () => {
              clearErrors();
              commit({ ...clone(cur), spec: null }, { rerender: true, focus: "spec-json" });
            },
          },
        }),
      );
    }
    sec.append(textarea, buttons, jsonErrorBox);
    if (custom) {
      sec.insertBefore(el("p", { className: "custom-note", id: "custom-note", role: "status", text: "custom spec: the form is read-only until you reset" }), textarea);
    }
    const draft = jsonDraft;
    const err = jsonError;
    syncJson();
    if (draft !== null) {
      jsonDraft = draft;
      textarea.value = draft;
    }
    if (err) setJsonError(err);
    return sec;
  }

  // --- rendering ------------------------------------------------------------------------------

  function render(focusId) {
    if (destroyed) return;
    const active = focusId ?? (root.contains(document.activeElement) ? document.activeElement.id : null);
    const custom = cur.spec !== null && cur.spec !== undefined;
    // A fieldset only so that one `disabled` makes the whole form read-only.
    const form = el("fieldset", {
      className: "editor-form",
      disabled: custom,
      "aria-label": "network",
      "aria-describedby": custom ? "custom-note" : undefined,
      style: "border:0;margin:0;padding:0;min-width:0",
    });
    form.append(layersSection(), trainingSection());
    root.replaceChildren(form, jsonSection());
    if (active) {
      const target = root.querySelector(`#${CSS.escape(active)}`);
      if (target && !target.disabled) target.focus();
    }
  }

  render(null);

  return {
    /** Shows another state (e.g. one read from the URL); does not call onChange. */
    setState(next) {
      cur = clone(next);
      jsonDraft = null;
      jsonError = "";
      render(null);
    },
    /**
     * The data's task changed: the output layer and the JSON follow. `data`: the state's data
     * section (CSV data gets the Normalization step).
     */
    setTask(next, { data = null } = {}) {
      curTask = next ?? null;
      if (data) cur.data = clone(data);
      jsonError = "";
      render(null);
    },
    destroy() {
      destroyed = true;
      container.replaceChildren();
    },
  };
}

