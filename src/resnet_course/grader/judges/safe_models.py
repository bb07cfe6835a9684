"""Rebuild a student's Keras model from its JSON configuration, as data and never as code.

The configuration comes from the student's kernel, so it is untrusted. It
is parsed with a size limit, every class it names must come from Keras
itself (no ``Lambda``, no custom or registered classes, no other module),
and Keras deserialises it with ``safe_mode=True``. What is built is a plain
Keras graph; no function the student wrote exists in this process.
"""

from __future__ import annotations

import contextlib
import json
import resource

MAX_CONFIG_BYTES = 16 * 1024 * 1024
MAX_LAYERS = 2000
#: Layers that carry Python code (a function or a pickled object) in their configuration.
CODE_CARRYING = {"Lambda", "TFOpLambda", "TorchModuleWrapper", "JaxLayer", "FlaxLayer"}
#: How each backend says that allocating a layer's weights failed (TensorFlow, JAX, torch).
OUT_OF_MEMORY_SIGNS = (
    "ResourceExhausted",
    "RESOURCE_EXHAUSTED",
    "OOM when allocating",
    "out of memory",
    "can't allocate",
)
OUT_OF_MEMORY_REASON = (
    "building the model ran out of the grader's memory (the judges' memory limit): its layers hold far more "
    "weights than the exercise asks for; build it with the sizes the exercise gives"
)


#: A judge holds a weight's values about three times while setting it (numpy's float64 draw, its
#: float32 copy and the backend's variable): a model that cannot fit thrice is refused unbuilt.
COPIES_WHILE_SETTING = 3


class UnsafeModel(ValueError):
    """The configuration names something other than Keras' own layers (the message is for the student)."""


def _check_node(node, path: str) -> None:
    if isinstance(node, dict):
        module = node.get("module")
        if module is not None and not (module == "keras" or str(module).startswith("keras.")):
            raise UnsafeModel(f"the model uses {module}.{node.get('class_name')}; only Keras' own layers can be graded")
        name = node.get("class_name")
        if name in CODE_CARRYING:
            raise UnsafeModel(f"the model uses a {name} layer, which carries Python code; use Keras layers instead")
        registered = node.get("registered_name")
        if isinstance(registered, str) and ">" in registered:
            raise UnsafeModel(f"the model uses the custom class {registered}; only Keras' own layers can be graded")
        for key, value in node.items():
            _check_node(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _check_node(value, f"{path}[{index}]")


def _too_large_for_memory(model) -> bool:
    """Whether setting every weight of ``model`` would pass this process' data limit (``RLIMIT_DATA``)."""
    limit, _ = resource.getrlimit(resource.RLIMIT_DATA)
    if limit == resource.RLIM_INFINITY:
        return False
    return 4 * COPIES_WHILE_SETTING * model.count_params() > limit


def load_model(config_json: str, deferred: bool = False):
    """The ``keras.Model`` a JSON configuration describes.

    Args:
        config_json: The configuration, as the student's kernel handed it over.
        deferred: Build it without running its weights' initializers (``resnet_course.deferred_weights``),
            for a judge that sets every weight itself. Its weights must then fit in the judges' memory
            limit with room for the judge's own copies, or it is refused before any is allocated.

    Raises:
        UnsafeModel: the configuration is too large, not a functional model, names non-Keras classes, or
            describes weights that do not fit in the judges' memory (a Keras backend's allocation error
            is a student's evidence, not a fault of the grader).
    """
    if not isinstance(config_json, str) or len(config_json) > MAX_CONFIG_BYTES:
        raise UnsafeModel("the model's configuration is missing or too large")
    try:
        config = json.loads(config_json)
    except ValueError:
        raise UnsafeModel("the model's configuration is not valid JSON") from None
    if not isinstance(config, dict) or config.get("class_name") not in ("Functional", "Model"):
        raise UnsafeModel("the function must return a keras.Model built from keras.Input (a functional model)")
    layers = config.get("config", {}).get("layers", [])
    if not isinstance(layers, list) or len(layers) > MAX_LAYERS:
        raise UnsafeModel("the model's configuration has too many layers")
    _check_node(config, "model")
    from resnet_course.deferred_weights import deferred_weights
    from resnet_course.keras_setup import import_keras, silenced_stderr

    keras = import_keras()
    building = deferred_weights() if deferred else contextlib.nullcontext()
    try:
        with silenced_stderr(), building:
            model = keras.saving.deserialize_keras_object(config, safe_mode=True)
    except MemoryError:
        raise UnsafeModel(OUT_OF_MEMORY_REASON) from None
    except Exception as error:
        problem = f"{type(error).__name__}: {error}"
        if any(sign in problem for sign in OUT_OF_MEMORY_SIGNS):
            raise UnsafeModel(OUT_OF_MEMORY_REASON) from None
        problem = problem[:600]
        raise UnsafeModel(f"the model could not be rebuilt from its configuration ({problem})") from None
    if deferred and _too_large_for_memory(model):
        raise UnsafeModel(OUT_OF_MEMORY_REASON)
    return model
