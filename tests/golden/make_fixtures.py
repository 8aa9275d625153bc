#!/usr/bin/env python3
"""Generate Keras parity fixtures for tunelab.

Run from the repository root:

    KERAS_BACKEND=jax python3 tests/golden/make_fixtures.py

Each case builds a Keras model from a JSON-able spec (the exact format tunelab
parses), sets fixed seeded initial weights, fits it on small seeded data and
records history, final weights, predictions and evaluate() results into
tests/golden/fixtures/<case>.json.

Everything runs in float32 on the CPU with deterministic seeds.
"""

import os

os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import json  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import keras  # noqa: E402

keras.backend.set_floatx("float32")

OUT_DIR = Path(__file__).resolve().parent / "fixtures"
SIG_DIGITS = 9

# --------------------------------------------------------------------------
# spec -> keras
# --------------------------------------------------------------------------

OPTIMIZERS = {
    "sgd": keras.optimizers.SGD,
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "rmsprop": keras.optimizers.RMSprop,
    "adagrad": keras.optimizers.Adagrad,
    "adadelta": keras.optimizers.Adadelta,
    "adamax": keras.optimizers.Adamax,
    "nadam": keras.optimizers.Nadam,
}

# Loss classes for the {"class_name": <snake_case>, "config": {...}} form.
LOSS_CLASSES = {
    "mean_squared_error": keras.losses.MeanSquaredError,
    "mse": keras.losses.MeanSquaredError,
    "mean_absolute_error": keras.losses.MeanAbsoluteError,
    "mae": keras.losses.MeanAbsoluteError,
    "mean_absolute_percentage_error": keras.losses.MeanAbsolutePercentageError,
    "mape": keras.losses.MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": keras.losses.MeanSquaredLogarithmicError,
    "msle": keras.losses.MeanSquaredLogarithmicError,
    "huber": keras.losses.Huber,
    "log_cosh": keras.losses.LogCosh,
    "hinge": keras.losses.Hinge,
    "binary_crossentropy": keras.losses.BinaryCrossentropy,
    "categorical_crossentropy": keras.losses.CategoricalCrossentropy,
    "sparse_categorical_crossentropy": keras.losses.SparseCategoricalCrossentropy,
    "kl_divergence": keras.losses.KLDivergence,
}

REGULARIZERS = {
    "L1": keras.regularizers.L1,
    "L2": keras.regularizers.L2,
    "L1L2": keras.regularizers.L1L2,
}


def make_regularizer(spec):
    if spec is None:
        return None
    return REGULARIZERS[spec["class_name"]](**spec["config"])


def make_loss(spec):
    if isinstance(spec, str):
        return spec  # let Keras resolve the string exactly as users would
    return LOSS_CLASSES[spec["class_name"]](**spec.get("config", {}))


def build_model(spec):
    layers = [keras.Input(shape=tuple(spec["input_shape"]))]
    for layer in spec["layers"]:
        cls, cfg = layer["class_name"], layer["config"]
        if cls == "Dense":
            layers.append(
                keras.layers.Dense(
                    cfg["units"],
                    activation=cfg.get("activation", "linear"),
                    use_bias=cfg.get("use_bias", True),
                    kernel_regularizer=make_regularizer(
                        cfg.get("kernel_regularizer")
                    ),
                    bias_regularizer=make_regularizer(
                        cfg.get("bias_regularizer")
                    ),
                )
            )
        elif cls == "Activation":
            layers.append(keras.layers.Activation(cfg["activation"]))
        elif cls == "Flatten":
            layers.append(keras.layers.Flatten())
        else:
            raise ValueError(f"unsupported layer {cls}")
    model = keras.Sequential(layers)
    comp = spec["compile"]
    opt = OPTIMIZERS[comp["optimizer"]["class_name"]](
        **comp["optimizer"].get("config", {})
    )
    model.compile(
        optimizer=opt,
        loss=make_loss(comp["loss"]),
        metrics=comp.get("metrics") or None,
        weighted_metrics=comp.get("weighted_metrics") or None,
    )
    return model


# --------------------------------------------------------------------------
# spec helpers
# --------------------------------------------------------------------------


