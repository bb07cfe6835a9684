"""The stage table of a ResNet: each stage's output shape, read from the built model's graph.

:func:`trace_shapes` is the checkpoint a student runs after writing ``ResNet50``; its table has the rows
of the notebook's stage table, so a wrong stride or filter count shows in the stage where it happens.
It reads only the model (Keras layers and their connections), never the notebook's functions, so it
works whatever the blocks are called. A block ends at an ``Add`` layer; a block whose ``Add`` joins two
BatchNorm outputs has a projection shortcut (a convolutional block) and starts a new stage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Stage:
    """One row of the stage table.

    Attributes:
        name: "1" (the stem), "2" to "5", or "head".
        output_shape: Output shape of the stage, batch dimension omitted.
        blocks: Kinds of the residual blocks in the stage, in order ("convolutional" or "identity").
    """

    name: str
    output_shape: tuple
    blocks: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """The stage's blocks in words, e.g. "1 convolutional + 2 identity blocks"."""
        if self.name == "1":
            return "stem"
        if self.name == "head":
            return "pooling, flatten, dense"
        counts = [(kind, self.blocks.count(kind)) for kind in ("convolutional", "identity") if kind in self.blocks]
        return " + ".join(f"{n} {kind}" for kind, n in counts) + f" block{'s' if len(self.blocks) > 1 else ''}"


def _producer(tensor):
    """The layer that computed a symbolic tensor."""
    return tensor._keras_history[0]


def _inputs_of(layer) -> list:
    return list(layer._inbound_nodes[0].input_tensors) if layer._inbound_nodes else []


def _shape(tensor) -> tuple:
    return tuple(int(d) for d in tensor.shape[1:])


def stage_shapes(model) -> list[Stage]:
    """The stages of a built ResNet, from its layers.

    The stem ends at the first tensor that two layers read (where the first block's shortcut branches
    off); each ``Add`` layer ends a block; the head is the model's output.
    """
    consumers: dict[int, int] = {}
    tensors = {}
    for layer in model.layers:
        for tensor in _inputs_of(layer):
            consumers[id(tensor)] = consumers.get(id(tensor), 0) + 1
            tensors[id(tensor)] = tensor
    branching = [tensors[key] for key, count in consumers.items() if count > 1]
    stages = [Stage("1", _shape(branching[0]))] if branching else []
    for layer in model.layers:
        if type(layer).__name__ != "Add":
            continue
        joined = [type(_producer(t)).__name__ for t in _inputs_of(layer)]
        projection = all(kind == "BatchNormalization" for kind in joined)
        if projection or len(stages) < 2:
            stages.append(Stage(str(len(stages) + 1), None))
        stages[-1].blocks.append("convolutional" if projection else "identity")
        stages[-1].output_shape = _shape(layer.output)
    stages.append(Stage("head", _shape(model.outputs[0])))
    return stages


def parameter_line(model) -> str:
    """Total, trainable and non-trainable parameter counts in Keras' words."""
    trainable = sum(math.prod(w.shape) for w in model.trainable_weights)
    frozen = sum(math.prod(w.shape) for w in model.non_trainable_weights)
    return f"Total params: {trainable + frozen:,} (Trainable params: {trainable:,}, Non-trainable params: {frozen:,})"


def stage_table(model) -> str:
    """The compact summary the notebook prints instead of the layer-by-layer ``model.summary()``."""
    rows = [f"{'stage':<6} {'blocks':<36} output shape"]
    rows += [f"{stage.name:<6} {stage.describe():<36} {stage.output_shape}" for stage in stage_shapes(model)]
    rows.append(parameter_line(model))
    return "\n".join(rows)


def trace_shapes(build_model, input_shape=(64, 64, 3), classes: int = 6) -> list[Stage]:
    """Build a model with ``build_model(input_shape=..., classes=...)``, print its stage table, return the stages.

    A model that does not build gets one line instead of a second copy of its error: the self-check above
    this cell shows the error, with a hint. So does a model whose stages cannot be read (no list is returned).
    """
    from .demonstration import demonstration_model

    name = getattr(build_model, "__name__", "the model")
    model = demonstration_model(build_model, input_shape=input_shape, classes=classes)
    if model is None:
        print(f"skipped: {name} does not build yet; see the self-check above.")
        return []
    try:
        table, stages = stage_table(model), stage_shapes(model)
    except Exception:  # a model of another shape than a ResNet: its self-check says how
        print(f"skipped: {name} builds, but its stages cannot be read; see the self-check above.")
        return []
    print(table)
    return stages
