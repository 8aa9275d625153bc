"""NumPy / OpenBLAS peer of benches/matmul.rs: the same shapes, single-threaded.

Prints `size numpy_GFLOPs` rows with the labels matmul.rs uses, so benches/matmul.sh can
put the two side by side. Timing follows matmul.rs: warm up, then the best of 15 samples
of enough calls to last ~20 ms.
"""

import os

# OpenBLAS reads this once, when it is loaded, so it must be set before numpy is imported.
os.environ["OPENBLAS_NUM_THREADS"] = "1"
os.environ.setdefault("OMP_NUM_THREADS", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402

# (label, m, n, k, trans_a, trans_b), as in matmul.rs: C (m x n) = op(A) (m x k) * op(B) (k x n).
CASES = [
    ("256", 256, 256, 256, False, False),
    ("512", 512, 512, 512, False, False),
    ("1024", 1024, 1024, 1024, False, False),
    ("32x64*64x128", 32, 128, 64, False, False),
    ("T(32x64)*32x128", 64, 128, 32, True, False),
    ("32x128*T(64x128)", 32, 64, 128, False, True),
    ("128x784*784x256", 128, 256, 784, False, False),
    ("T(128x784)*128x256", 784, 256, 128, True, False),
    ("128x256*T(784x256)", 128, 784, 256, False, True),
]


def measure(flops, f):
    start = time.perf_counter()
    calls = 0
    while calls < 3 or time.perf_counter() - start < 0.1:
        f()
        calls += 1
    per_call = (time.perf_counter() - start) / calls
    batch = max(1, int(0.02 / per_call))
    best = float("inf")
    for _ in range(15):
        t = time.perf_counter()
        for _ in range(batch):
            f()
        best = min(best, (time.perf_counter() - t) / batch)
    return flops / best / 1e9


def main():
    rng = np.random.default_rng(0)
    print(f"{'size':<20} {'numpy_GFLOPs':>14}")
    for label, m, n, k, ta, tb in CASES:
        # Store A and B the way the Rust side does; `.T` is a view, and matmul hands the
        # transpose to BLAS as a flag rather than copying.
        a = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(np.float32)
        b = rng.uniform(-1, 1, (n, k) if tb else (k, n)).astype(np.float32)
        opa = a.T if ta else a
        opb = b.T if tb else b
        out = np.empty((m, n), dtype=np.float32)
        gf = measure(2.0 * m * n * k, lambda: np.matmul(opa, opb, out=out))
        print(f"{label:<20} {gf:>14.1f}")


if __name__ == "__main__":
    main()
