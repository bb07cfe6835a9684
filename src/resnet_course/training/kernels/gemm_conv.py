"""Convolutions computed as matrix products while training on a CPU.

TensorFlow's oneDNN convolution kernels are slow where ResNet50 on 64x64
images spends much of its time: 1x1 convolutions, and convolutions over
the 2x2 maps of the last stage. There the weight gradient is a product of
two tall matrices (positions x channels), which ``matmul`` computes faster
than the convolution kernel; for 3x3 kernels on 4x4 and larger maps the
convolution kernel wins. So, for as long as the model trains, the layers
where a plain matrix product is the same maths and the faster one compute
through it:

- a 1x1 convolution is ``inputs[:, ::s, ::s] @ kernel`` (any padding, stride s);
- a k x k "same", stride-1 convolution over at most ``MAX_PATCH_POSITIONS``
  positions multiplies the k*k shifted copies of its input (im2col), which
  is cheap on maps that small.

The forward pass and both gradients then come from ``matmul``; the layer's
variables, names and saved files do not change. Everything else (the 7x7
stem, 3x3 convolutions on larger maps, dilated or grouped ones, subclasses)
keeps Keras' own ``call``. Measure the gain per training image with
``benchmarks/bench_cpu_throughput.py --variants float32:64:conv`` and the
per-shape timings with ``benchmarks/bench_conv_gradients.py``; the figures
are in docs/measurements.md.

Results agree with Keras' convolution up to float32 rounding. Like any
change of summation order, that is enough for two training runs to part
ways after a few steps (Adam turns rounding noise in near-zero gradients
into full-size steps), so a seeded run repeats exactly only with the same
setting.
"""

from __future__ import annotations

from ...keras_setup import accelerator_names, import_keras
from .layer_patches import nested_layers, patch_calls, patched_calls

keras = import_keras()
ops = keras.ops

# im2col copies the input k*k times: worth it on the 2x2 maps of ResNet50's
# last stage, not on the 4x4 ones, where oneDNN's kernel wins
# (benchmarks/bench_conv_gradients.py).
MAX_PATCH_POSITIONS = 4


def gemm_convolutions_pay_off() -> bool:
    """True where the substitution was measured to pay: TensorFlow on a CPU."""
    return keras.backend.backend() == "tensorflow" and not accelerator_names()


def _plain_conv2d(layer) -> bool:
    """A built, channels-last, undilated, ungrouped, unquantized Keras Conv2D."""
    return (
        type(layer).call is keras.layers.Conv2D.call
        and isinstance(layer, keras.layers.Conv2D)
        and layer.built
        and layer.data_format == "channels_last"
        and tuple(layer.dilation_rate) == (1, 1)
        and layer.groups == 1
        and getattr(layer, "quantization_mode", None) is None
    )


def _im2col_same(inputs, size: int):
    """The ``size`` x ``size`` neighbourhoods of each position, "same" zero padding.

    Channels are ordered (row offset, column offset, input channel), the
    order of a Conv2D kernel flattened to ``(size * size * in, out)``.
    """
    pad = size // 2
    height, width = inputs.shape[1], inputs.shape[2]
    padded = ops.pad(inputs, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
    shifted = [padded[:, i : i + height, j : j + width, :] for i in range(size) for j in range(size)]
    return ops.concatenate(shifted, axis=-1)


def _gemm_inputs(layer, inputs):
    """``inputs`` arranged so that ``rows @ flattened kernel`` is the convolution, or None."""
    height, width = inputs.shape[1], inputs.shape[2]
    if height is None or width is None:
        return None
    rows, cols = layer.kernel_size
    strides = tuple(layer.strides)
    if (rows, cols) == (1, 1):
        # "same" and "valid" agree for 1x1 kernels: ceil(size / stride) outputs.
        return inputs if strides == (1, 1) else inputs[:, :: strides[0], :: strides[1], :]
    if (
        rows == cols
        and rows % 2 == 1
        and strides == (1, 1)
        and layer.padding == "same"
        and height * width <= MAX_PATCH_POSITIONS
    ):
        return _im2col_same(inputs, rows)
    return None


def _gemm_call(layer, inputs):
    """``Conv2D.call`` computed by one matrix product where that is the same maths."""
    patches = _gemm_inputs(layer, inputs)
    if patches is None:
        return keras.layers.Conv2D.call(layer, inputs)
    kernel = ops.cast(layer.kernel, patches.dtype)
    height, width, depth = patches.shape[1], patches.shape[2], patches.shape[3]
    outputs = ops.matmul(ops.reshape(patches, (-1, depth)), ops.reshape(kernel, (depth, layer.filters)))
    if layer.use_bias:
        outputs = ops.add(outputs, ops.cast(layer.bias, outputs.dtype))
    outputs = ops.reshape(outputs, (-1, height, width, layer.filters))
    if layer.activation is not None:
        return layer.activation(outputs)
    return outputs


def use_gemm_convolutions(model) -> list:
    """Route ``model``'s plain Conv2D layers through :func:`_gemm_call`.

    Only the model object in memory changes; undo with
    :func:`~.layer_patches.restore_calls`. Call before the step function is traced.
    Layers whose shapes do not qualify at call time fall back to Keras'
    own ``call``, so patching an unusual model is harmless.

    Returns:
        The layers newly patched.
    """
    return patch_calls(nested_layers(model, keras.layers.Conv2D), _gemm_call, _plain_conv2d)


def gemm_convolutions(model, enabled: bool = True):
    """Within the ``with`` block, ``model``'s eligible convolutions run as matrix products."""
    return patched_calls(use_gemm_convolutions, model, enabled)
