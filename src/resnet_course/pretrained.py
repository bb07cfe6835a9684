"""Train the reference ResNet50 once and save it for the notebook.

Run ``make pretrained`` (or ``python -m resnet_course.pretrained``) from the
repository root. It trains the master notebook's ResNet50 with
:data:`resnet_course.training.COURSE_RECIPE`, recomputes its BatchNorm
statistics, and writes

* ``data/resnet50_signs.h5``: the model (Keras HDF5, float32 weights and
  layers whatever precision it was trained in, no optimizer state);
* ``data/resnet50_signs.json``: its train/test accuracy in inference mode,
  the recipe, timings, the exact command and the library versions.

The saved model is loaded back and must reproduce the test accuracy before
the command reports success. An existing model is kept unless ``--force``
is given, in which case it is renamed to ``*.bak`` first.

The notebook calls :func:`load_pretrained`.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import platform
import shlex
import shutil
import sys
import time
import warnings
from pathlib import Path

from .data import candidate_data_dirs
from .paths import DATA_DIR

MODEL_FILE = "resnet50_signs.h5"
DEFAULT_OUTPUT = DATA_DIR / MODEL_FILE


class PretrainedModelMissing(FileNotFoundError):
    """The pretrained model file has not been made yet."""


def metadata_path(model_path: Path) -> Path:
    """The JSON file that describes ``model_path`` (same name, ``.json``)."""
    return Path(model_path).with_suffix(".json")


def find_pretrained(path=None) -> Path:
    """The pretrained model's path: ``path`` if given, else the first
    ``data/resnet50_signs.h5`` among the data folders (see
    :func:`resnet_course.data.candidate_data_dirs`).

    Raises:
        PretrainedModelMissing: no such file; the message says to run ``make pretrained``.
    """
    candidates = [Path(path)] if path is not None else [folder / MODEL_FILE for folder in candidate_data_dirs()]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    shown = ", ".join(str(c) for c in candidates[:3])
    raise PretrainedModelMissing(
        f"No pretrained ResNet50 found (looked for {shown}). Run `make pretrained` from the "
        "repository root to train and save it (about 5 minutes on 2 CPU cores)."
    )


def load_pretrained(path=None):
    """Load the course's pretrained ResNet50 (uncompiled).

    Args:
        path: The ``.h5`` file; by default ``resnet50_signs.h5`` in the data folder.

    Returns:
        A ``keras.Model``; evaluate it with :func:`resnet_course.training.evaluate`.

    Raises:
        PretrainedModelMissing: the file does not exist (run ``make pretrained``).
    """
    from .keras_setup import import_keras

    keras = import_keras()
    model_path = find_pretrained(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return keras.models.load_model(model_path, compile=False)


# --------------------------------------------------------------------------
# Making the model
# --------------------------------------------------------------------------


def versions() -> dict:
    """Versions of everything that decides the numbers."""
    import h5py
    import numpy

    from .keras_setup import import_keras

    keras = import_keras()
    backend = keras.backend.backend()
    found = {
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": backend,
        "numpy": numpy.__version__,
        "h5py": h5py.__version__,
    }
    backend_module = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}.get(backend)
    if backend_module:
        found[backend_module] = __import__(backend_module).__version__
    return found


def float32_copy(model, build_model, X_train, batch_size: int):
    """``model`` as float32, portable whatever precision trained it.

    A float32 model is returned as it is. A mixed-precision one is rebuilt in
    float32 with its weights, and its BatchNorm statistics are recomputed over
    ``X_train``: the activations they summarise changed with the precision.
    """
    from .keras_setup import import_keras

    if model.dtype_policy.name == "float32":
        return model
    keras = import_keras()
    previous = keras.mixed_precision.dtype_policy()
    keras.mixed_precision.set_dtype_policy("float32")
    try:
        copy = build_model()
    finally:
        keras.mixed_precision.set_dtype_policy(previous)
    copy.set_weights(model.get_weights())
    from .instructor.batchnorm_statistics import recompute_batchnorm_statistics

    recompute_batchnorm_statistics(copy, X_train, batch_size=batch_size)
    return copy


def keep_backup(path: Path) -> Path | None:
    """Rename ``path`` (and its JSON) to ``*.bak``; return the backup's path."""
    if not path.exists():
        return None
    backup = path.with_name(path.name + ".bak")
    shutil.move(path, backup)
    meta = metadata_path(path)
    if meta.exists():
        shutil.move(meta, meta.with_name(meta.name + ".bak"))
    return backup


