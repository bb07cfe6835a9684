"""The degradation experiment: a deep plain CNN, a shallow plain CNN and the deep one with shortcuts.

He et al. (2015) observed that a deeper plain network, *with* BatchNorm, reaches a *higher* training loss
than a shallower one, although it could copy the shallower one and make its extra layers identities (the
notebook's first question asks why). This module trains three networks for a few epochs on
small SIGNS images and records what the notebook plots: a shallow plain network, a deep plain network,
and the deep network with shortcuts. The deep two differ only in the shortcuts and in the residual
units' last BatchNorm scale, which starts at 0 there (Goyal et al., 2017), so that each unit starts as
the identity and the residual network starts where a shallow one does.

Every network: a 3x3 stem convolution, then ``depth`` 3x3 convolutions of ``width`` channels in units of
two (Conv-BN-ReLU-Conv-BN, then the shortcut's addition in the residual one, then ReLU), global average
pooling and a softmax layer; He-normal initialisation with the same seeds, Adam, the same batches in the
same order (Adam's step size: :data:`LEARNING_RATE`). It also records the gradient norm of every body
convolution before training. Time it with
``time python -c "from resnet_course.degradation import demo; demo()"``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .gradients import gradient_norms
from .keras_setup import import_keras

DEPTH = 30
SHALLOW_DEPTH = 6
WIDTH = 16
EPOCHS = 6
#: Adam's step size. A zero BatchNorm scale grows by about one step size per step under Adam: at 0.001 the
#: 54 steps of the experiment leave every residual unit close to the identity, so the residual network
#: would train like its stem alone; at 0.01 the scales reach their working size within the first epochs.
LEARNING_RATE = 1e-2
#: The runs, in the order they are trained, printed and drawn: (name, residual, deep).
NETWORKS = (("shallow plain", False, False), ("plain", False, True), ("residual", True, True))


@dataclass
class DegradationRun:
    """What one network did in the experiment.

    Attributes:
        name: "shallow plain", "plain" or "residual".
        depth: Body convolutions of the network.
        losses: Mean training loss of each epoch.
        gradient_norms: L2 norm of the loss gradient of each body convolution's kernel, input side first,
            measured on the first batch before training.
    """

    name: str
    depth: int
    losses: list[float]
    gradient_norms: list[float]

    @property
    def label(self) -> str:
        """The network in words, e.g. "plain, 30 layers"."""
        kind = "residual" if self.name == "residual" else "plain"
        return f"{kind}, {self.depth} layers"


def degradation_network(
    residual: bool,
    depth: int = DEPTH,
    width: int = WIDTH,
    input_shape=(16, 16, 3),
    classes: int = 6,
    seed: int = 0,
    zero_gamma: bool = True,
):
    """A stack of ``depth`` 3x3 Conv-BN layers with ReLU, optionally with identity shortcuts every two layers.

    Args:
        residual: Add each unit's input to its output.
        depth: Body convolutions (even).
        width: Channels of each body convolution.
        input_shape: Shape of one image.
        classes: Number of classes.
        seed: Seeds the kernels (layer ``i`` gets ``seed + i``).
        zero_gamma: In a residual network, start each unit's last BatchNorm scale at 0, so that the unit
            starts as the identity; a plain network ignores it (a zero scale would cut its signal).

    Returns:
        A keras.Model whose body convolutions are named ``body_conv_<i>`` (what ``gradient_norms`` reads).
    """
    keras = import_keras()
    layers = keras.layers

    def conv_bn(x, name, index, gamma="ones"):
        x = layers.Conv2D(
            width,
            3,
            padding="same",
            use_bias=False,
            name=name,
            kernel_initializer=keras.initializers.HeNormal(seed=seed + index),
        )(x)
        return layers.BatchNormalization(gamma_initializer=gamma)(x)

    last_gamma = "zeros" if residual and zero_gamma else "ones"
    inputs = keras.Input(input_shape)
    x = layers.Activation("relu")(conv_bn(inputs, "stem", depth + 1))
    for unit in range(depth // 2):
        shortcut = x
        x = layers.Activation("relu")(conv_bn(x, f"body_conv_{2 * unit}", 2 * unit))
        x = conv_bn(x, f"body_conv_{2 * unit + 1}", 2 * unit + 1, gamma=last_gamma)
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
    learning_rate: float = LEARNING_RATE,
    seed: int = 0,
    shallow_depth: int = SHALLOW_DEPTH,
    zero_gamma: bool = True,
) -> dict[str, DegradationRun]:
    """Train the shallow plain, the deep plain and the deep residual network alike; return what each did.

    Args:
        x: Training images (small ones: the cost grows with their area).
        y: One-hot labels.
        depth: Body convolutions of the deep networks (even).
        width: Channels of each body convolution.
        epochs: Passes over ``x``; 0 runs nothing (the notebook asks for 0 while it is graded).
        batch_size: Images per step.
        learning_rate: Adam's step size.
        seed: Seeds the initialisers and the shuffling, so a run repeats exactly.
        shallow_depth: Body convolutions of the shallow plain network (even).
        zero_gamma: Start the residual units' last BatchNorm scale at 0 (see :func:`degradation_network`).

    Returns:
        ``{"shallow plain": ..., "plain": ..., "residual": ...}`` (each a DegradationRun), or ``{}`` for 0 epochs.
    """
    keras = import_keras()
    runs = {}
    if epochs == 0:
        return runs
    for name, residual, deep in NETWORKS:
        keras.utils.set_random_seed(seed)
        layers = depth if deep else shallow_depth
        model = degradation_network(residual, layers, width, x.shape[1:], y.shape[1], seed, zero_gamma)
        norms = gradient_norms(model, x[:batch_size], y[:batch_size])
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="categorical_crossentropy")
        history = model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0)
        runs[name] = DegradationRun(
            name, layers, [float(v) for v in history.history["loss"]], [float(v) for v in norms]
        )
    return runs


def summary_lines(runs: dict[str, DegradationRun]) -> list[str]:
    """The measured numbers, each ratio with its definition, as the notebook prints them (none for no runs)."""
    if not runs:
        return []
    lines = ["final training loss (mean over the last epoch):"]
    for run in runs.values():
        lines.append(f"  {run.label:>19}: {run.losses[-1]:.3f}   (first epoch {run.losses[0]:.3f})")
    plain, residual, shallow = runs["plain"], runs["residual"], runs.get("shallow plain")
    if shallow is not None:
        lines.append(f"  degradation = deep plain / shallow plain = {plain.losses[-1] / shallow.losses[-1]:.2f}")
    lines.append(f"  loss ratio = plain / residual = {plain.losses[-1] / residual.losses[-1]:.2f}")
    lines.append("gradient norm at initialisation, first body layer and last body layer:")
    for run in gradient_runs(runs):
        first, last = run.gradient_norms[0], run.gradient_norms[-1]
        lines.append(f"  {run.label:>19}: {first:.4f} and {last:.4f}, first / last = {first / last:.2f}")
    return lines


def gradient_runs(runs: dict[str, DegradationRun]) -> list[DegradationRun]:
    """The runs whose gradient norms say something: a residual network whose units start with a zero BatchNorm
    scale gets no gradient in its branches' kernels before training (only the scales do), so it is left out."""
    return [run for run in runs.values() if run.gradient_norms and min(run.gradient_norms) > 0]


def demo(seed: int = 0, zero_gamma: bool = True) -> dict[str, DegradationRun]:
    """The notebook's run on SIGNS at quarter resolution, printed (for timing it from the shell)."""
    from .data import load_signs, model_inputs

    x, y, _, _ = model_inputs(load_signs())
    runs = run_degradation_experiment(x[::2, ::4, ::4], y[::2], seed=seed, zero_gamma=zero_gamma)
    print("\n".join(summary_lines(runs)))
    for run in runs.values():
        print(f"  {run.label}: " + " ".join(f"{loss:.3f}" for loss in run.losses))
    return runs
