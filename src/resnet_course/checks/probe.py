"""Reading a built model: all its intermediate values in one call, and any ``training`` baked into it.

Why a hard-coded ``training`` passes with a note is explained in :mod:`.resnet50`.
"""

from __future__ import annotations

from .core import _asarray, _attempt, _float64, keras


class _Probe:
    """Every intermediate tensor of a functional model, computed in one call.

    Attributes:
        names: "layer_name (LayerType)" of each tensor, from the input towards the output.
    """

    def __init__(self, model):
        tensors, self.names, seen = [], [], set()
        nodes_by_depth = getattr(model, "_nodes_by_depth", None) or {}
        for depth in sorted(nodes_by_depth, reverse=True):  # the deepest nodes are nearest the input
            for node in nodes_by_depth[depth]:
                operation = node.operation
                if isinstance(operation, keras.layers.InputLayer):
                    continue
                for tensor in node.outputs:
                    if id(tensor) not in seen and len(tensor.shape) >= 2:
                        seen.add(id(tensor))
                        tensors.append(tensor)
                        self.names.append(f"{operation.name} ({type(operation).__name__})")
        self.model, error = _attempt(keras.Model, model.inputs, tensors) if tensors else (None, True)
        if error is not None:  # not a functional graph: only the output can be compared
            self.model, self.names = model, ["the model's output"]

    def values(self, x, training: bool) -> list:
        outputs = self.model(keras.ops.convert_to_tensor(x), training=training)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        return [_asarray(keras.ops.convert_to_numpy(value)).astype(_float64) for value in outputs]


def _hard_coded_training(model) -> dict:
    """How many layer calls of the model have training=True or training=False baked in."""
    counts = {True: 0, False: 0}
    for nodes in (getattr(model, "_nodes_by_depth", None) or {}).values():
        for node in nodes:
            value = node.arguments.kwargs.get("training") if node.arguments is not None else None
            if isinstance(value, bool):
                counts[value] += 1
    return counts


def training_note(model) -> str:
    """The explanation shown when ``training`` is hard-coded into the model's graph ("" if it is not)."""
    counts = _hard_coded_training(model)
    if not counts[True] and not counts[False]:
        return ""
    baked = " and ".join(f"training={value} in {count} layer call(s)" for value, count in counts.items() if count)
    return (
        f"your model has {baked} fixed when it was built"
        + (" (the blocks' default training=True does this). " if counts[True] else ". ")
        + "model.fit, model.predict and model.evaluate override it, and so does this check, so the model is "
        "right; but a plain model(x) call uses the fixed value (batch statistics, and it updates the moving "
        "averages). For inference call model(x, training=False) or model.predict(x)."
    )
