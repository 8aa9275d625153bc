"""Keras 3 (JAX backend, CPU, one thread) on the MLP benchmarks of benches/mlp.rs: the same
models, data sizes, batch sizes, Adam and categorical crossentropy; one warm-up epoch, then the
best samples/s over timed epochs. Run: `python3 benches/peers/keras_mlp.py` (needs
`pip install keras jax scikit-learn`)."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
import time

import numpy as np
import keras
from sklearn.datasets import load_digits


def model(widths, inputs):
    m = keras.Sequential([keras.Input((inputs,))] + [
        keras.layers.Dense(w, activation="softmax" if i + 1 == len(widths) else "relu")
        for i, w in enumerate(widths)
    ])
    m.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return m


def samples_per_sec(m, x, y, batch, reps):
    m.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    best = 0.0
    for _ in range(reps):
        t = time.perf_counter()
        m.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        best = max(best, len(x) / (time.perf_counter() - t))
    return best


d = load_digits()
x = (d.data / 16.0).astype("float32")
y = keras.utils.to_categorical(d.target, 10).astype("float32")
a = samples_per_sec(model([128, 64, 10], 64), x, y, 32, 5)
rng = np.random.default_rng(0)
x = rng.random((8192, 784), dtype=np.float32)
y = keras.utils.to_categorical(rng.integers(0, 10, 8192), 10).astype("float32")
b = samples_per_sec(model([256, 128, 10], 784), x, y, 128, 3)
print("model               data               batch    keras samples/s")
print(f"64-128-64-10        digits (1797)         32  {a:>17.0f}")
print(f"784-256-128-10      random (8192)        128  {b:>17.0f}")
