"""What a block is checked with: the arguments of one case and the block's numpy reference.

:class:`_BlockCase` turns the instructor's arguments into the convolutions
the block must contain and computes the block's output in float64; a
:class:`_Wiring` is the correct arrangement of ReLUs and shortcut or one of
the known wrong ones, each with the words that name it.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from .core import _default_rng, _float32, _float64
from .numpy_ops import _batch_norm, _conv2d, _relu
from .weights import deterministic_kernel


@dataclasses.dataclass(frozen=True)
class _Wiring:
    """How the activations and the shortcut are arranged in a block: the
    correct arrangement and the known wrong ones, each with its diagnosis."""

    key: str
    diagnosis: str
    relu_after_bn: tuple = (True, True)
    relu_before_add: bool = False
    add_shortcut: bool = True
    final_relu: bool = True


_WIRINGS = (
    _Wiring("correct", ""),
    _Wiring(
        "no final ReLU",
        "the final ReLU is missing: apply ReLU to the sum of the main path and the shortcut",
        final_relu=False,
    ),
    _Wiring(
        "ReLU before the addition",
        "the final ReLU must come after the addition, not before it "
        "(third component: conv -> BatchNorm, then add the shortcut, then ReLU)",
        relu_before_add=True,
        final_relu=False,
    ),
    _Wiring(
        "extra ReLU before the addition",
        "the main path has an extra ReLU before the addition; the third component is "
        "conv -> BatchNorm only, and the one ReLU comes after the addition",
        relu_before_add=True,
    ),
    _Wiring(
        "shortcut not added",
        "the shortcut is never added: add X_shortcut to the main path before the final ReLU",
        add_shortcut=False,
    ),
    _Wiring(
        "no ReLU after the first BatchNorm",
        "the ReLU after the main path's first BatchNormalization is missing",
        relu_after_bn=(False, True),
    ),
    _Wiring(
        "no ReLU after the second BatchNorm",
        "the ReLU after the main path's second BatchNormalization is missing",
        relu_after_bn=(True, False),
    ),
)


# ---------------------------------------------------------------------------
# Check cases for the blocks
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _ConvSpec:
    """What one convolution of a block should look like."""

    role: str
    kernel: int
    filters: int
    stride: int
    padding: str

    def describe(self) -> str:
        kernel = f"{self.kernel}x{self.kernel} kernel"
        return f"{kernel}, {self.filters} filters, stride {self.stride}, padding '{self.padding}'"


@dataclasses.dataclass(frozen=True)
class _BlockCase:
    """One set of arguments a block is checked with, and what follows from it."""

    name: str
    f: int
    filters: tuple
    stride: int
    input_shape: tuple
    seed: int
    projection: bool  # True for the convolutional block's 1x1 conv shortcut

    def describe(self) -> str:
        stride = f", s={self.stride}" if self.projection else ""
        return f"f={self.f}, filters={list(self.filters)}{stride}, input shape {self.input_shape}"

    @property
    def main_convs(self) -> tuple:
        f1, f2, f3 = self.filters
        return (
            _ConvSpec("the main path's first convolution", 1, f1, self.stride, "valid"),
            _ConvSpec("the main path's second convolution", self.f, f2, 1, "same"),
            _ConvSpec("the main path's third convolution", 1, f3, 1, "valid"),
        )

    @property
    def shortcut_convs(self) -> tuple:
        if not self.projection:
            return ()
        return (_ConvSpec("the shortcut's convolution", 1, self.filters[2], self.stride, "valid"),)

    @property
    def bn_names(self) -> tuple:
        return tuple(f"the BatchNormalization after {spec.role}" for spec in self.main_convs + self.shortcut_convs)

    @property
    def output_shape(self) -> tuple:
        _, height, width, _ = self.input_shape
        return (None, -(-height // self.stride), -(-width // self.stride), self.filters[2])

    def parameter_count(self) -> int:
        channels = self.input_shape[-1]
        conv_inputs = (channels, self.filters[0], self.filters[1]) + (channels,) * len(self.shortcut_convs)
        total = 0
        for spec, c_in in zip(self.main_convs + self.shortcut_convs, conv_inputs):
            total += spec.kernel * spec.kernel * c_in * spec.filters + spec.filters  # kernel + bias
            total += 4 * spec.filters  # BatchNorm: gamma, beta, moving mean, moving variance
        return total

    def call(self, block, X, training: bool, initializer):
        """Call the student's block the way the notebook's ResNet50 does."""
        if self.projection:
            return block(X, self.f, list(self.filters), s=self.stride, training=training, initializer=initializer)
        return block(X, self.f, list(self.filters), training=training, initializer=initializer)

    def input_values(self) -> np.ndarray:
        return _default_rng([self.seed, 7]).standard_normal(self.input_shape).astype(_float32)

    def reference(self, x: np.ndarray, wiring: _Wiring, batch_statistics) -> np.ndarray:
        """The block's output in float64, arranged as ``wiring`` says, each
        BatchNormalization using batch statistics where ``batch_statistics`` says."""
        x = x.astype(_float64)
        channels = x.shape[-1]
        h = x
        for index, spec in enumerate(self.main_convs):
            kernel = deterministic_kernel((spec.kernel, spec.kernel, channels, spec.filters), self.seed)
            h = _batch_norm(_conv2d(h, kernel.astype(_float64), spec.stride, spec.padding), batch_statistics[index])
            if index < 2 and wiring.relu_after_bn[index]:
                h = _relu(h)
            channels = spec.filters
        if wiring.relu_before_add:
            h = _relu(h)
        shortcut = x
        for spec in self.shortcut_convs:
            kernel = deterministic_kernel((1, 1, x.shape[-1], spec.filters), self.seed)
            shortcut = _batch_norm(_conv2d(x, kernel.astype(_float64), spec.stride, spec.padding), batch_statistics[3])
        if wiring.add_shortcut:
            h = h + shortcut
        return _relu(h) if wiring.final_relu else h


def _make_case(name, *, f, filters, stride, input_shape, seed, projection) -> _BlockCase:
    """Validate the instructor's arguments and build a case."""
    filters = tuple(int(v) for v in filters)
    input_shape = tuple(int(v) for v in input_shape)
    if len(filters) != 3 or len(input_shape) != 4:
        raise ValueError("filters needs 3 numbers and input_shape 4 (batch, height, width, channels)")
    if not projection and filters[2] != input_shape[3]:
        raise ValueError("an identity block needs filters[2] equal to the input's channel count")
    if input_shape[0] < 2:
        raise ValueError("use a batch of at least 2 so batch statistics differ from the moving ones")
    return _BlockCase(name, int(f), filters, int(stride), input_shape, int(seed), projection)