def save_model(model, path: Path) -> None:
    """Save as Keras HDF5 without optimizer state (a third of the size).

    Keras logs a "legacy format" notice to stderr on every HDF5 save; the
    format is the course's choice, so the notice is silenced.
    """
    from .keras_setup import silenced_stderr

    path.parent.mkdir(parents=True, exist_ok=True)
    with silenced_stderr():
        model.save(path, include_optimizer=False)


def make_pretrained(output: Path, recipe, command: str) -> dict:
    """Train, repair, check and save the reference ResNet50; return its metadata."""
    from . import training
    from .data import load_signs, model_inputs
    from .instructor.reference_solution import load_reference_solution

    started = time.perf_counter()
    setup = training.configure_for_device()
    print(f"== {setup.summary}")
    X_train, Y_train, X_test, Y_test = model_inputs(load_signs())
    build = load_reference_solution()["ResNet50"]
    model = build()
    result = training.train(
        model, X_train, Y_train, recipe=recipe, validation_data=(X_test, Y_test), verbose=2, device=setup
    )

    if model.dtype_policy.name != "float32":
        print(f"== Copying the {model.dtype_policy.name} model to float32 and recomputing its BatchNorm statistics")
        model = float32_copy(model, build, X_train, recipe.batch_size)
    train_metrics = training.evaluate(model, X_train, Y_train)
    test_metrics = training.evaluate(model, X_test, Y_test)
    save_model(model, output)

    reloaded = load_pretrained(output)
    reloaded_metrics = training.evaluate(reloaded, X_test, Y_test)
    if reloaded_metrics["accuracy"] != test_metrics["accuracy"]:
        raise RuntimeError(
            f"{output} does not reproduce the model: test accuracy {reloaded_metrics['accuracy']:.4f} "
            f"after loading, {test_metrics['accuracy']:.4f} before saving"
        )
    return {
        "model": output.name,
        "metrics": {
            "train_accuracy": train_metrics["accuracy"],
            "train_loss": train_metrics["loss"],
            "test_accuracy": test_metrics["accuracy"],
            "test_loss": test_metrics["loss"],
            "evaluated_in": "inference mode (training=False) after recomputing BatchNorm statistics",
            "reloaded_test_accuracy": reloaded_metrics["accuracy"],
        },
        "epochs": recipe.epochs,
        "recipe": dataclasses.asdict(recipe),
        "history": result.history,
        "seconds": {
            "training": round(result.fit_seconds, 1),
            "batchnorm_recompute": round(result.bn_seconds, 1),
            "total": round(time.perf_counter() - started, 1),
        },
        "trained_with": setup.summary,
        "saved_dtype": "float32",
        "command": command,
        "versions": versions(),
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m resnet_course.pretrained", description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"model file (default {DEFAULT_OUTPUT})")
    parser.add_argument("--force", action="store_true", help="replace an existing model (the old one is kept as .bak)")
    parser.add_argument("--seed", type=int, default=None, help="override COURSE_RECIPE's seed")
    parser.add_argument("--epochs", type=int, default=None, help="override COURSE_RECIPE's epochs (for smoke tests)")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from .keras_setup import quiet_environment

    quiet_environment()
    from . import training

    output = args.output.resolve()
    if output.exists() and not args.force:
        print(
            f"{output} exists already; not overwriting it. To retrain, run "
            "`.venv/bin/python -m resnet_course.pretrained --force` (the old model is kept as a .bak file).",
            file=sys.stderr,
        )
        return 1
    changes = {key: value for key, value in (("seed", args.seed), ("epochs", args.epochs)) if value is not None}
    if "epochs" in changes:
        changes["warmup_epochs"] = min(training.COURSE_RECIPE.warmup_epochs, changes["epochs"] - 1)
    recipe = training.COURSE_RECIPE.replace(**changes)
    command = shlex.join([sys.executable, "-m", "resnet_course.pretrained", *(sys.argv[1:] if argv is None else argv)])

    backup = keep_backup(output) if args.force else None
    if backup:
        print(f"== Kept the previous model as {backup}")
    metadata = make_pretrained(output, recipe, command)
    metadata_path(output).write_text(json.dumps(metadata, indent=2) + "\n")
    metrics = metadata["metrics"]
    print(
        f"== Saved {output} and {metadata_path(output).name}: train accuracy {metrics['train_accuracy']:.4f}, "
        f"test accuracy {metrics['test_accuracy']:.4f} (inference mode), {metadata['seconds']['total']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
