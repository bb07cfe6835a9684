"""Training batches: shuffled full batches of numpy arrays and their augmentation."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from ..keras_setup import accelerator_names, import_keras

keras = import_keras()


@dataclass(frozen=True)
class Augmentation:
    """Random geometric changes that keep a hand sign's meaning.

    Each image gets its own random rotation, zoom and shift (one affine map,
    bilinear sampling, borders repeat the edge pixels: the SIGNS backgrounds
    are plain) and, with ``flip``, a 50% chance of a mirror image (a mirrored
    hand shows the same number of fingers).

    Attributes:
        max_shift: Largest shift along each axis, in pixels.
        max_rotation: Largest rotation, in degrees, either way.
        max_zoom: Largest zoom in or out, as a fraction of the size.
        flip: Mirror half of the images left-right.
    """

    max_shift: float = 4.0
    max_rotation: float = 0.0
    max_zoom: float = 0.0
    flip: bool = True

    def __call__(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return an augmented copy of a batch of shape (n, height, width, channels)."""
        n, height, width = images.shape[:3]
        angles = np.deg2rad(rng.uniform(-self.max_rotation, self.max_rotation, n))
        zooms = rng.uniform(1.0 - self.max_zoom, 1.0 + self.max_zoom, n)
        shifts = rng.uniform(-self.max_shift, self.max_shift, (n, 2))
        mirrors = rng.random(n) < 0.5 if self.flip else np.zeros(n, bool)
        source_rows, source_cols = _source_coordinates(height, width, angles, zooms, shifts, mirrors)
        return _bilinear_sample(images, source_rows, source_cols)


def _source_coordinates(height, width, angles, zooms, shifts, mirrors):
    """For each output pixel of each image, where to read it in the input (inverse map)."""
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    centre_row, centre_col = (height - 1) / 2.0, (width - 1) / 2.0
    rows, cols = rows - centre_row, cols - centre_col  # (h, w), relative to the centre
    cols = np.where(mirrors[:, None, None], -cols, cols)  # (n, h, w)
    cos, sin = np.cos(angles)[:, None, None], np.sin(angles)[:, None, None]
    zoom = zooms[:, None, None]
    source_rows = (cos * rows - sin * cols) / zoom + centre_row - shifts[:, 0, None, None]
    source_cols = (sin * rows + cos * cols) / zoom + centre_col - shifts[:, 1, None, None]
    return source_rows, source_cols


def _bilinear_sample(images, source_rows, source_cols):
    """Read ``images`` at fractional coordinates (n, h, w), clamping to the border.

    Gathers whole pixels from the flattened batch and repeats the weights
    over the channels, so numpy never loops over a 3-long last axis: faster
    than indexing ``images[index, rows, cols]`` (docs/measurements.md), with the same bits.
    """
    n, height, width, channels = images.shape
    source_rows = np.clip(source_rows, 0.0, height - 1.0)
    source_cols = np.clip(source_cols, 0.0, width - 1.0)
    top, left = np.floor(source_rows).astype(np.intp), np.floor(source_cols).astype(np.intp)
    bottom, right = np.minimum(top + 1, height - 1), np.minimum(left + 1, width - 1)
    row_weight = np.repeat((source_rows - top)[..., None].astype(images.dtype), channels, axis=-1)
    col_weight = np.repeat((source_cols - left)[..., None].astype(images.dtype), channels, axis=-1)
    pixels = images.reshape(n * height * width, channels)
    first_pixel = (np.arange(n) * (height * width))[:, None, None]

    def at(rows, cols):
        return pixels.take(first_pixel + rows * width + cols, axis=0)

    upper = at(top, left) * (1 - col_weight) + at(top, right) * col_weight
    lower = at(bottom, left) * (1 - col_weight) + at(bottom, right) * col_weight
    return (upper * (1 - row_weight) + lower * row_weight).astype(images.dtype)


class TrainingBatches(keras.utils.PyDataset):
    """Shuffled (optionally augmented) full batches of numpy arrays.

    Each batch is a pure function of (seed, epoch, index), so a run repeats
    exactly whatever order Keras asks for batches in, and threads can make
    them ahead. Call :meth:`set_epoch` before each epoch.

    Args:
        workers: Threads preparing batches while the model trains. Beside
            a fast GPU one thread's numpy augmentation sets the pace, so
            :func:`batch_workers` gives it more (benchmarks/bench_gpu.py;
            docs/measurements.md). On a 2-core CPU extra threads would only
            compete with the model's.
    """

    def __init__(self, x, y, batch_size: int, seed: int, augmentation: Augmentation | None = None, workers: int = 1):
        super().__init__(workers=workers, use_multiprocessing=False)
        self.x, self.y = np.asarray(x), np.asarray(y)
        self.batch_size = batch_size
        self.seed, self.augmentation = seed, augmentation
        self.set_epoch(0)

    def set_epoch(self, epoch: int) -> None:
        """Draw the shuffle of ``epoch``."""
        self.epoch = epoch
        self.order = np.random.default_rng([self.seed, epoch]).permutation(len(self.x))

    def __len__(self) -> int:
        return len(self.x) // self.batch_size

    def __getitem__(self, index: int):
        chosen = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        images, labels = self.x[chosen], self.y[chosen]
        if self.augmentation is not None:
            rng = np.random.default_rng([self.seed, self.epoch, index])
            images = self.augmentation(images, rng)
        return images, labels


def batch_workers() -> int:
    """Threads for :class:`TrainingBatches`: 1 on a CPU, up to 4 beside an accelerator."""
    if not accelerator_names():
        return 1
    return max(1, min(4, (os.cpu_count() or 1) - 1))
