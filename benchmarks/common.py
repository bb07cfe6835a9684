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


def add_json_option(parser) -> None:
    """``--json FILE``: where the result goes (default ``artifacts/bench/<name>.json``).

    ``benchmarks/write_measurements.py --record FILE`` turns such a file into a
    row of docs/measurements.md.
    """
    parser.add_argument(
        "--json",
        type=Path,
        default=None,
        metavar="FILE",
        help="write the result as JSON here (default: artifacts/bench/<name>.json)",
    )


def write_json(name: str, payload: dict, path: Path | None = None) -> Path:
    """Write ``payload`` (plus the environment) to ``path``, by default ``artifacts/bench/<name>.json``."""
    path = Path(path) if path is not None else OUTPUT_DIR / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"environment": environment(), **payload}, indent=2, default=str) + "\n")
    shown = path.resolve().relative_to(REPO_ROOT) if path.resolve().is_relative_to(REPO_ROOT) else path
    print(f"wrote {shown}")
    return path
