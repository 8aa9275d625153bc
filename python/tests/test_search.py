"""The Python side of tunelab.Search, without a browser: argument checks (each error names its
argument, and nothing is made or sent when one fails), the config the widget receives, arrays as
binary buffers, and what the status from the browser becomes. Run with the wheel installed:
python -m unittest discover -s python/tests (tests/notebook/run.sh does, in its venv)."""

import json
import unittest

import numpy as np
import ipywidgets

import tunelab

SPEC = {
    "layers": [
        {"class_name": "Dense", "config": {"units": {"hp": "Int", "name": "units", "min_value": 4, "max_value": 16, "step": 4}, "activation": "tanh"}},
        {"class_name": "Dense", "config": {"units": 1, "activation": "sigmoid"}},
    ],
    "compile": {"optimizer": "adam", "loss": "binary_crossentropy", "metrics": ["accuracy"]},
}


def live_widgets():
    instances = getattr(ipywidgets.widgets.widget, "_instances", None)
    return len(instances if instances is not None else ipywidgets.Widget.widgets)


class Arguments(unittest.TestCase):
    def fails(self, exc, pattern, **kw):
        before = live_widgets()
        with self.assertRaisesRegex(exc, pattern):
            tunelab.Search(**kw)
        self.assertEqual(live_widgets(), before, f"no widget is made (nothing is sent) when {kw} fails")

    def test_errors_name_the_argument(self):
        self.fails(ValueError, r"^tuner: unknown tuner 'nope' \(allowed: random, grid, hyperband, bayesian, bohb, asha, RandomSearch", tuner="nope")
        self.fails(ValueError, r"^dataset: unknown data set 'mnist' \(allowed: .*digits", dataset="mnist")
        self.fails(TypeError, r"^dataset must be a data set's name or \(x, y\) arrays", dataset=42)
        self.fails(ValueError, r"^objective: 'val_f1' is not a metric of this spec \(allowed: loss, val_loss, accuracy, val_accuracy", objective="val_f1")
        self.fails(ValueError, r"^objective: 'val_accuracy' is measured on validation rows", objective="val_accuracy", fit={"validation_split": 0})
        self.fails(ValueError, r"^fit: unknown option 'epoch'", fit={"epoch": 3})
        self.fails(ValueError, r"^fit\['epochs'\] must be at least 1", fit={"epochs": 0})
        self.fails(ValueError, r"^fit\['validation_split'\] must be a number from 0 up to", fit={"validation_split": 1.5})
        self.fails(ValueError, r"^max_trials must be at least 1, got 0", max_trials=0)
        self.fails(TypeError, r"^max_trials must be an integer, got True", max_trials=True)
        self.fails(ValueError, r"^seed must be 0 or more", seed=-1)
        self.fails(ValueError, r"^device: unknown device 'gpu' \(allowed: cpu, webgpu, auto\)", device="gpu")
        self.fails(TypeError, r"^factor must be an integer, got 2.5", tuner="hyperband", factor=2.5)
        self.fails(TypeError, r"unknown argument 'max_epochs': RandomSearch's options are", max_epochs=3)
        self.fails(FileNotFoundError, r"^spec: no such file 'nowhere.json'", spec="nowhere.json")
        self.fails(ValueError, r"^spec: the spec string is not valid JSON", spec="{broken")
        self.fails(ValueError, r"^spec: a model spec needs a non-empty \"layers\" list", spec={"layers": []})
        self.fails(ValueError, r"^noise must be from 0 to 50", dataset="spiral", noise=80)

    def test_array_errors(self):
        x = np.random.default_rng(0).random((20, 2))
        y = (x[:, 0] > 0.5).astype(int)
        self.fails(ValueError, r"^dataset x must have one row per sample", spec=SPEC, dataset=(x[:, 0], y))
        self.fails(ValueError, r"^dataset: x has 20 rows and y has 19", spec=SPEC, dataset=(x, y[:19]))
        bad = x.copy()
        bad[3, 1] = np.nan
        self.fails(ValueError, r"^dataset x holds NaN or infinite values \(at \(3, 1\)\)", spec=SPEC, dataset=(bad, y))
        self.fails(TypeError, r"^dataset y must hold numbers", spec=SPEC, dataset=(x, np.array(["a"] * 20)))
        cat = dict(SPEC, compile={"optimizer": "adam", "loss": "categorical_crossentropy", "metrics": ["accuracy"]})
        self.fails(ValueError, r"one-hot encodes class labels, which must be whole numbers", spec=cat, dataset=(x, y + 0.5))


