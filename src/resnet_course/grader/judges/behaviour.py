"""Compare two Keras models by what they compute, whatever layers they are spelled with.

Used by judges on models rebuilt from evidence (``safe_models.py``). Every
weight is set by :func:`set_shape_seeded_weights` as a pure function of the
variable's role (``kernel``, ``gamma``, ``moving_variance``, ...), its shape
and a seed, so two models that hold the same weights in a different layer
order still get the same values. :func:`first_divergence` then runs both in
one mode and names the first checkpoint of the reference that the other
model's graph does not reproduce.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np

#: Largest accepted max-abs difference, relative to max(1, max |expected|).
TOLERANCE = 1e-4


@functools.lru_cache(maxsize=256)
def _values(name: str, shape: tuple, seed: int) -> np.ndarray:
    """The value of a variable with this role, shape and seed (read-only: one array serves every
    variable that asks, since a judge sets the same values on the student's model and the reference,
    in both modes)."""
    values = _drawn_values(name, shape, seed)
    values.flags.writeable = False
    return values


def _drawn_values(name: str, shape: tuple, seed: int) -> np.ndarray:
    digest = hashlib.sha256(f"{seed}/{name}/{shape}".encode()).digest()
    rng = np.random.default_rng(int.from_bytes(digest[:8], "big"))
    if name in ("gamma", "moving_variance"):
        return rng.uniform(0.5, 1.5, shape).astype("float32")
    if name in ("beta", "bias", "moving_mean"):
        return rng.uniform(-0.2, 0.2, shape).astype("float32")
    fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
    return (rng.standard_normal(shape) / np.sqrt(max(fan_in, 1))).astype("float32")


def set_shape_seeded_weights(model, seed: int = 0) -> None:
    """Give every variable of ``model`` the value its role, shape and ``seed`` determine."""
    from resnet_course.deferred_weights import initialize_unset, set_weight

    for variable in model.weights:
        role = variable.name.split("/")[-1]
        set_weight(variable, _values(role, tuple(int(d) for d in variable.shape), seed))
    initialize_unset(model)


def outputs_probe(model):
    """A model on ``model``'s inputs that outputs the result of every operation of ``model`` (layers and
    ``keras.ops`` calls alike): built once, it serves :func:`layer_outputs` in both modes."""
    from resnet_course.keras_setup import import_keras

    keras = import_keras()
    tensors, seen = [], set()
    for operation in [*getattr(model, "operations", model.layers)]:
        if type(operation).__name__ == "InputLayer":
            continue
        for output in _outputs_of(operation):
            if id(output) not in seen:
                seen.add(id(output))
                tensors.append(output)
    for output in model.outputs:
        if id(output) not in seen:
            tensors.append(output)
    return keras.Model(model.inputs, tensors)


def layer_outputs(probe, x: np.ndarray, training: bool) -> list[np.ndarray]:
    """The outputs of an :func:`outputs_probe` on ``x``: the value of every operation of its model."""
    values = probe(x, training=training)
    return [np.asarray(value) for value in (values if isinstance(values, (list, tuple)) else [values])]


def _outputs_of(layer) -> list:
    output = layer.output
    return list(output) if isinstance(output, (list, tuple)) else [output]


def _close(got: np.ndarray, expected: np.ndarray) -> float:
    return float(np.max(np.abs(got - expected)) / max(1.0, float(np.max(np.abs(expected)))))


def first_divergence(checkpoints: list[tuple[str, np.ndarray]], candidates: list[np.ndarray]) -> tuple[str, str] | None:
    """The first checkpoint (name, expected value) not found among ``candidates``: (its name, what
    differs); None if all are found.

    A checkpoint counts as found when some candidate has its shape and values
    within :data:`TOLERANCE`; the description gives the closest same-shape
    candidate, or says that there is none.
    """
    for name, expected in checkpoints:
        same_shape = [c for c in candidates if c.shape == expected.shape]
        differences = [_close(c, expected) for c in same_shape]
        if differences and min(differences) <= TOLERANCE:
            continue
        if not differences:
            return name, f"no tensor of shape {expected.shape[1:]} (batch omitted) where one was expected"
        closest = same_shape[int(np.argmin(differences))]
        shown = [np.round(values.ravel()[:4], 4).tolist() for values in (expected, closest)]
        return name, (
            f"the values differ (relative difference {min(differences):.2g}); expected {shown[0]}..., got {shown[1]}..."
        )
    return None


def probe_input(shape: tuple, batch: int = 2, seed: int = 0) -> np.ndarray:
    """A batch of inputs for comparing models (values like normalised images)."""
    return np.random.default_rng(seed).uniform(0, 1, (batch, *shape)).astype("float32")
