"""The course's ResNet50 in numpy: its stages, sizes and parameter counts, and its
forward pass with every weight from :func:`~.weights.deterministic_weight`.

:func:`reference_checkpoints` returns the values at the places the behaviour
check looks for in a student's model: the stem's output, each stage's
output, the pooled features of the head and the probabilities. The stem and
head can be computed with a known mistake instead (:data:`STEM_VARIANTS`,
:data:`HEAD_VARIANTS`) so that a mismatch can be named.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .core import _default_rng, _exp, _float32, _float64
from .numpy_ops import _batch_norm, _conv2d, _pool, _relu, _softmax, _zero_pad
from .weights import deterministic_weight


@dataclasses.dataclass(frozen=True)
class _Stage:
    """One ResNet50 stage: its filters, the convolutional block's stride, its identity blocks."""

    number: int
    filters: tuple
    stride: int
    identity_blocks: int


RESNET50_STAGES = (
    _Stage(2, (64, 64, 256), 1, 2),
    _Stage(3, (128, 128, 512), 2, 3),
    _Stage(4, (256, 256, 1024), 2, 5),
    _Stage(5, (512, 512, 2048), 2, 2),
)

#: The places, in order, where the student's model must hold the reference's values.
CHECKPOINTS = ("stem", "stage 2", "stage 3", "stage 4", "stage 5", "head", "probabilities")


