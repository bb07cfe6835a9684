"""Structural checks of a block: its convolutions, BatchNormalizations, addition and parameters.

They read the layer graph built on a symbolic input and name the first
layer whose settings differ from the case's, with the usual reason.
"""

from __future__ import annotations

from .block_case import _BlockCase, _ConvSpec
from .core import _asarray, _count_parameters, _fail, keras
from .graph import _Graph
from .weights import deterministic_kernel

_AXIS_NAMES = {0: "the batch axis", 1: "the height axis", 2: "the width axis", 3: "the channel axis"}


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
    if others == ["second"]:
        return (
            "the stride belongs on the first 1x1 convolution of the main path (strides=s); you put it on the "
            "f x f convolution, which is ResNet 'v1.5', a known variant many libraries use. This course builds "
            "the original v1 of He et al. (2015), so the check compares with v1"
        )
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


def _check_parameters_and_kernels(case: _BlockCase, model, conv_pairs, kernels: bool = True):
    """The block's parameter count, and (``kernels``) that every kernel came from ``initializer``."""
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
    for spec, node in conv_pairs if kernels else ():
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