class Config(unittest.TestCase):
    def test_the_config_the_widget_receives(self):
        s = tunelab.Search(dataset="digits", tuner="hyperband", objective="val_accuracy", max_epochs=3, factor=3, fit={"epochs": 3}, seed=1)
        c = json.loads(s.config)
        self.assertEqual(c["tuner"], "Hyperband")
        self.assertEqual(c["dataset"], "digits")
        self.assertEqual(c["options"], {"seed": 1, "max_epochs": 3, "factor": 3, "objective": "val_accuracy"})
        self.assertEqual(c["fit"], {"epochs": 3, "validation_split": 0.2})
        self.assertEqual(c["spec"], tunelab.GUIDE_SPEC, "the default spec is KerasTuner's getting-started search")
        self.assertEqual(s.status, "not started")
        self.assertEqual(s.trials, [])
        self.assertIsNone(s.best_hyperparameters)
        with self.assertRaisesRegex(RuntimeError, r"^no Keras code yet"):
            s.keras_code()

    def test_arrays_travel_as_binary_buffers(self):
        x = np.arange(12, dtype=np.float64).reshape(6, 2)
        y = np.array([0, 1, 0, 1, 1, 0])
        s = tunelab.Search(SPEC, (x, y), tuner="random", max_trials=2)
        c = json.loads(s.config)
        self.assertEqual(c["data"], {"x": {"shape": [6, 2], "buffer": "_x"}, "y": {"shape": [6], "buffer": "_y"}})
        self.assertNotIn("[0.0", s.config, "no numbers of the arrays in the JSON")
        self.assertIsInstance(s._x, bytes)
        np.testing.assert_array_equal(np.frombuffer(s._x, dtype="<f4").reshape(6, 2), x.astype(np.float32))
        np.testing.assert_array_equal(np.frombuffer(s._y, dtype="<f4"), y.astype(np.float32))
        state = s.get_state()
        self.assertIn("_x", state)

    def test_tuner_names_are_the_engines(self):
        names = {t["name"]: t["class"] for t in tunelab.catalog()["tuners"]}
        self.assertEqual(names, {"random": "RandomSearch", "grid": "GridSearch", "hyperband": "Hyperband", "bayesian": "BayesianOptimization", "bohb": "BOHB", "asha": "ASHA"})
        for given in ["random_search", "RandomSearch", "random-search", "bayesian", "BayesianOptimization", "bohb", "ASHA"]:
            s = tunelab.Search(tuner=given, max_trials=1)
            self.assertIn(json.loads(s.config)["tuner"], names.values())


class Results(unittest.TestCase):
    STATUS = {
        "state": "done",
        "objective": "val_accuracy",
        "trials": [
            {"trialId": "0000", "values": {"units": 8}, "score": 0.75, "status": "COMPLETED", "bestStep": 2},
            {"trialId": "0001", "values": {"units": 16}, "score": 0.9, "status": "COMPLETED", "bestStep": 1},
        ],
        "best": {"trialId": "0001", "score": 0.9, "values": {"units": 16}},
        "summary": "Results summary\nResults in x\nShowing 10 best trials\nObjective(name=\"val_accuracy\", direction=\"max\")\n\nTrial 0001 summary\nHyperparameters:\nunits: 16\nScore: 0.9\n\nTrial 0000 summary\nHyperparameters:\nunits: 8\nScore: 0.75\n",
        "kerasCode": "import keras\n",
    }

    def test_what_the_status_becomes(self):
        s = tunelab.Search(SPEC, "xor", max_trials=2)
        s._status = self.STATUS
        self.assertEqual(s.status, "done")
        self.assertEqual(s.trials[1], {"id": "0001", "status": "COMPLETED", "hyperparameters": {"units": 16}, "score": 0.9, "best_step": 1})
        self.assertEqual(s.best_hyperparameters, {"units": 16})
        self.assertEqual(s.best_score, 0.9)
        self.assertEqual(s.keras_code(), "import keras\n")
        import contextlib
        import io

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            s.results_summary(num_trials=1)
        self.assertIn("Trial 0001 summary", out.getvalue())
        self.assertNotIn("Trial 0000 summary", out.getvalue())
        try:
            import pandas  # noqa: F401
        except ImportError:
            with self.assertRaisesRegex(ImportError, "pip install pandas"):
                s.to_dataframe()
        else:
            df = s.to_dataframe()
            self.assertEqual(list(df.columns), ["trial_id", "status", "score", "best_step", "units"])
            self.assertEqual(df["units"].tolist(), [8, 16])


if __name__ == "__main__":
    unittest.main()
