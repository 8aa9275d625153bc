"""Optuna reads what tunelab writes: `optuna.load_study` and optuna-dashboard's API on studies
made by `tunelab tune --storage` (SQLite; PostgreSQL when TUNELAB_TEST_POSTGRES is set, required
when TUNELAB_REQUIRE_POSTGRES=1), and tunelab refuses a study Optuna made."""

import json
import math
import os
import subprocess
import tempfile
import threading
import unittest
import urllib.request
import warnings
from wsgiref.simple_server import WSGIRequestHandler, make_server

import optuna
from optuna.trial import TrialState

optuna.logging.set_verbosity(optuna.logging.WARNING)
# Optuna keeps its database engines open for the life of the process; unittest would print a
# ResourceWarning for each.
warnings.simplefilter("ignore", ResourceWarning)

BIN = os.environ.get("TUNELAB_BIN", "target/release/tunelab")

SPEC = {
    "layers": [
        {"class_name": "Dense", "config": {
            "units": {"hp": "Int", "name": "units", "min_value": 4, "max_value": 64, "step": 4},
            "activation": {"hp": "Choice", "name": "act", "values": ["relu", "tanh"]}}},
        {"when": {"hp": "Boolean", "name": "dropout"},
         "layers": [{"class_name": "Dropout", "config": {"rate": 0.1}}]},
        {"class_name": "Dense", "config": {"units": 2, "activation": "softmax"}},
    ],
    "compile": {
        "optimizer": {"class_name": "adam", "config": {"learning_rate": {
            "hp": "Float", "name": "lr", "min_value": 1e-4, "max_value": 1e-1, "sampling": "log"}}},
        "loss": "sparse_categorical_crossentropy",
        "metrics": ["accuracy"],
    },
}


def storages(tag):
    """(label, URL) of a fresh database per backend."""
    out = []
    tmp = tempfile.mkdtemp(prefix=f"tunelab-optuna-{tag}-")
    out.append(("sqlite", f"sqlite:///{tmp}/study.db"))
    admin = os.environ.get("TUNELAB_TEST_POSTGRES")
    if admin:
        import psycopg

        db = f"tl_py_{tag}"
        with psycopg.connect(admin, autocommit=True) as c:
            c.execute(f"DROP DATABASE IF EXISTS {db}")
            c.execute(f"CREATE DATABASE {db}")
        out.append(("postgresql", admin.rsplit("/", 1)[0] + "/" + db))
    elif os.environ.get("TUNELAB_REQUIRE_POSTGRES") == "1":
        raise RuntimeError("TUNELAB_REQUIRE_POSTGRES=1 but TUNELAB_TEST_POSTGRES is not set")
    else:
        print("skipping PostgreSQL: TUNELAB_TEST_POSTGRES is not set")
    return out


def tune(url, study, *extra, check=True):
    spec = os.path.join(tempfile.mkdtemp(prefix="tunelab-spec-"), "spec.json")
    with open(spec, "w") as f:
        json.dump(SPEC, f)
    cmd = [BIN, "tune", spec, "--dataset", "circle", "--storage", url, "--study-name", study, *extra]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} failed ({p.returncode}):\n{p.stderr}")
    return p


