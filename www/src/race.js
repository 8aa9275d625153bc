// Racing two tuners: two searches of the engine's tuners on the same data and search space with
// the same budget of epochs, side by side. This module only turns the page state into the two
// searches' states and reads their trials back as "best so far against epochs spent"; each
// search is an ordinary engine search in its own search worker. No DOM here (Node tests it).
//
// The budget: Hyperband's plan fixes how many epochs it trains (every bracket's rounds, each
// trial of a later round continuing from its parent's epochs: KerasTuner's schedule, the one
// the page's bracket chart draws). A tuner that trains every trial for a fixed number of epochs
// gets the same budget as trials of E epochs: E is the largest divisor of the budget that is at
// most Hyperband's max epochs, so the two spend exactly the same number of epochs (a max epochs
// whose budget only splits into trials of under half of it is refused, naming better ones). A
// race without Hyperband gives both tuners the state's max trials of the state's epochs. BOHB
// has Hyperband's plan. ASHA's epochs depend on its promotions: it gets max trials enough to
// spend the budget (each trial trains at least its first rung's epochs), and the page stops it
// once it has spent the budget (`budgetStop`; the trials then running still end).

import { hyperbandPlan, bestSoFar } from "./importance.js";
import { LIMITS, tunerClass, usesMaxTrials, validateState } from "./state.js";

/** Epochs Hyperband trains in one iteration of its plan (later rounds continue from their parents). */
export function hyperbandEpochs(maxEpochs, factor) {
  let total = 0;
  for (const b of hyperbandPlan(maxEpochs, factor)) {
    let prev = 0;
    for (const r of b.rounds) {
      total += r.trials * (r.epochs - prev);
      prev = r.epochs;
    }
  }
  return total;
}

/**
 * The race of `state` (its `race: {a, b}`): `{budget, epochs, sides: [{kind, state}, ...]}`,
 * where `budget` is the epochs each search trains (per execution), `epochs` the epochs of a
 * trial of a non-Hyperband tuner. Throws an Error naming the field when the race cannot be run
 * on an equal budget.
 */
export function raceOf(state) {
  const race = state.race;
  if (!race) throw new Error("race: no race is set (pick two tuners)");
  const kinds = [race.a, race.b];
  const t = state.tuner;
  let budget;
  let epochs;
  // Hyperband or BOHB: their plan; trials of fixed epochs for the other (not ASHA) side.
  const planned = kinds.find((k) => !usesMaxTrials(k));
  const fixed = kinds.some((k) => usesMaxTrials(k) && k !== "asha");
  if (planned) {
    budget = hyperbandEpochs(t.maxEpochs, t.factor) * t.hyperbandIterations;
    epochs = evenSplit(budget, t.maxEpochs);
    if (fixed && epochs * 2 < t.maxEpochs) {
      const good = [];
      for (let d = 1; d <= 60 && good.length < 3; d++) {
        for (const m of [t.maxEpochs - d, t.maxEpochs + d]) {
          if (m >= 2 && m <= 500 && good.length < 3 && evenSplit(hyperbandEpochs(m, t.factor) * t.hyperbandIterations, m) * 2 >= m) good.push(m);
        }
      }
      throw new Error(
        `tuner.maxEpochs: ${t.maxEpochs} makes ${tunerClass(planned)} (factor ${t.factor}) train ${budget} epochs, which split evenly only into trials of ${epochs} epoch${epochs === 1 ? "" : "s"} or more than ${t.maxEpochs} for the other tuner; ` +
          `for a fair race pick max epochs ${good.sort((a, b) => a - b).join(", ")}`,
      );
    }
  } else {
    const e = state.model.epochs;
    if ("hp" in e) throw new Error("model.epochs: a race needs a fixed number of epochs per trial (not a range), so both tuners get the same budget");
    epochs = e.value;
    budget = t.maxTrials * epochs;
  }
  const sides = kinds.map((kind) => {
    const tuner = { ...t, kind };
    const model = { ...state.model };
    const side = { kind };
    if (kind === "asha") {
      const first = hyperbandPlan(t.maxEpochs, t.factor)[0].rounds[0].epochs;
      tuner.maxTrials = Math.min(LIMITS.maxTrials, Math.ceil(budget / first));
      side.budgetStop = true;
    } else if (usesMaxTrials(kind)) {
      tuner.maxTrials = budget / epochs;
      model.epochs = { value: epochs };
    }
    // Each side is an ordinary page state (validated), searched like the main one.
    side.state = validateState({ ...state, tuner, model, race: null });
    return side;
  });
  return { budget, epochs, sides };
}

/** The largest number of epochs, at most `most`, that divides `budget`. */
function evenSplit(budget, most) {
  for (let e = Math.min(most, budget); e >= 1; e--) if (budget % e === 0) return e;
  return 1;
}

/** The epochs a finished trial trained (per execution): Hyperband's from its initial epoch. */
export function trialEpochs(t) {
  if (t.tuner && typeof t.tuner.epochs === "number") return t.tuner.epochs - (t.tuner.initialEpoch ?? 0);
  return typeof t.epochs === "number" ? t.epochs : 0;
}

/**
 * A side's curve: `[[epochsSpent, bestSoFar], ...]`, one point per ended trial in the order the
 * trials ended (`ended`: trial records in that order), and the epochs spent in all.
 */
export function raceCurve(ended, direction) {
  let spent = 0;
  const xs = [];
  const scores = [];
  for (const t of ended) {
    spent += trialEpochs(t);
    xs.push(spent);
    scores.push(t.status === "COMPLETED" ? t.score : null);
  }
  const best = bestSoFar(scores, direction);
  return { spent, points: xs.map((x, i) => [x, best[i]]).filter((p) => p[1] !== null) };
}
