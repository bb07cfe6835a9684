"""Convolutions as matrix products (resnet_course.training.kernels.gemm_conv): same maths as Keras' Conv2D."""

import numpy as np
import pytest

from resnet_course.keras_setup import import_keras

keras = import_keras()

from resnet_course.training.kernels import gemm_conv  # noqa: E402  (after the quiet Keras import)

L = keras.layers


def convolution_zoo():
    """Every case the matrix product takes, on a 5x5 input (seeded weights)."""
    init = keras.initializers.GlorotUniform
    inputs = keras.Input((5, 5, 3))
    x = L.Conv2D(8, 1, name="pointwise", kernel_initializer=init(1), bias_initializer="ones")(inputs)
    x = L.Conv2D(8, 1, strides=2, padding="valid", activation="relu", name="strided_valid", kernel_initializer=init(2))(
        x
    )  # 5x5 -> 3x3
    x = L.Conv2D(8, 1, strides=2, padding="same", name="strided_same", kernel_initializer=init(3))(x)  # 3x3 -> 2x2
    x = L.Conv2D(6, 3, padding="same", name="im2col", kernel_initializer=init(4), bias_initializer="ones")(x)
    x = L.Conv2D(6, 3, padding="same", use_bias=False, name="im2col_no_bias", kernel_initializer=init(5))(x)
    outputs = L.Dense(2, kernel_initializer=init(6))(L.Flatten()(x))
    return keras.Model(inputs, outputs)


def outputs_and_gradients(model, x):
    """The model's output on ``x`` and the gradients of a squared-output loss, as numpy."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        outputs = model(x, training=True)
        loss = tf.reduce_sum(outputs**2)
    gradients = tape.gradient(loss, model.trainable_weights)
    return outputs.numpy(), [g.numpy() for g in gradients]


needs_tensorflow = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="compared with TensorFlow's GradientTape"
)


@needs_tensorflow
def test_matrix_products_give_keras_outputs_and_gradients(monkeypatch):
    model = convolution_zoo()
    x = np.random.default_rng(0).normal(size=(4, 5, 5, 3)).astype("float32")
    expected_outputs, expected_gradients = outputs_and_gradients(model, x)

    took_the_product = []
    arrange = gemm_conv._gemm_inputs

    def arrange_and_record(layer, inputs):
        patches = arrange(layer, inputs)
        if patches is not None:  # None: Keras' own call
            took_the_product.append(layer.name)
        return patches

    monkeypatch.setattr(gemm_conv, "_gemm_inputs", arrange_and_record)
    with gemm_conv.gemm_convolutions(model) as patched:
        assert [layer.name for layer in patched] == [
            "pointwise",
            "strided_valid",
            "strided_same",
            "im2col",
            "im2col_no_bias",
        ]
        outputs, gradients = outputs_and_gradients(model, x)
    assert took_the_product == [layer.name for layer in patched]
    np.testing.assert_allclose(outputs, expected_outputs, rtol=1e-5, atol=1e-5)
    for got, expected in zip(gradients, expected_gradients):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert all("call" not in vars(layer) for layer in model.layers)  # Keras' own call is back


def test_shapes_a_product_does_not_cover_keep_keras_convolution(monkeypatch):
    """Those layers are patched but fall back at call time, so results cannot change."""

    def takes_the_product(layer, shape):
        layer.build(shape)
        return gemm_conv._gemm_inputs(layer, keras.KerasTensor(shape)) is not None

    assert takes_the_product(L.Conv2D(4, 1), (1, 4, 4, 2))
    assert takes_the_product(L.Conv2D(4, 3, padding="same"), (1, 2, 2, 2))
    assert not takes_the_product(L.Conv2D(4, 3, padding="same"), (1, 4, 4, 2))  # too many positions
    assert not takes_the_product(L.Conv2D(4, 1), (1, None, None, 2))  # spatial size unknown
    monkeypatch.setattr(gemm_conv, "MAX_PATCH_POSITIONS", 100)  # so that only the shape rules decide
    assert takes_the_product(L.Conv2D(4, 3, padding="same"), (1, 4, 4, 2))
    assert not takes_the_product(L.Conv2D(4, 3, padding="valid"), (1, 4, 4, 2))
    assert not takes_the_product(L.Conv2D(4, 3, strides=2, padding="same"), (1, 4, 4, 2))
    assert not takes_the_product(L.Conv2D(4, 2, padding="same"), (1, 4, 4, 2))  # even kernels pad unevenly
    assert not takes_the_product(L.Conv2D(4, (1, 3), padding="same"), (1, 4, 4, 2))


def test_unusual_convolutions_are_left_alone():
    class OwnCall(L.Conv2D):
        def call(self, inputs):
            return super().call(inputs) * 2.0

    inputs = keras.Input((6, 6, 4))
    layers = [L.Conv2D(4, 1, dilation_rate=2), L.Conv2D(4, 1, groups=2), OwnCall(4, 1), L.Conv2D(4, 1)]
    model = keras.Model(inputs, [layer(inputs) for layer in layers])
    with gemm_conv.gemm_convolutions(model) as patched:
        assert patched == [layers[-1]]
    with gemm_conv.gemm_convolutions(model, enabled=False) as patched:
        assert patched == []
