"""The block checks: values against the numpy reference, and the verify/check entry points.

``verify_identity_block`` and ``verify_convolutional_block`` call the
student's function (in the kernel); :func:`verify_block_models` judges
block models already built (for example rebuilt from their JSON config
outside the kernel) and never calls student code. Both compare outputs
with the reference for training=True and training=False, and on a mismatch
try the numpy variants of known mistakes and name the one that matches.

Keras 3 records a ``training=`` value given when a layer is called on a
symbolic tensor in the functional graph (and in its JSON config); a plain
``model(x)`` call uses it, and an explicit ``model(x, training=...)``
overrides it. The in-kernel check therefore calls the block eagerly with
each ``training`` value, and :func:`verify_block_models` calls each built
model without a ``training`` argument, so that both see what the block did
with its argument.
"""

from __future__ import annotations

from ..grading import skipped_while_autograding
from .block_case import _BlockCase, _make_case
from .block_structure import (
    _check_addition_and_output,
    _check_batch_norms,
    _check_convolutions,
    _check_parameters_and_kernels,
)
from .block_values import _check_values, _judge_values
from .core import (
    _UNFINISHED,
    SelfCheckError,
    _asarray,
    _attempt,
    _error_text,
    _fail,
    _float64,
    _print,
    _run_check,
    keras,
)
from .graph import _Graph
from .weights import assign_weights, make_initializer

#: The checks a block must pass, in the order they run.
BLOCK_CHECKS = (
    "runs on a keras.Input and returns a tensor",
    "convolutions: kernel size, filters, stride, padding",
    "a BatchNormalization on the channel axis after every convolution",
    "the shortcut is added and the output shape is right",
    "parameter count",
    "every kernel comes from the initializer argument",
    "output values with training=True",
    "output values with training=False",
)


def _report_build_failure(case: _BlockCase, inputs, error: Exception):
    """Explain an error raised while building the block symbolically.

    The part of the graph built before the error is checked first, since a
    wrong stride or padding is the usual reason the addition fails.
    """
    error_text = _error_text(error)
    graph = _Graph(inputs)
    # A shape error usually comes from the addition, after all the layers were built.
    complete = "shape" in str(error).lower()
    if graph.of_type(keras.layers.Conv2D):
        try:
            conv_pairs = _check_convolutions(case, graph, complete)
            _check_batch_norms(case, graph, conv_pairs, complete)
        except SelfCheckError as found:
            raise SelfCheckError(f"{found}\n  (calling it on a keras.Input raised {error_text})") from None
    hint = "read the error; check what each layer is applied to"
    if isinstance(error, NotImplementedError):
        hint = _UNFINISHED
    elif complete:
        shortcut = (
            "the shortcut is the 1x1 convolution (F3 filters, strides=s) of the block's input X, "
            "then BatchNormalization"
            if case.projection
            else "the shortcut is the block's input X, saved as X_shortcut before the main path changes X"
        )
        hint = (
            "the main path and the shortcut must have the same shape when they are added: "
            f"1x1 convolutions use padding='valid', the f x f one padding='same'; {shortcut}"
        )
    _fail(case.name, "calling it on a keras.Input raised an error.", got=error_text, hint=hint, case=case.describe())


def _build_symbolically(case: _BlockCase, block, initializer):
    """Call the block on a keras.Input and wrap it in a keras.Model.

    Returns:
        (graph, output, model); output and model are None when the call
        failed, and the structural checks of the partial graph run first.
    """
    inputs = keras.Input(shape=case.input_shape[1:])
    output, failure = _attempt(case.call, block, inputs, True, initializer)
    if failure is not None:
        _report_build_failure(case, inputs, failure)
    if output is None or not keras.backend.is_keras_tensor(output):
        _fail(
            case.name,
            "it did not return a Keras tensor.",
            expected="the block's output tensor",
            got=repr(output)[:100],
            hint="end the function with `return X`",
            case=case.describe(),
        )
    graph = _Graph(inputs)
    model, error = _attempt(keras.Model, inputs, output)
    if error is not None:
        _fail(
            case.name,
            "its output is not computed from its input X.",
            got=_error_text(error),
            hint="every layer must be applied to X (or to what was computed from X)",
            case=case.describe(),
        )
    return graph, output, model


def _verify_block(case: _BlockCase, block) -> int:
    initializer = make_initializer(case.seed)
    graph, output, model = _build_symbolically(case, block, initializer)
    conv_pairs = _check_convolutions(case, graph)
    _check_batch_norms(case, graph, conv_pairs)
    _check_addition_and_output(case, graph, output)
    _check_parameters_and_kernels(case, model, conv_pairs)
    _check_values(case, block, initializer)
    return len(BLOCK_CHECKS)


def verify_identity_block(identity_block, *, f=3, filters=(2, 4, 3), input_shape=(4, 6, 5, 3), seed=0) -> int:
    """Check an ``identity_block`` implementation on one set of arguments.

    Args:
        identity_block: The function to check, with the notebook's signature.
        f: Window size of the middle convolution.
        filters: (F1, F2, F3); F3 must equal the input's channel count.
        input_shape: (batch, height, width, channels) of the test input.
        seed: Chooses the input and kernel values.

    Returns:
        The number of checks passed.

    Raises:
        SelfCheckError: With a description of the first problem found.
    """
    case = _make_case(
        "identity_block", f=f, filters=filters, stride=1, input_shape=input_shape, seed=seed, projection=False
    )
    return _verify_block(case, identity_block)


