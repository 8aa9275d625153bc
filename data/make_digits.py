"""Regenerate data/digits.bin from the copy of the 8x8 digits data set that scikit-learn ships.

Run from the repository root:  python3 data/make_digits.py
Layout of the output: 1797 records of 65 bytes each, one per sample in scikit-learn's order;
bytes 0..63 are the 8x8 pixel counts (0..16) in row-major order, byte 64 is the label (0..9).
"""

import hashlib
import pathlib

import numpy as np
from sklearn.datasets import load_digits

digits = load_digits()
pixels = digits.data.astype(np.int64)
labels = digits.target.astype(np.int64)
assert pixels.shape == (1797, 64), pixels.shape
assert pixels.min() >= 0 and pixels.max() <= 16
assert labels.min() >= 0 and labels.max() <= 9
assert np.array_equal(pixels, digits.data)  # the values are whole numbers

records = np.concatenate([pixels, labels[:, None]], axis=1).astype(np.uint8)
out = pathlib.Path(__file__).resolve().parent / "digits.bin"
out.write_bytes(records.tobytes())
print(out, out.stat().st_size, "bytes, sha256", hashlib.sha256(records.tobytes()).hexdigest())
