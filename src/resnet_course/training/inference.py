"""Inference-mode predictions and evaluation, fast on every backend."""

from __future__ import annotations

import contextlib

import numpy as np

from ..keras_setup import import_keras

keras = import_keras()


def no_gradients():
    """A context for eager model calls whose gradients nobody wants.

    On torch, Keras variables are parameters that require gradients, so an
    eager call outside a trainer records the whole autograd graph (memory and
    time) unless told not to. The other backends record nothing eagerly.
    """
    if keras.backend.backend() == "torch":
        import torch

        return torch.no_grad()
    return contextlib.nullcontext()


def jitted_stateless_call(model, training: bool):
    """``(jax.jit(model.stateless_call), (trainable values, non-trainable values))``.

    On JAX an eager model call compiles every operation on its own, which
    makes an eager BatchNorm recompute many times slower than one jitted
    call (benchmarks/bench_gpu.py --time-eager-bn; docs/measurements.md).
    Each new batch shape traces once more.
    """
    if keras.backend.backend() != "jax":
        raise ValueError(f"jitted model calls need the JAX backend, not {keras.backend.backend()}")
    import jax

    def call(trainable, non_trainable, batch):
        return model.stateless_call(trainable, non_trainable, batch, training=training)

    variables = (
        [variable.value for variable in model.trainable_variables],
        [variable.value for variable in model.non_trainable_variables],
    )
    return jax.jit(call), variables


def predict_probabilities(model, X, batch_size: int = 128) -> np.ndarray:
    """The model's outputs on ``X`` in inference mode, as a float32 numpy array.

    Calls the model eagerly on TensorFlow and torch (there without recording
    gradients): no ``predict`` function to trace for each new batch shape,
    which costs more than it saves on a few thousand images. On JAX, where
    eager calls compile op by op, one jitted call (see
    :func:`jitted_stateless_call`).
    """
    X = np.asarray(X)
    if keras.backend.backend() == "jax":
        call, variables = jitted_stateless_call(model, training=False)

        def forward(batch):
            # Zero images fill up a short last batch (inference treats images
            # independently), so one shape compiles once.
            missing = min(batch_size, len(X)) - len(batch)
            if missing:
                batch = np.concatenate([batch, np.zeros((missing, *batch.shape[1:]), batch.dtype)])
            return call(*variables, batch)[0][: len(batch) - missing]
    else:

        def forward(batch):
            with no_gradients():
                return model(batch, training=False)

    outputs = [
        keras.ops.convert_to_numpy(forward(X[start : start + batch_size])) for start in range(0, len(X), batch_size)
    ]
    return np.concatenate(outputs).astype(np.float32)


def predict_classes(model, X, batch_size: int = 128) -> np.ndarray:
    """The predicted class index of each image in ``X`` (inference mode)."""
    return predict_probabilities(model, X, batch_size).argmax(axis=-1)


def evaluate(model, X, Y, batch_size: int = 128) -> dict:
    """Loss and accuracy of ``model`` on ``(X, Y)`` in inference mode.

    BatchNorm uses its moving statistics, as in deployment; call
    :func:`resnet_course.instructor.batchnorm_statistics.recompute_batchnorm_statistics` first if they are stale.

    Args:
        model: A Keras model with a softmax output.
        X: Input images.
        Y: One-hot labels.
        batch_size: Images per forward pass.

    Returns:
        ``{"loss": categorical cross-entropy (no label smoothing), "accuracy": fraction correct}``.
    """
    Y = np.asarray(Y)
    probabilities = predict_probabilities(model, np.asarray(X), batch_size)
    clipped = np.clip(probabilities, 1e-7, 1.0 - 1e-7)
    loss = float(-np.mean(np.sum(Y * np.log(clipped), axis=-1)))
    accuracy = float(np.mean(probabilities.argmax(-1) == Y.argmax(-1)))
    return {"loss": loss, "accuracy": accuracy}
