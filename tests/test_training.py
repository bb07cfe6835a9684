"""The course training path on a tiny conv+BatchNorm model (seconds, not minutes)."""

import dataclasses

import numpy as np
import pytest

from resnet_course.keras_setup import import_keras

keras = import_keras()

from resnet_course import training  # noqa: E402  (after the quiet Keras import)
from resnet_course.instructor import batchnorm_statistics  # noqa: E402
from resnet_course.instructor.batchnorm_statistics import recompute_batchnorm_statistics  # noqa: E402
from resnet_course.training import (  # noqa: E402  # noqa: E402
    CLASSIC_RECIPE,
    COURSE_RECIPE,
    QUICK_RECIPE,
    Recipe,
    TrainingBatches,
    batchnorm_layers,
    evaluate,
    loop,
    predict_classes,
    train,
)
from resnet_course.training import batches as training_batches  # noqa: E402

IMAGE_SHAPE = (12, 12, 3)
CLASSES = 6
TINY_RECIPE = Recipe(
    name="tiny",
    epochs=1,
    batch_size=8,
    learning_rate=3e-3,
    weight_decay=0.05,
    label_smoothing=0.1,
    augment=True,
    max_shift=2,
    max_rotation=10,
    max_zoom=0.1,
    seed=3,
    bn_refresh_images=16,
)


def tiny_model():
    """conv-BN-relu, strided conv-BN-relu, pooled softmax head; seeded initial weights."""
    inputs = keras.Input(IMAGE_SHAPE)
    x = keras.layers.Conv2D(4, 3, kernel_initializer=keras.initializers.GlorotUniform(seed=1))(inputs)
    x = keras.layers.BatchNormalization(momentum=0.9, name="bn_first")(x)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.Conv2D(5, 3, strides=2, kernel_initializer=keras.initializers.GlorotUniform(seed=2))(x)
    x = keras.layers.BatchNormalization(name="bn_deep")(x)
    x = keras.layers.Activation("relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(
        CLASSES, activation="softmax", kernel_initializer=keras.initializers.GlorotUniform(seed=3)
    )(x)
    return keras.Model(inputs, outputs)


def mixed_tiny_model():
    """:func:`tiny_model` built under the mixed bfloat16 policy (the global policy is restored)."""
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        return tiny_model()
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = (rng.random((40, *IMAGE_SHAPE)) * 2.0 + 0.5).astype(np.float32)  # mean far from 0, var far from 1
    y = np.eye(CLASSES, dtype=np.float32)[rng.integers(0, CLASSES, 40)]
    return x, y


def numpy_moments(values):
    values = np.asarray(values, np.float64)
    return values.mean(axis=(0, 1, 2)), values.var(axis=(0, 1, 2))


def moving_statistics(layer):
    return (keras.ops.convert_to_numpy(layer.moving_mean), keras.ops.convert_to_numpy(layer.moving_variance))


# ---------------------------------------------------------------- recompute


def test_first_batchnorm_gets_the_statistics_of_all_its_inputs(data):
    x, _ = data
    model = tiny_model()
    first = model.get_layer("bn_first")
    # Uneven batches (16, 16, 8): the merge must weight them by size.
    assert recompute_batchnorm_statistics(model, x, batch_size=16) == 2
    conv_outputs = keras.Model(model.input, first.input)(x)
    expected_mean, expected_var = numpy_moments(keras.ops.convert_to_numpy(conv_outputs))
    mean, var = moving_statistics(first)
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(var, expected_var, rtol=1e-4, atol=1e-6)


def test_deeper_batchnorm_sees_training_mode_inputs_batch_by_batch(data):
    x, _ = data
    model = tiny_model()
    recompute_batchnorm_statistics(model, x, batch_size=16)
    deep = model.get_layer("bn_deep")
    mean, var = moving_statistics(deep)
    # Its inputs pass through bn_first normalised with each batch's own statistics.
    inputs_of_deep = keras.Model(model.input, deep.input)
    batches = [keras.ops.convert_to_numpy(inputs_of_deep(x[i : i + 16], training=True)) for i in range(0, 40, 16)]
    expected_mean, expected_var = numpy_moments(np.concatenate(batches))
    np.testing.assert_allclose(mean, expected_mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(var, expected_var, rtol=1e-4, atol=1e-5)


def test_recompute_restores_momentum_and_leaves_other_weights_alone(data):
    x, _ = data
    model = tiny_model()
    before = {v.path: keras.ops.convert_to_numpy(v) for v in model.weights if "moving" not in v.path}
    recompute_batchnorm_statistics(model, x, batch_size=16)
    assert [layer.momentum for layer in batchnorm_layers(model)] == [0.9, 0.99]
    for variable in model.weights:
        if "moving" not in variable.path:
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), before[variable.path])


