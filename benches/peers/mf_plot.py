"""The README's plot of the multi-fidelity benchmark: per data set, best val_accuracy (median,
quartile band) against epochs spent with one worker for tunelab's tuners and the peers, and
against simulated wall time with 4 workers for tunelab's tuners. Reads
target/multifidelity/curves_NAME_{epochs,wall}.csv (benches/multifidelity.rs) and
peers_curves_NAME.csv (benches/peers/mf_peers.py); writes docs/multifidelity.png.

Run: `python benches/peers/mf_plot.py` in the venv benches/multifidelity.sh makes.
"""
import csv
import os
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

DIR = "target/multifidelity"


def read(path):
    series = defaultdict(lambda: ([], [], [], []))
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        for r in csv.DictReader(f):
            s = series[(r["tuner"], r["axis"])]
            for i, k in enumerate(["x", "q25", "median", "q75"]):
                s[i].append(float(r[k]))
    return series


def main():
    sets = [n for n in ("digits", "mnist") if os.path.exists(f"{DIR}/curves_{n}_epochs.csv")]
    fig, axes = plt.subplots(len(sets), 2, figsize=(13, 4.6 * len(sets)), squeeze=False)
    for row, name in enumerate(sets):
        ours = {**read(f"{DIR}/curves_{name}_epochs.csv"), **read(f"{DIR}/curves_{name}_wall.csv")}
        peers = read(f"{DIR}/peers_curves_{name}.csv")
        ax = axes[row][0]
        for (tuner, axis), (x, lo, med, hi) in list(ours.items()) + list(peers.items()):
            if axis != "epochs":
                continue
            peer = (tuner, axis) in peers
            line, = ax.plot(x, med, label=("" if peer else "tunelab ") + tuner, ls="--" if peer else "-",
                            color=None if not peer else f"C{5 + len([k for k in peers if k[1] == 'epochs' and k < (tuner, axis)])}")
            ax.fill_between(x, lo, hi, alpha=0.12, color=line.get_color())
        for b in (27, 81, 270):
            ax.axvline(b, color="grey", lw=0.5)
        ax.set_xscale("log")
        ax.set_xlabel("epochs spent (one worker)")
        ax.set_ylabel("best val_accuracy")
        ax.set_title(f"{name}: best val_accuracy vs epochs (median, quartiles; 30 seeds)")
        every = [v for v in list(ours.values()) + list(peers.values()) if v[2]]
        lo_y = min(min(v[2][len(v[2]) // 10:]) for v in every)
        hi_y = max(max(v[3]) for v in every) + 0.002
        ax.set_ylim(lo_y, hi_y)
        ax.legend(fontsize=7)
        ax = axes[row][1]
        for (tuner, axis), (x, lo, med, hi) in ours.items():
            if not axis.startswith("wall"):
                continue
            how = "async" if axis == "wall_async" else "batches"
            line, = ax.plot(x, med, label=f"tunelab {tuner} ({how})", ls="-" if how == "async" else ":")
            ax.fill_between(x, lo, hi, alpha=0.12, color=line.get_color())
        ax.set_xscale("log")
        ax.set_xlim(0.1, None)
        ax.set_xlabel("simulated wall time with 4 workers (s)")
        ax.set_ylabel("best val_accuracy")
        ax.set_title(f"{name}: best val_accuracy vs wall time, 4 workers")
        ax.set_ylim(lo_y, hi_y)
        ax.legend(fontsize=7)
    fig.tight_layout()
    os.makedirs("docs", exist_ok=True)
    fig.savefig("docs/multifidelity.png", dpi=90)
    print("wrote docs/multifidelity.png")


if __name__ == "__main__":
    main()
