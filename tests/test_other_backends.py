"""The course code on the other backends: Keras on JAX and on PyTorch, TensorFlow made unimportable.

Runs in a subprocess because the Keras backend is fixed at import time and
this test process already uses TensorFlow. Blocking ``import tensorflow``
there mimics a GPU machine with JAX and PyTorch only (the course's H200),
where the course must still work.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures import tools

REPO_ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time

# As on a machine without TensorFlow: `import tensorflow` raises ModuleNotFoundError
# and importlib.util.find_spec("tensorflow") is None (torch asks it).
sys.modules["tensorflow"] = None
started = time.perf_counter()

import numpy as np
from resnet_course.keras_setup import import_keras
keras = import_keras()
from resnet_course import checks, training
from resnet_course.instructor.reference_solution import load_reference_solution
from resnet_course.instructor.batchnorm_statistics import recompute_batchnorm_statistics

report = {"backend": keras.backend.backend(), "jit_compile": training.choose_jit_compile()}
reference = load_reference_solution()

# A two-block model built from the reference blocks.
inputs = keras.Input((8, 8, 3))
x = reference["convolutional_block"](inputs, f=3, filters=[2, 2, 4], s=2)
x = reference["identity_block"](x, 3, [2, 2, 4])
x = keras.layers.GlobalAveragePooling2D()(x)
outputs = keras.layers.Dense(6, activation="softmax")(x)
model = keras.Model(inputs, outputs)

rng = np.random.default_rng(0)
images = rng.random((24, 8, 8, 3)).astype(np.float32)
labels = np.eye(6, dtype=np.float32)[rng.integers(0, 6, 24)]
recipe = training.COURSE_RECIPE.replace(name="tiny", epochs=1, batch_size=8, warmup_epochs=0, max_shift=1)
result = training.train(model, images, labels, recipe=recipe, verbose=0)
report["loss"] = result.history["loss"]

# After train() (on JAX: the jitted recompute), the first BatchNorm layer holds the exact statistics of its inputs.
first = training.batchnorm_layers(model)[0]
conv_out = keras.ops.convert_to_numpy(keras.Model(model.input, first.input)(images))
report["bn_mean_error"] = float(np.max(np.abs(
    keras.ops.convert_to_numpy(first.moving_mean) - conv_out.mean(axis=(0, 1, 2)))))
report["bn_var_error"] = float(np.max(np.abs(
    keras.ops.convert_to_numpy(first.moving_variance) - conv_out.var(axis=(0, 1, 2)))))
report["momentum"] = first.momentum

def statistics():
    return [keras.ops.convert_to_numpy(variable) for layer in training.batchnorm_layers(model)
            for variable in (layer.moving_mean, layer.moving_variance)]
if report["backend"] == "jax":
    # JAX recomputes with one jitted function; it agrees with eager calls on every layer
    # (23 images in batches of 10: no equal split, so the last one is smaller and traces again).
    recompute_batchnorm_statistics(model, images[:23], batch_size=10, compiled=True)
    jitted = statistics()
    recompute_batchnorm_statistics(model, images[:23], batch_size=10, compiled=False)
    eager = statistics()
    report["bn_jit_vs_eager"] = max(float(np.max(np.abs(a - b))) for a, b in zip(jitted, eager))
else:
    try:
        recompute_batchnorm_statistics(model, images, compiled=True)
    except ValueError as error:
        report["jit_refused"] = str(error)
    # Eager calls in the helpers record no autograd graph (a plain call does).
    report["plain_call_records_graph"] = model(images[:2], training=False).requires_grad
    with training.no_gradients():
        report["helper_call_records_graph"] = model(images[:2], training=False).requires_grad
metrics = training.evaluate(model, images, labels, batch_size=16)
direct = keras.ops.convert_to_numpy(model(images, training=False))
report["eval_matches"] = bool(np.isclose(metrics["accuracy"], np.mean(direct.argmax(-1) == labels.argmax(-1))))

# A model built without its initial weights (the evidence, check_resnet50 and the judges do), then set
# by the checks' assign_weights, computes what the ordinary build computes; its Dropout's seed state
# gets its own initializer.
from resnet_course.deferred_weights import deferred_weights, is_unset
def small(dropout):
    inputs = keras.Input((8, 8, 3))
    x = reference["identity_block"](inputs, 3, [2, 2, 3])
    x = keras.layers.Dropout(0.5)(x) if dropout else x
    return keras.Model(inputs, x)
ordinary = small(False)
with deferred_weights() as created:
    deferred = small(True)
report["deferred_unset"] = bool(created) and all(is_unset(variable) for variable in deferred.variables)
for built in (ordinary, deferred):
    checks.assign_weights(built, seed=4)
report["deferred_difference"] = float(np.max(np.abs(
    keras.ops.convert_to_numpy(ordinary(images[:2], training=False))
    - keras.ops.convert_to_numpy(deferred(images[:2], training=False)))))

# The notebook's self-checks, where resnet_course.checks has them (raise on failure).
report["checks_available"], report["checks_passed"] = [], []
for name in ("identity_block", "convolutional_block"):
    check = getattr(checks, "check_" + name, None)
    if check is not None:
        report["checks_available"].append(name)
        check(reference[name])
        report["checks_passed"].append(name)
# The compilation cache (JAX only): only beside a GPU unless forced, then filled by the next
# compilation (after this process has compiled without one).
import pathlib, tempfile
cache = pathlib.Path(tempfile.mkdtemp())
report["cache_without_gpu"] = training.use_compilation_cache(cache)
report["cache_forced"] = training.use_compilation_cache(cache, force=True)
report["cache_dir"] = str(cache)
if report["backend"] == "jax":
    import jax
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.jit(lambda a: a * 3.0 + 1.0)(np.arange(7.0)).block_until_ready()
report["cache_entries"] = len([path for path in cache.rglob("*") if path.is_file()])

report["tensorflow_imported"] = any(
    module is not None for name, module in sys.modules.items() if name.split(".")[0] == "tensorflow")
report["seconds"] = time.perf_counter() - started
print("REPORT " + json.dumps(report))
"""


