"""Shared pieces of the benchmark scripts: data, model, tables, JSON output.

Imports nothing from TensorFlow itself, so the GPU benchmark runs under
``KERAS_BACKEND=jax`` on a machine without TensorFlow.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REPO_ROOT = Path(__file__).resolve().parents[1]
OUTPUT_DIR = REPO_ROOT / "artifacts" / "bench"


def keras_module():
    """Keras, imported quietly (TensorFlow backend unless KERAS_BACKEND says otherwise)."""
    from resnet_course.keras_setup import import_keras

    return import_keras()


def signs_arrays():
    """``(X_train, Y_train, X_test, Y_test)`` as float32 numpy arrays (h5py only)."""
    from resnet_course.data import load_signs, model_inputs

    return model_inputs(load_signs(REPO_ROOT / "data"))


def reference_resnet50():
    """The master notebook's ``ResNet50`` builder."""
    from resnet_course.instructor.reference_solution import load_reference_solution

    return load_reference_solution()["ResNet50"]


def environment() -> dict:
    """Versions and machine facts recorded with every result."""
    import numpy

    keras = keras_module()
    from resnet_course.keras_setup import accelerator_names

    return {
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "numpy": numpy.__version__,
        "accelerators": accelerator_names(),
        "cpu_count": os.cpu_count(),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def print_table(rows: list[dict], columns: list[str]) -> None:
    """Print ``rows`` as an aligned text table (floats with 4 significant digits)."""

    def cell(value):
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value)

    cells = [[cell(row.get(column, "")) for column in columns] for row in rows]
    widths = [max(len(column), *(len(r[i]) for r in cells)) for i, column in enumerate(columns)]
    print("  ".join(column.ljust(width) for column, width in zip(columns, widths)))
    print("  ".join("-" * width for width in widths))
    for row in cells:
        print("  ".join(value.ljust(width) for value, width in zip(row, widths)))


def median(values) -> float:
    return float(statistics.median(values))


def write_json(name: str, payload: dict) -> Path:
    """Write ``payload`` (plus the environment) to ``artifacts/bench/<name>.json``."""
    OUTPUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUTPUT_DIR / f"{name}.json"
    path.write_text(json.dumps({"environment": environment(), **payload}, indent=2, default=str) + "\n")
    print(f"wrote {path.relative_to(REPO_ROOT)}")
    return path
