"""Support for the hidden tests of the master notebook.

Hidden tests run in the student's kernel, after the student's code, so they
must not rely on anything the student could have rebound: they load a
fresh copy of the check module from its file (rebinding
``checks.check_identity_block`` or ``np.allclose`` in the notebook changes
nothing there), report failures by raising, and never by printing.
"""

from __future__ import annotations

import importlib.util
import math
import os
import sys
import time
from pathlib import Path

#: nbgrader sets this in the kernel's environment to "autograde" or "validate".
NBGRADER_EXECUTION_ENV = "NBGRADER_EXECUTION"
PACKAGE_DIR = Path(__file__).resolve().parent


def autograding() -> bool:
    """True while nbgrader autogrades or validates the notebook: the notebook then
    skips its own long demonstrations, which the hidden tests redo."""
    return os.environ.get(NBGRADER_EXECUTION_ENV, "") in ("autograde", "validate")


def fresh_module(name: str):
    """A new instance of ``resnet_course.<name>`` loaded from its source file.

    The new module is not put in ``sys.modules``, so whatever the notebook did
    to the imported one (replacing functions, for example) does not reach it.
    A package (``training``) is loaded anew with all its submodules.
    """
    if (PACKAGE_DIR / name).is_dir():
        return _fresh_package(f"resnet_course.{name}")
    spec = importlib.util.spec_from_file_location(f"resnet_course.{name}", PACKAGE_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fresh_package(qualified: str):
    """Import ``qualified`` and its submodules anew, then put the imported ones back in ``sys.modules``."""
    import resnet_course

    def ours(key: str) -> bool:
        return key == qualified or key.startswith(qualified + ".")

    attribute = qualified.rsplit(".", 1)[1]
    saved = {key: module for key, module in sys.modules.items() if ours(key)}
    saved_attribute = getattr(resnet_course, attribute, None)
    for key in saved:
        del sys.modules[key]
    try:
        return importlib.import_module(qualified)
    finally:
        for key in [key for key in sys.modules if ours(key)]:
            del sys.modules[key]
        sys.modules.update(saved)
        if saved_attribute is not None:
            setattr(resnet_course, attribute, saved_attribute)
        elif hasattr(resnet_course, attribute):
            delattr(resnet_course, attribute)


def fresh_checks():
    """A fresh, unpatched copy of :mod:`resnet_course.checks`."""
    return fresh_module("checks")


class TrainingTestFailed(AssertionError):
    """The student's ResNet50 could not be trained to the required accuracy."""


def training_accuracy(ResNet50, identity_block, convolutional_block, threshold: float, recipe=None) -> float:
    """Train the student's ResNet50 with the course's short recipe and check its test accuracy.

    The model's behaviour is verified first (by values, as the ResNet50 check
    does), so a model that computes the wrong function fails in seconds
    instead of spending minutes in training, while a correct model is trained
    even if a cosmetic check (how it was spelled) failed.

    Args:
        ResNet50: The student's model-building function.
        identity_block: The student's identity block (kept for the notebook's call; the
            blocks are judged by what the model they build computes).
        convolutional_block: The student's convolutional block (likewise).
        threshold: The test accuracy (inference mode) to reach.
        recipe: Training recipe; the course's quick recipe by default.

    Returns:
        The test accuracy reached.

    Raises:
        TrainingTestFailed: the architecture is wrong, or the accuracy is below ``threshold``.
    """
    checks = fresh_checks()
    try:  # the model's behaviour decides, so a correct model is trained whatever a cosmetic check said
        checks.verify_resnet50_model(ResNet50(input_shape=(64, 64, 3), classes=6))
    except AssertionError as error:
        raise TrainingTestFailed(f"training skipped: fix the exercises first. {error}") from None

    training = fresh_module("training")
    data = fresh_module("data")
    from .keras_setup import backend_summary

    X_train, Y_train, X_test, Y_test = data.model_inputs(data.load_signs())
    recipe = recipe or training.QUICK_RECIPE
    print(f"training test: {backend_summary()}; recipe: {recipe}")
    start = time.perf_counter()
    model = ResNet50(input_shape=(64, 64, 3), classes=6)
    training.train(model, X_train, Y_train, recipe=recipe, verbose=0)
    accuracy = training.evaluate(model, X_test, Y_test)["accuracy"]
    print(f"training test: test accuracy {accuracy:.3f} (threshold {threshold}) in {time.perf_counter() - start:.0f} s")
    sys.stdout.flush()
    if not accuracy >= threshold:
        raise TrainingTestFailed(
            f"your ResNet50 reached a test accuracy of {accuracy:.3f} after training with the course recipe; "
            f"at least {threshold} is required. The reference solution passes with this recipe, so look for "
            "a mistake the self-checks do not cover (for example in how the blocks are connected)."
        )
    return accuracy


def block_output_shape(block, input_shape, **arguments) -> tuple:
    """Shape (batch omitted) of a block's output when built on a symbolic input.

    Args:
        block: The student's block function.
        input_shape: Shape of one example, e.g. (7, 7, 4).
        **arguments: Passed to the block (f, filters, s, ...).
    """
    from .keras_setup import import_keras, silenced_stderr

    keras = import_keras()
    with silenced_stderr():
        output = block(keras.Input(tuple(input_shape)), **arguments)
    return tuple(int(d) for d in output.shape[1:])


def parameter_counts(model) -> tuple[int, int, int]:
    """(total, trainable, non-trainable) parameter counts, counted here rather than
    with anything the notebook could have replaced."""
    trainable = sum(int(math.prod(w.shape)) for w in model.trainable_weights)
    frozen = sum(int(math.prod(w.shape)) for w in model.non_trainable_weights)
    return trainable + frozen, trainable, frozen


def block_calls(ResNet50) -> dict[str, int]:
    """How often building ResNet50 calls the notebook's own two block functions."""
    checks = fresh_checks()
    _, calls, _ = checks._build_recording_calls(ResNet50, (64, 64, 3), 6)
    counts = {"identity_block": 0, "convolutional_block": 0}
    for call in calls:
        counts[call.kind] = counts.get(call.kind, 0) + 1
    return counts


def stage_output_shapes(ResNet50) -> list[tuple | None]:
    """Shape (batch omitted) of each stage's output, found in the model by its values
    (None for a stage whose reference values no tensor holds)."""
    checks = fresh_checks()
    return checks.stage_output_shapes(ResNet50(input_shape=(64, 64, 3), classes=6))
