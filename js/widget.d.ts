// tunelab's notebook widget (anywidget's ESM shape) and the search-from-JSON helpers that
// embed.html uses.

import type { BayesianOptimizationOptions, FitOptions, HyperbandOptions, HyperParameters, Sequential, Tensor, Tuner } from "./tunelab.js";

/** `"maxTrials"` -> `"max_trials"`: the config takes either spelling. */
type SnakeCase<S extends string> = S extends `${infer H}${infer T}` ? `${H extends Lowercase<H> ? H : `_${Lowercase<H>}`}${SnakeCase<T>}` : S;
type OrSnakeCase<T> = T & { [K in keyof T as SnakeCase<K & string>]?: T[K] };

/** The tuner options a config may hold (JSON: no hypermodel, runTrial, hyperparameters or stores), camelCase or snake_case. */
export type WidgetTunerOptions = OrSnakeCase<Omit<HyperbandOptions & BayesianOptimizationOptions, "hypermodel" | "runTrial" | "hyperparameters" | "storage"> & { storage?: "memory" | "indexeddb" | "auto" }>;
/** search()'s fit options a config may hold (JSON: no callbacks), camelCase or snake_case. */
export type WidgetFitOptions = OrSnakeCase<Omit<FitOptions, "callbacks">>;

/** A JSON value of a model spec (docs/model-spec.md); any value may be an hp object. */
export type SpecValue = null | boolean | number | string | SpecValue[] | { [key: string]: SpecValue };

/** A model spec with hyperparameters: `{"hp": "Int", "name": ..., ...}` values, `repeat` and `when` blocks (docs/tuning.md). */
export interface ModelSpec {
  layers: SpecValue[];
  compile?: { [key: string]: SpecValue };
  input_shape?: number[];
  name?: string;
}

export type TensorLike = number[] | number[][] | { data: ArrayLike<number>; shape: number[] };

/** A whole search as JSON. Keys may also be snake_case (`max_trials`, `validation_split`). */
export interface WidgetConfig {
  /** The model spec with hps; default: KerasTuner's getting-started model (GUIDE_SPEC). */
  spec?: ModelSpec;
  /** A built-in data set (default "digits"), unless `data` is given. */
  dataset?: "digits" | "xor" | "circle" | "gauss" | "spiral" | "reg-plane" | "reg-gauss";
  /** The data set's noise (0..50) and seed. */
  noise?: number;
  seed?: number;
  /** Your own small data instead of a data set. */
  data?: { x: TensorLike; y: TensorLike };
  /** One-hot the labels; default: when the loss is categorical and y is one column. */
  oneHot?: boolean;
  tuner?: "RandomSearch" | "GridSearch" | "Hyperband" | "BayesianOptimization" | "BOHB" | "ASHA" | "random" | "grid" | "hyperband" | "bayesian" | "bohb" | "asha";
  /** The tuner's options (maxTrials, objective, seed, executionsPerTrial, maxEpochs, factor, ...); storage defaults to "memory", overwrite to true. */
  options?: WidgetTunerOptions;
  /** search()'s fit options (epochs, batchSize, validationSplit, shuffle, ...). */
  fit?: WidgetFitOptions;
  /** "cpu" (default), "webgpu" or "auto" (falls back to the CPU when WebGPU is missing). */
  device?: "cpu" | "webgpu" | "auto";
  title?: string;
}

export interface TrialRow {
  trialId: string;
  values: { [name: string]: unknown };
  score: number | null;
  status: string;
  message: string | null;
  device: string | null;
  /** The trial's best epoch (0-based), once it has ended. */
  bestStep: number | null;
  /** The objective per epoch: [epoch, value] pairs (the view's curve). */
  curve: [number, number][];
}

/** What the view reports (and what an anywidget model's `status` receives). */
export interface WidgetStatus {
  state: "loading" | "running" | "done" | "stopped" | "error";
  title: string | null;
  tuner: string | null;
  dataset: string | null;
  objective: string | null;
  direction?: "min" | "max";
  epochs?: number;
  trials: TrialRow[];
  current: { trialId: string | null; epoch: number | null; logs: { [metric: string]: number } | null } | null;
  best: { trialId: string; score: number; values: { [name: string]: unknown } } | null;
  summary: string | null;
  /** KerasTuner's summary of every trial, when there are more than 10. */
  summaryAll?: string | null;
  /** What rebuilds the best model (its resolved spec, fit, input columns, best epoch), at the end. */
  bestModel?: { spec: ModelSpec; fit: { [key: string]: unknown }; hps: { [name: string]: unknown }; inputDim: number; bestStep: number | null; trialId: string | null; dataset: string } | { error: string } | null;
  maxTrials?: number | null;
  meta?: string;
  error: string | null;
  device: string | null;
  seconds: number;
}

