#!/usr/bin/env python3
"""Reference values for tunelab's metrics (src/nn/metrics.rs), computed by Keras 3.

Run from the repository root:

    KERAS_BACKEND=jax python3 tests/golden/metrics_reference.py

It prints one `key value` line per number; the Rust tests at the bottom of
src/nn/metrics.rs hard-code these numbers. The data come from a tiny linear
congruential generator that the Rust tests re-implement bit for bit (every
value is a multiple of 2**-24, so float32 holds it exactly), so both sides see
identical float32 inputs.

Every metric is fed batch by batch (rows [0, 16), [16, 32), [32, 40) of a
40-sample set; [0, 200), [200, 450), [450, 500) for AUC) as jax arrays, like
`Model.fit` does, once without and once with sample weights.
"""

import os

os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import numpy as np  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
from keras.src.trainers import compile_utils  # noqa: E402

F32 = np.float32


class Lcg:
    """x <- 1664525 x + 1013904223 (mod 2**32); value = (x >> 8) / 2**24."""

    def __init__(self, seed):
        self.s = seed & 0xFFFFFFFF

    def next(self):
        self.s = (self.s * 1664525 + 1013904223) & 0xFFFFFFFF
        return F32((self.s >> 8) / 16777216.0)

    def array(self, rows, cols):
        return np.array(
            [self.next() for _ in range(rows * cols)], dtype=F32
        ).reshape(rows, cols)


def one_hot(ids, c):
    out = np.zeros((ids.shape[0], c), dtype=F32)
    for i, v in enumerate(ids[:, 0]):
        out[i, int(v)] = 1.0
    return out


# ---------------------------------------------------------------- data
# The draw order below is mirrored by `Data::new` in the Rust tests.
N = 40
g = Lcg(42)
p4 = g.array(N, 4)
ids4 = np.floor(g.array(N, 1) * F32(4)).astype(F32)
oh4 = one_hot(ids4, 4)
p8 = g.array(N, 8)
ids8 = np.floor(g.array(N, 1) * F32(8)).astype(F32)
oh8 = one_hot(ids8, 8)
yb = (g.array(N, 1) < F32(0.5)).astype(F32)
pb = g.array(N, 1)
ym = (g.array(N, 3) < F32(0.4)).astype(F32)
pm = g.array(N, 3)
yr = g.array(N, 2) * F32(4) - F32(2)
pr = g.array(N, 2) * F32(4) - F32(2)
ycount = np.floor(g.array(N, 2) * F32(5)).astype(F32)
ppos = g.array(N, 2) * F32(3)
yh = np.where(g.array(N, 3) < F32(0.5), F32(-1), F32(1)).astype(F32)
ph = g.array(N, 3) * F32(2) - F32(1)
w = g.array(N, 1)[:, 0] * F32(2)
w[::7] = 0.0
SPLITS = [0, 16, 32, 40]

NA = 500
ga = Lcg(7)
ya = (ga.array(NA, 1) < F32(0.3)).astype(F32)
pa = ya * F32(0.3) + ga.array(NA, 1) * F32(0.7)
ya3 = (ga.array(NA, 3) < F32(0.5)).astype(F32)
pa3 = ga.array(NA, 3) * F32(1.4) - F32(0.2)
wa = ga.array(NA, 1)[:, 0] * F32(2)
SPLITS_A = [0, 200, 450, 500]

# Hand-made rows for argmax / top-k ties and NaN (6 classes).
nan = float("nan")
TIES_IDS = np.array([[0], [1], [2], [3], [5], [4]], dtype=F32)
TIES_PRED = np.array(
    [
        [0.2, 0.2, 0.2, 0.2, 0.2, 0.2],
        [0.2, 0.2, 0.2, 0.2, 0.2, 0.2],
        [0.1, 0.5, 0.5, 0.5, 0.5, 0.5],
        [0.9, 0.8, 0.7, 0.6, 0.5, 0.4],
        [0.9, 0.8, 0.7, 0.6, 0.5, 0.4],
        [nan, 0.1, 0.2, 0.3, 0.4, 0.5],
    ],
    dtype=F32,
)
# Sparse ids outside [0, 6): negative ones wrap like Python indices, the
# rest (and ids the float -> int32 cast turns into such) never match
# unless k exceeds the number of classes.
EDGE_IDS = np.array([[7.0], [-1.0], [-7.0], [2.9], [nan], [-6.0]], dtype=F32)
EDGE_PRED = np.array(
    [[0.1, 0.2, 0.3, 0.4, 0.5, 0.6]] * 6,
    dtype=F32,
)


def run(metric, y_true, y_pred, weights=None, splits=None):
    if splits is None:
        splits = [0, y_true.shape[0]]
    metric.reset_state()
    for a, b in zip(splits[:-1], splits[1:]):
        sw = None if weights is None else jnp.asarray(weights[a:b])
        metric.update_state(
            jnp.asarray(y_true[a:b]), jnp.asarray(y_pred[a:b]), sample_weight=sw
        )
    return float(metric.result())


def emit(key, value):
    print(f"{key} {value!r}")


