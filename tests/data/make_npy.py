"""Regenerate the small .npy fixtures that src/data/npy.rs reads in its tests.

Run from the repository root:  python3 tests/data/make_npy.py   (numpy 2.x)
"""

import pathlib

import numpy as np
from numpy.lib import format as npformat

here = pathlib.Path(__file__).resolve().parent


def save(name, array, version=None, fortran=False):
    if fortran:
        array = np.asfortranarray(array)
    with open(here / name, "wb") as f:
        npformat.write_array(f, array, version=version)
    print(name, array.dtype.str, array.shape, (here / name).stat().st_size, "bytes")


# int64, version 1.0, C order.
save("int64_2x3.npy", np.array([[1, -2, 3], [40, 50, -60]], dtype="<i8"))
# A 0-d float64 array.
save("f8_scalar.npy", np.array(2.5, dtype="<f8"))
# float32 written as format version 2.0, 3-d.
save("f4_v2_2x2x2.npy", np.arange(8, dtype="<f4").reshape(2, 2, 2) / 4, version=(2, 0))
# uint16 written as format version 3.0.
save("u2_v3_4.npy", np.array([0, 1, 65535, 7], dtype="<u2"), version=(3, 0))
# booleans.
save("bool_3.npy", np.array([True, False, True]))
# Fortran order: must be refused.
save("f4_fortran_2x3.npy", np.arange(6, dtype="<f4").reshape(2, 3), fortran=True)
# Big-endian: must be refused.
save("be_f4_2.npy", np.array([1.0, 2.0], dtype=">f4"))

# Exactly what np.save writes for float32 arrays: write_npy must produce the same bytes.
np.save(here / "f4_save_2x3.npy", np.array([[1.5, -2, 0], [3.25, 1e-7, -1e30]], dtype="<f4"))
np.save(here / "f4_save_scalar.npy", np.array(7.0, dtype="<f4"))
print("f4_save_2x3.npy, f4_save_scalar.npy written with np.save")