def dense(units, activation="linear", use_bias=True, kreg=None, breg=None):
    return {
        "class_name": "Dense",
        "config": {
            "units": units,
            "activation": activation,
            "use_bias": use_bias,
            "kernel_regularizer": kreg,
            "bias_regularizer": breg,
        },
    }


def activation(name):
    return {"class_name": "Activation", "config": {"activation": name}}


def flatten():
    return {"class_name": "Flatten", "config": {}}


def opt(name, **config):
    return {"class_name": name, "config": config}


def spec_of(input_shape, layers, optimizer, loss, metrics=None,
            weighted_metrics=None):
    return {
        "input_shape": list(input_shape),
        "layers": layers,
        "compile": {
            "optimizer": optimizer,
            "loss": loss,
            "metrics": list(metrics or []),
            "weighted_metrics": list(weighted_metrics or []),
        },
    }


# --------------------------------------------------------------------------
# data helpers (all seeded)
# --------------------------------------------------------------------------

N = 40
F = 5


def rng_for(seed):
    return np.random.default_rng(seed)


def features(rng, n=N, shape=(F,), scale=1.0):
    return (rng.standard_normal((n,) + tuple(shape)) * scale).astype("float32")


def teacher(rng, x, out):
    flat = x.reshape(x.shape[0], -1)
    w = rng.standard_normal((flat.shape[1], out)).astype("float32")
    return flat @ w


def regression_targets(rng, x, out=1, positive=False):
    t = teacher(rng, x, out) * 0.5 + 0.1 * rng.standard_normal((x.shape[0], out))
    if positive:
        # strictly positive, away from 0 (msle / mape)
        t = 1.0 + 2.0 / (1.0 + np.exp(-t))
    return t.astype("float32")


def class_labels(rng, x, k):
    logits = teacher(rng, x, k) + 0.5 * rng.standard_normal((x.shape[0], k))
    return np.argmax(logits, axis=-1).astype("int64")


def one_hot(labels, k):
    return np.eye(k, dtype="float32")[labels]


def binary_targets(rng, x):
    t = teacher(rng, x, 1) + 0.5 * rng.standard_normal((x.shape[0], 1))
    return (t > 0).astype("float32")


def prob_rows(rng, x, k):
    logits = teacher(rng, x, k) * 0.7 + 0.3 * rng.standard_normal((x.shape[0], k))
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype("float32")


def init_weights(model, seed):
    """Fixed random initial weights (glorot-uniform-like kernels, small
    non-zero biases so bias handling is exercised)."""
    rng = rng_for(seed)
    out = []
    for w in model.get_weights():
        if w.ndim == 2:
            fan_in, fan_out = w.shape
            lim = math.sqrt(6.0 / (fan_in + fan_out))
            out.append(rng.uniform(-lim, lim, size=w.shape).astype("float32"))
        else:
            out.append(rng.uniform(-0.1, 0.1, size=w.shape).astype("float32"))
    return out


# --------------------------------------------------------------------------
# JSON encoding
# --------------------------------------------------------------------------


def rnd(v):
    v = float(v)
    if not math.isfinite(v):
        raise ValueError(f"non-finite value {v}")
    r = float(f"{v:.{SIG_DIGITS}g}")
    if r == 0.0:
        r = 0.0  # drop -0.0
    return r


def to_json(obj):
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_json(v) for v in obj]
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "iub":
            return obj.tolist()
        return to_json(obj.tolist())
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return rnd(obj)
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):  # jax array
        return to_json(np.asarray(obj))
    return obj


