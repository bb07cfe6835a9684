"""The ResNet50 check: the model's values against the numpy reference, checkpoint by checkpoint.

How a model is judged (:func:`verify_resnet50_model`, which never calls
student code, so it also judges a model rebuilt from its JSON config):

1. Every weight is set by the check from its role and shape
   (:func:`~.weights.assign_weights`), so the order in which the layers
   were created does not matter.
2. One call of a model that outputs every intermediate tensor gives all the
   values at once; the stem's output, each stage's output, the head's
   pooled features and the probabilities of the reference
   (:func:`~.resnet50_reference.reference_checkpoints`) are then looked up
   among them by value. Any combination of layers that computes the
   reference function passes.
3. The first checkpoint not found is where the model diverges; the message
   names it, gives the closest tensor of the expected shape (or the shapes
   found there) and, when a numpy variant of a known mistake matches one of
   the model's tensors, names that mistake.

Both modes are exercised with ``model(x, training=False)`` and
``model(x, training=True)``. An explicit ``training`` argument overrides a
``training=`` value hard-coded into a layer call when the graph was built,
exactly as ``fit``, ``predict`` and ``evaluate`` do. Keras 3 does record such
a hard-coded value in the functional graph (and in its JSON config), and a
plain ``model(x)`` call uses it. The course's own model has one: the blocks'
default ``training=True`` is baked into every block's BatchNormalization.
Such a model trains and predicts correctly, so the check passes it
quietly: the student's self-check prints no note about it (section 6 of the
notebook teaches what a plain ``model(x)`` call does), and
:func:`verify_resnet50_model` hands the explanation (:func:`training_note`)
only to a caller that asks for notes.

``verify_resnet50`` (in the student's kernel) builds the model once with
recording blocks (:mod:`.diagnoses`) and judges it as above; the findings
about the block calls explain a mismatch or become a note, and the
parameter counts remain a check (a correct model always has them).
"""

from __future__ import annotations

import inspect

from ..grading import skipped_while_autograding
from .core import (
    SelfCheckError,
    _attempt,
    _count_parameters,
    _difference,
    _error_text,
    _fail,
    _print,
    _quiet,
    _run_check,
    keras,
)
from .diagnoses import _build_recording_calls, _with_diagnosis, diagnose_calls
from .probe import _Probe, training_note
from .resnet50_reference import (
    CHECKPOINTS,
    RESNET50_STAGES,
    reference_checkpoints,
    reference_images,
    resnet50_parameter_counts,
    variant_values,
)
from .weights import assign_weights

#: Largest accepted max-abs difference at a checkpoint, relative to max(1, max |expected|):
#: looser than the blocks' tolerance because float32 rounding adds up over 50 layers.
RESNET50_TOLERANCE = 1e-3

RESNET50_CHECKS = (
    "input and output shapes",
    "the stem's output values, training=True and False",
    "the output values of stages 2 to 5",
    "the head's pooled features",
    "the output probabilities",
    "parameter counts",
)

_PLACES = {
    "stem": "the stem's output (after the max-pooling)",
    "head": "the head's pooled features (after the average pooling and Flatten)",
    "probabilities": "the probabilities (the model's output)",
}
_STEM = (
    "the stem is ZeroPadding2D((3, 3)) -> Conv2D(64, (7, 7), strides=(2, 2)) -> BatchNormalization(axis=3) "
    "-> ReLU -> MaxPooling2D((3, 3), strides=(2, 2))"
)


def _place(checkpoint: str) -> str:
    return _PLACES.get(checkpoint, f"{checkpoint}'s output")


def _generic_hint(checkpoint: str) -> str:
    """What to look at when no known mistake explains a mismatch."""
    if checkpoint == "stem":
        return _STEM
    if checkpoint.startswith("stage"):
        stage = RESNET50_STAGES[int(checkpoint.split()[1]) - 2]
        return (
            f"stage {stage.number} is convolutional_block(X, f=3, filters={list(stage.filters)}, s={stage.stride}) "
            f"then {stage.identity_blocks} identity blocks with the same filters, each applied to the previous "
            "block's output; run the identity_block and convolutional_block checks too"
        )
    if checkpoint == "head":
        return "after stage 5 comes AveragePooling2D(pool_size=(2, 2)), then Flatten"
    return "the last layer is Dense(classes, activation='softmax'), applied to the flattened features"