M = keras.metrics
CASES = [
    # key, metric factory, y_true, y_pred
    ("binary_accuracy", M.BinaryAccuracy, yb, pb),
    ("binary_accuracy_multi", M.BinaryAccuracy, ym, pm),
    ("binary_accuracy_bcast", M.BinaryAccuracy, yb, pm),
    ("categorical_accuracy", M.CategoricalAccuracy, oh4, p4),
    ("sparse_categorical_accuracy", M.SparseCategoricalAccuracy, ids4, p4),
    ("top_k_categorical_accuracy", M.TopKCategoricalAccuracy, oh8, p8),
    (
        "sparse_top_k_categorical_accuracy",
        M.SparseTopKCategoricalAccuracy,
        ids8,
        p8,
    ),
    ("mean_squared_error", M.MeanSquaredError, yr, pr),
    ("mean_absolute_error", M.MeanAbsoluteError, yr, pr),
    ("mean_absolute_percentage_error", M.MeanAbsolutePercentageError, yr, pr),
    ("mean_squared_logarithmic_error", M.MeanSquaredLogarithmicError, yr, pr),
    ("root_mean_squared_error", M.RootMeanSquaredError, yr, pr),
    ("log_cosh_error", M.LogCoshError, yr, pr),
    ("cosine_similarity", M.CosineSimilarity, yr, pr),
    ("r2_score", M.R2Score, yr, pr),
    ("binary_crossentropy", M.BinaryCrossentropy, ym, pm),
    ("categorical_crossentropy", M.CategoricalCrossentropy, oh4, p4),
    (
        "sparse_categorical_crossentropy",
        M.SparseCategoricalCrossentropy,
        ids4,
        p4,
    ),
    ("kl_divergence", M.KLDivergence, oh4, p4),
    ("poisson", M.Poisson, ycount, ppos),
    ("hinge", M.Hinge, ym, ph),
    ("hinge_pm1", M.Hinge, yh, ph),
    ("squared_hinge", M.SquaredHinge, ym, ph),
    ("squared_hinge_pm1", M.SquaredHinge, yh, ph),
    ("categorical_hinge", M.CategoricalHinge, oh4, p4),
    ("precision", M.Precision, yb, pb),
    ("precision_multi", M.Precision, ym, pm),
    ("recall", M.Recall, yb, pb),
    ("recall_multi", M.Recall, ym, pm),
    ("true_positives", M.TruePositives, ym, pm),
    ("false_positives", M.FalsePositives, ym, pm),
    ("true_negatives", M.TrueNegatives, ym, pm),
    ("false_negatives", M.FalseNegatives, ym, pm),
]

for key, factory, yt, yp in CASES:
    emit(f"{key}.unweighted", run(factory(), yt, yp, None, SPLITS))
    emit(f"{key}.weighted", run(factory(), yt, yp, w, SPLITS))

emit("auc.unweighted", run(M.AUC(), ya, pa, None, SPLITS_A))
emit("auc.weighted", run(M.AUC(), ya, pa, wa, SPLITS_A))
emit("auc_multi.unweighted", run(M.AUC(), ya3, pa3, None, SPLITS_A))
emit("auc_multi.weighted", run(M.AUC(), ya3, pa3, wa, SPLITS_A))

ties_oh = one_hot(TIES_IDS, 6)
emit("ties.categorical_accuracy", run(M.CategoricalAccuracy(), ties_oh, TIES_PRED))
emit(
    "ties.sparse_categorical_accuracy",
    run(M.SparseCategoricalAccuracy(), TIES_IDS, TIES_PRED),
)
for k in (1, 5):
    emit(
        f"ties.top_k_categorical_accuracy.k{k}",
        run(M.TopKCategoricalAccuracy(k=k), ties_oh, TIES_PRED),
    )
    emit(
        f"ties.sparse_top_k_categorical_accuracy.k{k}",
        run(M.SparseTopKCategoricalAccuracy(k=k), TIES_IDS, TIES_PRED),
    )
for k in (1, 5, 6):
    emit(
        f"edge.sparse_top_k_categorical_accuracy.k{k}",
        run(M.SparseTopKCategoricalAccuracy(k=k), EDGE_IDS, EDGE_PRED),
    )

# Mean semantics: weighted sum / sum of weights, kept across batches.
mse = M.MeanSquaredError()
mse.update_state(
    np.array([[0.0], [0.0]], F32),
    np.array([[1.0], [2.0]], F32),
    sample_weight=np.array([1.0, 0.0], F32),
)
emit("mean.weighted_first_batch", float(mse.result()))
mse.update_state(
    np.array([[0.0]], F32),
    np.array([[3.0]], F32),
    sample_weight=np.array([2.0], F32),
)
emit("mean.weighted_two_batches", float(mse.result()))
zero = M.MeanSquaredError()
zero.update_state(
    np.array([[0.0]], F32),
    np.array([[3.0]], F32),
    sample_weight=np.array([0.0], F32),
)
emit("mean.all_zero_weights", float(zero.result()))

# Which accuracy "accuracy" becomes for (y_true shape, y_pred shape).
SHAPES = [
    ((5, 1), (5, 1)),
    ((5,), (5, 1)),
    ((5,), (5, 3)),
    ((5, 1), (5, 3)),
    ((5, 3), (5, 3)),
    ((5, 2), (5, 3)),
    ((5,), (5,)),
    ((1,), (1,)),
    ((5, 3), (5, 1)),
]
for ts, ps in SHAPES:
    m = compile_utils.get_metric("acc", np.zeros(ts, F32), np.zeros(ps, F32))
    tkey = "x".join(map(str, ts))
    pkey = "x".join(map(str, ps))
    print(f"resolve.{tkey}.{pkey} {type(m).__name__}")
