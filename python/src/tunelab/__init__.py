"""tunelab for notebooks: a KerasTuner-style hyperparameter search that trains live in the
notebook's browser tab.

    import tunelab
    search = tunelab.Search(spec="examples/guide_search.json", dataset="digits",
                            tuner="hyperband", objective="val_accuracy", max_epochs=3,
                            fit={"epochs": 3}, seed=1)
    search                        # the live view: trials, curves, best so far, Stop / Start
    search.status                 # "running", "done", "stopped", "error", ... (from the browser)
    search.trials                 # [{"id", "status", "hyperparameters", "score", "best_step"}]
    search.best_hyperparameters   # {"units_0": 96, ...}
    search.results_summary()      # KerasTuner's summary text
    search.to_dataframe()         # with pandas installed
    search.keras_code()           # Keras 3 code that rebuilds the best model

The widget is an anywidget (JupyterLab, Notebook 7, VS Code, Colab). Its front end carries the
tunelab engine (WebAssembly, in the wheel: nothing is served or downloaded) and runs the search
in a Web Worker, so the notebook stays responsive; the kernel only sends the search (your numpy
arrays as binary buffers) and receives its progress. Arguments are checked here, against the
engine's own tables (catalog.json, written at build time), before anything is sent.
"""

from __future__ import annotations

import json
import math
import os
import pathlib
from typing import Any, Dict, List, Optional

import anywidget
import traitlets

__all__ = ["Search", "catalog", "GUIDE_SPEC", "__version__"]

_STATIC = pathlib.Path(__file__).parent / "static"


def _static(name: str) -> pathlib.Path:
    p = _STATIC / name
    if not p.exists():
        raise RuntimeError(
            f"tunelab's built front end is missing ({p}): this is a source checkout; "
            "build the wheel with `bash scripts/build-wheel.sh` and install it"
        )
    return p


_CATALOG: Optional[Dict[str, Any]] = None


def catalog() -> Dict[str, Any]:
    """The engine's tables (as `tunelab catalog` prints them): tuners with their options and
    defaults, built-in data sets, losses."""
    global _CATALOG
    if _CATALOG is None:
        _CATALOG = json.loads(_static("catalog.json").read_text(encoding="utf-8"))
    return _CATALOG


try:
    from importlib.metadata import version as _dist_version

    __version__ = _dist_version("tunelab")
except Exception:  # a source checkout without an install
    __version__ = "0+unknown"


def _guide_spec() -> Dict[str, Any]:
    return json.loads(_static("guide_search.json").read_text(encoding="utf-8"))


def __getattr__(name: str) -> Any:
    if name == "GUIDE_SPEC":
        return _guide_spec()
    raise AttributeError(f"module 'tunelab' has no attribute {name!r}")


# ---------------------------------------------------------------------------------------------
# Argument checks (each error names the argument)

_FIT_KEYS = {
    # search()'s fit options that travel as JSON (js/tunelab.js FIT_KEYS, snake_case)
    "epochs": "int>0",
    "batch_size": "int>0",
    "validation_split": "fraction",
    "shuffle": "bool",
    "verbose": "any",
    "class_weight": "dict",
    "initial_epoch": "int>=0",
    "steps_per_epoch": "int>0",
    "validation_steps": "int>0",
    "validation_batch_size": "int>0",
    "validation_freq": "int>0",
    "seed": "int>=0",
}
_FIT_DEFAULTS = {"epochs": 3, "validation_split": 0.2}
# Tuner options set by Search's own arguments, or meaningless in a browser tab's memory store.
_OWN_OPTIONS = {"objective", "max_trials", "seed", "device", "directory", "project_name", "overwrite"}
_DEVICES = ("cpu", "webgpu", "auto")


def _snake(k: str) -> str:
    out = ""
    for ch in k:
        out += "_" + ch.lower() if ch.isupper() else ch
    return out


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) or (type(v).__module__ == "numpy" and hasattr(v, "dtype") and v.dtype.kind in "iu")


