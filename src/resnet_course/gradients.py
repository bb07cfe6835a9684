"""The vanishing-gradient experiment: per-layer gradient norms of a deep plain
CNN against the same network with skip connections.

Both networks share every layer shape; the only difference is that the
residual one adds each unit's input to its output (``a[l+2] = g(z[l+2] + a[l])``).
"""

from __future__ import annotations

import numpy as np

from .keras_setup import import_keras


def deep_cnn(
    depth: int = 40, width: int = 16, residual: bool = False, input_shape=(32, 32, 3), classes: int = 6, seed: int = 0
):
    """A stack of ``depth`` 3x3 convolutions, optionally with skip connections.

    Args:
        depth: Number of convolutions in the body (an even number: units of two).
        width: Channels of every body convolution.
        residual: Add a skip connection around every unit of two convolutions.
        input_shape: Shape of one input image.
        classes: Number of output classes.
        seed: Seed of the kernel initializers, so both variants start alike.

    Returns:
        A keras.Model whose body convolutions are named ``body_conv_<i>``.
    """
    keras = import_keras()
    layers = keras.layers

    def conv(index, name=None):
        return layers.Conv2D(
            width,
            3,
            padding="same",
            activation=None,
            name=name or f"body_conv_{index}",
            kernel_initializer=keras.initializers.GlorotNormal(seed=seed + index),
        )

    inputs = keras.Input(input_shape)
    x = layers.Conv2D(
        width,
        3,
        padding="same",
        activation="tanh",
        name="stem",
        kernel_initializer=keras.initializers.GlorotNormal(seed=seed),
    )(inputs)
    for unit in range(depth // 2):
        shortcut = x
        x = layers.Activation("tanh")(conv(2 * unit)(x))
        x = conv(2 * unit + 1)(x)
        if residual:
            x = layers.Add()([x, shortcut])
        x = layers.Activation("tanh")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(
        classes,
        activation="softmax",
        name="classifier",
        kernel_initializer=keras.initializers.GlorotNormal(seed=seed + depth),
    )(x)
    return keras.Model(inputs, outputs, name="residual_cnn" if residual else "plain_cnn")


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


def compare_plain_and_residual(x: np.ndarray, y: np.ndarray, depth: int = 40) -> dict[str, np.ndarray]:
    """Gradient norms per layer for the plain and the residual network on one batch."""
    return {
        kind: gradient_norms(deep_cnn(depth=depth, residual=(kind == "residual"), input_shape=x.shape[1:]), x, y)
        for kind in ("plain", "residual")
    }
