"""Self-checks for the three graded functions of the ResNet notebook.

Students call the ``check_*`` functions in visible test cells; the
instructor's hidden tests call the ``verify_*`` functions with other sizes.
Each check either returns quietly (the ``check_*`` functions then print one
line) or raises :class:`SelfCheckError`, an ``AssertionError`` whose message
names the part that is wrong, what was expected and what was found, and the
mistake that most likely explains it.

How the blocks are checked:

* Every convolution kernel is made by :func:`deterministic_kernel`, a pure
  function of the kernel's shape and the case's seed, passed to the block as
  its ``initializer``. The weights therefore do not depend on Keras' random
  seeds, on the TensorFlow version, or on the order in which the student
  creates the layers.
* The block is called on a symbolic ``keras.Input``; the resulting layer
  graph (even a partial one, when the call fails) is inspected for the
  convolutions, BatchNormalization layers and the addition.
* The block is called eagerly on a concrete tensor with ``training=True`` and
  with ``training=False`` (Keras 3 does not bake ``training`` into a
  functional graph, so only an eager call shows whether it is passed on), and
  the outputs are compared with a numpy forward pass. On a mismatch, numpy
  variants of known mistakes are tried and the matching one is named.

The module is written for untrusted notebooks: the numpy functions it needs
are bound at import time, arrays are compared with ndarray methods, and
failures raise instead of printing.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import functools
import inspect
import itertools
import warnings

import numpy as np

from .keras_setup import import_keras, silenced_stderr

keras = import_keras()

# Bound once at import, so a notebook that rebinds numpy's functions (or
# ``print``) after importing this module cannot change how checks behave.
_asarray = np.asarray
_zeros = np.zeros
_default_rng = np.random.default_rng
_float32 = np.float32
_float64 = np.float64
_print = builtins.print

#: Largest accepted max-abs difference, relative to max(1, max |expected|).
TOLERANCE = 1e-4

_AXIS_NAMES = {0: "the batch axis", 1: "the height axis", 2: "the width axis", 3: "the channel axis"}


class SelfCheckError(AssertionError):
    """A self-check found a mistake; the message says which and how to fix it."""


def _fail(function_name: str, problem: str, *, expected=None, got=None, hint: str = "", case=None):
    """Raise a SelfCheckError with a message laid out the same way every time.

    Args:
        function_name: The checked function, named first in the message.
        problem: One sentence naming the part that is wrong.
        expected: What the check wanted (optional).
        got: What it found (optional).
        hint: The suspected mistake, in plain words (optional).
        case: The arguments the function was checked with (optional).

    Raises:
        SelfCheckError: Always.
    """
    lines = [f"{function_name}: {problem}"]
    if expected is not None:
        lines.append(f"  expected: {expected}")
    if got is not None:
        lines.append(f"  got:      {got}")
    if hint:
        lines.append(f"  likely mistake: {hint}")
    if case is not None:
        lines.append(f"  (checked with {case})")
    raise SelfCheckError("\n".join(lines))


@contextlib.contextmanager
def _quiet():
    """Keep Keras warnings and C-level chatter out of stderr (nbgrader zeroes
    a test cell that writes to stderr); exceptions still propagate."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with silenced_stderr():
            yield


def _attempt(function, *args, **kwargs):
    """Run (student) code quietly; return (result, None) or (None, the error).

    Errors are returned rather than handled in place so the SelfCheckError
    raised for them is not chained to the student's traceback.
    """
    try:
        with _quiet():
            return function(*args, **kwargs), None
    except Exception as error:  # whatever the student's code raised
        return None, error


_UNFINISHED = "the code is not written yet: replace `raise NotImplementedError()` with your implementation"


def _error_text(error: BaseException, limit: int = 400) -> str:
    """The error's type and message, shortened to ``limit`` characters."""
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= limit else text[: limit - 3] + "..."


# ---------------------------------------------------------------------------
# Deterministic weights
# ---------------------------------------------------------------------------


def deterministic_kernel(shape, seed: int = 0) -> np.ndarray:
    """Kernel values that depend only on the kernel's shape and ``seed``.

    Args:
        shape: The kernel's shape, e.g. ``(3, 3, 2, 4)``.
        seed: The check case's seed.

    Returns:
        A float32 array of that shape with entries of order 1/sqrt(fan-in),
        so activations stay of order one through the block.
    """
    shape = tuple(int(d) for d in shape)
    rng = _default_rng([int(seed), *shape])
    fan_in = 1
    for size in shape[:-1]:
        fan_in *= size
    return (rng.standard_normal(shape) / max(fan_in, 1) ** 0.5).astype(_float32)


class _ShapeSeededInitializer(keras.initializers.Initializer):
    """Initializer whose values come from :func:`deterministic_kernel`.

    The student calls it as ``initializer(seed=0)``; that seed is accepted and
    ignored, since the weights must not depend on the order of creation.
    """

    case_seed = 0

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype=None):
        values = deterministic_kernel(shape, self.case_seed)
        return keras.ops.convert_to_tensor(values, dtype=dtype or "float32")

    def get_config(self):
        return {"seed": self.seed}


def make_initializer(seed: int = 0) -> type:
    """An initializer class to pass as a block's ``initializer`` argument.

    Args:
        seed: Mixed with each kernel's shape to choose its values.

    Returns:
        A ``keras.initializers.Initializer`` subclass; ``cls(seed=0)`` gives
        an instance, as the blocks call it.
    """
    return type("SelfCheckInitializer", (_ShapeSeededInitializer,), {"case_seed": int(seed)})


# ---------------------------------------------------------------------------
# Numpy reference of a residual block
# ---------------------------------------------------------------------------