# --------------------------------------------------------------------------
# running one case
# --------------------------------------------------------------------------

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def run_case(name, spec, x, y, fit, seed):
    keras.utils.set_random_seed(seed)
    keras.backend.clear_session()
    model = build_model(spec)
    w0 = init_weights(model, seed + 1000)
    model.set_weights(w0)

    kwargs = dict(
        epochs=fit["epochs"],
        batch_size=fit["batch_size"],
        shuffle=fit["shuffle"],
        verbose=0,
    )
    if "sample_weight" in fit:
        kwargs["sample_weight"] = np.asarray(fit["sample_weight"], "float32")
    if "class_weight" in fit:
        kwargs["class_weight"] = {
            int(k): float(v) for k, v in fit["class_weight"].items()
        }
    if "validation_data" in fit:
        vd = fit["validation_data"]
        vx = np.asarray(vd["x"], "float32")
        vy = np.asarray(vd["y"], y.dtype)
        if "sample_weight" in vd:
            kwargs["validation_data"] = (
                vx, vy, np.asarray(vd["sample_weight"], "float32"))
        else:
            kwargs["validation_data"] = (vx, vy)
    if "validation_split" in fit:
        kwargs["validation_split"] = fit["validation_split"]
    if "initial_epoch" in fit:
        kwargs["initial_epoch"] = fit["initial_epoch"]
    if "validation_freq" in fit:
        kwargs["validation_freq"] = fit["validation_freq"]

    hist = model.fit(x, y, **kwargs)
    fixture = {
        "name": name,
        "keras_version": keras.__version__,
        "spec": spec,
        "initial_weights": w0,
        "x": x,
        "y": y,
        "fit": fit,
        "history": {k: [float(v) for v in vs] for k, vs in hist.history.items()},
        "final_weights": model.get_weights(),
        "predict": model.predict(x, verbose=0),
        "evaluate": {
            k: float(v)
            for k, v in model.evaluate(x, y, verbose=0, return_dict=True).items()
        },
    }
    return to_json(fixture)


FIT = {"epochs": 3, "batch_size": 16, "shuffle": False}


def fit_opts(**extra):
    d = dict(FIT)
    d.update(extra)
    return d


# --------------------------------------------------------------------------
# cases: optimizers (5-8-3 softmax MLP + categorical_crossentropy)
# --------------------------------------------------------------------------


def optimizer_case(name, optimizer, seed):
    rng = rng_for(seed)
    x = features(rng)
    y = one_hot(class_labels(rng, x, 3), 3)
    spec = spec_of(
        [F],
        [dense(8, "relu"), dense(3, "softmax")],
        optimizer,
        "categorical_crossentropy",
        metrics=["accuracy"],
    )
    return run_case(name, spec, x, y, fit_opts(), seed)


OPTIMIZER_CASES = [
    ("opt_sgd", opt("sgd", learning_rate=0.1)),
    ("opt_sgd_momentum", opt("sgd", learning_rate=0.05, momentum=0.9)),
    ("opt_sgd_nesterov",
     opt("sgd", learning_rate=0.05, momentum=0.9, nesterov=True)),
    ("opt_sgd_weight_decay", opt("sgd", learning_rate=0.1, weight_decay=0.05)),
    ("opt_sgd_clipvalue", opt("sgd", learning_rate=0.1, clipvalue=0.05)),
    ("opt_sgd_clipnorm", opt("sgd", learning_rate=0.1, clipnorm=0.1)),
    ("opt_sgd_global_clipnorm",
     opt("sgd", learning_rate=0.1, global_clipnorm=0.5)),
    ("opt_adam", opt("adam", learning_rate=0.01)),
    ("opt_adam_defaults", opt("adam")),
    ("opt_adam_amsgrad", opt("adam", learning_rate=0.01, amsgrad=True)),
    ("opt_adam_clipnorm", opt("adam", learning_rate=0.01, clipnorm=0.1)),
    ("opt_adam_global_clipnorm",
     opt("adam", learning_rate=0.01, global_clipnorm=0.5)),
    ("opt_adam_betas",
     opt("adam", learning_rate=0.02, beta_1=0.8, beta_2=0.99, epsilon=1e-4)),
    ("opt_adamw", opt("adamw", learning_rate=0.01)),
    ("opt_adamw_wd", opt("adamw", learning_rate=0.01, weight_decay=0.2)),
    ("opt_rmsprop", opt("rmsprop", learning_rate=0.01)),
    ("opt_rmsprop_momentum", opt("rmsprop", learning_rate=0.01, momentum=0.9)),
    ("opt_rmsprop_centered_momentum",
     opt("rmsprop", learning_rate=0.01, centered=True, momentum=0.5)),
    ("opt_adagrad", opt("adagrad", learning_rate=0.1)),
    ("opt_adagrad_init",
     opt("adagrad", learning_rate=0.1, initial_accumulator_value=0.5)),
    ("opt_adadelta", opt("adadelta", learning_rate=1.0)),
    ("opt_adadelta_rho", opt("adadelta", learning_rate=1.0, rho=0.9,
                             epsilon=1e-6)),
    ("opt_adamax", opt("adamax", learning_rate=0.02)),
    ("opt_nadam", opt("nadam", learning_rate=0.01)),
]