def _stage_shapes(input_shape) -> dict:
    """Expected (height, width, channels) at the stem's end and after each stage."""
    height, width = input_shape[0], input_shape[1]

    def stem(size):
        size = (size + 6 - 7) // 2 + 1  # zero-pad 3, 7x7 conv, stride 2
        return (size - 3) // 2 + 1  # 3x3 max-pool, stride 2

    height, width = stem(height), stem(width)
    shapes = {"stem": (height, width, 64)}
    for stage in RESNET50_STAGES:
        height, width = -(-height // stage.stride), -(-width // stage.stride)
        shapes[stage.number] = (height, width, stage.filters[2])
    return shapes


def resnet50_parameter_counts(input_shape=(64, 64, 3), classes=6) -> tuple:
    """(total, trainable, non-trainable) parameters of the course's ResNet50."""
    trainable = non_trainable = 0

    def conv(kernel, c_in, c_out):
        nonlocal trainable
        trainable += kernel * kernel * c_in * c_out + c_out

    def batch_norm(channels):
        nonlocal trainable, non_trainable
        trainable += 2 * channels
        non_trainable += 2 * channels

    conv(7, input_shape[2], 64)
    batch_norm(64)
    channels = 64
    for stage in RESNET50_STAGES:
        for block in range(1 + stage.identity_blocks):
            f1, f2, f3 = stage.filters
            for kernel, c_in, c_out in ((1, channels, f1), (3, f1, f2), (1, f2, f3)):
                conv(kernel, c_in, c_out)
                batch_norm(c_out)
            if block == 0:
                conv(1, channels, f3)
                batch_norm(f3)
            channels = f3
    height, width, channels = _stage_shapes(input_shape)[5]
    flat = ((height - 2) // 2 + 1) * ((width - 2) // 2 + 1) * channels  # 2x2 average pooling
    trainable += flat * classes + classes
    return trainable + non_trainable, trainable, non_trainable


class _Weights:
    """The reference's weights, float64, memoised by (role, shape)."""

    def __init__(self, seed: int):
        self.seed = seed
        self._cache = {}

    def __call__(self, role: str, *shape) -> np.ndarray:
        key = (role, shape)
        if key not in self._cache:
            self._cache[key] = deterministic_weight(role, shape, self.seed).astype(_float64)
        return self._cache[key]


def _conv_bn(x, weights, kernel, filters, stride, padding, training):
    """Conv2D (with bias) followed by BatchNormalization."""
    channels = x.shape[-1]
    x = _conv2d(x, weights("kernel", kernel, kernel, channels, filters), stride, padding, weights("bias", filters))
    return _batch_norm(
        x,
        training,
        gamma=weights("gamma", filters),
        beta=weights("beta", filters),
        mean=weights("moving_mean", filters),
        variance=weights("moving_variance", filters),
    )


def _block(x, weights, filters, stride, projection, training):
    """One bottleneck block (the convolutional block when ``projection``)."""
    f1, f2, f3 = filters
    h = _relu(_conv_bn(x, weights, 1, f1, stride, "valid", training))
    h = _relu(_conv_bn(h, weights, 3, f2, 1, "same", training))
    h = _conv_bn(h, weights, 1, f3, 1, "valid", training)
    shortcut = _conv_bn(x, weights, 1, f3, stride, "valid", training) if projection else x
    return _relu(h + shortcut)


#: Known stem mistakes: (likely mistake, how the stem is computed instead).
STEM_VARIANTS = (
    ("the stem has no BatchNormalization after its 7x7 convolution", {"batch_norm": False}),
    ("the stem's ReLU is missing: apply ReLU after the stem's BatchNormalization", {"relu": False}),
    (
        "the stem applies ReLU before BatchNormalization; the order is Conv2D -> BatchNormalization -> ReLU",
        {"relu_first": True},
    ),
    (
        "the stem's 7x7 convolution uses padding='same' instead of ZeroPadding2D((3, 3)) and the default "
        "padding='valid'",
        {"pad": 0, "conv_padding": "same"},
    ),
    ("the stem has no ZeroPadding2D((3, 3)) before its 7x7 convolution", {"pad": 0}),
    ("the stem's 7x7 convolution needs strides=(2, 2)", {"conv_stride": 1}),
    ("the stem pools with AveragePooling2D; it uses MaxPooling2D((3, 3), strides=(2, 2))", {"pool": "average"}),
    ("the stem's MaxPooling2D needs strides=(2, 2)", {"pool_stride": 1}),
    ("the stem's MaxPooling2D uses padding='same'; keep the default padding='valid'", {"pool_padding": "same"}),
    ("the stem's MaxPooling2D needs pool_size=(3, 3)", {"pool_size": 2}),
    # Last: every model holds the tensor before its pooling, so the pooling variants go first.
    ("the stem has no MaxPooling2D((3, 3), strides=(2, 2))", {"pool": None}),
)

#: Known head mistakes, as (likely mistake, checkpoint they change, how the head is computed instead).
HEAD_VARIANTS = (
    ("the head pools with MaxPooling2D; it uses AveragePooling2D(pool_size=(2, 2))", "head", {"pool": "max"}),
    ("the head has no AveragePooling2D((2, 2)) before Flatten", "head", {"pool": None}),
    (
        "the softmax is missing: the last layer is Dense(classes, activation='softmax')",
        "probabilities",
        {"output": "logits"},
    ),
    (
        "the output uses a sigmoid; the last layer is Dense(classes, activation='softmax')",
        "probabilities",
        {"output": "sigmoid"},
    ),
    (
        "a ReLU is applied before the softmax; the Dense layer's logits go straight into the softmax",
        "probabilities",
        {"output": "relu softmax"},
    ),
)


def _stem(
    x,
    weights,
    training,
    *,
    pad=3,
    conv_padding="valid",
    conv_stride=2,
    batch_norm=True,
    relu=True,
    relu_first=False,
    pool="max",
    pool_size=3,
    pool_stride=2,
    pool_padding="valid",
):
    """The stem, or (with other options) a known mistake in it."""
    h = _zero_pad(x, pad) if pad else x
    channels = h.shape[-1]
    h = _conv2d(h, weights("kernel", 7, 7, channels, 64), conv_stride, conv_padding, weights("bias", 64))
    if relu and relu_first:
        h = _relu(h)
    if batch_norm:
        h = _batch_norm(
            h,
            training,
            gamma=weights("gamma", 64),
            beta=weights("beta", 64),
            mean=weights("moving_mean", 64),
            variance=weights("moving_variance", 64),
        )
    if relu and not relu_first:
        h = _relu(h)
    return _pool(h, pool_size, pool_stride, pool, pool_padding) if pool else h


def _features(stage5, *, pool="average"):
    """The head's pooled and flattened features."""
    h = _pool(stage5, 2, 2, pool) if pool else stage5
    return h.reshape(h.shape[0], -1)


def _probabilities(features, weights, classes, *, output="softmax"):
    """The Dense layer on the features, then the output activation."""
    logits = features @ weights("kernel", features.shape[1], classes) + weights("bias", classes)
    if output == "logits":
        return logits
    if output == "sigmoid":
        return 1.0 / (1.0 + _exp(-logits))
    return _softmax(_relu(logits) if output == "relu softmax" else logits)


def reference_images(input_shape, seed: int = 0, count: int = 2) -> np.ndarray:
    """The images the behaviour check feeds the model: uniform in [0, 1), like the SIGNS pixels."""
    return _default_rng([int(seed), 64]).random((count, *tuple(input_shape))).astype(_float32)


def reference_checkpoints(x: np.ndarray, classes: int, seed: int, training: bool) -> dict:
    """The reference's values at every checkpoint (:data:`CHECKPOINTS`), float64."""
    weights = _Weights(seed)
    values = {"stem": _stem(x.astype(_float64), weights, training)}
    h = values["stem"]
    for stage in RESNET50_STAGES:
        h = _block(h, weights, stage.filters, stage.stride, True, training)
        for _ in range(stage.identity_blocks):
            h = _block(h, weights, stage.filters, 1, False, training)
        values[f"stage {stage.number}"] = h
    values["head"] = _features(h)
    values["probabilities"] = _probabilities(values["head"], weights, classes)
    return values


def variant_values(checkpoint: str, x: np.ndarray, reference: dict, classes: int, seed: int, training: bool):
    """(likely mistake, values) for each known mistake that changes ``checkpoint``."""
    weights = _Weights(seed)
    if checkpoint == "stem":
        return [(hint, _stem(x.astype(_float64), weights, training, **options)) for hint, options in STEM_VARIANTS]
    found = []
    for hint, where, options in HEAD_VARIANTS:
        if where == checkpoint == "head":
            found.append((hint, _features(reference["stage 5"], **options)))
        elif where == checkpoint == "probabilities":
            found.append((hint, _probabilities(reference["head"], weights, classes, **options)))
    return found