def _is_number(v: Any) -> bool:
    return (isinstance(v, (int, float)) and not isinstance(v, bool)) or (type(v).__module__ == "numpy" and hasattr(v, "dtype") and v.dtype.kind in "iuf")


def _check(kind: str, v: Any, what: str) -> Any:
    if kind == "any":
        return v
    if kind == "bool":
        if not isinstance(v, bool):
            raise TypeError(f"{what} must be True or False, got {v!r}")
        return v
    if kind == "dict":
        if not isinstance(v, dict):
            raise TypeError(f"{what} must be a dict, got {v!r}")
        return v
    if kind.startswith("int"):
        if not _is_int(v):
            raise TypeError(f"{what} must be an integer, got {v!r}")
        v = int(v)
        if kind == "int>0" and v < 1:
            raise ValueError(f"{what} must be at least 1, got {v}")
        if kind == "int>=0" and v < 0:
            raise ValueError(f"{what} must be 0 or more, got {v}")
        return v
    if kind == "fraction":
        if not _is_number(v) or not (0 <= float(v) < 1):
            raise ValueError(f"{what} must be a number from 0 up to (not including) 1, got {v!r}")
        return float(v)
    if kind == "number":
        if not _is_number(v) or not math.isfinite(float(v)):
            raise TypeError(f"{what} must be a finite number, got {v!r}")
        return float(v) if isinstance(v, float) else v
    raise AssertionError(kind)


def _tuner_entry(name: Any) -> Dict[str, Any]:
    tuners = catalog()["tuners"]
    if isinstance(name, str):
        key = name.replace("_", "").replace("-", "").lower()
        for t in tuners:
            if key == t["name"] or key == t["class"].lower():
                return t
    allowed = ", ".join([t["name"] for t in tuners] + [t["class"] for t in tuners])
    raise ValueError(f"tuner: unknown tuner {name!r} (allowed: {allowed})")


