"""Evidence for the grader: what a graded cell hands over, to be judged outside the notebook.

A graded cell of the course notebook does not decide its own points. It
calls one of the ``submit_*`` functions below, which builds the evidence
(the outputs of the student's function on the grader's inputs, or Keras
models saved as JSON configuration) and sends it as a display output of
the cell. After the notebook has run, the grader reads that output,
rebuilds the models as data (``safe_mode``, no custom code) and judges them
in a process the notebook never touched (``resnet_course.grader.judging``).
Nothing here knows what a right answer is.

The grader writes the inputs it chose for this submission to
:data:`CHALLENGE_FILE` in the notebook's folder before the notebook runs.
In a student's own session the file is absent: the functions then only
run the student's code once on a small case, so that an unfinished or
crashing function shows as an error here, and say that the grader checks
the cell.
"""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

#: The display output's MIME type; the grader removes these outputs after reading them.
MIME_TYPE = "application/vnd.resnet-course.evidence+json"
CHALLENGE_FILE = ".resnet-course-challenge.json"
NOT_GRADING = "The grader checks this cell when it grades your notebook."


def challenge(key: str):
    """The grader's inputs for ``key``, or None outside grading."""
    path = Path(CHALLENGE_FILE)
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text()).get(key)
    except (OSError, ValueError):
        return None


def encode(payload) -> dict:
    """The display bundle carrying ``payload`` (JSON data, compressed)."""
    data = zlib.compress(json.dumps(payload).encode(), 6)
    return {"encoding": "zlib+base64", "data": base64.b64encode(data).decode("ascii")}


def _send(key: str, payload) -> None:
    from IPython.display import display

    display({MIME_TYPE: {"key": key, **encode(payload)}, "text/plain": f"[evidence for the grader: {key}]"}, raw=True)


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:2000]


def _as_data(value):
    """JSON data for an answer (numpy values become numbers and lists)."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    json.dumps(value)  # raises TypeError for what JSON cannot carry
    return value


def submit_answer(key: str, value) -> None:
    """Hand a short answer (a number, a string, a list) to the grader."""
    if value is None and challenge(key) is None:
        raise ValueError(f"{key} is still None: replace None with your answer")
    try:
        payload = {"value": _as_data(value)}
    except (TypeError, ValueError) as error:
        kind = type(value).__name__
        raise TypeError(f"{key}: the answer must be a number, a string or a list of them, not {kind}") from error
    if challenge(key) is None:  # the value was still checked: an answer JSON cannot carry fails now
        print(NOT_GRADING)
        return
    _send(key, payload)


def submit_outputs(key: str, function) -> None:
    """Hand over ``function``'s results on the grader's arguments (each a list of positional arguments)."""
    arguments = challenge(key)
    if arguments is None:
        print(NOT_GRADING)
        return
    results = []
    for args in arguments:
        try:
            results.append({"value": _as_data(function(*args))})
        except Exception as error:  # the student's function failed on this input
            results.append({"error": _error_text(error)})
    _send(key, {"results": results})


def _model_json(build) -> dict:
    from .keras_setup import silenced_stderr

    try:
        with silenced_stderr():
            return {"config": build().to_json()}
    except Exception as error:
        return {"error": _error_text(error)}


def submit_block(key: str, block, quiet: bool = False) -> None:
    """Hand over the block built for each of the grader's cases, with ``training=True`` and ``False``.

    Each case gives ``f``, ``filters``, ``input_shape`` (one example) and, for
    the convolutional block, ``s``; the block is called on a ``keras.Input``
    with the initializer the grader names, and each result saved as a model.
    """
    cases = challenge(key)
    if cases is None:
        if not quiet:  # a quiet request sits in a self-check cell, whose check says more
            _smoke_test_block(block)
            print(NOT_GRADING)
        return
    from .keras_setup import import_keras

    keras = import_keras()
    built = []
    for case in cases:
        arguments = {"f": case["f"], "filters": list(case["filters"])}
        if "s" in case:
            arguments["s"] = case["s"]
        initializer = _initializer(keras, case.get("initializer", {}))
        models = {}
        for training in (True, False):

            def build(training=training):
                inputs = keras.Input(tuple(case["input_shape"]))
                outputs = block(inputs, training=training, initializer=initializer, **arguments)
                return keras.Model(inputs, outputs)

            models[str(training).lower()] = _model_json(build)
        built.append(models)
    _send(key, {"cases": built})


def _smoke_test_block(block) -> None:
    """Build the block once on a small input (both blocks accept these arguments); errors propagate."""
    from .keras_setup import import_keras, silenced_stderr

    keras = import_keras()
    with silenced_stderr():
        block(keras.Input((6, 6, 3)), f=3, filters=[2, 4, 3])


def _initializer(keras, spec: dict):
    """The initializer class the grader chose, callable as ``initializer(seed=0)`` like Keras' own."""
    stddev = float(spec.get("stddev", 0.05))

    def initializer(seed=None):
        return keras.initializers.RandomNormal(stddev=stddev, seed=seed)

    return initializer


