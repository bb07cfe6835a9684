"""The training loop: :func:`train` and the pieces it is made of."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from ..keras_setup import import_keras
from .batches import TrainingBatches, batch_workers
from .device import DeviceSetup, current_device, keep_outputs_in_float32
from .inference import evaluate
from .kernels.fused_batchnorm import fused_batchnorm
from .kernels.gemm_conv import gemm_convolutions as gemm_convolutions_of
from .recipes import COURSE_RECIPE, Recipe, compile_for_recipe

keras = import_keras()


@dataclass
class TrainingResult:
    """What :func:`train` returns.

    Attributes:
        history: Per-epoch lists: ``loss`` and ``accuracy`` (training mode,
            as Keras reports them during the epoch), ``learning_rate`` (at
            the epoch's end), ``seconds``, and with validation data
            ``val_loss``/``val_accuracy`` (inference mode).
        recipe: The recipe used.
        device: The :attr:`DeviceSetup.summary` of what training used.
        seconds: Wall time of the whole call.
        fit_seconds: Time spent in the training epochs.
        bn_seconds: Time spent recomputing BatchNorm statistics at the end.
        images_per_second: Training images per second over all epochs.
        steady_images_per_second: Same, leaving out the first epoch (which
            also traces/compiles the step function); None for 1 epoch.
        train_images_seen: Training images processed in all epochs.
    """

    history: dict
    recipe: Recipe
    device: str
    seconds: float
    fit_seconds: float
    bn_seconds: float
    images_per_second: float
    steady_images_per_second: float | None
    train_images_seen: int

    def as_dict(self) -> dict:
        """A JSON-ready dict (the recipe as a dict too)."""
        out = dataclasses.asdict(self)
        out["recipe"] = dataclasses.asdict(self.recipe)
        return out


def prepare_training(model, X_train, Y_train, recipe: Recipe, jit_compile: bool | str | None = None) -> TrainingBatches:
    """Seed everything, compile ``model`` for ``recipe`` and return its batches.

    The first half of :func:`train`, for callers that run the epochs
    themselves (e.g. a benchmark that interleaves two models).
    ``jit_compile``: passed to :func:`compile_for_recipe` (None: its default).
    """
    recipe.steps_per_epoch(len(X_train))  # fails clearly when there are fewer images than a batch
    keras.utils.set_random_seed(recipe.seed)
    batches = TrainingBatches(
        X_train, Y_train, recipe.batch_size, recipe.seed, recipe.augmentation, workers=batch_workers()
    )
    compile_for_recipe(model, recipe, steps_per_epoch=len(batches), jit_compile=jit_compile)
    return batches


class _EpochProgbar(keras.callbacks.ProgbarLogger):
    """Keras' progress bar, headed "Epoch 3/10" although each fit runs one epoch."""

    def __init__(self, total_epochs: int):
        super().__init__()
        self.total_epochs = total_epochs

    def set_params(self, params):
        super().set_params({**params, "epochs": self.total_epochs})


def run_epoch(model, batches: TrainingBatches, epoch: int, epochs: int, verbose: int = 1) -> dict:
    """Train one epoch (numbered from 0 of ``epochs``) with Keras' progress bar.

    Returns:
        ``{"loss", "accuracy", "learning_rate", "seconds"}`` for the epoch.
    """
    batches.set_epoch(epoch)
    started = time.perf_counter()
    logs = model.fit(
        batches,
        initial_epoch=epoch,
        epochs=epoch + 1,
        verbose=verbose,
        shuffle=False,
        callbacks=[_EpochProgbar(epochs)],
    ).history
    return {
        "loss": float(logs["loss"][-1]),
        "accuracy": float(logs["accuracy"][-1]),
        "learning_rate": _current_learning_rate(model),
        "seconds": time.perf_counter() - started,
    }


def _current_learning_rate(model) -> float:
    optimizer = model.optimizer
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def train(
    model,
    X_train,
    Y_train,
    recipe: Recipe = COURSE_RECIPE,
    validation_data=None,
    verbose: int = 1,
    recompute_bn: bool = True,
    fuse_batchnorm: bool | None = None,
    gemm_convolutions: bool | None = None,
    device: DeviceSetup | None = None,
) -> TrainingResult:
    """Compile ``model`` for ``recipe``, train it, and repair its BatchNorm statistics.

    Seeds Keras, numpy and Python with ``recipe.seed`` first, so the same
    recipe on the same freshly built model repeats exactly on a CPU. For
    mixed precision (what :func:`configure_for_device` picks on a GPU) call
    it before building the model; the layers that produce the outputs are
    then switched to float32 (:func:`keep_outputs_in_float32`).

    Args:
        model: A freshly built Keras model with a softmax output.
        X_train: Training images, shape (n, height, width, channels).
        Y_train: One-hot training labels, shape (n, classes).
        recipe: How to train (:data:`COURSE_RECIPE`, :data:`QUICK_RECIPE`,
            :data:`CLASSIC_RECIPE` or your own :class:`Recipe`).
        validation_data: Optional ``(X_val, Y_val)``, evaluated in inference
            mode after each epoch (see ``Recipe.bn_refresh_images``).
        verbose: 0 silent, 1 Keras progress bars and a summary line, 2 one line per epoch.
        recompute_bn: Recompute BatchNorm statistics over ``X_train`` at the end.
        fuse_batchnorm: Run BatchNorm through TensorFlow's fused kernel while
            training (same maths, faster at batch 64 on a CPU). None: as
            ``device.fused_batchnorm`` (wherever the backend is TensorFlow). The model gets Keras' own BatchNorm back
            before this returns.
        gemm_convolutions: Compute 1x1 convolutions, and those over the
            smallest maps, as matrix products while training (same maths,
            less CPU work per image; see :mod:`resnet_course.training.kernels.gemm_conv`).
            None: as ``device.gemm_convolutions`` (TensorFlow without a GPU).
            Undone before this returns.
        device: What :func:`configure_for_device` chose; None: :func:`current_device`.

    Returns:
        A :class:`TrainingResult` with the per-epoch history and timings.
    """
    started = time.perf_counter()
    X_train, Y_train = np.asarray(X_train), np.asarray(Y_train)
    device = device or current_device()
    if fuse_batchnorm is None:
        fuse_batchnorm = device.fused_batchnorm
    if gemm_convolutions is None:
        gemm_convolutions = device.gemm_convolutions
    keep_outputs_in_float32(model)
    with (
        fused_batchnorm(model, enabled=fuse_batchnorm) as fused_layers,
        gemm_convolutions_of(model, enabled=gemm_convolutions) as gemm_layers,
    ):
        batches = prepare_training(model, X_train, Y_train, recipe, jit_compile=device.jit_compile)
        in_use = dataclasses.replace(
            device,
            dtype_policy=model.dtype_policy.name,
            fused_batchnorm=bool(fused_layers),
            gemm_convolutions=bool(gemm_layers),
        )
        if verbose:
            print(f"Training '{recipe.name}' for {recipe.epochs} epochs on {in_use.summary}")

        history: dict[str, list] = {"loss": [], "accuracy": [], "learning_rate": [], "seconds": []}
        for epoch in range(recipe.epochs):
            logs = run_epoch(model, batches, epoch, recipe.epochs, verbose)
            for key, value in logs.items():
                history[key].append(value)
            if validation_data is not None:
                _validate(model, X_train, validation_data, recipe, history, verbose)
        fit_seconds = sum(history["seconds"])

        bn_start = time.perf_counter()
        if recompute_bn:
            _recompute()(model, X_train, batch_size=recipe.batch_size, verbose=0)
        bn_seconds = time.perf_counter() - bn_start

    seen_per_epoch = len(batches) * recipe.batch_size
    steady = history["seconds"][1:]
    result = TrainingResult(
        history=history,
        recipe=recipe,
        device=in_use.summary,
        seconds=time.perf_counter() - started,
        fit_seconds=fit_seconds,
        bn_seconds=bn_seconds,
        images_per_second=seen_per_epoch * recipe.epochs / fit_seconds,
        steady_images_per_second=seen_per_epoch * len(steady) / sum(steady) if steady else None,
        train_images_seen=seen_per_epoch * recipe.epochs,
    )
    if verbose:
        print(
            f"Trained in {result.seconds:.0f} s ({result.images_per_second:.0f} images/s; "
            f"BatchNorm statistics recomputed in {bn_seconds:.1f} s)"
        )
    return result


def _validate(model, X_train, validation_data, recipe: Recipe, history: dict, verbose: int) -> None:
    """Evaluate on the validation data in inference mode and append to ``history``."""
    if recipe.bn_refresh_images:
        # A training-set subset whose choice does not consume the training RNG.
        subset = np.random.default_rng([recipe.seed, 10_000 + len(history["loss"])]).permutation(len(X_train))
        _recompute()(model, X_train[subset[: recipe.bn_refresh_images]], batch_size=recipe.batch_size)
    metrics = evaluate(model, *validation_data, batch_size=max(recipe.batch_size, 128))
    history.setdefault("val_loss", []).append(metrics["loss"])
    history.setdefault("val_accuracy", []).append(metrics["accuracy"])
    if verbose:
        print(f"    validation (inference mode): loss {metrics['loss']:.4f}, accuracy {metrics['accuracy']:.4f}")


def _recompute():
    """The instructor's exact BatchNorm recompute, imported when training needs it (never in a student's kernel)."""
    from ..instructor.batchnorm_statistics import recompute_batchnorm_statistics

    return recompute_batchnorm_statistics