def _load_spec(spec: Any) -> Dict[str, Any]:
    if spec is None:
        return _guide_spec()
    if isinstance(spec, (str, os.PathLike)):
        text = str(spec)
        if isinstance(spec, str) and text.lstrip().startswith("{"):
            source, raw = "the spec string", text
        else:
            p = pathlib.Path(text).expanduser()
            if not p.is_file():
                raise FileNotFoundError(f"spec: no such file {text!r} (give a model spec file, a dict, or JSON text)")
            source, raw = str(p), p.read_text(encoding="utf-8")
        try:
            spec = json.loads(raw)
        except json.JSONDecodeError as e:
            raise ValueError(f"spec: {source} is not valid JSON: {e}") from None
    if not isinstance(spec, dict):
        raise TypeError(f"spec must be a model spec (a dict, a JSON file's path or JSON text), got {type(spec).__name__}")
    if not isinstance(spec.get("layers"), list) or not spec["layers"]:
        raise ValueError("spec: a model spec needs a non-empty \"layers\" list (docs/model-spec.md)")
    if "compile" in spec and not isinstance(spec["compile"], dict):
        raise TypeError("spec[\"compile\"] must be a dict (optimizer, loss, metrics)")
    try:
        json.dumps(spec, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise TypeError(f"spec must hold JSON values only: {e}") from None
    return spec


def _loss_name(spec: Dict[str, Any]) -> Optional[str]:
    loss = (spec.get("compile") or {}).get("loss")
    if isinstance(loss, dict):
        loss = loss.get("class_name")
    return loss if isinstance(loss, str) else None


def _loss_targets(spec: Dict[str, Any]) -> Optional[str]:
    name = _loss_name(spec)
    if name is None:
        return None
    key = name.lower()
    for loss in catalog().get("losses", []):
        if key in [a.lower() for a in loss.get("aliases", [loss["name"]])]:
            return loss.get("targets")
    return None


def _array(v: Any, what: str):
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy comes with any array a user has
        raise ImportError(f"{what}: arrays need numpy (pip install numpy)") from None
    a = np.asarray(v)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold numbers, got an array of dtype {a.dtype}")
    a = np.ascontiguousarray(a, dtype="<f4")
    if a.size and not np.isfinite(a).all():
        raise ValueError(f"{what} holds NaN or infinite values (at {tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])})")
    return a


def _arrays(x: Any, y: Any, spec: Dict[str, Any]):
    xa = _array(x, "dataset x")
    ya = _array(y, "dataset y")
    if xa.ndim < 2:
        raise ValueError(f"dataset x must have one row per sample, shape (samples, features...), got shape {xa.shape} (a single feature: x.reshape(-1, 1))")
    if ya.ndim not in (1, 2):
        raise ValueError(f"dataset y must have shape (samples,) or (samples, outputs), got shape {ya.shape}")
    if xa.shape[0] != ya.shape[0]:
        raise ValueError(f"dataset: x has {xa.shape[0]} rows and y has {ya.shape[0]}: one label row per sample")
    if xa.shape[0] < 2:
        raise ValueError(f"dataset: {xa.shape[0]} rows; a search needs at least 2 (training and validation)")
    if _loss_targets(spec) == "one_hot" and (ya.ndim == 1 or ya.shape[1] == 1):
        import numpy as np

        if (ya < 0).any() or (ya != np.round(ya)).any():
            raise ValueError(f"dataset y: the loss {_loss_name(spec)!r} one-hot encodes class labels, which must be whole numbers 0, 1, 2, ...")
    return xa, ya


def _objective(objective: Any, spec: Dict[str, Any], fit: Dict[str, Any]) -> Any:
    if objective is None:
        return None
    if isinstance(objective, dict):
        if set(objective) - {"name", "direction"} or not isinstance(objective.get("name"), str):
            raise ValueError(f"objective: a dict must be {{\"name\": str, \"direction\": \"min\" | \"max\"}}, got {objective!r}")
        if objective.get("direction", "min") not in ("min", "max"):
            raise ValueError(f"objective: direction must be \"min\" or \"max\", got {objective.get('direction')!r}")
        name = objective["name"]
    elif isinstance(objective, str):
        name = objective
    else:
        raise TypeError(f"objective must be a metric name (\"val_accuracy\") or {{\"name\", \"direction\"}}, got {objective!r}")
    base = name[4:] if name.startswith("val_") else name
    if name.startswith("val_") and not fit.get("validation_split"):
        raise ValueError(f"objective: {name!r} is measured on validation rows, but fit has no validation_split (give fit={{\"validation_split\": 0.2}})")
    metrics = (spec.get("compile") or {}).get("metrics") or []
    if isinstance(metrics, list) and all(isinstance(m, str) for m in metrics):
        known = ["loss"] + metrics
        if base not in known:
            allowed = ", ".join(n for m in known for n in (m, "val_" + m))
            raise ValueError(f"objective: {name!r} is not a metric of this spec (allowed: {allowed}; add metrics to spec[\"compile\"][\"metrics\"])")
    return objective


def _fit(fit: Any) -> Dict[str, Any]:
    if fit is None:
        fit = {}
    if not isinstance(fit, dict):
        raise TypeError(f"fit must be a dict of fit options (epochs, batch_size, validation_split, ...), got {fit!r}")
    out = dict(_FIT_DEFAULTS)
    for k, v in fit.items():
        key = _snake(k) if isinstance(k, str) else k
        if key not in _FIT_KEYS:
            raise ValueError(f"fit: unknown option {k!r} (allowed: {', '.join(_FIT_KEYS)})")
        out[key] = _check(_FIT_KEYS[key], v, f"fit[{k!r}]")
    return out


def _tuner_options(entry: Dict[str, Any], given: Dict[str, Any]) -> Dict[str, Any]:
    defaults = entry["options"]
    allowed = [k for k in defaults if k not in _OWN_OPTIONS]
    out = {}
    for k, v in given.items():
        key = _snake(k)
        if key not in allowed:
            raise TypeError(f"Search() got an unknown argument {k!r}: {entry['class']}'s options are {', '.join(allowed)} (and spec, dataset, tuner, objective, max_trials, fit, device, seed, noise, title, autostart)")
        d = defaults[key]
        if v is None:
            continue
        if isinstance(d, bool):
            v = _check("bool", v, key)
        elif isinstance(d, int):
            v = _check("int>0" if d > 0 else "int>=0", v, key)
        elif isinstance(d, float):
            v = _check("number", v, key)
        out[key] = v
    return out


# ---------------------------------------------------------------------------------------------
# The widget


class Search(anywidget.AnyWidget):
    """A hyperparameter search that runs in the notebook's browser tab and shows itself live.

    spec: a model spec with hyperparameters (a dict, a JSON file's path or JSON text; default:
        KerasTuner's getting-started search, GUIDE_SPEC).
    dataset: a built-in data set's name (tunelab.catalog()["datasets"]: "digits", "spiral", ...)
        or ``(x, y)`` arrays (numpy or anything numpy reads: one row per sample).
    tuner: "random", "grid", "hyperband", "bayesian" (or the class names: "Hyperband", ...).
    objective: the metric to optimise ("val_accuracy", "val_loss", ... or {"name", "direction"}).
    max_trials: the number of trials (Hyperband: a cap; its brackets decide).
    fit: fit options, default {"epochs": 3, "validation_split": 0.2} (yours are merged in).
    device: "cpu", "webgpu" or "auto" (WebGPU when the browser has it, else the CPU).
    seed: the tuner's seed. noise: a built-in 2-D data set's noise (0 to 50).
    title: the view's title. autostart: start when first shown (else press Start).
    Other keyword arguments are the tuner's options (max_epochs, factor, executions_per_trial,
    num_initial_points, ...), checked against the engine's table.
    """

    _esm = _STATIC / "widget.js"
    config = traitlets.Unicode("").tag(sync=True)
    autostart = traitlets.Bool(True).tag(sync=True)
    _status = traitlets.Dict({}).tag(sync=True)
    _x = traitlets.Bytes(b"").tag(sync=True)
    _y = traitlets.Bytes(b"").tag(sync=True)

    def __init__(
        self,
        spec: Any = None,
        dataset: Any = "digits",
        *,
        tuner: str = "random",
        objective: Any = None,
        max_trials: Optional[int] = None,
        fit: Optional[Dict[str, Any]] = None,
        device: str = "cpu",
        seed: int = 0,
        noise: float = 0,
        title: Optional[str] = None,
        autostart: bool = True,
        **tuner_options: Any,
    ) -> None:
        _static("widget.js")
        entry = _tuner_entry(tuner)
        spec_ = _load_spec(spec)
        fit_ = _fit(fit)
        objective_ = _objective(objective, spec_, fit_)
        if max_trials is not None:
            max_trials = _check("int>0", max_trials, "max_trials")
        seed = _check("int>=0", seed, "seed")
        if device not in _DEVICES:
            raise ValueError(f"device: unknown device {device!r} (allowed: {', '.join(_DEVICES)})")
        if title is not None and not isinstance(title, str):
            raise TypeError(f"title must be a string, got {title!r}")
        if not isinstance(autostart, bool):
            raise TypeError(f"autostart must be True or False, got {autostart!r}")
        options = {"seed": seed, **_tuner_options(entry, tuner_options)}
        if objective_ is not None:
            options["objective"] = objective_
        if max_trials is not None:
            options["max_trials"] = max_trials

        config: Dict[str, Any] = {"spec": spec_, "tuner": entry["class"], "options": options, "fit": fit_, "device": device}
        if title is not None:
            config["title"] = title
        x_bytes = y_bytes = b""
        if isinstance(dataset, str):
            names = [d["name"] for d in catalog()["datasets"]]
            if dataset not in names:
                raise ValueError(f"dataset: unknown data set {dataset!r} (allowed: {', '.join(names)}, or (x, y) arrays)")
            config["dataset"] = dataset
            noise = _check("number", noise, "noise")
            if not 0 <= noise <= 50:
                raise ValueError(f"noise must be from 0 to 50, got {noise}")
            if noise:
                config["noise"] = noise
        elif isinstance(dataset, (tuple, list)) and len(dataset) == 2:
            xa, ya = _arrays(dataset[0], dataset[1], spec_)
            x_bytes, y_bytes = xa.tobytes(), ya.tobytes()
            config["data"] = {"x": {"shape": list(xa.shape), "buffer": "_x"}, "y": {"shape": list(ya.shape), "buffer": "_y"}}
        else:
            raise TypeError(f"dataset must be a data set's name or (x, y) arrays, got {type(dataset).__name__}")
        super().__init__(config=json.dumps(config), autostart=autostart, _x=x_bytes, _y=y_bytes)

    # -- what the browser reports ------------------------------------------------------------

    @property
    def report(self) -> Dict[str, Any]:
        """The whole status the widget sent (state, trials with curves, best, summary, ...)."""
        return dict(self._status)

    @property
    def status(self) -> str:
        """"not started" (not shown yet), "loading", "running", "done", "stopped" or "error"."""
        return self._status.get("state") or "not started"

    @property
    def error(self) -> Optional[str]:
        return self._status.get("error")

    @property
    def trials(self) -> List[Dict[str, Any]]:
        """Every trial so far: id, status, hyperparameters, score, best_step (its best epoch)."""
        return [
            {
                "id": t.get("trialId"),
                "status": t.get("status"),
                "hyperparameters": dict(t.get("values") or {}),
                "score": t.get("score"),
                "best_step": t.get("bestStep"),
            }
            for t in self._status.get("trials") or []
        ]

    @property
    def best_hyperparameters(self) -> Optional[Dict[str, Any]]:
        """The best trial's hyperparameter values (None before a trial has completed)."""
        best = self._status.get("best")
        return dict(best["values"]) if best else None

    @property
    def best_score(self) -> Optional[float]:
        best = self._status.get("best")
        return best["score"] if best else None

    def results_summary(self, num_trials: int = 10) -> None:
        """Prints KerasTuner's results summary of the `num_trials` best trials."""
        num_trials = _check("int>0", num_trials, "num_trials")
        s = self._status
        text = s.get("summaryAll") if num_trials > 10 and s.get("summaryAll") else s.get("summary")
        if not text:
            raise RuntimeError(f"no results summary yet: the search is {self.status!r} (the summary comes when it ends)")
        head, *blocks = text.split("\nTrial ")
        print("\nTrial ".join([head, *blocks[:num_trials]]).rstrip("\n"))

    def to_dataframe(self):
        """The trials as a pandas DataFrame (one column per hyperparameter)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("to_dataframe() needs pandas: pip install pandas") from None
        rows = []
        for t in self.trials:
            row = {"trial_id": t["id"], "status": t["status"], "score": t["score"], "best_step": t["best_step"]}
            row.update(t["hyperparameters"])
            rows.append(row)
        return pd.DataFrame(rows)

    def keras_code(self) -> str:
        """Keras 3 code that rebuilds (and trains) the best model, as the playground writes it."""
        code = self._status.get("kerasCode")
        if not code:
            bm = self._status.get("bestModel") or {}
            why = f": {bm['error']}" if bm.get("error") else f" (the search is {self.status!r})"
            raise RuntimeError(f"no Keras code yet: it comes when the search ends with a completed trial{why}")
        return code
