"""Models built without their initial weights: the same configuration, complete before any call."""

from __future__ import annotations

import json

import numpy as np
import pytest

from resnet_course import evidence
from resnet_course.checks import assign_weights
from resnet_course.deferred_weights import (
    build_without_initial_weights,
    deferred_weights,
    initialize_unset,
    is_unset,
    set_weight,
)
from resnet_course.keras_setup import import_keras

keras = import_keras()


def small_block_model(dropout: bool = False):
    inputs = keras.Input((6, 5, 3))
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)
    x = keras.layers.BatchNormalization(axis=3)(x)
    if dropout:
        x = keras.layers.Dropout(0.5)(x)
    x = keras.layers.Activation("relu")(x)
    return keras.Model(inputs, keras.layers.Add()([x, keras.layers.Conv2D(4, 1)(inputs)]))


def settings(config_json: str) -> list:
    """Each layer's class and settings, without the names Keras generates (``conv2d_7``)."""
    layers = json.loads(config_json)["config"]["layers"]
    return [(layer["class_name"], {k: v for k, v in layer["config"].items() if k != "name"}) for layer in layers]


def registry():
    from keras.src.backend.common import global_state

    return list(global_state.get_global_attribute("uninitialized_variables", None) or [])


def test_a_deferred_build_has_the_ordinary_configuration_and_no_values():
    before = registry()
    ordinary = small_block_model()
    with deferred_weights() as created:
        deferred = small_block_model()
    assert settings(deferred.to_json()) == settings(ordinary.to_json())
    assert len(created) == len(deferred.variables) == 8  # two convolutions (kernel, bias), one BatchNorm (4)
    assert all(is_unset(variable) for variable in deferred.variables)
    assert not any(is_unset(variable) for variable in ordinary.variables)
    assert registry() == before, "Keras' own list of variables to initialise is left as it was"


def test_weights_set_on_a_deferred_model_compute_what_the_ordinary_model_computes():
    ordinary = small_block_model()
    with deferred_weights():
        deferred = small_block_model()
    for model in (ordinary, deferred):
        assign_weights(model, seed=3)
    assert not any(is_unset(variable) for variable in deferred.variables)
    x = np.random.default_rng(0).uniform(size=(2, 6, 5, 3)).astype("float32")
    for training in (False, True):
        np.testing.assert_allclose(
            np.asarray(deferred(x, training=training)), np.asarray(ordinary(x, training=training)), rtol=1e-6
        )


def test_what_the_caller_did_not_set_gets_its_initializer_before_the_model_runs():
    with deferred_weights():
        model = small_block_model(dropout=True)
    kernel = model.layers[1].kernel
    set_weight(kernel, np.ones(tuple(kernel.shape), "float32"))
    unset = [variable for variable in model.variables if is_unset(variable)]
    assert unset and all(variable is not kernel for variable in unset)
    initialize_unset(model)
    assert not any(is_unset(variable) for variable in model.variables)
    np.testing.assert_array_equal(np.asarray(kernel.value), 1.0)
    assert np.asarray(model.layers[2].gamma.value).tolist() == [1.0] * 4  # the initializer's value
    assert model(np.zeros((1, 6, 5, 3), "float32"), training=True).shape == (1, 6, 5, 4)


def test_evidence_of_a_build_that_needs_values_is_the_ordinary_build():
    created = []

    def makes_a_variable_from_values():
        created.append(keras.Variable(np.ones((4, 3), "float32")))  # refused while initializers are deferred
        inputs = keras.Input((4,))
        return keras.Model(inputs, keras.layers.Dense(3)(inputs))

    handed = evidence._model_json(makes_a_variable_from_values)
    assert len(created) == 1, "the deferred attempt failed, the ordinary build succeeded"
    assert set(handed) == {"config"}
    assert json.loads(handed["config"])["config"]["layers"][1]["class_name"] == "Dense"


def test_a_build_that_needs_values_is_retried_once_after_the_callers_reset():
    attempts, resets = [], []

    def build():
        attempts.append(len(resets))
        inputs = keras.Input((4,))
        layer = keras.layers.Dense(3)
        outputs = layer(inputs)
        keras.Variable(np.ones((4, 3), "float32"))  # refused while initializers are deferred
        return keras.Model(inputs, outputs)

    model = build_without_initial_weights(build, before_retry=lambda: resets.append(True))
    assert attempts == [0, 1], "tried deferred, then once more after the reset"
    assert not any(is_unset(variable) for variable in model.variables)


def test_evidence_of_a_build_that_fails_is_its_error():
    def fails():
        inputs = keras.Input((7, 7, 3))
        return keras.Model(inputs, keras.layers.AveragePooling2D((9, 9))(inputs))

    handed = evidence._model_json(fails)
    assert set(handed) == {"error"}
    assert "\x1b" not in handed["error"] and handed["error"]


def test_a_kernel_asked_for_twice_is_one_read_only_array():
    from resnet_course.checks import deterministic_kernel

    first = deterministic_kernel((3, 3, 2, 4), seed=5)
    assert deterministic_kernel([3, 3, 2, 4], seed=5) is first
    with pytest.raises(ValueError):
        first[0, 0, 0, 0] = 1.0
    assert not np.array_equal(deterministic_kernel((3, 3, 2, 4), seed=6), first)
