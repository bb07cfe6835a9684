"""Find layers in a model and, for a while, route their ``call`` through other code.

The training path swaps in faster kernels (fused BatchNorm, convolutions as
matrix products) per layer instance: only the model object in memory
changes, never its config, weights or saved files, and Keras' own ``call``
comes back when the ``with`` block ends.
"""

from __future__ import annotations

import contextlib

from ...keras_setup import import_keras


def nested_layers(model, kind) -> list:
    """Every layer of type ``kind`` in ``model``, nested models included, once each."""
    found, seen = [], set()

    def walk(layer):
        if id(layer) in seen:
            return
        seen.add(id(layer))
        if isinstance(layer, kind):
            found.append(layer)
        for child in getattr(layer, "layers", ()):
            walk(child)

    for layer in model.layers:
        walk(layer)
    return found


def patch_calls(layers, call, eligible) -> list:
    """Make ``call(layer, ...)`` the ``call`` of each eligible, not yet patched layer.

    Returns:
        The layers newly patched (undo with :func:`restore_calls`).
    """
    patched = []
    for layer in layers:
        if "call" not in vars(layer) and eligible(layer):
            layer.call = call.__get__(layer)
            patched.append(layer)
    return patched


def restore_calls(layers) -> None:
    """Give the layers back their class's own ``call``."""
    for layer in layers:
        vars(layer).pop("call", None)


@contextlib.contextmanager
def patched_calls(patch, model, enabled: bool = True):
    """Within the ``with`` block, ``patch(model)`` is in force; yields the layers it patched."""
    patched = patch(model) if enabled else []
    try:
        yield patched
    finally:
        restore_calls(patched)


def batchnorm_layers(model) -> list:
    """Every BatchNormalization layer in ``model``, nested models included, once each."""
    return nested_layers(model, import_keras().layers.BatchNormalization)
