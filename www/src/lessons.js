// The lessons: prepared experiments a teacher opens as links. A lesson is page state (the URL
// hash holds it, `lesson` names it so the page shows its notes beside the views) plus words:
// a question, what to look at, and a short explanation. Races are lessons too (`race`: two
// tuners on the same budget). No DOM here: Node tests every lesson's state.

import { defaultState, encodeState, validateState } from "./state.js";

const dense = (units, activation = "tanh") => ({
  type: "dense",
  units: typeof units === "object" ? units : { value: units },
  activation: typeof activation === "object" ? activation : { value: activation },
});
const logRange = (min, max) => ({ hp: "Float", min, max, sampling: "log" });

/**
 * Each lesson: `id` (in the link), `title`, `question`, `look` (what to look at), `explain`
 * (why it happens), and `patch`: the sections of the default state it changes.
 */
export const LESSONS = [
  {
    id: "lr-too-high",
    title: "Learning rate too high",
    question: "Every trial here uses Adam with a learning rate between 0.5 and 10 (the default search stays between 0.001 and 0.1). What happens to the score as the learning rate grows?",
    look: "The parallel coordinates and the table sorted by learning_rate: the largest rates score worst, some near chance. The learning curves jump up and down instead of settling.",
    explain: "The learning rate is the size of each step down the loss surface. A step far too large overshoots the valley, so the loss bounces around (or grows until it is not a number, which KerasTuner reports as a failed trial) and the boundary never settles.",
    patch: {
      data: { source: "circle", noise: 10 },
      model: { hidden: [dense(8)], learningRate: logRange(0.5, 10), epochs: { value: 20 } },
      tuner: { kind: "random", maxTrials: 8 },
    },
  },
  {
    id: "lr-too-low",
    title: "Learning rate too low",
    question: "The same network, now with learning rates between 0.00001 and 0.001 for 20 epochs. Is the network too small, or is something else wrong?",
    look: "The learning curves: they creep up slowly and are still rising at the last epoch. The best trial is the one with the largest learning rate.",
    explain: "With tiny steps the weights barely move in 20 epochs: the model is not bad, it is unfinished. More epochs would help, but a larger learning rate (the default search tunes it between 0.001 and 0.1) gets there in a fraction of the time.",
    patch: {
      data: { source: "circle", noise: 10 },
      model: { hidden: [dense(8)], learningRate: logRange(1e-5, 1e-3), epochs: { value: 20 } },
      tuner: { kind: "random", maxTrials: 8 },
    },
  },
  {
    id: "spiral-raw",
    title: "The spiral: a hard case",
    question: "The default search scores about 0.98 on the circle. On the spiral, with only x1 and x2 as inputs, the same search gets much less. Why?",
    look: "The decision boundary: a few straight-ish cuts through the plane that cannot follow the arms of the spiral. The objective chart: no trial gets far above 0.7.",
    explain: "One hidden layer of up to 16 units, trained for 20 epochs, can only bend the boundary a little. A spiral needs many bends. The next two lessons try the two cures: better input features, or a deeper network.",
    patch: {
      data: { source: "spiral", noise: 0 },
      model: {},
      tuner: { kind: "random", maxTrials: 10 },
    },
  },
  {
    id: "spiral-features",
    title: "Input features vs hidden units",
    question: "Same spiral, same small search, but the inputs now include sin(x1) and sin(x2). Does the network need to be bigger to get the spiral right?",
    look: "The objective chart against the spiral lesson's: with the same small search the best trials now get (almost) every test point right. The decision boundary follows the arms. The parallel coordinates: width and learning rate still matter, but no huge network is needed.",
    explain: "A good input feature does work that would otherwise take many hidden units: sin(x) already bends the way the spiral's arms do, so a few units combine them into the right boundary. Choosing features is part of the model too.",
    patch: {
      data: { source: "spiral", noise: 0, features: ["x1", "x2", "sin(x1)", "sin(x2)"] },
      model: {},
      tuner: { kind: "random", maxTrials: 10 },
    },
  },
  {
    id: "depth-spiral",
    title: "Does depth help on the spiral?",
    question: "Grid search tries 1, 2, 3 and 4 hidden layers of 16 relu units on the spiral (x1 and x2 only), 80 epochs each. How does the score change with depth?",
    look: "The objective per trial (grid search goes in order: the first trial has one layer, the last four) and the decision boundary of each trial (click a row in the table).",
    explain: "Each layer can fold the plane again, so deeper networks draw more intricate boundaries from the same raw inputs. They also take longer to train: the extra layers pay off only with enough epochs and a suitable learning rate.",
    patch: {
      data: { source: "spiral", noise: 0 },
      model: { hidden: [dense(16, "relu")], repeat: { min: 1, max: 4 }, learningRate: { value: 0.01 }, epochs: { value: 80 } },
      tuner: { kind: "grid", maxTrials: 4 },
    },
  },
  {
    id: "overfitting",
    title: "Overfitting, and dropout / L2 as the cure",
    question: "Only 10% of noisy data to train on (50 points), and a network of 64 + 64 units for 60 epochs. The search switches dropout on or off and picks an L2 rate, scored by val_loss. Which trials generalise best, and what happens to the others after their best epoch?",
    look: "The learning curves (val_loss per epoch): many trials reach their lowest val_loss early and then climb again while training goes on. The table sorted by score: the trials with dropout on (dropout_1 true) have the lowest val_loss. The decision boundary of a trial without dropout: islands around single noisy points.",
    explain: "With few noisy points a big network can memorise them, noise included: the training loss keeps falling while the loss on the test points rises. Dropout (randomly silencing units while training) and L2 (a penalty on large weights) keep the boundary smooth, which is what generalises. KerasTuner scores a trial by its best epoch, so the climb after it shows in the curves more than in the scores.",
    patch: {
      data: { source: "xor", noise: 40, trainPct: 10 },
      model: {
        hidden: [dense(64, "relu"), { type: "dropout", rate: { hp: "Boolean" } }, dense(64, "relu")],
        regularizer: "l2",
        regRate: logRange(1e-5, 3e-2),
        learningRate: { value: 0.01 },
        epochs: { value: 60 },
      },
      tuner: { kind: "random", maxTrials: 8, objective: "val_loss" },
    },
  },
  {
    id: "random-vs-grid",
    title: "Random vs grid search on the same budget",
    question: "Both tuners get 8 trials of 15 epochs to choose the width (2 to 16) and the activation (sigmoid, tanh, relu). Which finds the better model, and why?",
    look: "The race chart: best score so far against epochs spent, one line per tuner. Run grid search alone (Tuner: grid search) and look at the table: it walks through the grid in order, all three activations of width 2, then of 4, then of 6.",
    explain: "Grid search tries every combination in order, so with a budget smaller than the grid (24 combinations here, 8 trials) it only ever sees one corner of the space: widths 8 to 16 are never tried. Random search spreads the same budget over the whole space. With a budget large enough for the full grid, grid search is the thorough one.",
    patch: {
      data: { source: "circle", noise: 10 },
      model: {
        hidden: [dense({ hp: "Int", min: 2, max: 16, step: 2, sampling: "linear" }, { hp: "Choice", values: ["sigmoid", "tanh", "relu"] })],
        learningRate: { value: 0.02 },
        epochs: { value: 15 },
      },
      tuner: { kind: "random", maxTrials: 8 },
      race: { a: "random", b: "grid" },
    },
  },
  {
    id: "hyperband-race",
    title: "Hyperband's early stopping",
    question: "Random search and Hyperband get the same number of epochs. Hyperband starts many trials for 1 or 2 epochs and keeps training only the best. Does that pay off?",
    look: "The race chart: Hyperband's best-so-far line climbs after few epochs spent; random search's first point only comes after a full 10-epoch trial. Run Hyperband alone (Tuner: Hyperband) to see its brackets fill.",
    explain: "Most configurations can be judged poor after a couple of epochs. Hyperband spends its epochs where they matter: the best 1/factor of each round train longer. Random search spends the same epochs training every trial to the end. On a problem this easy both may end at about the same score: the difference is how early each has a good one.",
    patch: {
      data: { source: "spiral", noise: 0, features: ["x1", "x2", "sin(x1)", "sin(x2)"] },
      model: { learningRate: logRange(1e-3, 1e-1), epochs: { value: 10 } },
      tuner: { kind: "hyperband", maxEpochs: 10, factor: 3 },
      race: { a: "random", b: "hyperband" },
    },
  },
  {
    id: "bayesian-vs-random",
    title: "Bayesian optimization vs random search",
    question: "Both tuners get 12 trials of 15 epochs to find the learning rate (0.0001 to 1) and the width. Does learning from earlier trials help?",
    look: "The race chart: where each line gets close to its final score. Bayesian optimization's first 3 trials are random; after them it proposes trials near the good ones (the table of a Bayesian search alone: learning rates gather where scores were high).",
    explain: "Bayesian optimization fits a Gaussian process to the scores so far and picks the next trial where it expects a good score or is unsure. On a smooth problem with few hyperparameters that uses the budget well; random search needs luck to land in the good region.",
    patch: {
      data: { source: "gauss", noise: 30 },
      model: {
        hidden: [dense({ hp: "Int", min: 1, max: 16, step: 1, sampling: "linear" })],
        learningRate: logRange(1e-4, 1),
        epochs: { value: 15 },
      },
      tuner: { kind: "bayesian", maxTrials: 12, numInitialPoints: 3 },
      race: { a: "random", b: "bayesian" },
    },
  },
  {
    id: "noisy-scores",
    title: "Executions per trial and noisy scores",
    question: "Noisy data and few training rows: each trial is trained 3 times from different random starts, and its score is the average. Why would a tuner do that?",
    look: "The learning curves (the first execution's) and the score in the table, which is the mean of the three executions. Set executions per trial to 1 and run again with another tuner seed: the ranking of the trials changes more.",
    explain: "With little, noisy data the score of one training run depends a lot on the random initial weights and the order of the batches. Averaging several executions makes a trial's score a fairer measure of its hyperparameters, at the price of training each trial several times.",
    patch: {
      data: { source: "xor", noise: 30, trainPct: 20 },
      model: { hidden: [dense({ hp: "Int", min: 2, max: 8, step: 2, sampling: "linear" })], learningRate: logRange(1e-2, 1e-1), epochs: { value: 15 } },
      tuner: { kind: "random", maxTrials: 6, executionsPerTrial: 3 },
    },
  },
];

/** The lesson named `id`, or undefined. */
export function lessonById(id) {
  return LESSONS.find((l) => l.id === id);
}

/** The complete page state of a lesson: the defaults with its patch, and `lesson` set. */
export function lessonState(lesson) {
  const s = defaultState();
  for (const [k, v] of Object.entries(lesson.patch)) {
    s[k] = v !== null && typeof v === "object" && !Array.isArray(v) && k !== "race" ? { ...s[k], ...v } : v;
  }
  s.lesson = lesson.id;
  return validateState(s);
}

/** The link (hash, with '#') that opens a lesson. */
export function lessonLink(lesson) {
  return "#" + encodeState(lessonState(lesson));
}
