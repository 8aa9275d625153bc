// A typed program over the widget module (js/widget.d.ts, "tunelab/widget"): every export and
// every config key, compiled by `tsc -p tests/types` (tests/types/types.test.mjs), never run.
import init from "tunelab";
import widget, {
  DEFAULT_CONFIG,
  GUIDE_SPEC,
  decodeConfig,
  encodeConfig,
  loadData,
  mount,
  normalizeConfig,
  render,
  runSearch,
  specHypermodel,
} from "tunelab/widget";
import type { AnyModel, ModelSpec, WidgetConfig, WidgetStatus } from "tunelab/widget";

await init();
const spec: ModelSpec = GUIDE_SPEC;
const config: WidgetConfig = {
  title: "digits",
  spec,
  dataset: "digits",
  noise: 0,
  seed: 1,
  oneHot: true,
  tuner: "hyperband",
  options: { maxTrials: 4, objective: "val_accuracy", seed: 1, executionsPerTrial: 1, maxEpochs: 4, factor: 3, hyperband_iterations: 1, verbose: false },
  fit: { epochs: 2, batchSize: 32, validation_split: 0.2, shuffle: true },
  device: "auto",
};
const own: WidgetConfig = { data: { x: [[0, 0], [1, 1]], y: [0, 1] }, tuner: "RandomSearch", options: { max_trials: 2, numInitialPoints: 2 } };
// @ts-expect-error: a wrong tuner option name in a config
const wrongOption: WidgetConfig = { options: { maxTrial: 3 } };
// @ts-expect-error: a wrong config key
const wrongKey: WidgetConfig = { tuners: "random" };
// @ts-expect-error: not a data set
const wrongData: WidgetConfig = { dataset: "mnist-full" };

const hash: string = encodeConfig(config);
const back: WidgetConfig | null = decodeConfig(hash);
const normal = normalizeConfig(back ?? DEFAULT_CONFIG);
const tuner: string = normal.tuner;
const build = specHypermodel(normal.spec, { shouldStop: () => false });
const { x, y } = loadData(normal);
const result = await runSearch(config, {
  shouldStop: () => false,
  onStart: ({ tuner, samples, inputShape, device, deviceNote }) => tuner.searchSpaceSummary(),
  onTrialBegin: (t) => {},
  onTrialEnd: (t) => {},
  onEpochEnd: (trialId, epoch, logs) => {},
});
const summary: string = result.summary;

const el = document.createElement("div");
const view = mount(el, config, { onStatus: (s: WidgetStatus) => s.state });
view.stop();
const final: WidgetStatus = await view.done;
const model: AnyModel = { get: (k: string) => null, set() {}, save_changes() {} };
const cleanup: () => void = render({ el, model });
cleanup();
widget.render({ el, config: hash });