for _i, (_name, _opt) in enumerate(OPTIMIZER_CASES):
    CASES[_name] = (lambda n=_name, o=_opt, s=100 + _i: optimizer_case(n, o, s))


# --------------------------------------------------------------------------
# cases: losses
# --------------------------------------------------------------------------

REG_METRICS = ["mae", "mse"]


def regression_case(name, loss, seed, out=1, positive=False, lr=0.05,
                    hidden="tanh"):
    rng = rng_for(seed)
    x = features(rng)
    y = regression_targets(rng, x, out=out, positive=positive)
    spec = spec_of(
        [F],
        [dense(8, hidden), dense(out, "linear")],
        opt("sgd", learning_rate=lr),
        loss,
        metrics=REG_METRICS,
    )
    return run_case(name, spec, x, y, fit_opts(), seed)


CASES["loss_mse"] = lambda: regression_case("loss_mse", "mse", 200)
CASES["loss_mse_2out"] = lambda: regression_case(
    "loss_mse_2out", "mean_squared_error", 201, out=2)
CASES["loss_mae"] = lambda: regression_case("loss_mae", "mae", 202, lr=0.1)
CASES["loss_mape"] = lambda: regression_case(
    "loss_mape", "mape", 203, positive=True, lr=0.002)
CASES["loss_msle"] = lambda: regression_case(
    "loss_msle", "msle", 204, positive=True, lr=0.2, hidden="relu")
CASES["loss_huber"] = lambda: regression_case("loss_huber", "huber", 205,
                                              out=2, lr=0.1)
CASES["loss_huber_delta"] = lambda: regression_case(
    "loss_huber_delta", {"class_name": "huber", "config": {"delta": 0.3}},
    206, lr=0.1)
CASES["loss_log_cosh"] = lambda: regression_case(
    "loss_log_cosh", "log_cosh", 207, lr=0.1)

BIN_METRICS = ["accuracy", "precision", "recall", "auc"]


def binary_case(name, loss, out_act, seed, metrics=BIN_METRICS, lr=0.1):
    rng = rng_for(seed)
    x = features(rng)
    y = binary_targets(rng, x)
    spec = spec_of(
        [F],
        [dense(8, "relu"), dense(1, out_act)],
        opt("sgd", learning_rate=lr),
        loss,
        metrics=metrics,
    )
    return run_case(name, spec, x, y, fit_opts(), seed)


CASES["loss_binary_crossentropy"] = lambda: binary_case(
    "loss_binary_crossentropy", "binary_crossentropy", "sigmoid", 300)
CASES["loss_binary_crossentropy_logits"] = lambda: binary_case(
    "loss_binary_crossentropy_logits",
    {"class_name": "binary_crossentropy", "config": {"from_logits": True}},
    "linear", 301, metrics=["accuracy"])
CASES["loss_binary_crossentropy_smoothing"] = lambda: binary_case(
    "loss_binary_crossentropy_smoothing",
    {"class_name": "binary_crossentropy", "config": {"label_smoothing": 0.1}},
    "sigmoid", 302)
CASES["loss_hinge"] = lambda: binary_case(
    "loss_hinge", "hinge", "tanh", 303, metrics=["accuracy"])

K = 6  # >5 classes so top_k (k=5) is not trivially 1
CAT_METRICS = ["accuracy", "top_k_categorical_accuracy",
               "categorical_crossentropy"]