def verify_convolutional_block(
    convolutional_block, *, f=3, filters=(2, 4, 5), s=2, input_shape=(4, 6, 5, 3), seed=0
) -> int:
    """Check a ``convolutional_block`` implementation on one set of arguments.

    Args:
        convolutional_block: The function to check, with the notebook's signature.
        f: Window size of the middle convolution.
        filters: (F1, F2, F3).
        s: Stride of the first main-path convolution and of the shortcut.
        input_shape: (batch, height, width, channels) of the test input.
        seed: Chooses the input and kernel values.

    Returns:
        The number of checks passed.

    Raises:
        SelfCheckError: With a description of the first problem found.
    """
    case = _make_case(
        "convolutional_block", f=f, filters=filters, stride=s, input_shape=input_shape, seed=seed, projection=True
    )
    return _verify_block(case, convolutional_block)


def _layer_by_layer(model, x):
    """``model`` on ``x``, each layer called on its own with the arguments it was built with.

    A plain ``model(x)`` runs every layer inside the model's one call, where the first layer
    called with an explicit ``training`` sets it for the layers after it that were called
    without: a block that passes ``training`` to its first BatchNormalization only would
    compute like the reference. Called on its own, each layer gets what its own call in the
    block said, as it does when the student's block runs on a concrete tensor.
    """
    return model.call(keras.ops.convert_to_tensor(x))


def verify_block_models(kind: str, built: dict, *, f, filters, s=1, input_shape, seed=0) -> int:
    """Judge block models that were already built, without calling any student code.

    The models come from calling the block on ``keras.Input(input_shape[1:])``
    with training=True and with training=False (and the default
    initializer), possibly rebuilt from their JSON config since. The check
    sets every weight itself (kernels as :func:`~.weights.deterministic_kernel`
    gives them, the other weights as a fresh layer has them) and compares a
    plain ``model(x)`` call, without a ``training`` argument, with the numpy
    reference: the mode must come from how the block was built.

    Args:
        kind: "identity_block" or "convolutional_block".
        built: ``{True: model, False: model}``, keyed by the ``training`` value used to build it.
        f: Window size of the middle convolution.
        filters: (F1, F2, F3).
        s: Stride (convolutional block only).
        input_shape: (batch, height, width, channels) of the test input.
        seed: Chooses the input and kernel values.

    Returns:
        The number of checks passed.

    Raises:
        SelfCheckError: With a description of the first problem found.
        ValueError: ``kind`` or the arguments are not a valid case.
    """
    if kind not in ("identity_block", "convolutional_block"):
        raise ValueError(f"kind must be 'identity_block' or 'convolutional_block', not {kind!r}")
    projection = kind == "convolutional_block"
    case = _make_case(
        kind,
        f=f,
        filters=filters,
        stride=s if projection else 1,
        input_shape=input_shape,
        seed=seed,
        projection=projection,
    )
    x = case.input_values()
    outputs = {}
    for training in (True, False):
        model = built.get(training)
        if not isinstance(model, keras.Model) or len(model.inputs) != 1 or len(model.outputs) != 1:
            _fail(
                case.name,
                f"the block built with training={training} is not a one-input, one-output model.",
                got=type(model).__name__,
                case=case.describe(),
            )
        graph = _Graph(model.inputs[0])
        conv_pairs = _check_convolutions(case, graph)
        _check_batch_norms(case, graph, conv_pairs)
        _check_addition_and_output(case, graph, model.outputs[0])
        _check_parameters_and_kernels(case, model, conv_pairs, kernels=False)
        assign_weights(model, case.seed, fresh_except_kernels=True)
        result, error = _attempt(lambda: keras.ops.convert_to_numpy(_layer_by_layer(model, x)))
        if error is not None:
            _fail(
                case.name,
                f"calling the block built with training={training} on a concrete tensor raised an error.",
                got=_error_text(error),
                hint="use only Keras layers and keras.ops inside the block",
                case=case.describe(),
            )
        outputs[training] = _asarray(result).astype(_float64)
    _judge_values(case, x, outputs)
    return len(BLOCK_CHECKS)


@skipped_while_autograding("identity_block")
def check_identity_block(identity_block) -> None:
    """Check ``identity_block``; print one line on success, raise SelfCheckError otherwise."""
    __tracebackhide__ = True
    count = _run_check(verify_identity_block, identity_block, f=3, filters=(2, 4, 3), input_shape=(4, 6, 5, 3), seed=0)
    _print(f"identity_block: all {count} checks passed.")


@skipped_while_autograding("convolutional_block")
def check_convolutional_block(convolutional_block) -> None:
    """Check ``convolutional_block``; print one line on success, raise SelfCheckError otherwise."""
    __tracebackhide__ = True
    count = _run_check(
        verify_convolutional_block, convolutional_block, f=3, filters=(2, 4, 5), s=2, input_shape=(4, 6, 5, 3), seed=0
    )
    _print(f"convolutional_block: all {count} checks passed.")
