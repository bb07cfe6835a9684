"""The kernel side of the BatchNorm-recompute exercise: a small challenge model, and its self-check.

The student writes ``recompute_batchnorm(model, X)``, which sets every BatchNormalization layer's moving
mean and variance to the statistics of that layer's inputs over all of ``X`` taken as one batch (the layers
before it normalising with batch statistics, as in training), and leaves each layer's momentum as it was.

:func:`run_on_challenge` builds a small model whose weights, stale moving statistics and data all come from
a seed, calls the student's function on it and returns what the BatchNorm layers then hold, as plain JSON
data. The grader chooses the seed and judges that evidence itself (it recomputes the statistics from
:func:`challenge_arrays` with NumPy), so nothing computed here is trusted. :func:`check_recompute_batchnorm`
is the in-kernel self-check: it compares the model's inference and training modes on X, so no recompute of
the course's is needed (or reachable) in the kernel.
"""

from __future__ import annotations

import numpy as np

from .grading import skipped_while_autograding

IMAGES, SIZE, CHANNELS, HIDDEN, OUTPUTS = 48, 4, 3, 4, 5
EPSILON = 1e-3  # Keras' BatchNormalization default, which the challenge model keeps
MOMENTUM = 0.99


def challenge_arrays(seed: int) -> dict[str, np.ndarray]:
    """Data and weights of the challenge model, from NumPy alone (the grader rebuilds them from the seed).

    The model is Conv 1x1 (``w1``) -> BatchNorm (``gamma1``, ``beta1``) -> ReLU -> Conv 1x1 (``w2``) ->
    BatchNorm; no biases. Its moving statistics start at stale values (``stale_*``), not at 0 and 1, so that
    leaving them alone or nudging them once is visibly wrong.
    """
    rng = np.random.default_rng(seed)
    return {
        "x": rng.normal(0.5, 2.0, (IMAGES, SIZE, SIZE, CHANNELS)).astype(np.float32),
        "w1": rng.normal(0.0, 1.0, (CHANNELS, HIDDEN)).astype(np.float32),
        "gamma1": rng.uniform(0.5, 1.5, HIDDEN).astype(np.float32),
        "beta1": rng.normal(0.0, 0.5, HIDDEN).astype(np.float32),
        "w2": rng.normal(0.0, 1.0, (HIDDEN, OUTPUTS)).astype(np.float32),
        "stale_mean1": rng.normal(0.0, 1.0, HIDDEN).astype(np.float32),
        "stale_variance1": rng.uniform(2.0, 4.0, HIDDEN).astype(np.float32),
        "stale_mean2": rng.normal(0.0, 1.0, OUTPUTS).astype(np.float32),
        "stale_variance2": rng.uniform(2.0, 4.0, OUTPUTS).astype(np.float32),
    }


def challenge_model(arrays: dict[str, np.ndarray]):
    """The Keras model described by :func:`challenge_arrays`."""
    from .keras_setup import import_keras

    keras = import_keras()
    layers = keras.layers
    inputs = keras.Input(arrays["x"].shape[1:])
    conv1 = layers.Conv2D(HIDDEN, 1, use_bias=False, name="conv_1")
    bn1 = layers.BatchNormalization(axis=3, momentum=MOMENTUM, epsilon=EPSILON, name="batchnorm_1")
    conv2 = layers.Conv2D(OUTPUTS, 1, use_bias=False, name="conv_2")
    bn2 = layers.BatchNormalization(axis=3, momentum=MOMENTUM, epsilon=EPSILON, name="batchnorm_2")
    outputs = bn2(conv2(layers.Activation("relu")(bn1(conv1(inputs)))))
    model = keras.Model(inputs, outputs, name="batchnorm_challenge")
    conv1.kernel.assign(arrays["w1"].reshape(1, 1, CHANNELS, HIDDEN))
    conv2.kernel.assign(arrays["w2"].reshape(1, 1, HIDDEN, OUTPUTS))
    bn1.gamma.assign(arrays["gamma1"])
    bn1.beta.assign(arrays["beta1"])
    for layer, index in ((bn1, 1), (bn2, 2)):
        layer.moving_mean.assign(arrays[f"stale_mean{index}"])
        layer.moving_variance.assign(arrays[f"stale_variance{index}"])
    return model


