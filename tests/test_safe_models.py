"""A student's model configuration is rebuilt as data: what it may name, and how its failures read."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from resnet_course.grader.judges.safe_models import OUT_OF_MEMORY_REASON, UnsafeModel, load_model
from resnet_course.keras_setup import import_keras


def small_model_config(units: int = 4) -> dict:
    keras = import_keras()
    inputs = keras.Input((8,))
    return json.loads(keras.Model(inputs, keras.layers.Dense(units)(inputs)).to_json())


def test_a_plain_keras_configuration_is_rebuilt_with_its_layers():
    model = load_model(json.dumps(small_model_config(5)))
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense"]
    assert tuple(model.output.shape) == (None, 5)


def test_a_layer_from_another_module_is_refused_by_name():
    config = small_model_config()
    config["config"]["layers"][1]["module"] = "students_own.layers"
    with pytest.raises(UnsafeModel, match=r"students_own\.layers\.Dense; only Keras' own layers"):
        load_model(json.dumps(config))


def test_a_lambda_layer_is_refused_because_it_carries_code():
    config = small_model_config()
    config["config"]["layers"][1]["class_name"] = "Lambda"
    with pytest.raises(UnsafeModel, match="Lambda layer, which carries Python code"):
        load_model(json.dumps(config))


def test_what_is_not_a_functional_model_is_refused():
    with pytest.raises(UnsafeModel, match="functional model"):
        load_model(json.dumps({"class_name": "Sequential", "config": {}}))
    with pytest.raises(UnsafeModel, match="not valid JSON"):
        load_model("{")


#: Rebuilds a configuration whose Dense layer holds 16384 x 262144 weights (17 GB) under a 2 GiB data limit.
OUT_OF_MEMORY_SCRIPT = textwrap.dedent(
    """
    import json, resource, sys
    resource.setrlimit(resource.RLIMIT_DATA, (2 * 1024**3, 2 * 1024**3))
    from resnet_course.grader.judges.safe_models import UnsafeModel, load_model
    from resnet_course.keras_setup import import_keras

    keras = import_keras()
    inputs = keras.Input((16384,))
    config = json.loads(keras.Model(inputs, keras.layers.Dense(8)(inputs)).to_json())
    config["config"]["layers"][1]["config"]["units"] = 262144
    try:
        load_model(json.dumps(config), deferred=sys.argv[1] == "deferred")
    except UnsafeModel as problem:
        print(problem)
    """
)


@pytest.mark.parametrize("build", ["ordinary", "deferred"])
def test_a_configuration_too_large_for_the_judges_memory_says_so_without_backend_internals(build):
    """Built the ordinary way, the backend's allocation fails; built deferred (for a judge that sets the
    weights itself), the weights' size is compared with the data limit before anything is allocated."""
    result = subprocess.run(
        [sys.executable, "-c", OUT_OF_MEMORY_SCRIPT, build], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == OUT_OF_MEMORY_REASON
