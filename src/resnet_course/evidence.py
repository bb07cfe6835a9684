"""Evidence for the grader: what a graded cell hands over, to be judged outside the notebook.

A graded cell of the course notebook does not decide its own points. It
calls one of the ``submit_*`` functions below, which builds the evidence
(the outputs of the student's function on the grader's inputs, or Keras
models saved as JSON configuration) and sends it as a display output of
the cell. After the notebook has run, the grader reads that output,
rebuilds the models as data (``safe_mode``, no custom code) and judges them
in a process the notebook never touched (``resnet_course.grader.judges.judging``).
Nothing here knows what a right answer is.

The grader writes the inputs it chose for this submission to
:data:`CHALLENGE_FILE` in the notebook's folder before the notebook runs.
In a student's own session the file is absent, and the functions do
nothing: the requests sit in the graded cells' hidden tests, which the
student's version of the notebook does not contain, and the self-check
cells say everything a student needs (one message per mistake).
"""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

#: The display output's MIME type; the grader removes these outputs after reading them.
MIME_TYPE = "application/vnd.resnet-course.evidence+json"
CHALLENGE_FILE = ".resnet-course-challenge.json"


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
    """The error as one clean line (Keras' message without its terminal colours), for the judges' messages."""
    from .checks.core import clean_error_text

    return clean_error_text(error, 2000)


def _as_data(value):
    """JSON data for an answer (numpy values become numbers and lists)."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    json.dumps(value)  # raises TypeError for what JSON cannot carry
    return value


def submit_answer(key: str, value) -> None:
    """Hand a short answer (a number, a string, a list) to the grader; nothing outside grading.

    The form of the answer is checked in the student's session by ``resnet_course.answers.check_answer``.
    """
    if challenge(key) is None:
        return
    try:
        payload = {"value": _as_data(value)}
    except (TypeError, ValueError) as error:
        kind = type(value).__name__
        raise TypeError(f"{key}: the answer must be a number, a string or a list of them, not {kind}") from error
    _send(key, payload)


def submit_outputs(key: str, function) -> None:
    """Hand over ``function``'s results on the grader's arguments (each a list of positional arguments)."""
    arguments = challenge(key)
    if arguments is None:
        return
    results = []
    for args in arguments:
        try:
            results.append({"value": _as_data(function(*args))})
        except Exception as error:  # the student's function failed on this input
            results.append({"error": _error_text(error)})
    _send(key, {"results": results})


def _model_json(build) -> dict:
    """The configuration of the model ``build`` returns, or the error building it raised.

    Only the configuration leaves the kernel, so the model is built without its initial weights
    where it can be (``deferred_weights.build_without_initial_weights``).
    """
    from .deferred_weights import build_without_initial_weights
    from .keras_setup import silenced_stderr

    try:
        with silenced_stderr():
            return {"config": build_without_initial_weights(build).to_json()}
    except Exception as error:
        return {"error": _error_text(error)}


def submit_block(key: str, block, quiet: bool = False) -> None:
    """Hand over the block built for each of the grader's cases, with ``training=True`` and ``False``.

    Each case gives ``f``, ``filters``, ``input_shape`` (one example) and, for
    the convolutional block, ``s``; the block is called on a ``keras.Input``
    with the initializer the grader names, and each result saved as a model.
    Outside grading it does nothing (``quiet`` is kept for the notebooks that pass it).
    """
    cases = challenge(key)
    if cases is None:
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


def _initializer(keras, spec: dict):
    """The initializer class the grader chose, callable as ``initializer(seed=0)`` like Keras' own."""
    stddev = float(spec.get("stddev", 0.05))

    def initializer(seed=None):
        return keras.initializers.RandomNormal(stddev=stddev, seed=seed)

    return initializer


#: Configurations already built in this kernel, per (function, arguments): the graded cells
#: ask for the same models several times, and each build of ResNet50 runs hundreds of layer calls.
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
    at each stage's sizes, so that ResNet50 is judged with the student's own blocks. Nothing outside grading."""
    asked = challenge(key)
    if asked is None:
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
    if seed is None:
        return
    from . import bn_exercise

    try:
        payload = {"statistics": bn_exercise.run_on_challenge(function, int(seed))}
    except Exception as error:
        payload = {"error": _error_text(error)}
    _send(key, payload)