def run_child(backend: str) -> dict:
    env = dict(os.environ, KERAS_BACKEND=backend, JAX_PLATFORMS="cpu", TF_CPP_MIN_LOG_LEVEL="3")
    completed = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    reports = [line for line in completed.stdout.splitlines() if line.startswith("REPORT ")]
    assert completed.returncode == 0 and reports, (
        f"the {backend} child failed (exit {completed.returncode}):\n"
        f"{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}"
    )
    return json.loads(reports[-1][len("REPORT ") :])


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_training_and_batchnorm_recompute_without_tensorflow(backend):
    tools.require(backend)
    report = run_child(backend)
    assert report["backend"] == backend
    assert not report["tensorflow_imported"]
    assert len(report["loss"]) == 1 and report["loss"][0] > 0
    assert report["bn_mean_error"] < 1e-4 and report["bn_var_error"] < 1e-4
    assert report["momentum"] == 0.99
    assert report["eval_matches"]
    assert report["checks_passed"] == report["checks_available"]
    assert report["deferred_unset"] and report["deferred_difference"] < 1e-5
    assert report["cache_without_gpu"] is None
    if backend == "jax":
        assert report["jit_compile"] == "auto"
        assert report["bn_jit_vs_eager"] < 1e-5
        assert report["cache_forced"] == report["cache_dir"] and report["cache_entries"] >= 1
    else:
        assert report["jit_compile"] is False  # eager, not torch.compile
        assert "JAX" in report["jit_refused"]
        assert report["plain_call_records_graph"] and not report["helper_call_records_graph"]
        # No compilation cache on torch, even when forced.
        assert report["cache_forced"] is None and report["cache_entries"] == 0