def categorical_case(name, loss, out_act, seed, metrics=CAT_METRICS,
                     soft_targets=False, lr=0.1):
    rng = rng_for(seed)
    x = features(rng)
    y = prob_rows(rng, x, K) if soft_targets else one_hot(
        class_labels(rng, x, K), K)
    spec = spec_of(
        [F],
        [dense(8, "relu"), dense(K, out_act)],
        opt("sgd", learning_rate=lr),
        loss,
        metrics=metrics,
    )
    return run_case(name, spec, x, y, fit_opts(), seed)


CASES["loss_categorical_crossentropy"] = lambda: categorical_case(
    "loss_categorical_crossentropy", "categorical_crossentropy", "softmax", 400)
CASES["loss_categorical_crossentropy_logits"] = lambda: categorical_case(
    "loss_categorical_crossentropy_logits",
    {"class_name": "categorical_crossentropy", "config": {"from_logits": True}},
    "linear", 401, metrics=["accuracy", "top_k_categorical_accuracy"])
CASES["loss_categorical_crossentropy_smoothing"] = lambda: categorical_case(
    "loss_categorical_crossentropy_smoothing",
    {"class_name": "categorical_crossentropy",
     "config": {"label_smoothing": 0.1}},
    "softmax", 402)
CASES["loss_categorical_crossentropy_logits_smoothing"] = (
    lambda: categorical_case(
        "loss_categorical_crossentropy_logits_smoothing",
        {"class_name": "categorical_crossentropy",
         "config": {"from_logits": True, "label_smoothing": 0.1}},
        "linear", 403, metrics=["accuracy"]))
CASES["loss_kl_divergence"] = lambda: categorical_case(
    "loss_kl_divergence", "kl_divergence", "softmax", 404,
    metrics=["accuracy", "categorical_crossentropy"], soft_targets=True,
    lr=0.5)

SPARSE_METRICS = ["accuracy", "sparse_top_k_categorical_accuracy"]


def sparse_case(name, loss, out_act, seed):
    rng = rng_for(seed)
    x = features(rng)
    y = class_labels(rng, x, K)  # ints, shape (n,)
    spec = spec_of(
        [F],
        [dense(8, "relu"), dense(K, out_act)],
        opt("sgd", learning_rate=0.1),
        loss,
        metrics=SPARSE_METRICS,
    )
    return run_case(name, spec, x, y, fit_opts(), seed)


CASES["loss_sparse_categorical_crossentropy"] = lambda: sparse_case(
    "loss_sparse_categorical_crossentropy", "sparse_categorical_crossentropy",
    "softmax", 500)
CASES["loss_sparse_categorical_crossentropy_logits"] = lambda: sparse_case(
    "loss_sparse_categorical_crossentropy_logits",
    {"class_name": "sparse_categorical_crossentropy",
     "config": {"from_logits": True}},
    "linear", 501)


# --------------------------------------------------------------------------
# cases: activations (deeper MLPs, mse)
# --------------------------------------------------------------------------


def activation_case(name, acts, seed, x_scale=1.0, out_act="linear", lr=0.05):
    rng = rng_for(seed)
    x = features(rng, scale=x_scale)
    y = regression_targets(rng, x, out=2)
    layers = [dense(6, a) for a in acts] + [dense(2, out_act)]
    spec = spec_of([F], layers, opt("sgd", learning_rate=lr), "mse",
                   metrics=["mae"])
    return run_case(name, spec, x, y, fit_opts(), seed)


CASES["act_relu_tanh_sigmoid"] = lambda: activation_case(
    "act_relu_tanh_sigmoid", ["relu", "tanh", "sigmoid"], 600)
CASES["act_elu_selu_gelu"] = lambda: activation_case(
    "act_elu_selu_gelu", ["elu", "selu", "gelu"], 601)
CASES["act_leaky_relu_softplus_softsign"] = lambda: activation_case(
    "act_leaky_relu_softplus_softsign", ["leaky_relu", "softplus", "softsign"],
    602)
CASES["act_swish_silu_hard_sigmoid"] = lambda: activation_case(
    "act_swish_silu_hard_sigmoid", ["swish", "silu", "hard_sigmoid"], 603,
    lr=0.1)