def test_recompute_restores_momentum_after_an_error():
    model = tiny_model()
    with pytest.raises(Exception):
        recompute_batchnorm_statistics(model, np.zeros((4, 7, 7, 3), np.float32))  # wrong image size
    assert [layer.momentum for layer in batchnorm_layers(model)] == [0.9, 0.99]


def test_recompute_finds_nested_layers_and_skips_frozen_ones(data):
    x, _ = data
    inner = tiny_model()
    inner.get_layer("bn_deep").trainable = False
    inputs = keras.Input(IMAGE_SHAPE)
    outer = keras.Model(inputs, keras.layers.BatchNormalization(name="bn_outer")(inner(inputs)))
    assert {layer.name for layer in batchnorm_layers(outer)} == {"bn_first", "bn_deep", "bn_outer"}
    frozen_before = moving_statistics(inner.get_layer("bn_deep"))
    assert recompute_batchnorm_statistics(outer, x, batch_size=40) == 2
    np.testing.assert_array_equal(moving_statistics(inner.get_layer("bn_deep"))[0], frozen_before[0])
    assert not np.allclose(moving_statistics(inner.get_layer("bn_first"))[0], 0.0)


# ---------------------------------------------------------------- evaluate


def test_evaluate_runs_in_inference_mode(data):
    x, y = data
    model = tiny_model()
    training_mode = keras.ops.convert_to_numpy(model(x, training=True))  # (also moves the averages)
    recompute_batchnorm_statistics(model, x[:16], batch_size=16)
    expected = keras.ops.convert_to_numpy(model(x, training=False))
    assert not np.allclose(expected, training_mode, atol=1e-3)
    metrics = evaluate(model, x, y, batch_size=16)
    expected_loss = float(np.mean(keras.ops.convert_to_numpy(keras.losses.categorical_crossentropy(y, expected))))
    assert metrics["accuracy"] == pytest.approx(np.mean(expected.argmax(-1) == y.argmax(-1)))
    assert metrics["loss"] == pytest.approx(expected_loss, rel=1e-5)
    np.testing.assert_array_equal(predict_classes(model, x, batch_size=16), expected.argmax(-1))


# ---------------------------------------------------------------- train


def trained_tiny_model(data, recipe=TINY_RECIPE, **kwargs):
    x, y = data
    model = tiny_model()
    return model, train(model, x, y, recipe=recipe, verbose=0, **kwargs)