class OptunaReadsTunelab(unittest.TestCase):
    def test_load_study_returns_what_tune_json_printed(self):
        for label, url in storages("load"):
            with self.subTest(label):
                doc = json.loads(tune(url, "s", "--tuner", "random", "--max-trials", "6",
                                      "--epochs", "5", "--json").stdout)
                study = optuna.load_study(study_name="s", storage=url)
                self.assertEqual(study.direction, optuna.study.StudyDirection.MINIMIZE)
                self.assertEqual(study.metric_names, ["val_loss"])
                trials = study.get_trials(deepcopy=False)
                self.assertEqual(len(trials), len(doc["trials"]))
                for t, d in zip(trials, doc["trials"]):
                    self.assertEqual(t.number, int(d["trial_id"]))
                    self.assertEqual(d["status"], "COMPLETED")
                    self.assertEqual(t.state, TrialState.COMPLETE)
                    self.assertEqual(t.value, d["score"])
                    self.assertEqual(t.params, d["hyperparameters"])
                    curve = d["curves"][0]["val_loss"]
                    self.assertEqual(t.intermediate_values, dict(enumerate(curve)))
                    self.assertEqual(len(curve), 5)
                    self.assertEqual(t.user_attrs["metrics"], d["metrics"])
                    self.assertEqual(t.user_attrs["best_step"], d["best_step"])
                    self.assertIsNotNone(t.datetime_start)
                    self.assertIsNotNone(t.datetime_complete)
                    self.assertLessEqual(t.datetime_start, t.datetime_complete)
                    # The distributions are Optuna's own.
                    self.assertEqual(type(t.distributions["units"]).__name__, "IntDistribution")
                    self.assertEqual(t.distributions["units"].step, 4)
                    self.assertTrue(t.distributions["lr"].log)
                    self.assertEqual(t.distributions["act"].choices, ("relu", "tanh"))
                best = min(doc["trials"], key=lambda d: d["score"])
                self.assertEqual(study.best_trial.number, int(best["trial_id"]))
                self.assertEqual(study.best_params, doc["best_hyperparameters"])
                # The tables tunelab created serve Optuna's own writes too.
                other = optuna.create_study(study_name="optuna_beside", storage=url)
                other.optimize(lambda t: t.suggest_int("k", 1, 9), n_trials=3)
                self.assertEqual(len(optuna.load_study(study_name="optuna_beside",
                                                       storage=url).trials), 3)
                self.assertEqual(len(optuna.load_study(study_name="s", storage=url).trials), 6)

    def test_hyperband_schedule_is_in_user_attributes(self):
        for label, url in storages("hb"):
            with self.subTest(label):
                doc = json.loads(tune(url, "hb", "--tuner", "hyperband", "--max-epochs", "4",
                                      "--factor", "2", "--json").stdout)
                trials = optuna.load_study(study_name="hb", storage=url).trials
                self.assertEqual(len(trials), len(doc["trials"]))
                promoted = 0
                for t, d in zip(trials, doc["trials"]):
                    hb = d["hyperband"]
                    self.assertEqual(t.user_attrs["tuner/epochs"], hb["epochs"])
                    self.assertEqual(t.user_attrs["tuner/initial_epoch"], hb["initial_epoch"])
                    self.assertEqual(t.user_attrs["tuner/round"], hb["round"])
                    # A promoted trial's curve starts at the epoch it continues from.
                    if hb["initial_epoch"] > 0:
                        promoted += 1
                        self.assertEqual(min(t.intermediate_values), hb["initial_epoch"])
                    self.assertNotIn("tuner/epochs", t.params)
                self.assertGreater(promoted, 0)

    def test_optuna_dashboard_serves_history_importances_and_curves(self):
        from optuna_dashboard import wsgi

        for label, url in storages("dash"):
            with self.subTest(label):
                tune(url, "d", "--tuner", "bayesian", "--max-trials", "8", "--epochs", "4")

                class Quiet(WSGIRequestHandler):
                    def log_message(self, *args):
                        pass

                server = make_server("127.0.0.1", 0, wsgi(url), handler_class=Quiet)
                threading.Thread(target=server.serve_forever, daemon=True).start()
                base = f"http://127.0.0.1:{server.server_port}"

                def get(path):
                    with urllib.request.urlopen(base + path, timeout=60) as r:
                        return json.load(r)

                try:
                    summaries = get("/api/studies")["study_summaries"]
                    (sid,) = [s["study_id"] for s in summaries if s["study_name"] == "d"]
                    detail = get(f"/api/studies/{sid}?after=0")
                    self.assertEqual(len(detail["trials"]), 8)
                    self.assertTrue(detail["has_intermediate_values"])
                    names = {p["name"] for p in detail["union_search_space"]}
                    self.assertLessEqual({"units", "act", "lr", "dropout"}, names)
                    for t in detail["trials"]:
                        self.assertEqual(t["state"], "Complete")
                        self.assertEqual(len(t["intermediate_values"]), 4)
                    imp = get(f"/api/studies/{sid}/param_importances")["param_importances"][0]
                    self.assertEqual({i["name"] for i in imp}, names)
                    self.assertTrue(all(math.isfinite(i["importance"]) for i in imp))
                finally:
                    server.shutdown()
                    server.server_close()

    def test_a_study_made_by_optuna_is_refused(self):
        for label, url in storages("refuse"):
            with self.subTest(label):
                study = optuna.create_study(study_name="made_by_optuna", storage=url)
                study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
                p = tune(url, "made_by_optuna", "--max-trials", "2", check=False)
                # Found at run time, in the database: exit 1 (2 is for usage errors).
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn("made by Optuna", p.stderr)
                self.assertNotIn("panicked", p.stderr)
                # Nothing was written: Optuna still sees its own two trials.
                self.assertEqual(len(optuna.load_study(study_name="made_by_optuna",
                                                       storage=url).trials), 2)
                # A new study in the database Optuna made works beside it.
                tune(url, "beside", "--max-trials", "2", "--epochs", "2")
                self.assertEqual(len(optuna.load_study(study_name="beside", storage=url).trials), 2)


if __name__ == "__main__":
    unittest.main()