def _batchnorm_state(model) -> list[dict]:
    from .keras_setup import import_keras

    keras = import_keras()
    return [
        {
            "name": layer.name,
            "moving_mean": [float(v) for v in keras.ops.convert_to_numpy(layer.moving_mean)],
            "moving_variance": [float(v) for v in keras.ops.convert_to_numpy(layer.moving_variance)],
            "momentum": float(layer.momentum),
        }
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]


def run_on_challenge(function, seed: int) -> dict:
    """Call ``function(model, X)`` on the seed's challenge and return the BatchNorm layers' state afterwards.

    Returns:
        ``{"seed": seed, "layers": [{"name", "moving_mean", "moving_variance", "momentum"}, ...]}`` in
        layer order, or ``{"seed": seed, "error": "<exception type>: <message>"}`` when the function raised.
    """
    arrays = challenge_arrays(seed)
    model = challenge_model(arrays)
    try:
        function(model, arrays["x"])
    except Exception as error:  # the student's code: any failure is reported, never raised into the grader
        return {"seed": int(seed), "error": f"{type(error).__name__}: {str(error)[:300]}"}
    return {"seed": int(seed), "layers": _batchnorm_state(model)}


@skipped_while_autograding("recompute_batchnorm")
def check_recompute_batchnorm(function, seed: int = 0) -> None:
    """The self-check: after ``function``, the model computes in inference mode what it computes in training mode.

    A failure shows as its message alone (a ``SelfCheckError``, an ``AssertionError``), and is remembered so
    that the notebook's BatchNorm repair skips the function instead of failing a second time.

    Raises:
        AssertionError: with a message naming the layer and what is wrong (never the expected numbers).
    """
    from .checks.core import SelfCheckError
    from .demonstration import record_self_check

    __tracebackhide__ = True
    try:
        _check_recompute(function, seed)
    except AssertionError as error:
        record_self_check(function, False)
        raise SelfCheckError(str(error)) from None
    record_self_check(function, True)
    print("recompute_batchnorm: inference mode now matches training mode on X, and the momentum is restored.")


def _check_recompute(function, seed: int) -> None:
    """What :func:`check_recompute_batchnorm` checks.

    When every BatchNorm layer's moving mean and variance are the statistics of its inputs over all of
    X (X taken as one batch), inference mode (the moving statistics) and training mode (the batch's own
    statistics) give the same outputs on X. The check compares the two, layer by layer, so it needs no
    recompute of its own: nothing here computes the answer.

    Raises:
        AssertionError: with a message naming the layer and what is wrong (never the expected numbers).
    """
    from .keras_setup import import_keras

    keras = import_keras()
    arrays = challenge_arrays(seed)
    model = challenge_model(arrays)
    try:
        function(model, arrays["x"])
    except Exception as error:  # the student's code: say what it raised, in one line
        from .checks.core import _UNFINISHED, clean_error_text

        unfinished = f"; {_UNFINISHED}" if isinstance(error, NotImplementedError) else ""
        raise AssertionError(f"recompute_batchnorm raised {clean_error_text(error, 300)}{unfinished}") from None
    state = _batchnorm_state(model)
    batchnorms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    probe = keras.Model(model.inputs, [layer.output for layer in batchnorms])
    moving = [keras.ops.convert_to_numpy(t) for t in probe(arrays["x"], training=False)]
    batch = [keras.ops.convert_to_numpy(t) for t in probe(arrays["x"], training=True)]
    for index, (got, inference, training) in enumerate(zip(state, moving, batch), start=1):
        name = got["name"]
        if got["momentum"] != MOMENTUM:
            raise AssertionError(
                f"recompute_batchnorm: {name} has momentum {got['momentum']} afterwards; put it back to {MOMENTUM}."
            )
        if np.allclose(got["moving_mean"], arrays[f"stale_mean{index}"]):
            raise AssertionError(f"recompute_batchnorm: {name}'s moving mean is unchanged; it should be recomputed.")
        if not np.allclose(inference, training, rtol=1e-3, atol=1e-3):
            raise AssertionError(
                f"recompute_batchnorm: {name}'s moving statistics are not the statistics of its inputs over "
                "all of X; use X as one batch in training mode, with every BatchNorm layer's momentum at 0."
            )