def _check_model_io(model, input_shape, classes):
    """It is a keras.Model with the right input and output shapes."""
    if not isinstance(model, keras.Model):
        _fail("ResNet50", "it did not return a keras.Model.", got=type(model).__name__, hint="end with `return model`")
    got_in = tuple(model.inputs[0].shape) if len(model.inputs) == 1 else tuple(t.shape for t in model.inputs)
    got_out = tuple(model.outputs[0].shape) if len(model.outputs) == 1 else tuple(t.shape for t in model.outputs)
    if got_in != (None, *input_shape):
        _fail(
            "ResNet50",
            "the model's input has the wrong shape.",
            expected=str((None, *input_shape)),
            got=str(got_in),
            hint="start with X_input = keras.Input(input_shape) and use it as the model's input",
        )
    if got_out != (None, classes):
        _fail(
            "ResNet50",
            "the model's output has the wrong shape.",
            expected=str((None, classes)),
            got=str(got_out),
            hint="end with AveragePooling2D(2) -> Flatten -> Dense(classes, activation='softmax')",
        )


def _check_parameter_counts(model, input_shape, classes):
    """Total, trainable and non-trainable counts, each with its difference."""
    expected = resnet50_parameter_counts(input_shape, classes)
    got = _count_parameters(model)
    if got != expected:
        labels = ("total", "trainable", "non-trainable")
        _fail(
            "ResNet50",
            "the parameter counts are wrong.",
            expected=", ".join(f"{label} {value:,}" for label, value in zip(labels, expected)),
            got=", ".join(
                f"{label} {value:,} ({value - want:+,})" for label, value, want in zip(labels, got, expected)
            ),
            hint="a layer is missing, added or sized differently (Conv2D with use_bias, BatchNormalization with "
            "defaults); the identity_block and convolutional_block checks find mistakes inside the blocks",
        )


def _closest(expected, values, names, start) -> str:
    """The tensor of the expected shape nearest to the reference, or the shapes found."""
    same = [(_difference(value, expected), name) for value, name in zip(values, names) if value.shape == expected.shape]
    if same:
        difference, name = min(same)
        return f"closest tensor of that shape: {name}, max relative difference {difference:.3g}"
    shapes = []
    for value in values[start:]:
        if tuple(value.shape[1:]) not in shapes:
            shapes.append(tuple(value.shape[1:]))
    listed = ", ".join(str(shape) for shape in shapes[:6]) + (", ..." if len(shapes) > 6 else "")
    return f"no tensor of shape {tuple(expected.shape[1:])}; the next shapes in the model are {listed or 'none'}"


def _known_mistake(checkpoint, x, reference, values, classes, seed, training) -> str:
    """The known mistake whose numpy variant matches one of the model's tensors, or ""."""
    if checkpoint not in ("stem", "head", "probabilities"):
        return ""
    for hint, variant in variant_values(checkpoint, x, reference, classes, seed, training):
        if any(_difference(value, variant) <= RESNET50_TOLERANCE for value in values):
            return hint
    return ""


def _judge_mode(probe, values, x, classes, seed, training, checkpoints, case):
    """Look up every checkpoint among the model's ``values`` in one mode; fail at the first one not found."""
    reference = reference_checkpoints(x, classes, seed, training)
    start, matched = 0, []
    for checkpoint in checkpoints:
        expected = reference[checkpoint]
        pool = values[-1:] if checkpoint == "probabilities" else values
        found = [index for index, value in enumerate(pool) if _difference(value, expected) <= RESNET50_TOLERANCE]
        if found:
            start, matched = max(start, found[0] + 1), [*matched, checkpoint]
            continue
        agreed = f" ({', '.join(matched)} match)" if matched else ""
        _fail(
            "ResNet50",
            f"the values first differ from the reference at {_place(checkpoint)}, with training={training}.",
            expected=f"a tensor of shape {tuple(expected.shape)} with the reference's values{agreed}",
            got=_closest(expected, pool, probe.names[-len(pool) :], start if len(pool) > 1 else 0),
            hint=_known_mistake(checkpoint, x, reference, values, classes, seed, training) or _generic_hint(checkpoint),
            case=case,
        )


def verify_resnet50_model(
    model, *, input_shape=(64, 64, 3), classes=6, seed=0, scope="all", notes: list | None = None
) -> int:
    """Judge a built ResNet50 model by its values, without calling any student code.

    Args:
        model: A keras.Model (built in the kernel, or rebuilt from its JSON config).
        input_shape: Shape of one image the model was built for.
        classes: Number of classes.
        seed: Chooses the weights and the two test images.
        scope: "stages" checks the stem and stages 2 to 5; "all" also the head and the probabilities.
        notes: When given, explanations that do not fail the model (a hard-coded ``training``) are appended.

    Returns:
        The number of checks passed.

    Raises:
        SelfCheckError: With the first place where the values differ from the reference.
        ValueError: ``scope`` is neither "stages" nor "all".
    """
    if scope not in ("stages", "all"):
        raise ValueError(f"scope must be 'stages' or 'all', not {scope!r}")
    input_shape = tuple(int(v) for v in input_shape)
    _check_model_io(model, input_shape, classes)
    checkpoints = CHECKPOINTS if scope == "all" else CHECKPOINTS[:5]
    x = reference_images(input_shape, seed)
    case = f"weights set by the check from each weight's shape, on 2 images of shape {input_shape}"
    probe = _Probe(model)
    for training in (False, True):
        assign_weights(model, seed)  # before each mode: a call with training=True updates the moving averages
        values, error = _attempt(probe.values, x, training)
        if error is not None:
            _fail(
                "ResNet50",
                f"calling the model on two images with training={training} raised an error.",
                got=_error_text(error),
                hint="every layer must work on ordinary tensors as well as on keras.Input",
            )
        with _quiet():
            _judge_mode(probe, values, x, classes, seed, training, checkpoints, case)
    note = training_note(model)
    if note and notes is not None:
        notes.append(note)
    return 3 if scope == "stages" else 5


