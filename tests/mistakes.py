"""Plausible student mistakes, and correct alternatives, for the self-checks.

Each entry is a real implementation a student could write: a copy of the
reference with one thing changed (mistakes) or written another correct way
(alternatives). ``tests/test_checks.py`` runs the matching check on each:
a mistake must fail with a message containing ``message``, an alternative
must pass.

Small helpers (``_conv``, ``_bn``, ``_bn_relu``, ``_stem``, ``_stages``,
``_head``) keep the file short; a mistake inside one of those steps is
written out in full in its own function.
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from resnet_course.instructor.reference_solution import load_reference_solution
from resnet_course.keras_setup import import_keras

keras = import_keras()
from keras import layers  # noqa: E402
from keras.initializers import glorot_uniform, random_uniform  # noqa: E402

REFERENCE = load_reference_solution()

# The ResNet50 variants below find their blocks in this module's globals, as
# the notebook's ResNet50 finds the student's: the self-check wraps them there.
identity_block = REFERENCE["identity_block"]
convolutional_block = REFERENCE["convolutional_block"]

#: Arguments for verify_* that differ from the public check's (hidden-test style).
F5_CASE = {"f": 5, "filters": (3, 5, 4), "input_shape": (3, 7, 6, 4), "seed": 3}
S3_CASE = {"f": 3, "filters": (4, 2, 6), "s": 3, "input_shape": (3, 8, 7, 3), "seed": 5}


@dataclasses.dataclass(frozen=True)
class Entry:
    """One catalogued implementation.

    Attributes:
        name: The function's name, used as the test id.
        exercise: "identity_block", "convolutional_block" or "ResNet50".
        function: The implementation.
        message: For a mistake, a substring the check's message must contain.
        case: Keyword arguments for the verify_* function; empty means the
            public check_* function is used.
    """

    name: str
    exercise: str
    function: Callable
    message: str = ""
    case: dict = dataclasses.field(default_factory=dict)


MISTAKES: list[Entry] = []
ALTERNATIVES: list[Entry] = []


def mistake(exercise: str, message: str, **case):
    """Register the decorated function as a mistake for ``exercise``."""

    def register(function):
        MISTAKES.append(Entry(function.__name__, exercise, function, message, case))
        return function

    return register


def alternative(exercise: str, **case):
    """Register the decorated function as a correct alternative for ``exercise``."""

    def register(function):
        ALTERNATIVES.append(Entry(function.__name__, exercise, function, "", case))
        return function

    return register


# --- shared steps ------------------------------------------------------------


def _conv(X, filters, kernel_size, initializer, strides=1, padding="valid"):
    return layers.Conv2D(
        filters, kernel_size=kernel_size, strides=strides, padding=padding, kernel_initializer=initializer(seed=0)
    )(X)


def _bn(X, training):
    return layers.BatchNormalization(axis=3)(X, training=training)


def _bn_relu(X, training):
    return layers.Activation("relu")(_bn(X, training))


def _main_path(X, f, filters, training, initializer, s=1):
    """The three correct main-path components, without the final ReLU."""
    F1, F2, F3 = filters
    X = _bn_relu(_conv(X, F1, 1, initializer, strides=s), training)
    X = _bn_relu(_conv(X, F2, f, initializer, padding="same"), training)
    return _bn(_conv(X, F3, 1, initializer), training)


# --- identity_block mistakes ---------------------------------------------------


@mistake("identity_block", "the final ReLU is missing")
def identity_without_final_relu(X, f, filters, training=True, initializer=random_uniform):
    X_shortcut = X
    X = _main_path(X, f, filters, training, initializer)
    return layers.Add()([X, X_shortcut])


@mistake("identity_block", "the final ReLU must come after the addition")
def identity_relu_before_add(X, f, filters, training=True, initializer=random_uniform):
    X_shortcut = X
    X = _main_path(X, f, filters, training, initializer)
    X = layers.Activation("relu")(X)
    return layers.Add()([X, X_shortcut])


@mistake("identity_block", "extra ReLU before the addition")
def identity_relu_before_and_after_add(X, f, filters, training=True, initializer=random_uniform):
    X_shortcut = X
    X = layers.Activation("relu")(_main_path(X, f, filters, training, initializer))
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("identity_block", "never adds the shortcut")
def identity_without_shortcut(X, f, filters, training=True, initializer=random_uniform):
    X = _main_path(X, f, filters, training, initializer)
    return layers.Activation("relu")(X)


@mistake("identity_block", "the first and third convolutions of the main path are 1x1")
def identity_first_conv_f_by_f(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = _bn_relu(_conv(X, F1, f, initializer, padding="same"), training)
    X = _bn_relu(_conv(X, F2, f, initializer, padding="same"), training)
    X = _bn(_conv(X, F3, 1, initializer), training)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("identity_block", "needs padding='same'")
def identity_middle_conv_valid_padding(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = _bn_relu(_conv(X, F1, 1, initializer), training)
    X = _bn_relu(_conv(X, F2, f, initializer, padding="valid"), training)
    X = _bn(_conv(X, F3, 1, initializer), training)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("identity_block", "must normalise the channel axis")
def identity_batchnorm_axis_1(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = _conv(X, F1, 1, initializer)
    X = layers.BatchNormalization(axis=1)(X, training=training)
    X = layers.Activation("relu")(X)
    X = _conv(X, F2, f, initializer, padding="same")
    X = layers.BatchNormalization(axis=1)(X, training=training)
    X = layers.Activation("relu")(X)
    X = _conv(X, F3, 1, initializer)
    X = layers.BatchNormalization(axis=1)(X, training=training)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("identity_block", "every BatchNormalization uses batch statistics even when training=False")
def identity_training_hard_coded_true(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = _conv(X, F1, 1, initializer)
    X = layers.BatchNormalization(axis=3)(X, training=True)
    X = layers.Activation("relu")(X)
    X = _conv(X, F2, f, initializer, padding="same")
    X = layers.BatchNormalization(axis=3)(X, training=True)
    X = layers.Activation("relu")(X)
    X = _conv(X, F3, 1, initializer)
    X = layers.BatchNormalization(axis=3)(X, training=True)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("identity_block", "every BatchNormalization uses its moving averages even when training=True")
def identity_training_not_passed(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = layers.Activation("relu")(layers.BatchNormalization(axis=3)(_conv(X, F1, 1, initializer)))
    X = layers.Activation("relu")(layers.BatchNormalization(axis=3)(_conv(X, F2, f, initializer, padding="same")))
    X = layers.BatchNormalization(axis=3)(_conv(X, F3, 1, initializer))
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("identity_block", "after the main path's second convolution uses its moving averages even when training=True")
def identity_training_passed_to_first_batchnorm_only(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = _conv(X, F1, 1, initializer)
    X = layers.BatchNormalization(axis=3)(X, training=training)
    X = layers.Activation("relu")(X)
    X = _conv(X, F2, f, initializer, padding="same")
    X = layers.BatchNormalization(axis=3)(X)
    X = layers.Activation("relu")(X)
    X = _conv(X, F3, 1, initializer)
    X = layers.BatchNormalization(axis=3)(X)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("identity_block", "F1, F2, F3 = filters")
def identity_filters_swapped(X, f, filters, training=True, initializer=random_uniform):
    F2, F1, F3 = filters
    X_shortcut = X
    X = _bn_relu(_conv(X, F1, 1, initializer), training)
    X = _bn_relu(_conv(X, F2, f, initializer, padding="same"), training)
    X = _bn(_conv(X, F3, 1, initializer), training)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("identity_block", "the main path's second convolution is not followed by BatchNormalization")
def identity_missing_second_batchnorm(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = _bn_relu(_conv(X, F1, 1, initializer), training)
    X = layers.Activation("relu")(_conv(X, F2, f, initializer, padding="same"))
    X = _bn(_conv(X, F3, 1, initializer), training)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("identity_block", "use kernel_size=f (here f=5)", **F5_CASE)
def identity_kernel_size_hard_coded(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = _bn_relu(_conv(X, F1, 1, initializer), training)
    X = _bn_relu(_conv(X, F2, 3, initializer, padding="same"), training)
    X = _bn(_conv(X, F3, 1, initializer), training)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("identity_block", "kernel_initializer=initializer(seed=0)")
def identity_ignores_initializer_argument(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = layers.Conv2D(F1, 1, padding="valid", kernel_initializer=random_uniform(seed=0))(X)
    X = _bn_relu(X, training)
    X = layers.Conv2D(F2, f, padding="same", kernel_initializer=random_uniform(seed=0))(X)
    X = _bn_relu(X, training)
    X = layers.Conv2D(F3, 1, padding="valid", kernel_initializer=random_uniform(seed=0))(X)
    X = _bn(X, training)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("identity_block", "has activation='relu'")
def identity_relu_inside_conv(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = layers.Conv2D(F1, 1, activation="relu", kernel_initializer=initializer(seed=0))(X)
    X = _bn(X, training)
    X = layers.Conv2D(F2, f, padding="same", activation="relu", kernel_initializer=initializer(seed=0))(X)
    X = _bn(X, training)
    X = _bn(_conv(X, F3, 1, initializer), training)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


# --- convolutional_block mistakes ------------------------------------------------


def _projection_shortcut(X, F3, s, training, initializer):
    return _bn(_conv(X, F3, 1, initializer, strides=s), training)


@mistake("convolutional_block", "you put it on the second convolution")
def conv_stride_on_second_conv(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = _projection_shortcut(X, F3, s, training, initializer)
    X = _bn_relu(_conv(X, F1, 1, initializer), training)
    X = _bn_relu(_conv(X, F2, f, initializer, strides=s, padding="same"), training)
    X = _bn(_conv(X, F3, 1, initializer), training)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("convolutional_block", "you put it on the third convolution")
def conv_stride_on_third_conv(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = _projection_shortcut(X, F3, s, training, initializer)
    X = _bn_relu(_conv(X, F1, 1, initializer), training)
    X = _bn_relu(_conv(X, F2, f, initializer, padding="same"), training)
    X = _bn(_conv(X, F3, 1, initializer, strides=s), training)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("convolutional_block", "use strides=s (here s=3), not a fixed number", **S3_CASE)
def conv_stride_hard_coded_2(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = _projection_shortcut(X, F3, 2, training, initializer)
    X = _main_path(X, f, filters, training, initializer, s=2)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("convolutional_block", "the shortcut's 1x1 convolution needs strides=s")
def conv_shortcut_without_stride(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = _bn(_conv(X, F3, 1, initializer), training)
    X = _main_path(X, f, filters, training, initializer, s=s)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("convolutional_block", "the shortcut's convolution is not followed by BatchNormalization")
def conv_shortcut_without_batchnorm(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = _conv(X, F3, 1, initializer, strides=s)
    X = _main_path(X, f, filters, training, initializer, s=s)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("convolutional_block", "the shortcut's convolution needs F3 filters")
def conv_shortcut_with_f1_filters(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = _projection_shortcut(X, F1, s, training, initializer)
    X = _main_path(X, f, filters, training, initializer, s=s)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("convolutional_block", "shortcut is not X itself")
def conv_identity_shortcut(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    X_shortcut = X
    X = _main_path(X, f, filters, training, initializer, s=s)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("convolutional_block", "after the shortcut's convolution uses its moving averages even when training=True")
def conv_shortcut_batchnorm_without_training(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = layers.Conv2D(F3, 1, strides=s, kernel_initializer=initializer(seed=0))(X)
    X_shortcut = layers.BatchNormalization(axis=3)(X_shortcut)
    X = _main_path(X, f, filters, training, initializer, s=s)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("convolutional_block", "the final ReLU must come after the addition")
def conv_relu_before_add(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = _projection_shortcut(X, F3, s, training, initializer)
    X = layers.Activation("relu")(_main_path(X, f, filters, training, initializer, s=s))
    return layers.Add()([X, X_shortcut])


# --- ResNet50 mistakes ------------------------------------------------------------

CORRECT_STAGES = (  # (filters, stride of the convolutional block, identity blocks)
    ([64, 64, 256], 1, 2),
    ([128, 128, 512], 2, 3),
    ([256, 256, 1024], 2, 5),
    ([512, 512, 2048], 2, 2),
)


def _stem(X_input, max_pool=True, strides=2):
    X = layers.ZeroPadding2D((3, 3))(X_input)
    X = layers.Conv2D(64, (7, 7), strides=strides, kernel_initializer=glorot_uniform(seed=0))(X)
    X = layers.BatchNormalization(axis=3)(X)
    X = layers.Activation("relu")(X)
    return layers.MaxPooling2D((3, 3), strides=(2, 2))(X) if max_pool else X


def _stages(X, stages):
    for filters, stride, identity_blocks in stages:
        X = convolutional_block(X, f=3, filters=filters, s=stride)
        for _ in range(identity_blocks):
            X = identity_block(X, 3, filters)
    return X


def _head(X, classes, activation="softmax", average_pool=True):
    if average_pool:
        X = layers.AveragePooling2D((2, 2))(X)
    X = layers.Flatten()(X)
    return layers.Dense(classes, activation=activation, kernel_initializer=glorot_uniform(seed=0))(X)


def _with_stage(number, **changes):
    """CORRECT_STAGES with stage ``number`` (2 to 5) changed."""
    stages = [list(stage) for stage in CORRECT_STAGES]
    for key, index in (("filters", 0), ("stride", 1), ("identity_blocks", 2)):
        if key in changes:
            stages[number - 2][index] = changes[key]
    return stages


@mistake("ResNet50", "stage 3's convolutional_block has the wrong filters.")
def resnet_stage3_wrong_filters(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = _stages(_stem(X_input), _with_stage(3, filters=[128, 128, 256]))
    return keras.Model(inputs=X_input, outputs=_head(X, classes))


@mistake("ResNet50", "identity block 1 of stage 4 has the wrong filters")
def resnet_stage4_identity_filters_typo(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = _stages(_stem(X_input), CORRECT_STAGES[:2])
    X = convolutional_block(X, f=3, filters=[256, 256, 1024], s=2)
    for _ in range(5):
        X = identity_block(X, 3, [256, 256, 512])
    X = _stages(X, CORRECT_STAGES[3:])
    return keras.Model(inputs=X_input, outputs=_head(X, classes))


@mistake("ResNet50", "stage 3's convolutional_block has the wrong stride")
def resnet_stage3_stride_1(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = _stages(_stem(X_input), _with_stage(3, stride=1))
    return keras.Model(inputs=X_input, outputs=_head(X, classes))


@mistake("ResNet50", "stage 4 has 4 identity blocks")
def resnet_stage4_missing_identity_block(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = _stages(_stem(X_input), _with_stage(4, identity_blocks=4))
    return keras.Model(inputs=X_input, outputs=_head(X, classes))


@mistake("ResNet50", "your model has no MaxPooling2D layer")
def resnet_without_max_pool(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = _stages(_stem(X_input, max_pool=False), CORRECT_STAGES)
    return keras.Model(inputs=X_input, outputs=_head(X, classes))


@mistake("ResNet50", "the head has no AveragePooling2D layer")
def resnet_without_average_pool(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = _stages(_stem(X_input), CORRECT_STAGES)
    return keras.Model(inputs=X_input, outputs=_head(X, classes, average_pool=False))


@mistake("ResNet50", "activation='softmax'")
def resnet_dense_without_softmax(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = _stages(_stem(X_input), CORRECT_STAGES)
    return keras.Model(inputs=X_input, outputs=_head(X, classes, activation=None))


@mistake("ResNet50", "must be built from your identity_block and convolutional_block")
def resnet_from_keras_applications(input_shape=(64, 64, 3), classes=6):
    return keras.applications.ResNet50(weights=None, input_shape=input_shape, classes=classes)


# --- correct alternatives ------------------------------------------------------------


@alternative("identity_block")
def identity_with_add_function_and_relu_layer(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = layers.Conv2D(
        filters=F1, kernel_size=(1, 1), strides=(1, 1), padding="valid", kernel_initializer=initializer(seed=0)
    )(X)
    X = layers.BatchNormalization(axis=-1)(X, training=training)
    X = layers.ReLU()(X)
    X = layers.Conv2D(
        filters=F2, kernel_size=(f, f), strides=(1, 1), padding="same", kernel_initializer=initializer(seed=0)
    )(X)
    X = layers.BatchNormalization(axis=-1)(X, training=training)
    X = layers.ReLU()(X)
    X = layers.Conv2D(
        filters=F3, kernel_size=(1, 1), strides=(1, 1), padding="valid", kernel_initializer=initializer(seed=0)
    )(X)
    X = layers.BatchNormalization(axis=-1)(X, training=training)
    X = layers.add([X, X_shortcut])
    return layers.ReLU()(X)


@alternative("identity_block")
def identity_with_ops_and_positional_arguments(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = layers.Conv2D(F1, (1, 1), (1, 1), "valid", kernel_initializer=initializer(seed=0))(X)
    X = keras.activations.relu(layers.BatchNormalization(3)(X, training=training))
    X = layers.Conv2D(F2, (f, f), (1, 1), "same", kernel_initializer=initializer(seed=0))(X)
    X = keras.ops.relu(layers.BatchNormalization(3)(X, training=training))
    X = layers.Conv2D(F3, (1, 1), (1, 1), "valid", kernel_initializer=initializer(seed=0))(X)
    X = layers.BatchNormalization(3)(X, training=training)
    return keras.ops.relu(X + X_shortcut)


@alternative("identity_block", **F5_CASE)
def identity_with_activation_function_layers(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = _bn(_conv(X, F1, 1, initializer), training)
    X = layers.Activation(keras.activations.relu)(X)
    X = _bn(_conv(X, F2, f, initializer, padding="same"), training)
    X = layers.Activation(keras.activations.relu)(X)
    X = _bn(_conv(X, F3, 1, initializer), training)
    X = layers.Add()([X_shortcut, X])
    return layers.Activation(keras.activations.relu)(X)


@alternative("convolutional_block")
def conv_shortcut_computed_first(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = layers.Conv2D(F3, (1, 1), strides=(s, s), padding="valid", kernel_initializer=initializer(seed=0))(X)
    X_shortcut = layers.BatchNormalization(axis=3)(X_shortcut, training=training)
    X = layers.Conv2D(F1, (1, 1), strides=(s, s), padding="valid", kernel_initializer=initializer(seed=0))(X)
    X = layers.BatchNormalization(axis=3)(X, training=training)
    X = layers.Activation("relu")(X)
    X = layers.Conv2D(F2, (f, f), strides=(1, 1), padding="same", kernel_initializer=initializer(seed=0))(X)
    X = layers.BatchNormalization(axis=3)(X, training=training)
    X = layers.Activation("relu")(X)
    X = layers.Conv2D(F3, (1, 1), strides=(1, 1), padding="valid", kernel_initializer=initializer(seed=0))(X)
    X = layers.BatchNormalization(axis=3)(X, training=training)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@alternative("convolutional_block", **S3_CASE)
def conv_with_ops_and_add_function(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = keras.ops.relu(_bn(_conv(X, F1, 1, initializer, strides=(s, s)), training))
    X = keras.ops.relu(_bn(_conv(X, F2, (f, f), initializer, padding="same"), training))
    X = _bn(_conv(X, F3, 1, initializer), training)
    X_shortcut = layers.BatchNormalization(axis=-1)(_conv(X_shortcut, F3, 1, initializer, strides=s), training=training)
    return layers.ReLU()(layers.add([X, X_shortcut]))


@alternative("convolutional_block")
def conv_with_same_padding_on_1x1_convolutions(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    # 'same' padding on a 1x1 kernel pads nothing: the same layer as 'valid'.
    F1, F2, F3 = filters
    X_shortcut = _bn(_conv(X, F3, 1, initializer, strides=s, padding="same"), training)
    X = _bn_relu(_conv(X, F1, 1, initializer, strides=s, padding="same"), training)
    X = _bn_relu(_conv(X, F2, f, initializer, padding="same"), training)
    X = _bn(_conv(X, F3, 1, initializer, padding="same"), training)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@alternative("ResNet50")
def resnet_written_out_with_softmax_layer(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = _stem(X_input)
    X = convolutional_block(X, 3, [64, 64, 256], 1)
    X = identity_block(X, 3, [64, 64, 256])
    X = identity_block(X, 3, [64, 64, 256])
    X = convolutional_block(X, f=3, filters=[128, 128, 512])  # s defaults to 2
    X = identity_block(X, 3, [128, 128, 512])
    X = identity_block(X, 3, [128, 128, 512])
    X = identity_block(X, 3, [128, 128, 512])
    X = convolutional_block(X, f=3, filters=[256, 256, 1024], s=2)
    for _ in range(5):
        X = identity_block(X, f=3, filters=[256, 256, 1024])
    X = convolutional_block(X, f=3, filters=[512, 512, 2048], s=2)
    X = identity_block(X, 3, [512, 512, 2048])
    X = identity_block(X, 3, [512, 512, 2048])
    X = layers.AveragePooling2D(pool_size=(2, 2))(X)
    X = layers.Flatten()(X)
    X = layers.Dense(classes, kernel_initializer=glorot_uniform(seed=0))(X)
    X = layers.Softmax()(X)
    return keras.Model(X_input, X)