CASES["act_exponential_linear"] = lambda: activation_case(
    "act_exponential_linear", ["exponential", "linear"], 604, x_scale=0.3,
    lr=0.02)
CASES["act_sigmoid_output"] = lambda: activation_case(
    "act_sigmoid_output", ["selu", "gelu"], 605, out_act="sigmoid", lr=0.2)


# --------------------------------------------------------------------------
# cases: regularizers
# --------------------------------------------------------------------------


def L1(v):
    return {"class_name": "L1", "config": {"l1": v}}


def L2(v):
    return {"class_name": "L2", "config": {"l2": v}}


def L1L2(a, b):
    return {"class_name": "L1L2", "config": {"l1": a, "l2": b}}


def regularizer_case(name, kreg, breg, seed):
    rng = rng_for(seed)
    x = features(rng)
    y = one_hot(class_labels(rng, x, 3), 3)
    spec = spec_of(
        [F],
        [dense(8, "relu", kreg=kreg, breg=breg),
         dense(3, "softmax", kreg=kreg, breg=breg)],
        opt("sgd", learning_rate=0.1),
        "categorical_crossentropy",
        metrics=["accuracy"],
    )
    fit = fit_opts(validation_data={"x": x[:12], "y": y[:12]})
    return run_case(name, spec, x, y, fit, seed)


CASES["reg_l1"] = lambda: regularizer_case("reg_l1", L1(0.01), None, 700)
CASES["reg_l2"] = lambda: regularizer_case("reg_l2", L2(0.02), L2(0.05), 701)
CASES["reg_l1_l2"] = lambda: regularizer_case(
    "reg_l1_l2", L1L2(0.01, 0.02), L1(0.03), 702)


# --------------------------------------------------------------------------
# cases: layers
# --------------------------------------------------------------------------


@case
def layer_no_bias():
    seed = 800
    rng = rng_for(seed)
    x = features(rng)
    y = regression_targets(rng, x, out=2)
    spec = spec_of(
        [F],
        [dense(8, "tanh", use_bias=False), dense(2, "linear", use_bias=False)],
        opt("sgd", learning_rate=0.05), "mse", metrics=["mae"])
    return run_case("layer_no_bias", spec, x, y, fit_opts(), seed)


@case
def layer_activation():
    seed = 801
    rng = rng_for(seed)
    x = features(rng)
    y = one_hot(class_labels(rng, x, 3), 3)
    spec = spec_of(
        [F],
        [dense(8), activation("relu"), dense(3), activation("softmax")],
        opt("sgd", learning_rate=0.1), "categorical_crossentropy",
        metrics=["accuracy"])
    return run_case("layer_activation", spec, x, y, fit_opts(), seed)


@case
def layer_flatten():
    seed = 802
    rng = rng_for(seed)
    x = features(rng, shape=(2, 3))
    y = regression_targets(rng, x, out=1)
    spec = spec_of(
        [2, 3],
        [flatten(), dense(8, "relu"), dense(1)],
        opt("adam", learning_rate=0.01), "mse", metrics=["mae"])
    return run_case("layer_flatten", spec, x, y, fit_opts(), seed)


# --------------------------------------------------------------------------
# cases: fit options
# --------------------------------------------------------------------------


def cls3_data(seed):
    rng = rng_for(seed)
    x = features(rng)
    y = one_hot(class_labels(rng, x, 3), 3)
    return rng, x, y


def cls3_spec(metrics=("accuracy",), weighted_metrics=(), lr=0.1):
    return spec_of(
        [F], [dense(8, "relu"), dense(3, "softmax")],
        opt("sgd", learning_rate=lr), "categorical_crossentropy",
        metrics=list(metrics), weighted_metrics=list(weighted_metrics))


@case
def fit_sample_weight():
    seed = 900
    rng, x, y = cls3_data(seed)
    sw = rng.uniform(0.2, 2.0, size=(N,)).astype("float32")
    return run_case("fit_sample_weight", cls3_spec(), x, y,
                    fit_opts(sample_weight=sw), seed)