def _conv2d(x: np.ndarray, kernel: np.ndarray, stride: int, padding: str) -> np.ndarray:
    """2-D convolution (cross-correlation) of NHWC ``x`` with an HWIO kernel,
    with Keras' padding rules (``same`` puts the odd pixel at the end)."""
    n, height, width, channels = x.shape
    k = kernel.shape[0]
    if padding == "same":
        out_h, out_w = -(-height // stride), -(-width // stride)
        pad_h = max((out_h - 1) * stride + k - height, 0)
        pad_w = max((out_w - 1) * stride + k - width, 0)
        padded = _zeros((n, height + pad_h, width + pad_w, channels), dtype=_float64)
        padded[:, pad_h // 2 : pad_h // 2 + height, pad_w // 2 : pad_w // 2 + width, :] = x
        x = padded
    else:
        out_h, out_w = (height - k) // stride + 1, (width - k) // stride + 1
    out = _zeros((n, out_h, out_w, kernel.shape[3]), dtype=_float64)
    for i in range(k):
        for j in range(k):
            window = x[:, i : i + stride * (out_h - 1) + 1 : stride, j : j + stride * (out_w - 1) + 1 : stride, :]
            out += window @ kernel[i, j]
    return out


def _batch_norm(x: np.ndarray, batch_statistics: bool, epsilon: float = 1e-3) -> np.ndarray:
    """BatchNormalization over the channel axis with freshly built weights
    (gamma 1, beta 0, moving mean 0, moving variance 1)."""
    if batch_statistics:
        mean = x.mean(axis=(0, 1, 2))
        variance = x.var(axis=(0, 1, 2))  # biased, as Keras uses
        return (x - mean) / (variance + epsilon) ** 0.5
    return x / (1.0 + epsilon) ** 0.5


def _relu(x: np.ndarray) -> np.ndarray:
    """ReLU with an ndarray method, which a notebook cannot rebind."""
    return x.clip(min=0.0)


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


# ---------------------------------------------------------------------------
# Reading a Keras layer graph
# ---------------------------------------------------------------------------


class _Graph:
    """The nodes (layer or op calls) reachable from one symbolic input.

    Walks forward from the input, so it also sees the part of a graph that
    was built before the student's function raised.
    """

    def __init__(self, input_tensor):
        self.nodes = []
        seen = set()
        frontier = [input_tensor]
        while frontier:
            tensor = frontier.pop()
            for node in self._consumers(tensor):
                if id(node) not in seen:
                    seen.add(id(node))
                    self.nodes.append(node)
                    frontier.extend(node.outputs)
        self._ancestors = {}

    @staticmethod
    def _consumers(tensor):
        history = getattr(tensor, "_keras_history", None)
        if history is None or history.operation is None:
            return []
        return [
            node
            for node in history.operation._outbound_nodes
            if any(argument is tensor for argument in node.arguments.keras_tensors)
        ]

    def consumers(self, node):
        """The nodes that take one of ``node``'s outputs as an input."""
        return [child for tensor in node.outputs for child in self._consumers(tensor)]

    def ancestors(self, node) -> set:
        """ids of all nodes ``node`` depends on."""
        key = id(node)
        if key not in self._ancestors:
            found = set()
            for parent in node.parent_nodes:
                if parent.operation is not None and parent.arguments.keras_tensors:
                    found.add(id(parent))
                    found |= self.ancestors(parent)
            self._ancestors[key] = found
        return self._ancestors[key]

    def of_type(self, layer_class) -> list:
        return [node for node in self.nodes if isinstance(node.operation, layer_class)]

    def named(self, class_name: str) -> list:
        return [node for node in self.nodes if type(node.operation).__name__ == class_name]


def _describe_conv(layer) -> str:
    """A Conv2D layer in the words of _ConvSpec.describe."""
    kernel = "x".join(str(k) for k in layer.kernel_size)
    stride = layer.strides[0] if len(set(layer.strides)) == 1 else layer.strides
    return f"{kernel} kernel, {layer.filters} filters, stride {stride}, padding '{layer.padding}'"


def _split_convs(graph: _Graph):
    """Split a block's convolutions into the main path and the shortcut.

    The main path is the longest chain of convolutions; every other
    convolution is taken to be on the shortcut.

    Returns:
        (main path conv nodes in order, shortcut conv nodes).
    """
    convs = graph.of_type(keras.layers.Conv2D)
    if not convs:
        return [], []
    conv_ids = {id(node) for node in convs}

    def conv_depth(node):
        return len(graph.ancestors(node) & conv_ids)

    last = max(convs, key=conv_depth)
    chain_ids = (graph.ancestors(last) & conv_ids) | {id(last)}
    main = sorted((node for node in convs if id(node) in chain_ids), key=conv_depth)
    shortcut = [node for node in convs if id(node) not in chain_ids]
    return main, shortcut


# ---------------------------------------------------------------------------
# Structural checks of a block
# ---------------------------------------------------------------------------


def _conv_mismatch_hint(case: _BlockCase, spec: _ConvSpec, layer, main_layers) -> str:
    """Plain-words explanation of why ``layer`` does not match ``spec``."""
    is_shortcut = spec.role.startswith("the shortcut")
    if tuple(layer.kernel_size) != (spec.kernel, spec.kernel):
        if is_shortcut:
            return "the shortcut's convolution is 1x1 (kernel_size=1)"
        if spec.kernel == 1:
            return (
                "the first and third convolutions of the main path are 1x1 (kernel_size=1); "
                "only the middle one is f x f"
            )
        return f"the middle convolution is f x f: use kernel_size=f (here f={case.f}), not a fixed number"
    if layer.filters != spec.filters:
        if is_shortcut:
            return "the shortcut's convolution needs F3 filters, so that it can be added to the main path"
        return "unpack the filters in order, F1, F2, F3 = filters, for the first, second and third convolution"
    if tuple(layer.strides) != (spec.stride, spec.stride):
        return _stride_hint(case, spec, layer, main_layers)
    if spec.kernel > 1:
        return "the f x f convolution needs padding='same' so that the height and width stay the same"
    return ""


def _stride_hint(case: _BlockCase, spec: _ConvSpec, layer, main_layers) -> str:
    """Where the stride should be, and where the student put it."""
    if not case.projection:
        return "every convolution of the identity block uses stride 1"
    if spec.stride > 1 and tuple(layer.strides) != (1, 1):
        return f"use strides=s (here s={case.stride}), not a fixed number"
    if spec.role.startswith("the shortcut"):
        return "the shortcut's 1x1 convolution needs strides=s, like the main path's first convolution"
    if spec.stride == 1:
        return (
            "the stride belongs on the first 1x1 convolution of the main path (and on the shortcut); "
            "this one uses strides=1"
        )
    others = [
        position
        for position, other in zip(("first", "second", "third"), main_layers)
        if other is not layer and tuple(other.strides) != (1, 1)
    ]
    found = f" (you put it on the {' and '.join(others)} convolution)" if others else ""
    return f"the stride belongs on the first 1x1 convolution of the main path (strides=s){found}"


def _conv_matches(spec: _ConvSpec, layer) -> bool:
    padding_ok = layer.padding == spec.padding or spec.kernel == 1  # 'same' on a 1x1 kernel pads nothing
    return (
        tuple(layer.kernel_size) == (spec.kernel, spec.kernel)
        and layer.filters == spec.filters
        and tuple(layer.strides) == (spec.stride, spec.stride)
        and padding_ok
    )


def _check_convolutions(case: _BlockCase, graph: _Graph, complete: bool = True):
    """Kernel size, filters, stride and padding of every convolution, path by path.

    Args:
        case: What the block was called with.
        graph: The block's layer graph.
        complete: False when the call stopped early: missing convolutions
            are then not reported, only the ones that exist are checked.

    Returns:
        (expected spec, conv node) pairs, main path first.
    """
    main, shortcut = _split_convs(graph)
    main_layers = [node.operation for node in main]
    found = "; ".join(_describe_conv(layer) for layer in main_layers) or "none"
    if len(main) > len(case.main_convs) or (complete and len(main) != len(case.main_convs)):
        _fail(
            case.name,
            f"the main path has {len(main)} convolution(s) in a row; it needs {len(case.main_convs)}.",
            expected="; ".join(spec.describe() for spec in case.main_convs),
            got=found,
            hint="the main path is three components: 1x1 conv -> BN -> ReLU, f x f conv -> BN -> ReLU, 1x1 conv -> BN",
            case=case.describe(),
        )
    for spec, layer in zip(case.main_convs, main_layers):
        if not _conv_matches(spec, layer):
            _fail(
                case.name,
                f"{spec.role} is wrong.",
                expected=spec.describe(),
                got=_describe_conv(layer),
                hint=_conv_mismatch_hint(case, spec, layer, main_layers),
                case=case.describe(),
            )
    if len(shortcut) > len(case.shortcut_convs) or (complete and len(shortcut) != len(case.shortcut_convs)):
        if case.projection:
            hint = (
                "the convolutional block's shortcut is not X itself: it is a 1x1 convolution with F3 filters "
                "and strides=s, then BatchNormalization, so that its shape matches the main path's"
            )
        else:
            hint = "the identity block's shortcut is X itself, added unchanged"
        _fail(
            case.name,
            f"the shortcut path has {len(shortcut)} convolution(s); it needs {len(case.shortcut_convs)}.",
            expected="; ".join(spec.describe() for spec in case.shortcut_convs) or "no convolution",
            got="; ".join(_describe_conv(node.operation) for node in shortcut) or "no convolution",
            hint=hint,
            case=case.describe(),
        )
    for spec, node in zip(case.shortcut_convs, shortcut):
        if not _conv_matches(spec, node.operation):
            _fail(
                case.name,
                f"{spec.role} is wrong.",
                expected=spec.describe(),
                got=_describe_conv(node.operation),
                hint=_conv_mismatch_hint(case, spec, node.operation, main_layers),
                case=case.describe(),
            )
    pairs = list(zip(case.main_convs, main)) + list(zip(case.shortcut_convs, shortcut))
    for spec, node in pairs:
        activation = getattr(node.operation.activation, "__name__", "linear")
        if activation != "linear":
            _fail(
                case.name,
                f"{spec.role} has activation='{activation}'.",
                expected="no activation on the Conv2D",
                got=f"activation='{activation}'",
                hint="the ReLU comes after BatchNormalization, as a separate step: conv -> BN -> ReLU",
                case=case.describe(),
            )
    return pairs


def _check_batch_norms(case: _BlockCase, graph: _Graph, conv_pairs, complete: bool = True):
    """Each convolution is followed by a BatchNormalization on the channel axis.

    Args:
        case: What the block was called with.
        graph: The block's layer graph.
        conv_pairs: (expected spec, conv node) pairs from _check_convolutions.
        complete: False when the call stopped early (see _check_convolutions).
    """
    bn_class = keras.layers.BatchNormalization
    for spec, conv in conv_pairs:
        followers = [child for child in graph.consumers(conv) if isinstance(child.operation, bn_class)]
        if not followers and not complete and not graph.consumers(conv):
            continue  # the call stopped right after this convolution
        if not followers:
            _fail(
                case.name,
                f"{spec.role} is not followed by BatchNormalization.",
                expected="Conv2D -> BatchNormalization(axis=3)",
                got="Conv2D -> " + (", ".join(type(c.operation).__name__ for c in graph.consumers(conv)) or "nothing"),
                hint="every convolution is followed by BatchNormalization(axis=3)(X, training=training)",
                case=case.describe(),
            )
        layer = followers[0].operation
        axis = layer.axis % 4 if isinstance(layer.axis, int) else layer.axis
        if axis != 3:
            _fail(
                case.name,
                f"the BatchNormalization after {spec.role} normalises {_AXIS_NAMES.get(axis, f'axis {axis}')}.",
                expected="axis=3 (the channels), gamma of shape " + f"({spec.filters},)",
                got=f"axis={layer.axis}, gamma of shape {_gamma_shape(layer)}",
                hint="BatchNormalization must normalise the channel axis: BatchNormalization(axis=3)",
                case=case.describe(),
            )
    expected_count = len(case.main_convs) + len(case.shortcut_convs)
    count = len(graph.of_type(bn_class))
    if count > expected_count or (complete and count != expected_count):
        where = "on the shortcut as well as the main path" if case.projection else "on the main path only"
        _fail(
            case.name,
            f"the block has {count} BatchNormalization layers; it needs {expected_count}.",
            expected=f"{expected_count}, one after each convolution",
            got=str(count),
            hint=f"use exactly one BatchNormalization after each convolution, {where}",
            case=case.describe(),
        )


def _gamma_shape(layer):
    """Shape of a BatchNormalization's gamma (its size tells the normalised axis)."""
    gamma = getattr(layer, "gamma", None)
    return tuple(gamma.shape) if gamma is not None else None


def _check_addition_and_output(case: _BlockCase, graph: _Graph, output):
    """An Add op exists and the output has the expected shape."""
    if not graph.named("Add"):
        _fail(
            case.name,
            "the block never adds the shortcut to the main path.",
            expected="an addition, e.g. layers.Add()([X, X_shortcut]), before the final ReLU",
            got="no Add layer or add op",
            hint="the shortcut is what makes the block residual: add X_shortcut to the main path, then apply ReLU",
            case=case.describe(),
        )
    shape = tuple(output.shape)
    if shape != case.output_shape:
        _fail(
            case.name,
            "the output has the wrong shape.",
            expected=str(case.output_shape),
            got=str(shape),
            hint="the output has the main path's shape: F3 channels, height and width divided by the stride",
            case=case.describe(),
        )


def _count_parameters(model) -> tuple:
    """(total, trainable, non-trainable) parameter counts of a Keras model."""

    def size(variables):
        total = 0
        for variable in variables:
            count = 1
            for dim in variable.shape:
                count *= int(dim)
            total += count
        return total

    trainable = size(model.trainable_weights)
    non_trainable = size(model.non_trainable_weights)
    return trainable + non_trainable, trainable, non_trainable


def _check_parameters_and_kernels(case: _BlockCase, model, conv_pairs):
    """The block's parameter count, and that every kernel came from ``initializer``."""
    expected = case.parameter_count()
    total = _count_parameters(model)[0]
    if total != expected:
        _fail(
            case.name,
            "the block has the wrong number of parameters.",
            expected=f"{expected:,}",
            got=f"{total:,} (difference {total - expected:+,})",
            hint="keep the Conv2D defaults (use_bias=True) and BatchNormalization's defaults, and add no other layers",
            case=case.describe(),
        )
    for spec, node in conv_pairs:
        kernel = _asarray(keras.ops.convert_to_numpy(node.operation.kernel))
        wanted = deterministic_kernel(kernel.shape, case.seed)
        if kernel.shape != wanted.shape or float(abs(kernel - wanted).max()) > 0.0:
            _fail(
                case.name,
                f"{spec.role}'s kernel was not made by the `initializer` argument.",
                expected="Conv2D(..., kernel_initializer=initializer(seed=0))",
                got="a kernel with other values (another initializer, or the default one)",
                hint="pass kernel_initializer=initializer(seed=0) to every Conv2D, using the function's argument",
                case=case.describe(),
            )


# ---------------------------------------------------------------------------
# Numeric checks of a block
# ---------------------------------------------------------------------------


def _difference(got: np.ndarray, expected: np.ndarray) -> float:
    """Max abs difference relative to max(1, max |expected|); inf if shapes differ."""
    if got.shape != expected.shape:
        return float("inf")
    scale = max(1.0, float(abs(expected).max()))
    return float(abs(got - expected).max()) / scale


def _usage_patterns(count: int, training: bool):
    """All per-BatchNorm choices of batch statistics, fewest deviations from
    the correct one (all ``training``) first."""
    patterns = list(itertools.product((training, not training), repeat=count))
    return sorted(patterns, key=lambda pattern: sum(used != training for used in pattern))


def _matching_usage(case, x, wiring, got, training):
    """The first BatchNorm usage pattern under which ``wiring`` reproduces ``got``."""
    for pattern in _usage_patterns(len(case.bn_names), training):
        if _difference(got, case.reference(x, wiring, pattern)) <= TOLERANCE:
            return pattern
    return None


def _describe_training_mistakes(case: _BlockCase, used_when_true, used_when_false) -> str:
    """Plain words for how the BatchNorm layers ignore ``training``."""
    behaviours = {
        (True, True): "uses batch statistics even when training=False (training=True hard-coded?)",
        (False, False): "uses its moving averages even when training=True (training not passed?)",
        (False, True): "does the opposite of `training` (training=not training?)",
    }
    wrong = [
        (name, behaviours[(on_true, on_false)])
        for name, on_true, on_false in zip(case.bn_names, used_when_true, used_when_false)
        if (on_true, on_false) != (True, False)
    ]
    if not wrong:
        return ""
    if len(wrong) == len(case.bn_names) and len({text for _, text in wrong}) == 1:
        text = f"every BatchNormalization {wrong[0][1]}"
    else:
        text = "; ".join(f"{name} {behaviour}" for name, behaviour in wrong)
    return (
        f"{text}. Pass training=training to every BatchNormalization call: "
        "BatchNormalization(axis=3)(X, training=training)"
    )


def _check_values(case: _BlockCase, block, initializer):
    """Compare eager outputs for training=True and False with the numpy reference."""
    x = case.input_values()
    outputs = {}
    for training in (True, False):
        result, error = _attempt(case.call, block, keras.ops.convert_to_tensor(x), training, initializer)
        if error is None:
            result, error = _attempt(keras.ops.convert_to_numpy, result)
        if error is not None:
            _fail(
                case.name,
                f"calling it on a concrete tensor with training={training} raised an error.",
                got=_error_text(error),
                hint="the block must work both on keras.Input tensors and on ordinary tensors; "
                "use only Keras layers and keras.ops inside it",
                case=case.describe(),
            )
        outputs[training] = _asarray(result).astype(_float64)
    correct = _WIRINGS[0]
    differences = {
        training: _difference(outputs[training], case.reference(x, correct, (training,) * len(case.bn_names)))
        for training in (True, False)
    }
    if max(differences.values()) <= TOLERANCE:
        return
    for wiring in _WIRINGS:
        used_when_true = _matching_usage(case, x, wiring, outputs[True], True)
        if used_when_true is None:
            continue
        used_when_false = _matching_usage(case, x, wiring, outputs[False], False)
        if used_when_false is None:
            continue
        training_mistakes = _describe_training_mistakes(case, used_when_true, used_when_false)
        mistakes = [text for text in (wiring.diagnosis, training_mistakes) if text]
        _fail(
            case.name,
            "the layers look right, but the output values are wrong.",
            expected=f"the reference block's output (max relative difference at most {TOLERANCE:g})",
            got=_describe_differences(differences),
            hint="; and ".join(mistakes),
            case=case.describe(),
        )
    _fail(
        case.name,
        "the layers look right, but the output values are wrong.",
        expected=f"the reference block's output (max relative difference at most {TOLERANCE:g})",
        got=_describe_differences(differences),
        hint="check the order of the steps: conv -> BN -> ReLU, conv -> BN -> ReLU, conv -> BN, "
        "add the shortcut, ReLU; "
        "and that training=training reaches every BatchNormalization",
        case=case.describe(),
    )


def _describe_differences(differences) -> str:
    """Per ``training`` value: matches, or how far off the output is."""
    return ", ".join(
        f"training={training}: {'matches' if value <= TOLERANCE else f'max relative difference {value:.3g}'}"
        for training, value in differences.items()
    )


# ---------------------------------------------------------------------------
# Block verification
# ---------------------------------------------------------------------------

#: The checks a block must pass, in the order they run.
BLOCK_CHECKS = (
    "runs on a keras.Input and returns a tensor",
    "convolutions: kernel size, filters, stride, padding",
    "a BatchNormalization on the channel axis after every convolution",
    "the shortcut is added and the output shape is right",
    "parameter count",
    "every kernel comes from the initializer argument",
    "output values with training=True",
    "output values with training=False",
)


def _report_build_failure(case: _BlockCase, inputs, error: Exception):
    """Explain an error raised while building the block symbolically.

    The part of the graph built before the error is checked first, since a
    wrong stride or padding is the usual reason the addition fails.
    """
    error_text = _error_text(error)
    graph = _Graph(inputs)
    # A shape error usually comes from the addition, after all the layers were built.
    complete = "shape" in str(error).lower()
    if graph.of_type(keras.layers.Conv2D):
        try:
            conv_pairs = _check_convolutions(case, graph, complete)
            _check_batch_norms(case, graph, conv_pairs, complete)
        except SelfCheckError as found:
            raise SelfCheckError(f"{found}\n  (calling it on a keras.Input raised {error_text})") from None
    hint = "read the error; check what each layer is applied to"
    if isinstance(error, NotImplementedError):
        hint = _UNFINISHED
    elif complete:
        shortcut = (
            "the shortcut is the 1x1 convolution (F3 filters, strides=s) of the block's input X, "
            "then BatchNormalization"
            if case.projection
            else "the shortcut is the block's input X, saved as X_shortcut before the main path changes X"
        )
        hint = (
            "the main path and the shortcut must have the same shape when they are added: "
            f"1x1 convolutions use padding='valid', the f x f one padding='same'; {shortcut}"
        )
    _fail(case.name, "calling it on a keras.Input raised an error.", got=error_text, hint=hint, case=case.describe())


def _build_symbolically(case: _BlockCase, block, initializer):
    """Call the block on a keras.Input and wrap it in a keras.Model.

    Returns:
        (graph, output, model); output and model are None when the call
        failed, and the structural checks of the partial graph run first.
    """
    inputs = keras.Input(shape=case.input_shape[1:])
    output, failure = _attempt(case.call, block, inputs, True, initializer)
    if failure is not None:
        _report_build_failure(case, inputs, failure)
    if output is None or not keras.backend.is_keras_tensor(output):
        _fail(
            case.name,
            "it did not return a Keras tensor.",
            expected="the block's output tensor",
            got=repr(output)[:100],
            hint="end the function with `return X`",
            case=case.describe(),
        )
    graph = _Graph(inputs)
    model, error = _attempt(keras.Model, inputs, output)
    if error is not None:
        _fail(
            case.name,
            "its output is not computed from its input X.",
            got=_error_text(error),
            hint="every layer must be applied to X (or to what was computed from X)",
            case=case.describe(),
        )
    return graph, output, model


def _verify_block(case: _BlockCase, block) -> int:
    initializer = make_initializer(case.seed)
    graph, output, model = _build_symbolically(case, block, initializer)
    conv_pairs = _check_convolutions(case, graph)
    _check_batch_norms(case, graph, conv_pairs)
    _check_addition_and_output(case, graph, output)
    _check_parameters_and_kernels(case, model, conv_pairs)
    _check_values(case, block, initializer)
    return len(BLOCK_CHECKS)


def verify_identity_block(identity_block, *, f=3, filters=(2, 4, 3), input_shape=(4, 6, 5, 3), seed=0) -> int:
    """Check an ``identity_block`` implementation on one set of arguments.

    Args:
        identity_block: The function to check, with the notebook's signature.
        f: Window size of the middle convolution.
        filters: (F1, F2, F3); F3 must equal the input's channel count.
        input_shape: (batch, height, width, channels) of the test input.
        seed: Chooses the input and kernel values.

    Returns:
        The number of checks passed.

    Raises:
        SelfCheckError: With a description of the first problem found.
    """
    case = _make_case(
        "identity_block", f=f, filters=filters, stride=1, input_shape=input_shape, seed=seed, projection=False
    )
    return _verify_block(case, identity_block)


def verify_convolutional_block(
    convolutional_block, *, f=3, filters=(2, 4, 5), s=2, input_shape=(4, 6, 5, 3), seed=0
) -> int:
    """Check a ``convolutional_block`` implementation on one set of arguments.

    Args:
        convolutional_block: The function to check, with the notebook's signature.
        f: Window size of the middle convolution.
        filters: (F1, F2, F3).
        s: Stride of the first main-path convolution and of the shortcut.
        input_shape: (batch, height, width, channels) of the test input.
        seed: Chooses the input and kernel values.

    Returns:
        The number of checks passed.

    Raises:
        SelfCheckError: With a description of the first problem found.
    """
    case = _make_case(
        "convolutional_block", f=f, filters=filters, stride=s, input_shape=input_shape, seed=seed, projection=True
    )
    return _verify_block(case, convolutional_block)


# ---------------------------------------------------------------------------
# ResNet50
# ---------------------------------------------------------------------------


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

RESNET50_CHECKS = (
    "input and output shapes",
    "built from your convolutional_block and identity_block",
    "stage settings: filters, strides, number of identity blocks",
    "the stem: zero-padding, 7x7 convolution, max-pooling",
    "output shape of every stage",
    "the head: average pooling, flatten, softmax output",
    "parameter counts",
)


@dataclasses.dataclass
class _BlockCall:
    """One call of a block while ResNet50 was being built."""

    kind: str
    f: object
    filters: object
    s: object
    input_shape: tuple
    output_shape: tuple


def _argument(bound, signature, position, name):
    """An argument by its usual name, else by its position."""
    if name in bound.arguments:
        return bound.arguments[name]
    names = list(signature.parameters)
    return bound.arguments.get(names[position]) if position < len(names) else None


def _as_filters(value):
    """Filters as a tuple of ints, or unchanged if they are not numbers."""
    try:
        return tuple(int(v) for v in value)
    except (TypeError, ValueError):
        return value


def _describe_call(kind, signature, args, kwargs) -> _BlockCall:
    """Read X's shape, f, filters and s from a block call's arguments."""
    call = _BlockCall(kind, None, None, None, (), ())
    if signature is None:
        return call
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return call
    bound.apply_defaults()
    x = _argument(bound, signature, 0, "X")
    call.input_shape = tuple(getattr(x, "shape", ()) or ())[1:]
    call.f = _argument(bound, signature, 1, "f")
    call.filters = _as_filters(_argument(bound, signature, 2, "filters"))
    if kind == "convolutional_block":
        call.s = _argument(bound, signature, 3, "s")
    return call


def _recording(kind, original, calls, depth):
    """Wrap a block so each top-level call is recorded in ``calls``, before it
    runs (so a call that raises is still seen) and with its output shape after."""
    try:
        signature = inspect.signature(original)
    except (TypeError, ValueError):
        signature = None

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        if depth[0]:  # a block calling a block: record only the outer call
            return original(*args, **kwargs)
        call = _describe_call(kind, signature, args, kwargs)
        calls.append(call)
        depth[0] += 1
        try:
            output = original(*args, **kwargs)
        finally:
            depth[0] -= 1
        call.output_shape = tuple(getattr(output, "shape", ()) or ())[1:]
        return output

    return wrapper


def _build_recording_calls(ResNet50, input_shape, classes):
    """Build the model with the student's blocks replaced by recording wrappers.

    Returns:
        (model, calls, names of the blocks missing from ResNet50's globals).
    """
    namespace = getattr(ResNet50, "__globals__", None)
    names = ("identity_block", "convolutional_block")
    if namespace is None:
        missing = names
    else:
        missing = tuple(name for name in names if not callable(namespace.get(name)))
    calls, depth, originals = [], [0], {}
    try:
        if namespace is not None:
            for name in names:
                if name not in missing:
                    originals[name] = namespace[name]
                    namespace[name] = _recording(name, originals[name], calls, depth)
        model, error = _attempt(ResNet50, input_shape=tuple(input_shape), classes=classes)
    finally:
        for name, original in originals.items():
            namespace[name] = original
    if error is not None:
        _report_resnet50_failure(calls, error, input_shape, classes)
    return model, calls, missing


def _report_resnet50_failure(calls, error, input_shape, classes):
    """Explain an error raised while building ResNet50: the block calls made
    before it are checked first, since a wrong filter list is the usual cause."""
    error_text = _error_text(error)
    stages = _group_stages(calls)
    if stages and stages[0][0].kind == "convolutional_block":
        try:
            _check_stage_settings(stages[: len(RESNET50_STAGES)], complete=False)
        except SelfCheckError as found:
            raise SelfCheckError(f"{found}\n  (building the model raised {error_text})") from None
    _fail(
        "ResNet50",
        f"ResNet50(input_shape={tuple(input_shape)}, classes={classes}) raised an error.",
        got=error_text,
        hint=_UNFINISHED
        if isinstance(error, NotImplementedError)
        else ("run the checks of identity_block and convolutional_block first; then check each stage's arguments"),
    )


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


def _check_model_io(model, input_shape, classes):
    """It is a keras.Model with the right input and output shapes."""
    if not isinstance(model, keras.Model):
        _fail("ResNet50", "it did not return a keras.Model.", got=type(model).__name__, hint="end with `return model`")
    got_in = tuple(model.inputs[0].shape) if len(model.inputs) == 1 else tuple(t.shape for t in model.inputs)
    got_out = tuple(model.outputs[0].shape) if len(model.outputs) == 1 else tuple(t.shape for t in model.outputs)
    if got_in != (None, *input_shape):
        _fail(
            "ResNet50",
            "the model's input has the wrong shape.",
            expected=str((None, *input_shape)),
            got=str(got_in),
            hint="start with X_input = keras.Input(input_shape) and use it as the model's input",
        )
    if got_out != (None, classes):
        _fail(
            "ResNet50",
            "the model's output has the wrong shape.",
            expected=str((None, classes)),
            got=str(got_out),
            hint="end with AveragePooling2D(2) -> Flatten -> Dense(classes, activation='softmax')",
        )


def _group_stages(calls) -> list:
    """Group block calls into stages, a new one at each convolutional_block."""
    stages = []
    for call in calls:
        if call.kind == "convolutional_block" or not stages:
            stages.append([call])
        else:
            stages[-1].append(call)
    return stages


def _split_into_stages(calls, missing):
    """Group the recorded calls into stages, each starting with a convolutional_block."""
    if missing or not calls:
        names = " and ".join(missing) if missing else "identity_block and convolutional_block"
        _fail(
            "ResNet50",
            "the model must be built from your identity_block and convolutional_block.",
            expected="4 calls of convolutional_block and 12 of identity_block while building the model",
            got=f"{names} never called" if not missing else f"{names} not defined in the notebook",
            hint="call the identity_block and convolutional_block functions you wrote above (not keras.applications "
            "or copies of the layers)",
        )
    if calls[0].kind != "convolutional_block":
        _fail(
            "ResNet50",
            "an identity_block comes before the first convolutional_block.",
            expected="each stage starts with convolutional_block",
            got=", ".join(c.kind for c in calls[:3]) + ", ...",
            hint="stage 2 starts with convolutional_block(X, f=3, filters=[64, 64, 256], s=1)",
        )
    stages = _group_stages(calls)
    counts = [len(stage) - 1 for stage in stages]
    if len(stages) != len(RESNET50_STAGES):
        _fail(
            "ResNet50",
            f"convolutional_block was called {len(stages)} times; ResNet50 has {len(RESNET50_STAGES)} stages (2 to 5), "
            "each starting with one convolutional_block.",
            expected=f"identity blocks per stage {[s.identity_blocks for s in RESNET50_STAGES]}",
            got=f"identity blocks after each convolutional_block {counts}",
            hint="stages 2, 3, 4, 5: one convolutional_block, then 2, 3, 5 and 2 identity blocks",
        )
    return stages


def _check_stage_settings(stages, complete=True):
    """The f, filters and s of every block call, and the identity blocks per stage.

    Args:
        stages: Block calls grouped by stage.
        complete: False when the build stopped early; the last stage's count
            of identity blocks is then not checked.
    """
    for index, (stage, calls) in enumerate(zip(RESNET50_STAGES, stages)):
        counted = complete or index < len(stages) - 1
        conv, identities = calls[0], calls[1:]
        _check_block_arguments(stage, conv, f"stage {stage.number}'s convolutional_block")
        if conv.s != stage.stride:
            _fail(
                "ResNet50",
                f"stage {stage.number}'s convolutional_block has the wrong stride.",
                expected=f"s={stage.stride}",
                got=f"s={conv.s}",
                hint="stage 2 uses s=1 (the max-pool already halved the size); stages 3, 4 and 5 use s=2",
            )
        if counted and len(identities) != stage.identity_blocks:
            _fail(
                "ResNet50",
                f"stage {stage.number} has {len(identities)} identity blocks.",
                expected=f"{stage.identity_blocks} identity blocks",
                got=f"{len(identities)} identity blocks",
                hint="stages 2, 3, 4, 5 have 2, 3, 5 and 2 identity blocks after their convolutional_block",
            )
        for position, call in enumerate(identities, start=1):
            _check_block_arguments(stage, call, f"identity block {position} of stage {stage.number}")


def _check_block_arguments(stage: _Stage, call: _BlockCall, which: str):
    """A block call's filters and f."""
    if call.filters != stage.filters:
        _fail(
            "ResNet50",
            f"{which} has the wrong filters.",
            expected=f"filters={list(stage.filters)}",
            got=f"filters={_as_list(call.filters)}",
            hint=f"every block of stage {stage.number} uses filters={list(stage.filters)}",
        )
    if call.f != 3:
        _fail(
            "ResNet50",
            f"{which} has the wrong f.",
            expected="f=3",
            got=f"f={call.f}",
            hint="every block of ResNet50 uses f=3",
        )


def _as_list(filters):
    """Filters as the list a student writes, for messages."""
    return list(filters) if isinstance(filters, tuple) else filters


def _layer_types(model) -> set:
    """Class names of the model's layers."""
    return {type(layer).__name__ for layer in model.layers}


def _check_stem(model, stages, shapes):
    """Stage 2 receives the stem's output shape, e.g. (15, 15, 64) for 64x64 images."""
    got = stages[0][0].input_shape
    if got == shapes["stem"]:
        return
    layer_types = _layer_types(model)
    absent = [name for name in ("ZeroPadding2D", "MaxPooling2D") if name not in layer_types]
    hint = (
        "the stem is ZeroPadding2D((3, 3)) -> Conv2D(64, (7, 7), strides=(2, 2)) -> BatchNormalization(axis=3) "
        "-> ReLU -> MaxPooling2D((3, 3), strides=(2, 2))"
    )
    if absent:
        hint = f"your model has no {' and no '.join(absent)} layer; " + hint
    _fail(
        "ResNet50",
        "stage 2 receives a tensor of the wrong shape, so the stem is wrong.",
        expected=str(shapes["stem"]),
        got=str(got),
        hint=hint,
    )


def _check_stage_outputs(stages, shapes):
    """The last block of each stage returns the expected shape."""
    for stage, calls in zip(RESNET50_STAGES, stages):
        got = calls[-1].output_shape
        if got != shapes[stage.number]:
            _fail(
                "ResNet50",
                f"stage {stage.number}'s output has the wrong shape.",
                expected=str(shapes[stage.number]),
                got=str(got),
                hint="the stage settings are right, so check that each block gets the previous block's output, "
                "and run the identity_block and convolutional_block checks",
            )


def _check_head(model, classes):
    """Average pooling and Flatten are there, and the outputs are probabilities."""
    layer_types = _layer_types(model)
    for name, hint in (
        ("AveragePooling2D", "after stage 5 comes AveragePooling2D(pool_size=(2, 2))"),
        ("Flatten", "flatten the pooled features before the Dense layer"),
    ):
        if name not in layer_types:
            _fail(
                "ResNet50",
                f"the head has no {name} layer.",
                expected=f"{name} after stage 5",
                got="layers: ... " + ", ".join(type(layer).__name__ for layer in model.layers[-3:]),
                hint=hint,
            )
    x = _default_rng(0).random((2, *tuple(model.inputs[0].shape)[1:])).astype(_float32)
    outputs, error = _attempt(lambda: keras.ops.convert_to_numpy(model(x, training=False)))
    if error is not None:
        _fail(
            "ResNet50",
            "calling the model on two images raised an error.",
            got=_error_text(error),
            hint="every layer must work on ordinary tensors as well as on keras.Input",
        )
    probabilities = _asarray(outputs).astype(_float64)
    sums = probabilities.sum(axis=1)
    if float(probabilities.min()) < 0.0 or float(abs(sums - 1.0).max()) > 1e-4:
        _fail(
            "ResNet50",
            "the outputs are not class probabilities.",
            expected="non-negative outputs summing to 1 for each image",
            got=f"outputs summing to {[round(float(v), 4) for v in sums]}",
            hint=f"the last layer is Dense(classes, activation='softmax') (here classes={classes})",
        )


def _check_parameter_counts(model, input_shape, classes):
    """Total, trainable and non-trainable counts, each with its difference."""
    expected = resnet50_parameter_counts(input_shape, classes)
    got = _count_parameters(model)
    if got != expected:
        labels = ("total", "trainable", "non-trainable")
        _fail(
            "ResNet50",
            "the parameter counts are wrong.",
            expected=", ".join(f"{label} {value:,}" for label, value in zip(labels, expected)),
            got=", ".join(
                f"{label} {value:,} ({value - want:+,})" for label, value, want in zip(labels, got, expected)
            ),
            hint="a layer is missing, added or sized differently (Conv2D with use_bias, BatchNormalization with "
            "defaults); the identity_block and convolutional_block checks find mistakes inside the blocks",
        )


def verify_resnet50(ResNet50, *, input_shape=(64, 64, 3), classes=6) -> int:
    """Check a ``ResNet50`` implementation, building the model once.

    The notebook's ``identity_block`` and ``convolutional_block`` (looked up
    in ``ResNet50.__globals__``) are replaced by recording wrappers while the
    model is built, and restored afterwards.

    Args:
        ResNet50: The function to check, with the notebook's signature.
        input_shape: Shape of one image.
        classes: Number of classes.

    Returns:
        The number of checks passed.

    Raises:
        SelfCheckError: With a description of the first problem found.
    """
    input_shape = tuple(int(v) for v in input_shape)
    model, calls, missing = _build_recording_calls(ResNet50, input_shape, classes)
    _check_model_io(model, input_shape, classes)
    stages = _split_into_stages(calls, missing)
    _check_stage_settings(stages)
    shapes = _stage_shapes(input_shape)
    _check_stem(model, stages, shapes)
    _check_stage_outputs(stages, shapes)
    _check_head(model, classes)
    _check_parameter_counts(model, input_shape, classes)
    return len(RESNET50_CHECKS)


# ---------------------------------------------------------------------------
# Public checks for the notebook's visible test cells
# ---------------------------------------------------------------------------


def _run_check(verify, *args, **kwargs) -> int:
    """Run a verify_* function; a failure is raised afresh from here, so the
    student's traceback shows the message, not the checker's internals."""
    try:
        return verify(*args, **kwargs)
    except SelfCheckError as error:
        raise SelfCheckError(str(error)) from None


def check_identity_block(identity_block) -> None:
    """Check ``identity_block``; print one line on success, raise SelfCheckError otherwise."""
    count = _run_check(verify_identity_block, identity_block, f=3, filters=(2, 4, 3), input_shape=(4, 6, 5, 3), seed=0)
    _print(f"identity_block: all {count} checks passed.")


def check_convolutional_block(convolutional_block) -> None:
    """Check ``convolutional_block``; print one line on success, raise SelfCheckError otherwise."""
    count = _run_check(
        verify_convolutional_block, convolutional_block, f=3, filters=(2, 4, 5), s=2, input_shape=(4, 6, 5, 3), seed=0
    )
    _print(f"convolutional_block: all {count} checks passed.")


def check_resnet50(ResNet50) -> None:
    """Check ``ResNet50``; print one line on success, raise SelfCheckError otherwise."""
    count = _run_check(verify_resnet50, ResNet50, input_shape=(64, 64, 3), classes=6)
    _print(f"ResNet50: all {count} checks passed.")