/** anywidget's model interface (the part the widget uses). */
export interface AnyModel {
  get(key: "config"): string | WidgetConfig | null | undefined;
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  save_changes(): void;
  on?(event: string, callback: () => void): void;
  off?(event: string, callback?: () => void): void;
}

export const GUIDE_SPEC: ModelSpec;
export const DEFAULT_CONFIG: WidgetConfig;

/** The config as base64url JSON (for `embed.html#...`). */
export function encodeConfig(config: WidgetConfig): string;
/** A config from a URL hash or string: base64url, URI-encoded or plain JSON; `null` when empty. */
export function decodeConfig(text: string): WidgetConfig | null;
/** Checks a config (an object, or a string to decode) and fills in the defaults (after `await init()`: tuner names are the engine's). */
export function normalizeConfig(config: WidgetConfig | string | null | undefined): Required<Pick<WidgetConfig, "spec" | "tuner" | "options" | "fit" | "device">> & WidgetConfig;

/** A hypermodel for a spec with hps (tl.specHypermodel); `shouldStop()` ends the search at the next build. */
export function specHypermodel(spec: ModelSpec, options?: { shouldStop?: () => boolean }): (hp: HyperParameters) => Sequential;
/** The config's data as tensors (labels one-hot when the loss is categorical). */
export function loadData(config: ReturnType<typeof normalizeConfig>): { x: Tensor; y: Tensor };

export interface SearchHandlers {
  shouldStop?: () => boolean;
  onStart?(info: { tuner: Tuner; cfg: ReturnType<typeof normalizeConfig>; options: { [key: string]: unknown }; samples: number; inputShape: number[]; device: string; deviceNote: string | null }): void;
  onTrialBegin?(trial: unknown): void;
  onTrialEnd?(trial: unknown): void;
  onEpochEnd?(trialId: string | null, epoch: number, logs: { [metric: string]: number }): void;
}

/** Runs a config's search (no DOM needed). */
export function runSearch(
  config: WidgetConfig | string | null | undefined,
  handlers?: SearchHandlers,
): Promise<{ tuner: Tuner; trials: unknown[]; best: { [name: string]: unknown }; summary: string }>;

/** Mounts the live view into `el` and starts the search. */
export function mount(
  el: HTMLElement,
  config: WidgetConfig | string | null | undefined,
  options?: { onStatus?: (status: WidgetStatus) => void; worker?: () => Worker; finalize?: (status: WidgetStatus) => void },
): { stop(): void; done: Promise<WidgetStatus>; element: HTMLElement; controller: SearchController };

/** How mount and render make their search worker (default: widget-worker.js beside widget.js); null restores it. */
export function setWorkerFactory(factory: (() => Worker) | null): void;

/** Runs a config's search in a Web Worker with runSearch's handlers (onStart's info has no tuner). */
export function runSearchInWorker(
  config: WidgetConfig | string | null | undefined,
  handlers?: SearchHandlers,
  options?: { worker?: () => Worker },
): { done: Promise<{ trials: unknown[]; best: { [name: string]: unknown } | null; summary: string; summaryAll: string | null; bestModel: WidgetStatus["bestModel"] }>; stop(): void; terminate(): void };

/** A search and its status, drawn by any number of views (searchView). */
export interface SearchController {
  readonly status: WidgetStatus;
  subscribe(listener: (status: WidgetStatus) => void): () => void;
  watch(draw: (state: unknown) => void): () => void;
  start(): Promise<WidgetStatus>;
  stop(): void;
  restore(status: WidgetStatus): void;
  destroy(): void;
}
export function searchController(config: WidgetConfig | string | null | undefined, options?: { worker?: () => Worker; finalize?: (status: WidgetStatus) => void }): SearchController;
/** A live view of a controller in `el`. */
export function searchView(el: HTMLElement, controller: SearchController): { element: HTMLElement; destroy(): void };

/** anywidget's render with options: the worker, a final-status hook, the model's status trait. */
export function createRender(options?: { worker?: () => Worker; finalize?: (status: WidgetStatus) => void; statusTrait?: string }): typeof render;

/** anywidget's entry point: mounts the view and starts the search; returns the cleanup. */
export function render(args: { el: HTMLElement; config?: WidgetConfig | string; model?: AnyModel }): () => void;

declare const _default: { render: typeof render };
export default _default;
