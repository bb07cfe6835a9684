"""Fused BatchNorm kernels (TensorFlow only).

Keras 3 computes BatchNormalization from generic ops: two reductions and a
chain of element-wise ops, each a separate memory-bound kernel, forward and
backward. On the course CPU that is a large share of a ResNet50 training
step. TensorFlow's FusedBatchNormV3 (a single oneDNN kernel each way) gives
the same maths and makes the training step faster at batch 64 (no gain at
batch 32); measure it with ``benchmarks/bench_cpu_throughput.py``, figures
in docs/measurements.md. The layers are patched per instance, only for as
long as needed.
"""

from __future__ import annotations

from ...keras_setup import import_keras
from .layer_patches import batchnorm_layers, patch_calls, patched_calls

keras = import_keras()

_FUSED_MIN_EPSILON = 1.001e-5  # TensorFlow's lower bound for the fused kernel


def fused_batchnorm_available() -> bool:
    """True when the Keras backend is TensorFlow (the only one with the fused kernel)."""
    return keras.backend.backend() == "tensorflow"


def _fusable(layer) -> bool:
    """Whether ``layer`` is a built, plain, channels-last 4-D BatchNormalization."""
    return (
        layer.built
        and list(layer._reduction_axes or ()) == [0, 1, 2]
        and not layer.renorm
        and not getattr(layer, "synchronized", False)
        and layer.epsilon >= _FUSED_MIN_EPSILON
    )


def _fused_call(layer, inputs, training=None, mask=None):
    """``BatchNormalization.call`` computed by TensorFlow's FusedBatchNormV3.

    Same results as Keras' own ``call`` up to float rounding: statistics in
    float32 whatever the input dtype, biased batch variance in the moving
    average (the kernel returns the unbiased one, so it is rescaled).
    """
    import tensorflow as tf

    if mask is not None:
        return type(layer).call(layer, inputs, training=training, mask=mask)
    channels = inputs.shape[-1]
    scale = tf.cast(layer.gamma, tf.float32) if layer.scale else tf.ones([channels], tf.float32)
    offset = tf.cast(layer.beta, tf.float32) if layer.center else tf.zeros([channels], tf.float32)
    x = inputs if inputs.dtype in (tf.float16, tf.bfloat16, tf.float32) else tf.cast(inputs, tf.float32)
    if training and layer.trainable:
        outputs, mean, unbiased_variance = tf.compat.v1.nn.fused_batch_norm(
            x, scale, offset, epsilon=layer.epsilon, data_format="NHWC", is_training=True
        )[:3]
        count = tf.cast(tf.size(x) // channels, tf.float32)
        variance = unbiased_variance * ((count - 1.0) / tf.maximum(count, 1.0))
        momentum = layer.momentum
        layer.moving_mean.assign(layer.moving_mean * momentum + mean * (1.0 - momentum))
        layer.moving_variance.assign(layer.moving_variance * momentum + variance * (1.0 - momentum))
    else:
        outputs = tf.compat.v1.nn.fused_batch_norm(
            x,
            scale,
            offset,
            mean=tf.cast(layer.moving_mean, tf.float32),
            variance=tf.cast(layer.moving_variance, tf.float32),
            epsilon=layer.epsilon,
            data_format="NHWC",
            is_training=False,
        )[0]
    return tf.cast(outputs, layer.compute_dtype)


def use_fused_batchnorm(model) -> list:
    """Route ``model``'s eligible BatchNorm layers through the fused kernel.

    Does nothing on backends other than TensorFlow. Only the model object in
    memory changes (its config and saved files do not); undo with
    :func:`~.layer_patches.restore_calls`. Call before the step function is traced.

    Returns:
        The layers newly patched.
    """
    if not fused_batchnorm_available():
        return []
    return patch_calls(batchnorm_layers(model), _fused_call, _fusable)


def fused_batchnorm(model, enabled: bool = True):
    """Within the ``with`` block, ``model`` uses fused BatchNorm (TensorFlow only)."""
    return patched_calls(use_fused_batchnorm, model, enabled)