@case
def fit_weighted_metrics():
    seed = 901
    rng, x, y = cls3_data(seed)
    sw = rng.uniform(0.0, 2.0, size=(N,)).astype("float32")
    spec = cls3_spec(metrics=["accuracy"], weighted_metrics=["accuracy"])
    return run_case("fit_weighted_metrics", spec, x, y,
                    fit_opts(sample_weight=sw), seed)


@case
def fit_class_weight():
    seed = 902
    rng = rng_for(seed)
    x = features(rng)
    y = binary_targets(rng, x)
    spec = spec_of(
        [F], [dense(8, "relu"), dense(1, "sigmoid")],
        opt("sgd", learning_rate=0.1), "binary_crossentropy",
        metrics=["accuracy"], weighted_metrics=["accuracy"])
    return run_case("fit_class_weight", spec, x, y,
                    fit_opts(class_weight={"0": 1.0, "1": 2.5}), seed)


@case
def fit_class_weight_categorical():
    seed = 903
    rng, x, y = cls3_data(seed)
    return run_case(
        "fit_class_weight_categorical", cls3_spec(), x, y,
        fit_opts(class_weight={"0": 1.0, "1": 2.0, "2": 0.5}), seed)


@case
def fit_validation_data():
    seed = 904
    rng, x, y = cls3_data(seed)
    vx = features(rng, n=12)
    vy = one_hot(class_labels(rng, vx, 3), 3)
    vsw = rng.uniform(0.2, 2.0, size=(12,)).astype("float32")
    spec = cls3_spec(metrics=["accuracy"], weighted_metrics=["accuracy"])
    return run_case(
        "fit_validation_data", spec, x, y,
        fit_opts(validation_data={"x": vx, "y": vy, "sample_weight": vsw}),
        seed)


@case
def fit_validation_split():
    seed = 905
    rng, x, y = cls3_data(seed)
    return run_case("fit_validation_split", cls3_spec(), x, y,
                    fit_opts(batch_size=8, validation_split=0.25), seed)


@case
def fit_initial_epoch():
    seed = 906
    rng, x, y = cls3_data(seed)
    return run_case("fit_initial_epoch", cls3_spec(), x, y,
                    fit_opts(initial_epoch=1), seed)


@case
def fit_validation_freq():
    seed = 907
    rng, x, y = cls3_data(seed)
    vx = features(rng, n=10)
    vy = one_hot(class_labels(rng, vx, 3), 3)
    return run_case(
        "fit_validation_freq", cls3_spec(), x, y,
        fit_opts(epochs=4, validation_freq=2,
                 validation_data={"x": vx, "y": vy}),
        seed)


@case
def fit_batch_larger_than_data():
    seed = 908
    rng, x, y = cls3_data(seed)
    return run_case("fit_batch_larger_than_data", cls3_spec(lr=0.5), x, y,
                    fit_opts(batch_size=64), seed)


@case
def fit_sparse_class_weight():
    seed = 909
    rng = rng_for(seed)
    x = features(rng)
    y = class_labels(rng, x, 3)
    spec = spec_of(
        [F], [dense(8, "relu"), dense(3, "softmax")],
        opt("sgd", learning_rate=0.1), "sparse_categorical_crossentropy",
        metrics=["accuracy"], weighted_metrics=["accuracy"])
    return run_case("fit_sparse_class_weight", spec, x, y,
                    fit_opts(class_weight={"0": 0.5, "2": 3.0}), seed)


# --------------------------------------------------------------------------


def main(argv):
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    names = argv[1:] or list(CASES)
    total = 0
    for name in names:
        fixture = CASES[name]()
        text = json.dumps(fixture, separators=(",", ":"), sort_keys=False)
        path = OUT_DIR / f"{name}.json"
        path.write_text(text + "\n")
        size = path.stat().st_size
        total += size
        if size >= 60_000:
            raise SystemExit(f"{name}: fixture too large ({size} bytes)")
        keys = ",".join(fixture["history"].keys())
        print(f"{name:50s} {size:6d} B  history: {keys}")
    print(f"{len(names)} fixtures, {total} bytes total")


if __name__ == "__main__":
    main(sys.argv)
