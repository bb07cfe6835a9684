"""The degradation experiment: a deep plain CNN against the same network with shortcuts, both with BatchNorm.

He et al. (2015) observed that plain networks *with* BatchNorm do not suffer from vanishing gradients, yet
a deeper plain network reaches a *higher* training loss than a shallower one: optimisation, not
representation, is what fails. This module trains a plain and a residual network that differ only in the
shortcuts, for a few epochs on small SIGNS images, and records what the notebook plots: the training loss
per epoch and the gradient norm of every body convolution.

Both networks: a 3x3 stem convolution, then ``depth`` 3x3 convolutions of ``width`` channels in units of
two (Conv-BN-ReLU-Conv-BN, then the shortcut's addition in the residual one, then ReLU), global average
pooling and a softmax layer; He-normal initialisation with the same seeds, Adam, the same batches in the
same order. Time it with ``time python -c "from resnet_course.degradation import demo; demo()"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .gradients import gradient_norms
from .keras_setup import import_keras

DEPTH = 30
WIDTH = 16
EPOCHS = 6


@dataclass
class DegradationRun:
    """What one network did in the experiment.

    Attributes:
        name: "plain" or "residual".
        losses: Mean training loss of each epoch.
        gradient_norms: L2 norm of the loss gradient of each body convolution's kernel, input side first,
            measured on the first batch before training.
    """

    name: str
    losses: list[float]
    gradient_norms: list[float]


def degradation_network(
    residual: bool, depth: int = DEPTH, width: int = WIDTH, input_shape=(16, 16, 3), classes: int = 6, seed: int = 0
):
    """A stack of ``depth`` 3x3 Conv-BN layers with ReLU, optionally with identity shortcuts every two layers.

    Returns:
        A keras.Model whose body convolutions are named ``body_conv_<i>`` (what ``gradient_norms`` reads).
    """
    keras = import_keras()
    layers = keras.layers

    def conv_bn(x, name, index):
        x = layers.Conv2D(
            width,
            3,
            padding="same",
            use_bias=False,
            name=name,
            kernel_initializer=keras.initializers.HeNormal(seed=seed + index),
        )(x)
        return layers.BatchNormalization()(x)

    inputs = keras.Input(input_shape)
    x = layers.Activation("relu")(conv_bn(inputs, "stem", depth + 1))
    for unit in range(depth // 2):
        shortcut = x
        x = layers.Activation("relu")(conv_bn(x, f"body_conv_{2 * unit}", 2 * unit))
        x = conv_bn(x, f"body_conv_{2 * unit + 1}", 2 * unit + 1)
        if residual:
            x = layers.Add()([x, shortcut])
        x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(
        classes, activation="softmax", kernel_initializer=keras.initializers.GlorotUniform(seed=seed + depth + 2)
    )(x)
    return keras.Model(inputs, outputs, name="residual_cnn" if residual else "plain_cnn")


def run_degradation_experiment(
    x: np.ndarray,
    y: np.ndarray,
    depth: int = DEPTH,
    width: int = WIDTH,
    epochs: int = EPOCHS,
    batch_size: int = 64,
    learning_rate: float = 1e-3,
    seed: int = 0,
) -> dict[str, DegradationRun]:
    """Train the plain and the residual network alike and return what each did.

    Args:
        x: Training images (small ones: the cost grows with their area).
        y: One-hot labels.
        depth: Body convolutions of each network (even).
        width: Channels of each body convolution.
        epochs: Passes over ``x``; 0 runs nothing (the notebook asks for 0 while it is graded).
        batch_size: Images per step.
        learning_rate: Adam's step size.
        seed: Seeds the initialisers and the shuffling, so a run repeats exactly.

    Returns:
        ``{"plain": DegradationRun, "residual": DegradationRun}``, or ``{}`` for 0 epochs.
    """
    keras = import_keras()
    runs = {}
    if epochs == 0:
        return runs
    for name in ("plain", "residual"):
        keras.utils.set_random_seed(seed)
        model = degradation_network(name == "residual", depth, width, x.shape[1:], y.shape[1], seed)
        norms = gradient_norms(model, x[:batch_size], y[:batch_size])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy")
        history = model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0)
        runs[name] = DegradationRun(name, [float(v) for v in history.history["loss"]], [float(v) for v in norms])
    return runs


def summary_lines(runs: dict[str, DegradationRun]) -> list[str]:
    """The measured numbers, each ratio with its definition, as the notebook prints them (none for no runs)."""
    if not runs:
        return []
    plain, residual = runs["plain"], runs["residual"]
    lines = ["final training loss (mean over the last epoch):"]
    for run in (plain, residual):
        lines.append(f"  {run.name:>8}: {run.losses[-1]:.3f}   (first epoch {run.losses[0]:.3f})")
    lines.append(f"  loss ratio = plain / residual = {plain.losses[-1] / residual.losses[-1]:.2f}")
    lines.append("gradient norm at initialisation, first body layer and last body layer:")
    for run in (plain, residual):
        first, last = run.gradient_norms[0], run.gradient_norms[-1]
        lines.append(f"  {run.name:>8}: {first:.4f} and {last:.4f}, first / last = {first / last:.2f}")
    return lines


def demo() -> dict[str, DegradationRun]:
    """The notebook's run on SIGNS at quarter resolution, printed (for timing it from the shell)."""
    from .data import load_signs, model_inputs

    x, y, _, _ = model_inputs(load_signs())
    runs = run_degradation_experiment(x[::2, ::4, ::4], y[::2])
    print("\n".join(summary_lines(runs)))
    return runs