def verify_resnet50(ResNet50, *, input_shape=(64, 64, 3), classes=6, notes: list | None = None) -> int:
    """Check a ``ResNet50`` implementation, building the model once.

    The notebook's ``identity_block`` and ``convolutional_block`` (looked up
    in ``ResNet50.__globals__``) are replaced by recording wrappers while the
    model is built, and restored afterwards; what they record is a diagnosis
    only (see the module docstring).

    Args:
        ResNet50: The function to check, with the notebook's signature.
        input_shape: Shape of one image.
        classes: Number of classes.
        notes: When given, explanations that do not fail the model are appended.

    Returns:
        The number of checks passed.

    Raises:
        SelfCheckError: With a description of the first problem found.
    """
    input_shape = tuple(int(v) for v in input_shape)
    model, calls, missing = _build_recording_calls(ResNet50, input_shape, classes)
    finding = diagnose_calls(calls, missing)
    try:
        count = verify_resnet50_model(model, input_shape=input_shape, classes=classes)
    except SelfCheckError as error:
        raise SelfCheckError(_with_diagnosis(str(error), finding)) from None
    _check_parameter_counts(model, input_shape, classes)
    if finding is not None and notes is not None:
        notes.append(
            f"{str(finding).splitlines()[0].removeprefix('ResNet50: ')} Your model computes the right function; "
            "this is only how the notebook asks for it to be built."
        )
    return count + 1


def _failing_blocks(ResNet50) -> list[str]:
    """The notebook's blocks (found where ResNet50 finds them) that fail their own public check."""
    from .blocks import verify_convolutional_block, verify_identity_block

    failing = []
    namespace = getattr(ResNet50, "__globals__", {})
    for name, verify in (
        ("identity_block", verify_identity_block),
        ("convolutional_block", verify_convolutional_block),
    ):
        block = namespace.get(name)
        if block is None:
            continue
        try:
            with _quiet():
                verify(block)
        except Exception:  # any failure of the block: its own cell says what it is
            failing.append(name)
    return failing


def _unwritten(function) -> bool:
    """Whether ``function`` is still the released placeholder (its own check then says so)."""
    try:
        return "raise NotImplementedError" in inspect.getsource(function)
    except (OSError, TypeError):
        return False


@skipped_while_autograding("ResNet50")
def check_resnet50(ResNet50) -> None:
    """Check ``ResNet50``; print one line on success (and any notes), raise SelfCheckError otherwise.

    While one of the notebook's blocks still fails its own check, ResNet50 cannot
    match the reference, and saying so would blame it for the block's mistake:
    the check then says which block to fix first and stops there. (The grader
    judges ResNet50 with the student's own blocks, so it costs ResNet50 nothing.)
    """
    __tracebackhide__ = True
    failing = _failing_blocks(ResNet50) if not _unwritten(ResNet50) else []
    if failing:
        one = len(failing) == 1
        _print(
            f"skipped: ResNet50 is compared with the reference once {' and '.join(failing)} "
            f"pass{'es' if one else ''} {'its' if one else 'their'} own check; see the self-check above."
        )
        return
    notes = []
    count = _run_check(verify_resnet50, ResNet50, input_shape=(64, 64, 3), classes=6, notes=notes)
    _print(f"ResNet50: all {count} checks passed.")
    for note in notes:
        _print(f"  note: {note}")


def stage_output_shapes(model, *, input_shape=(64, 64, 3), classes=6, seed=0) -> list:
    """Shape (batch omitted) of the tensor holding each stage's reference values, None where none does."""
    input_shape = tuple(int(v) for v in input_shape)
    x = reference_images(input_shape, seed)
    assign_weights(model, seed)
    values = _Probe(model).values(x, False)
    reference = reference_checkpoints(x, classes, seed, False)
    shapes = []
    for stage in RESNET50_STAGES:
        expected = reference[f"stage {stage.number}"]
        found = any(_difference(value, expected) <= RESNET50_TOLERANCE for value in values)
        shapes.append(tuple(int(d) for d in expected.shape[1:]) if found else None)
    return shapes
