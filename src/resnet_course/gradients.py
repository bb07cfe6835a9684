"""Per-layer gradient norms of a model's body convolutions, on any Keras backend.

The degradation experiment (:mod:`resnet_course.degradation`) uses them to show where the loss gradient
is large and where it is small before training. Only layers named ``body_conv_<i>`` are measured, in
depth order, so that a stem or a classifier does not mix into the picture.
"""

from __future__ import annotations

import numpy as np

from .keras_setup import import_keras


def gradient_norms(model, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """L2 norm of the loss gradient for each body convolution's kernel, in depth order."""
    keras = import_keras()
    loss_fn = keras.losses.CategoricalCrossentropy()
    kernels = [layer.kernel for layer in model.layers if layer.name.startswith("body_conv_")]
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = [g.numpy() for g in tape.gradient(loss, kernels)]
    elif backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        frozen = [v.value for v in model.non_trainable_variables]
        positions = [next(i for i, v in enumerate(model.trainable_variables) if v is k) for k in kernels]

        def loss_of(values):
            predictions, _ = model.stateless_call(values, frozen, x, training=True)
            return loss_fn(y, predictions)

        all_grads = jax.grad(loss_of)(trainable)
        grads = [np.asarray(all_grads[i]) for i in positions]
    elif backend == "torch":
        loss = loss_fn(y, model(x, training=True))
        loss.backward()
        grads = [k.value.grad.detach().cpu().numpy() for k in kernels]
    else:
        raise NotImplementedError(f"gradient_norms does not support the {backend} backend")
    return np.array([float(np.linalg.norm(g)) for g in grads])
