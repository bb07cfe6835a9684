"""The numpy layers the reference forward passes are made of (NHWC, float64).

Every function follows Keras' conventions (``same`` padding puts the odd
pixel at the end, BatchNormalization uses the biased batch variance and
epsilon 1e-3, pooling windows are "valid") and uses only ndarray methods
and functions bound in :mod:`.core`.
"""

from __future__ import annotations

import numpy as np

from .core import _exp, _float64, _zeros


def _conv2d(x: np.ndarray, kernel: np.ndarray, stride: int, padding: str, bias=None) -> np.ndarray:
    """2-D convolution (cross-correlation) of NHWC ``x`` with an HWIO kernel, as one
    matrix product per kernel offset, which is fast enough for 64x64 images."""
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
    kernel = kernel.astype(_float64)
    for i in range(k):
        for j in range(k):
            window = x[:, i : i + stride * (out_h - 1) + 1 : stride, j : j + stride * (out_w - 1) + 1 : stride, :]
            out += window @ kernel[i, j]
    return out if bias is None else out + bias.astype(_float64)


def _batch_norm(
    x: np.ndarray, batch_statistics: bool, epsilon: float = 1e-3, *, gamma=1.0, beta=0.0, mean=0.0, variance=1.0
) -> np.ndarray:
    """BatchNormalization over the channel axis: batch statistics in training
    mode, the moving ones (``mean``, ``variance``) in inference mode. The
    defaults are a freshly built layer's weights."""
    if batch_statistics:
        mean = x.mean(axis=(0, 1, 2))
        variance = x.var(axis=(0, 1, 2))  # biased, as Keras uses
    return (x - mean) / (variance + epsilon) ** 0.5 * gamma + beta


def _relu(x: np.ndarray) -> np.ndarray:
    """ReLU with an ndarray method, which a notebook cannot rebind."""
    return x.clip(min=0.0)


def _zero_pad(x: np.ndarray, pad: int) -> np.ndarray:
    """ZeroPadding2D((pad, pad))."""
    n, height, width, channels = x.shape
    out = _zeros((n, height + 2 * pad, width + 2 * pad, channels), dtype=_float64)
    out[:, pad : pad + height, pad : pad + width, :] = x
    return out


def _pool(x: np.ndarray, size: int, stride: int, kind: str, padding: str = "valid") -> np.ndarray:
    """MaxPooling2D or AveragePooling2D ("max" or "average") over size x size windows."""
    n, height, width, channels = x.shape
    if padding == "same":
        out_h, out_w = -(-height // stride), -(-width // stride)
        pad_h = max((out_h - 1) * stride + size - height, 0)
        pad_w = max((out_w - 1) * stride + size - width, 0)
        fill = -float("inf") if kind == "max" else float("nan")
        padded = _zeros((n, height + pad_h, width + pad_w, channels), dtype=_float64) + fill
        padded[:, pad_h // 2 : pad_h // 2 + height, pad_w // 2 : pad_w // 2 + width, :] = x
        x = padded
    else:
        out_h, out_w = (height - size) // stride + 1, (width - size) // stride + 1
    windows = [
        x[:, i : i + stride * (out_h - 1) + 1 : stride, j : j + stride * (out_w - 1) + 1 : stride, :]
        for i in range(size)
        for j in range(size)
    ]
    stacked = _zeros((len(windows), n, out_h, out_w, channels), dtype=_float64)
    for index, window in enumerate(windows):
        stacked[index] = window
    if kind == "max":
        return stacked.max(axis=0)
    valid = (stacked == stacked).sum(axis=0)  # padded cells are NaN and do not count, as in Keras
    stacked[stacked != stacked] = 0.0
    return stacked.sum(axis=0) / valid


def _softmax(x: np.ndarray) -> np.ndarray:
    """Softmax over the last axis."""
    values = _exp(x - x.max(axis=-1, keepdims=True))
    return values / values.sum(axis=-1, keepdims=True)
