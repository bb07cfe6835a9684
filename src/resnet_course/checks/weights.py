"""Weights a check chooses itself: pure functions of a weight's shape, role and a seed.

The blocks receive their kernels through the ``initializer`` argument
(:func:`make_initializer`); models built elsewhere (ResNet50, or a block
rebuilt from its JSON config) get every weight assigned by
:func:`assign_weights`. Either way the values do not depend on Keras' random
seeds, on the TensorFlow version, or on the order in which the layers were
created, so a numpy forward pass can use the very same values.
"""

from __future__ import annotations

import functools

import numpy as np

from ..deferred_weights import initialize_unset, set_weight
from .core import _default_rng, _float32, _zeros, keras


def deterministic_kernel(shape, seed: int = 0) -> np.ndarray:
    """Kernel values that depend only on the kernel's shape and ``seed``.

    Args:
        shape: The kernel's shape, e.g. ``(3, 3, 2, 4)``.
        seed: The check case's seed.

    Returns:
        A read-only float32 array of that shape with entries of order
        1/sqrt(fan-in), so activations stay of order one through the block.
        The same shape and seed give the same array object: a check asks for
        each kernel several times (both modes of a block, and its numpy
        reference), and drawing ResNet50's kernels takes seconds.
    """
    return _kernel_values(tuple(int(d) for d in shape), int(seed))


@functools.lru_cache(maxsize=64)
def _kernel_values(shape: tuple, seed: int) -> np.ndarray:
    rng = _default_rng([seed, *shape])
    fan_in = 1
    for size in shape[:-1]:
        fan_in *= size
    values = (rng.standard_normal(shape) / max(fan_in, 1) ** 0.5).astype(_float32)
    values.flags.writeable = False
    return values


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


#: Per role: (stream mixed into the seed, scale of the normal noise, offset).
#: Offsets and scales keep a BatchNormalization's inference mode close to,
#: but measurably different from, its training mode.
_ROLES = {
    "bias": (1, 0.1, 0.0),
    "gamma": (2, 0.1, 1.0),
    "beta": (3, 0.1, 0.0),
    "moving_mean": (4, 0.1, 0.0),
    "moving_variance": (5, 0.0, 1.0),
}

#: A freshly built layer's values for each role, used for the blocks, whose
#: numpy reference assumes fresh BatchNormalization weights and zero biases.
_FRESH = {"bias": 0.0, "gamma": 1.0, "beta": 0.0, "moving_mean": 0.0, "moving_variance": 1.0}


def deterministic_weight(role: str, shape, seed: int = 0) -> np.ndarray:
    """The value of a weight with this role ("kernel", "bias", "gamma", ...) and shape.

    Kernels come from :func:`deterministic_kernel`; a moving variance lies in
    [0.5, 1.5); the other roles are small normal noise around their usual
    initial value. An unknown role is treated as a kernel.
    """
    shape = tuple(int(d) for d in shape)
    if role not in _ROLES:
        return deterministic_kernel(shape, seed)
    stream, scale, offset = _ROLES[role]
    rng = _default_rng([int(seed), 1000 + stream, *shape])
    if role == "moving_variance":
        return (0.5 + rng.random(shape)).astype(_float32)
    return (offset + scale * rng.standard_normal(shape)).astype(_float32)


def _role(variable) -> str:
    """A variable's role, read from its name ("kernel", "gamma", ...)."""
    return str(getattr(variable, "name", "")).rsplit("/", 1)[-1].split(":")[0]


def assign_weights(model, seed: int = 0, *, fresh_except_kernels: bool = False) -> None:
    """Set every weight of ``model`` from its role and shape.

    Args:
        model: A built Keras model.
        seed: Mixed into every value.
        fresh_except_kernels: Kernels deterministic, every other weight as a
            freshly built layer has it (biases 0, gamma 1, moving variance 1, ...).
    """
    for variable in model.weights:
        role = _role(variable)
        if fresh_except_kernels and role in _FRESH:
            value = _zeros(tuple(variable.shape), dtype=_float32) + _float32(_FRESH[role])
        else:
            value = deterministic_weight(role, variable.shape, seed)
        set_weight(variable, value.astype(str(variable.dtype)) if variable.dtype != "float32" else value)
    initialize_unset(model)