def test_train_repeats_exactly_for_the_same_seed(data):
    model_a, result_a = trained_tiny_model(data)
    model_b, result_b = trained_tiny_model(data)
    assert result_a.history["loss"] == result_b.history["loss"]
    for a, b in zip(model_a.weights, model_b.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    _, result_c = trained_tiny_model(data, recipe=TINY_RECIPE.replace(seed=4))
    assert result_c.history["loss"] != result_a.history["loss"]


def test_batches_made_by_threads_train_exactly_like_one_thread(data, monkeypatch):
    """Threads (used beside a GPU) make each batch ahead, in any order, to the same bits."""
    model_one, result_one = trained_tiny_model(data)
    monkeypatch.setattr(loop, "batch_workers", lambda: 3)
    model_three, result_three = trained_tiny_model(data)
    assert result_three.history["loss"] == result_one.history["loss"]
    for a, b in zip(model_one.weights, model_three.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_one_thread_makes_batches_on_a_cpu():
    assert training.batch_workers() == 1


def test_equal_batch_size_splits_evenly_when_it_can():
    assert batchnorm_statistics._equal_batch_size(1080, 64) == 60  # SIGNS: 18 batches of 60, one compilation
    assert batchnorm_statistics._equal_batch_size(128, 64) == 64
    assert batchnorm_statistics._equal_batch_size(97, 64) == 64  # prime: no even split, keep the size
    assert batchnorm_statistics._equal_batch_size(7, 64) == 64  # fewer images than a batch: one short batch


def test_train_returns_history_and_timing(data):
    x, y = data
    recipe = TINY_RECIPE.replace(epochs=2)
    model, result = trained_tiny_model(data, recipe=recipe, validation_data=(x[:16], y[:16]))
    for key in ("loss", "accuracy", "learning_rate", "seconds", "val_loss", "val_accuracy"):
        assert len(result.history[key]) == 2, key
    assert result.train_images_seen == 2 * (40 // 8) * 8
    assert result.images_per_second > 0 and result.steady_images_per_second > 0
    assert result.history["learning_rate"][1] < result.history["learning_rate"][0]  # cosine decays
    assert isinstance(result.as_dict()["recipe"], dict)
    # The final BatchNorm statistics are exact over the training set.
    first = model.get_layer("bn_first")
    expected_mean, _ = numpy_moments(keras.ops.convert_to_numpy(keras.Model(model.input, first.input)(x)))
    np.testing.assert_allclose(moving_statistics(first)[0], expected_mean, rtol=1e-4, atol=1e-5)


def test_cosine_schedule_warms_up_then_decays_to_its_floor():
    recipe = COURSE_RECIPE.replace(epochs=4, warmup_epochs=1, final_lr_fraction=0.1)
    schedule = training.make_learning_rate(recipe, steps_per_epoch=10)
    rates = [float(keras.ops.convert_to_numpy(schedule(step))) for step in (0, 10, 40)]
    peak = recipe.learning_rate
    assert rates[0] == pytest.approx(0.1 * peak) and rates[1] == pytest.approx(peak)
    assert rates[2] == pytest.approx(0.1 * peak, rel=1e-3)
    assert training.make_learning_rate(CLASSIC_RECIPE, 10) == CLASSIC_RECIPE.learning_rate


def test_clip_norm_limits_the_global_gradient_norm_of_a_step():
    recipe = COURSE_RECIPE.replace(optimizer="adam", schedule="constant", learning_rate=1.0, clip_norm=0.5)
    optimizer = training.make_optimizer(recipe, steps_per_epoch=1)
    # Adam's first step is scale-free, so the clipping itself is what can be observed.
    gradients = [np.full(3, 30.0, "float32"), np.full(4, 40.0, "float32")]  # global norm 10*sqrt(30)
    clipped = optimizer._clip_gradients(gradients)
    norm = np.sqrt(sum(float(np.sum(keras.ops.convert_to_numpy(g) ** 2)) for g in clipped))
    assert norm == pytest.approx(0.5, rel=1e-5)
    assert training.make_optimizer(recipe.replace(clip_norm=None), 1).global_clipnorm is None
    with pytest.raises(ValueError, match="clip_norm"):
        recipe.replace(clip_norm=0.0)


# ---------------------------------------------------------------- fused BatchNorm (TensorFlow)

needs_tensorflow = pytest.mark.skipif(
    not training.fused_batchnorm_available(), reason="fused BatchNorm kernels exist on the TensorFlow backend only"
)


def numpy_weights(model):
    return [keras.ops.convert_to_numpy(v) for v in model.weights]


@needs_tensorflow
def test_fused_batchnorm_computes_what_keras_computes(data):
    x, y = data
    plain, fused = tiny_model(), tiny_model()
    np.testing.assert_array_equal(numpy_weights(plain)[0], numpy_weights(fused)[0])
    with training.fused_batchnorm(fused) as patched:
        assert len(patched) == 2
        for training_mode in (True, False):  # True also moves the averages
            np.testing.assert_allclose(
                keras.ops.convert_to_numpy(fused(x, training=training_mode)),
                keras.ops.convert_to_numpy(plain(x, training=training_mode)),
                rtol=1e-4,
                atol=1e-6,
            )
        for layer in ("bn_first", "bn_deep"):
            for got, expected in zip(
                moving_statistics(fused.get_layer(layer)), moving_statistics(plain.get_layer(layer))
            ):
                np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)
        # One compiled training step: same gradients, so the same weights after it.
        for model in (plain, fused):
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy")
            model.train_on_batch(x, y)
        for got, expected in zip(numpy_weights(fused), numpy_weights(plain)):
            np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-5)
    assert all("call" not in vars(layer) for layer in batchnorm_layers(fused))


@needs_tensorflow
def test_train_gives_the_model_back_with_keras_batchnorm_and_convolutions(data):
    model, result = trained_tiny_model(data)
    assert "fused BatchNorm" in result.device and "GEMM convolutions" in result.device
    assert all("call" not in vars(layer) for layer in model.layers)


# ---------------------------------------------------------------- data and recipes


def test_training_batches_are_full_reproducible_and_augmented(data):
    x, y = data
    batches = TrainingBatches(x, y, batch_size=16, seed=1, augmentation=training.Augmentation(2, 10, 0.1))
    assert len(batches) == 2
    images, labels = batches[1]
    assert images.shape == (16, *IMAGE_SHAPE) and images.dtype == np.float32 and labels.shape == (16, CLASSES)
    np.testing.assert_array_equal(images, batches[1][0])
    batches.set_epoch(1)
    assert not np.array_equal(images, batches[1][0])
    plain = TrainingBatches(x, y, batch_size=16, seed=1)
    chosen = plain.order[:16]
    np.testing.assert_array_equal(plain[0][0], x[chosen])


def test_augmentation_without_limits_only_mirrors():
    images = np.random.default_rng(0).random((20, 6, 7, 3)).astype(np.float32)
    np.testing.assert_array_equal(training.Augmentation(0, 0, 0, flip=False)(images, np.random.default_rng(1)), images)
    out = training.Augmentation(0, 0, 0, flip=True)(images, np.random.default_rng(1))
    mirrored = [np.array_equal(o, i[:, ::-1]) for o, i in zip(out, images)]
    assert all(m or np.array_equal(o, i) for m, o, i in zip(mirrored, out, images)) and 0 < sum(mirrored) < 20


def test_augmentation_maps_rotate_shift_and_stay_within_the_input_values():
    image = np.random.default_rng(0).random((1, 5, 5, 2)).astype(np.float32)
    no_change = np.zeros(1)
    # A quarter turn: the inverse map reads the input rotated by 90 degrees.
    rows, cols = training_batches._source_coordinates(
        5, 5, np.array([np.pi / 2]), np.ones(1), np.zeros((1, 2)), no_change.astype(bool)
    )
    quarter = training_batches._bilinear_sample(image, rows, cols)
    np.testing.assert_allclose(quarter[0], np.rot90(image[0], k=-1), atol=1e-6)
    # A one-pixel shift down: row r of the output is row r-1 of the input, the top row repeats.
    rows, cols = training_batches._source_coordinates(
        5, 5, no_change, np.ones(1), np.array([[1.0, 0.0]]), no_change.astype(bool)
    )
    shifted = training_batches._bilinear_sample(image, rows, cols)
    np.testing.assert_allclose(shifted[0, 1:], image[0, :-1], atol=1e-6)
    np.testing.assert_allclose(shifted[0, 0], image[0, 0], atol=1e-6)
    out = training.Augmentation(3, 20, 0.2)(np.repeat(image, 30, axis=0), np.random.default_rng(2))
    assert out.shape == (30, 5, 5, 2) and out.dtype == np.float32
    assert out.min() >= image.min() - 1e-6 and out.max() <= image.max() + 1e-6


def test_recipes_are_sane():
    for recipe in (COURSE_RECIPE, QUICK_RECIPE, CLASSIC_RECIPE):
        assert 1 <= recipe.epochs <= 10 and recipe.batch_size <= 128, recipe
    assert QUICK_RECIPE.epochs < COURSE_RECIPE.epochs
    assert COURSE_RECIPE.optimizer == "adamw" and COURSE_RECIPE.schedule == "cosine" and COURSE_RECIPE.augment
    assert (CLASSIC_RECIPE.optimizer, CLASSIC_RECIPE.batch_size, CLASSIC_RECIPE.schedule) == ("adam", 32, "constant")
    assert not CLASSIC_RECIPE.augment and CLASSIC_RECIPE.label_smoothing == 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        COURSE_RECIPE.epochs = 99
    with pytest.raises(ValueError):
        COURSE_RECIPE.replace(optimizer="sgd")
    with pytest.raises(ValueError):
        COURSE_RECIPE.replace(warmup_epochs=10)
    with pytest.raises(ValueError, match="larger than"):
        COURSE_RECIPE.steps_per_epoch(COURSE_RECIPE.batch_size - 1)


def test_configure_for_device_picks_float32_and_no_xla_on_a_cpu():
    if training.accelerator_names():
        pytest.skip("this machine has a GPU")
    try:
        setup = training.configure_for_device()
        assert setup.dtype_policy == "float32"
        assert keras.mixed_precision.dtype_policy().name == "float32"
        if keras.backend.backend() == "tensorflow":
            assert setup.jit_compile is False
            assert setup.gemm_convolutions and "GEMM convolutions on" in setup.summary
        assert "CPU" in setup.summary
        assert training.choose_dtype_policy("mixed_bfloat16") == "mixed_bfloat16"  # explicit choice wins
    finally:
        keras.mixed_precision.set_dtype_policy("float32")


def test_mixed_precision_training_keeps_the_softmax_head_in_float32(data):
    x, y = data
    model = mixed_tiny_model()
    assert model(x[:2]).dtype == "bfloat16"  # what a mixed policy alone gives
    train(model, x, y, recipe=TINY_RECIPE, verbose=0)
    head = model.layers[-1]
    assert head.compute_dtype == "float32" and model(x[:2]).dtype == "float32"
    assert model.layers[1].compute_dtype == "bfloat16"  # the body stays mixed
    assert training.keep_outputs_in_float32(tiny_model()) == []  # nothing to do for float32


# ---------------------------------------------------------------- pretrained model file


def test_float32_copy_rebuilds_a_mixed_model_with_its_weights_and_fresh_statistics(data):
    from resnet_course.pretrained import float32_copy

    x, y = data
    model = mixed_tiny_model()
    train(model, x, y, recipe=TINY_RECIPE, verbose=0)
    copy = float32_copy(model, tiny_model, x, batch_size=8)
    assert copy is not model and copy.dtype_policy.name == "float32"
    assert keras.mixed_precision.dtype_policy().name == "float32"
    kernel = copy.get_layer(index=1).kernel
    np.testing.assert_array_equal(np.asarray(kernel), np.asarray(model.get_layer(index=1).kernel))
    first = copy.get_layer("bn_first")
    conv_out = keras.Model(copy.input, copy.layers[1].output)(x, training=False)
    mean, variance = numpy_moments(conv_out)
    np.testing.assert_allclose(np.asarray(first.moving_mean), mean, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(first.moving_variance), variance, rtol=1e-3, atol=1e-4)
    float32_model = tiny_model()
    assert float32_copy(float32_model, tiny_model, x, batch_size=8) is float32_model


def test_load_pretrained_says_how_to_make_a_missing_model(tmp_path):
    from resnet_course.pretrained import PretrainedModelMissing, load_pretrained

    with pytest.raises(PretrainedModelMissing, match="make pretrained"):
        load_pretrained(tmp_path / "resnet50_signs.h5")


def test_saved_model_loads_back_with_the_same_predictions(tmp_path, data):
    from resnet_course.pretrained import load_pretrained, save_model

    x, y = data
    model = tiny_model()
    train(model, x, y, recipe=TINY_RECIPE, verbose=0)  # compiled, with optimizer state
    path = tmp_path / "model.h5"
    save_model(model, path)
    np.testing.assert_allclose(predict_classes(load_pretrained(path), x), predict_classes(model, x))
    assert evaluate(load_pretrained(path), x, y) == pytest.approx(evaluate(model, x, y))


def test_pretrained_refuses_to_overwrite_without_force(tmp_path, capsys):
    from resnet_course import pretrained

    existing = tmp_path / "resnet50_signs.h5"
    existing.write_bytes(b"old model")
    assert pretrained.main(["--output", str(existing)]) == 1
    assert existing.read_bytes() == b"old model"
    assert "--force" in capsys.readouterr().err
    pretrained.metadata_path(existing).write_text("{}")
    backup = pretrained.keep_backup(existing)
    assert backup.read_bytes() == b"old model" and not existing.exists()
    assert (tmp_path / "resnet50_signs.json.bak").read_text() == "{}"
