"""KerasTuner 1.4 + Keras 3 (JAX, CPU) running the getting-started guide's search on the
digits tunelab ships (scaled to [0, 1], a random 20% held out), printing wall time and best
val_accuracy in the format of benches/tune.sh."""
import os
import struct
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
import numpy as np
import keras
import keras_tuner
from keras import layers

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", ".."))


def tunelab_digits():
    """The 1,797 digits tunelab ships (data/digits.bin), scaled to [0, 1], in a seeded
    shuffled order. tunelab's own fixed order comes from Rust's RNG, so the 20% held out here
    is a different random fifth of the same data: comparable, not identical."""
    raw = open(os.path.join(root, "data", "digits.bin"), "rb").read()
    n = len(raw) // 65
    arr = np.frombuffer(raw, dtype=np.uint8).reshape(n, 65)
    x = arr[:, :64].astype("float32") / 16.0
    y = arr[:, 64].astype("int64")
    rng = np.random.default_rng(1797)
    idx = rng.permutation(n)
    return x[idx], keras.utils.to_categorical(y[idx], 10)


def build_model(hp):
    model = keras.Sequential()
    model.add(layers.Flatten())
    for i in range(hp.Int("num_layers", 1, 3)):
        model.add(layers.Dense(units=hp.Int(f"units_{i}", min_value=32, max_value=512, step=32),
                               activation=hp.Choice("activation", ["relu", "tanh"])))
    if hp.Boolean("dropout"):
        model.add(layers.Dropout(rate=0.25))
    model.add(layers.Dense(10, activation="softmax"))
    lr = hp.Float("lr", min_value=1e-4, max_value=1e-2, sampling="log")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    return model


if __name__ == "__main__":
    x, y = tunelab_digits()
    split = int(len(x) * 0.8)
    for trials, execs, epochs in [(3, 2, 2), (10, 1, 20)]:
        start = time.perf_counter()
        tuner = keras_tuner.RandomSearch(build_model, objective="val_accuracy", max_trials=trials,
                                         executions_per_trial=execs, overwrite=True, seed=1,
                                         directory="/tmp/kt_bench", project_name=f"b{trials}")
        tuner.search(x[:split], y[:split], epochs=epochs, validation_data=(x[split:], y[split:]), verbose=0)
        wall = time.perf_counter() - start
        best = tuner.oracle.get_best_trials(1)[0].score
        print(f"kerastuner  {trials:2d} trials x {execs} exec x {epochs:2d} epochs  wall {wall:7.2f} s  best val_accuracy {best:.4f}")
        sys.stdout.flush()