#: Configurations already built in this kernel, per (function, arguments): the graded cells
#: ask for the same models several times, and building ResNet50 takes seconds.
_BUILT: dict = {}


def _built_once(function, arguments: tuple, build) -> dict:
    key = (id(function), arguments)
    if key not in _BUILT or _BUILT[key][0] is not function:
        _BUILT[key] = (function, _model_json(build))
    return _BUILT[key][1]


def _block_model(keras, block, case: dict) -> dict:
    """The student's block alone, as ResNet50 would call it at one stage (default training and initializer)."""
    arguments = {"f": case["f"], "filters": list(case["filters"])}
    if "s" in case:
        arguments["s"] = case["s"]

    def build():
        inputs = keras.Input(tuple(case["input_shape"]))
        return keras.Model(inputs, block(inputs, **arguments))

    return _built_once(block, tuple(sorted((k, str(v)) for k, v in case.items())), build)


def submit_resnet50(key: str, ResNet50, identity_block, convolutional_block, quiet: bool = False) -> None:
    """Hand over the model ``ResNet50`` builds for each of the grader's sizes, and the two blocks alone
    at each stage's sizes, so that ResNet50 is judged with the student's own blocks."""
    asked = challenge(key)
    if asked is None:
        if quiet:  # in a self-check cell, whose check says more
            return
        if "error" in _built_once(ResNet50, ((64, 64, 3), 6), lambda: ResNet50((64, 64, 3), 6)):
            _BUILT.pop((id(ResNet50), ((64, 64, 3), 6)))
            ResNet50((64, 64, 3), 6)  # raise the error here, where the student sees it
        print(NOT_GRADING)
        return
    from .keras_setup import import_keras

    keras = import_keras()
    blocks = {"identity_block": identity_block, "convolutional_block": convolutional_block}
    models, block_models = [], []
    for (shape, classes), cases in zip(asked["sizes"], asked["blocks"]):
        models.append(_built_once(ResNet50, (tuple(shape), classes), lambda: ResNet50(tuple(shape), classes)))
        block_models.append([_block_model(keras, blocks[case["kind"]], case) for case in cases])
    _send(key, {"models": models, "blocks": block_models})


def submit_recompute(key: str, function) -> None:
    """Hand over what the student's BatchNorm recompute makes of the grader's model and data."""
    seed = challenge(key)
    from . import bn_exercise

    if seed is None:
        tried = bn_exercise.run_on_challenge(function, 0)
        if "error" in tried:
            raise RuntimeError(f"{key}: your function raised {tried['error']}")
        print(NOT_GRADING)
        return

    try:
        payload = {"statistics": bn_exercise.run_on_challenge(function, int(seed))}
    except Exception as error:
        payload = {"error": _error_text(error)}
    _send(key, payload)
