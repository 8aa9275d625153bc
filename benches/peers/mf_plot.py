"""The README's plot of the multi-fidelity benchmark: per data set, best val_accuracy (median,
quartile band) against epochs spent with one worker, and against simulated wall time with 4
workers, for tunelab's tuners and the peers. Reads
target/multifidelity/curves_NAME_{epochs,wall}.csv (benches/multifidelity.rs) and
peers_curves_NAME.csv, peers_curves_NAME_wall.csv (benches/peers/mf_peers.py); writes
docs/multifidelity.png.

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
    fig, axes = plt.subplots(len(sets), 2, figsize=(13, 4.8 * len(sets)), squeeze=False)
    colors = {}

    def color(tuner):
        # One color per tuner in both panels and both data sets.
        return colors.setdefault(tuner, f"C{len(colors) % 10}")

    for row, name in enumerate(sets):
        ours = {**read(f"{DIR}/curves_{name}_epochs.csv"), **read(f"{DIR}/curves_{name}_wall.csv")}
        peers = {**read(f"{DIR}/peers_curves_{name}.csv"), **read(f"{DIR}/peers_curves_{name}_wall.csv")}
        every = [v for v in list(ours.values()) + list(peers.values()) if v[2]]
        lo_y = min(min(v[2][len(v[2]) // 10:]) for v in every)
        hi_y = max(max(v[3]) for v in every) + 0.002
        ax = axes[row][0]
        for (tuner, axis), (x, lo, med, hi) in list(ours.items()) + list(peers.items()):
            if axis != "epochs":
                continue
            peer = (tuner, axis) in peers
            label = tuner if peer else f"tunelab {tuner}"
            ax.plot(x, med, label=label, ls="--" if peer else "-", color=color(label))
            ax.fill_between(x, lo, hi, alpha=0.12, color=color(label))
        for b in (27, 81, 270):
            ax.axvline(b, color="grey", lw=0.5)
        ax.set_xscale("log")
        ax.set_xlabel("epochs spent (one worker)")
        ax.set_ylabel("best val_accuracy")
        ax.set_title(f"{name}: best val_accuracy vs epochs (median, quartiles; 30 seeds)")
        ax.set_ylim(lo_y, hi_y)
        ax.legend(fontsize=7)
        ax = axes[row][1]
        for (tuner, axis), (x, lo, med, hi) in list(ours.items()) + list(peers.items()):
            if not axis.startswith("wall"):
                continue
            peer = (tuner, axis) in peers
            label = tuner if peer else f"tunelab {tuner}"
            if peer:
                ls, how = "--", ""
            else:
                ls, how = ("-", " (async)") if axis == "wall_async" else (":", " (batches)")
            ax.plot(x, med, label=label + how, ls=ls, color=color(label))
            ax.fill_between(x, lo, hi, alpha=0.08, color=color(label))
        ax.set_xscale("log")
        ax.set_xlim(0.1, None)
        ax.set_xlabel("simulated wall time with 4 workers (s)")
        ax.set_ylabel("best val_accuracy")
        ax.set_title(f"{name}: best val_accuracy vs wall time, 4 workers (median, quartiles)")
        ax.set_ylim(lo_y, hi_y)
        ax.legend(fontsize=7)
    fig.tight_layout()
    os.makedirs("docs", exist_ok=True)
    fig.savefig("docs/multifidelity.png", dpi=90)
    print("wrote docs/multifidelity.png")


if __name__ == "__main__":
    main()
