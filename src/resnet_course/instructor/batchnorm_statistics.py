"""BatchNorm statistics recomputed exactly over a data set.

Keras 3 evaluates BatchNormalization with its moving averages (momentum
0.99). After a few hundred fast-changing training steps those averages lag
far behind the weights, so a model with high training accuracy can score
near chance on the test set in inference mode. The course path therefore
ends every training run with :func:`recompute_batchnorm_statistics`.

It is also the solution of the notebook's graded ``recompute_batchnorm``
exercise, so it lives with the instructor's tools, which the grading
sandbox hides from a student's kernel (``resnet_course.sandbox.layout``):
``resnet_course.training.train`` imports it only when it runs.
"""

from __future__ import annotations

import numpy as np

from ..keras_setup import import_keras
from ..training.inference import jitted_stateless_call, no_gradients
from ..training.kernels.layer_patches import batchnorm_layers

keras = import_keras()


class _RunningMoments:
    """Exact mean and (biased) variance of per-channel data seen in batches.

    Merges per-batch moments with Chan et al.'s pairwise formula, so the
    result equals the moments of all the data at once, without the
    cancellation of a sum-of-squares.
    """

    def __init__(self):
        self.count = 0
        self.mean = None
        self.m2 = None  # sum of squared deviations from the mean

    def add(self, count: int, mean: np.ndarray, variance: np.ndarray) -> None:
        mean, variance = np.asarray(mean, np.float64), np.asarray(variance, np.float64)
        if self.count == 0:
            self.count, self.mean, self.m2 = count, mean, variance * count
            return
        total = self.count + count
        delta = mean - self.mean
        self.mean = self.mean + delta * (count / total)
        self.m2 = self.m2 + variance * count + delta**2 * (self.count * count / total)
        self.count = total

    @property
    def variance(self) -> np.ndarray:
        return self.m2 / self.count


def recompute_batchnorm_statistics(
    model, X, batch_size: int = 64, verbose: int = 0, compiled: bool | None = None
) -> int:
    """Replace every BatchNorm layer's moving mean/variance by exact statistics over ``X``.

    Runs ``X`` through the model in training mode, batch by batch (upstream
    BatchNorm layers normalise with batch statistics, as during training),
    and sets each layer's ``moving_mean``/``moving_variance`` to the mean and
    variance of its inputs over all of ``X``. How: with ``momentum = 0`` a
    training-mode call leaves exactly the batch's moments in the moving
    variables; these are read after every batch and merged exactly. Each
    layer's momentum is restored afterwards, also on error.

    Frozen layers (``trainable=False``) keep their statistics, as Keras
    never updates them. Weights other than the BatchNorm statistics are
    untouched.

    Args:
        model: Any Keras model (functional, sequential or nested).
        X: Input images, e.g. the training set.
        batch_size: Images per forward pass; use the training batch size so
            that upstream batch statistics behave as in training.
        verbose: 1 shows a progress bar (on stdout).
        compiled: Run the forward passes as one jitted function (JAX only)
            rather than eagerly. None: on JAX, where eager mode compiles
            every operation separately. The batch size then becomes the
            nearest one down to half of it that splits ``X`` evenly, if
            any (1080 images: 60), so that it compiles once.

    Returns:
        The number of BatchNorm layers updated.
    """
    layers = [layer for layer in batchnorm_layers(model) if layer.trainable]
    if not layers:
        return 0
    for layer in layers:
        if getattr(layer, "renorm", False):
            raise ValueError(f"{layer.name}: BatchNormalization with renorm=True is not supported")
    X = np.asarray(X)
    moments = [_RunningMoments() for _ in layers]
    saved = [layer.momentum for layer in layers]
    progress = keras.utils.Progbar(len(X), unit_name="image") if verbose else None
    if compiled is None:
        compiled = keras.backend.backend() == "jax"
    if compiled:
        batch_size = _equal_batch_size(len(X), batch_size)
    try:
        for layer in layers:
            layer.momentum = 0.0
        forward = _jitted_batch_moments(model, layers) if compiled else _eager_batch_moments(model, layers)
        for start in range(0, len(X), batch_size):
            batch = X[start : start + batch_size]
            for moment, (mean, variance) in zip(moments, forward(batch)):
                moment.add(len(batch), mean, variance)
            if progress:
                progress.add(len(batch))
    finally:
        for layer, momentum in zip(layers, saved):
            layer.momentum = momentum
    for layer, moment in zip(layers, moments):
        layer.moving_mean.assign(moment.mean.astype(layer.moving_mean.dtype))
        layer.moving_variance.assign(moment.variance.astype(layer.moving_variance.dtype))
    return len(layers)


def _equal_batch_size(count: int, batch_size: int) -> int:
    """The largest size in [batch_size / 2, batch_size] that divides ``count``, else ``batch_size``."""
    for size in range(min(batch_size, count), (batch_size + 1) // 2 - 1, -1):
        if size > 0 and count % size == 0:
            return size
    return batch_size


def _eager_batch_moments(model, layers):
    """A function ``batch -> [(mean, variance) of each layer's inputs]``, by eager calls.

    Relies on the layers' momentum being 0, so that after a training-mode
    call their moving statistics hold exactly that batch's mean and variance.
    """

    def forward(batch):
        with no_gradients():
            model(batch, training=True)
        return [
            (keras.ops.convert_to_numpy(layer.moving_mean), keras.ops.convert_to_numpy(layer.moving_variance))
            for layer in layers
        ]

    return forward


def _jitted_batch_moments(model, layers):
    """Like :func:`_eager_batch_moments`, as one ``jax.jit`` function of the batch.

    A stateless call leaves the model's variables alone; with momentum 0 the
    new moving statistics it returns are the batch's, whatever they were.
    """
    call, variables = jitted_stateless_call(model, training=True)
    position = {id(variable): i for i, variable in enumerate(model.non_trainable_variables)}
    wanted = [(position[id(layer.moving_mean)], position[id(layer.moving_variance)]) for layer in layers]

    def forward(batch):
        _, updated = call(*variables, batch)
        return [(np.asarray(updated[mean]), np.asarray(updated[variance])) for mean, variance in wanted]

    return forward
