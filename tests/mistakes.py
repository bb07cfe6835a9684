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

    def run_self_check(self):
        """The exercise's public self-check on ``function``, or its verifier with ``case``."""
        if self.case:
            return verifier(self.exercise)(self.function, **self.case)
        return public_check(self.exercise)(self.function)


EXERCISES = ("identity_block", "convolutional_block", "ResNet50")


def public_check(exercise: str) -> Callable:
    """The notebook's self-check for ``exercise``, e.g. ``checks.check_identity_block``."""
    from resnet_course import checks

    return getattr(checks, f"check_{exercise.lower()}")


def verifier(exercise: str) -> Callable:
    """The self-check with the hidden tests' arguments for ``exercise``, e.g. ``checks.verify_resnet50``."""
    from resnet_course import checks

    return getattr(checks, f"verify_{exercise.lower()}")


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


@mistake("convolutional_block", "ResNet 'v1.5', a known variant")
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


@mistake("ResNet50", "the stem has no MaxPooling2D((3, 3), strides=(2, 2))")
def resnet_without_max_pool(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = _stages(_stem(X_input, max_pool=False), CORRECT_STAGES)
    return keras.Model(inputs=X_input, outputs=_head(X, classes))


@mistake("ResNet50", "the head has no AveragePooling2D((2, 2)) before Flatten")
def resnet_without_average_pool(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = _stages(_stem(X_input), CORRECT_STAGES)
    return keras.Model(inputs=X_input, outputs=_head(X, classes, average_pool=False))


@mistake("ResNet50", "the softmax is missing")
def resnet_dense_without_softmax(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = _stages(_stem(X_input), CORRECT_STAGES)
    return keras.Model(inputs=X_input, outputs=_head(X, classes, activation=None))


@mistake("ResNet50", "must be built from your identity_block and convolutional_block")
def resnet_from_keras_applications(input_shape=(64, 64, 3), classes=6):
    return keras.applications.ResNet50(weights=None, input_shape=input_shape, classes=classes)


@mistake("ResNet50", "the model's input has the wrong shape", input_shape=(56, 48, 3), classes=10)
def resnet_ignores_input_shape(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input((64, 64, 3))
    X = _stages(_stem(X_input), CORRECT_STAGES)
    return keras.Model(inputs=X_input, outputs=_head(X, classes))


@mistake("ResNet50", "the model's input has the wrong shape")
def resnet_from_keras_applications_at_another_size(input_shape=(64, 64, 3), classes=6):
    return keras.applications.ResNet50(weights=None, input_shape=(60, 60, 3), classes=classes)


# --- more block mistakes --------------------------------------------------------------


@mistake("identity_block", "the main path's first convolution is not followed by BatchNormalization")
def identity_relu_before_batchnorm(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = _bn(layers.Activation("relu")(_conv(X, F1, 1, initializer)), training)
    X = _bn(layers.Activation("relu")(_conv(X, F2, f, initializer, padding="same")), training)
    X = _bn(_conv(X, F3, 1, initializer), training)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("identity_block", "does the opposite of `training`")
def identity_training_flipped(X, f, filters, training=True, initializer=random_uniform):
    X_shortcut = X
    X = _main_path(X, f, filters, not training, initializer)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("identity_block", "the main path's third convolution is wrong")
def identity_third_conv_with_f2_filters(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = _bn_relu(_conv(X, F1, 1, initializer), training)
    X = _bn_relu(_conv(X, F2, f, initializer, padding="same"), training)
    X = _bn(_conv(X, F2, 1, initializer), training)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("identity_block", "every convolution of the identity block uses stride 1")
def identity_middle_conv_stride_2(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = _bn_relu(_conv(X, F1, 1, initializer), training)
    X = _bn_relu(_conv(X, F2, f, initializer, strides=2, padding="same"), training)
    X = _bn(_conv(X, F3, 1, initializer), training)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("identity_block", "the block has 4 BatchNormalization layers")
def identity_batchnorm_on_shortcut(X, f, filters, training=True, initializer=random_uniform):
    X_shortcut = _bn(X, training)
    X = _main_path(X, f, filters, training, initializer)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("identity_block", "the block has the wrong number of parameters")
def identity_convs_without_bias(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = _bn_relu(layers.Conv2D(F1, 1, use_bias=False, kernel_initializer=initializer(seed=0))(X), training)
    X = layers.Conv2D(F2, f, padding="same", use_bias=False, kernel_initializer=initializer(seed=0))(X)
    X = _bn_relu(X, training)
    X = _bn(layers.Conv2D(F3, 1, use_bias=False, kernel_initializer=initializer(seed=0))(X), training)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("identity_block", "the output values are wrong")
def identity_relu_on_shortcut(X, f, filters, training=True, initializer=random_uniform):
    X_shortcut = layers.Activation("relu")(X)
    X = _main_path(X, f, filters, training, initializer)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("convolutional_block", "the middle convolution is f x f")
def conv_middle_conv_1x1(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = _projection_shortcut(X, F3, s, training, initializer)
    X = _bn_relu(_conv(X, F1, 1, initializer, strides=s), training)
    X = _bn_relu(_conv(X, F2, 1, initializer, padding="same"), training)
    X = _bn(_conv(X, F3, 1, initializer), training)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("convolutional_block", "the final ReLU is missing")
def conv_without_final_relu(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = _projection_shortcut(X, F3, s, training, initializer)
    X = _main_path(X, f, filters, training, initializer, s=s)
    return layers.Add()([X, X_shortcut])


@mistake("convolutional_block", "every BatchNormalization uses batch statistics even when training=False")
def conv_training_hard_coded_true(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = _projection_shortcut(X, F3, s, True, initializer)
    X = _main_path(X, f, filters, True, initializer, s=s)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("convolutional_block", "normalises the width axis")
def conv_batchnorm_axis_2(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = layers.BatchNormalization(axis=2)(_conv(X, F3, 1, initializer, strides=s), training=training)
    X = layers.BatchNormalization(axis=2)(_conv(X, F1, 1, initializer, strides=s), training=training)
    X = layers.Activation("relu")(X)
    X = layers.BatchNormalization(axis=2)(_conv(X, F2, f, initializer, padding="same"), training=training)
    X = layers.Activation("relu")(X)
    X = layers.BatchNormalization(axis=2)(_conv(X, F3, 1, initializer), training=training)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("convolutional_block", "the shortcut's convolution is 1x1")
def conv_shortcut_3x3(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = _bn(_conv(X, F3, 3, initializer, strides=s, padding="same"), training)
    X = _main_path(X, f, filters, training, initializer, s=s)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


@mistake("convolutional_block", "the main path has an extra ReLU before the addition")
def conv_relu_before_and_after_add(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = _projection_shortcut(X, F3, s, training, initializer)
    X = layers.Activation("relu")(_main_path(X, f, filters, training, initializer, s=s))
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


# --- more ResNet50 mistakes: each changes the function outside the blocks --------------


def _stem_with(
    X_input,
    *,
    pad=True,
    padding="valid",
    conv_strides=2,
    batch_norm=True,
    relu="after",
    pool="max",
    pool_strides=2,
    pool_padding="valid",
):
    """The stem with one step changed, as a student could write it."""
    X = layers.ZeroPadding2D((3, 3))(X_input) if pad else X_input
    X = layers.Conv2D(64, (7, 7), strides=conv_strides, padding=padding, kernel_initializer=glorot_uniform(seed=0))(X)
    if relu == "before":
        X = layers.Activation("relu")(X)
    if batch_norm:
        X = layers.BatchNormalization(axis=3)(X)
    if relu == "after":
        X = layers.Activation("relu")(X)
    if pool == "max":
        X = layers.MaxPooling2D((3, 3), strides=pool_strides, padding=pool_padding)(X)
    elif pool == "average":
        X = layers.AveragePooling2D((3, 3), strides=pool_strides)(X)
    return X


def _model_with_stem(input_shape, classes, **stem):
    X_input = keras.Input(input_shape)
    X = _stages(_stem_with(X_input, **stem), CORRECT_STAGES)
    return keras.Model(inputs=X_input, outputs=_head(X, classes))


@mistake("ResNet50", "the stem's ReLU is missing")
def resnet_stem_without_relu(input_shape=(64, 64, 3), classes=6):
    return _model_with_stem(input_shape, classes, relu=None)  # same shapes and parameter counts


@mistake("ResNet50", "the stem pools with AveragePooling2D")
def resnet_stem_average_pool(input_shape=(64, 64, 3), classes=6):
    return _model_with_stem(input_shape, classes, pool="average")  # same shapes and parameter counts


@mistake("ResNet50", "uses padding='same' instead of ZeroPadding2D((3, 3))")
def resnet_stem_same_padding_instead_of_zero_padding(input_shape=(64, 64, 3), classes=6):
    return _model_with_stem(input_shape, classes, pad=False, padding="same")  # same shapes and counts


@mistake("ResNet50", "the stem applies ReLU before BatchNormalization")
def resnet_stem_relu_before_batchnorm(input_shape=(64, 64, 3), classes=6):
    return _model_with_stem(input_shape, classes, relu="before")  # same shapes and parameter counts


@mistake("ResNet50", "the stem has no BatchNormalization")
def resnet_stem_without_batchnorm(input_shape=(64, 64, 3), classes=6):
    return _model_with_stem(input_shape, classes, batch_norm=False)


@mistake("ResNet50", "the stem's MaxPooling2D needs strides=(2, 2)")
def resnet_stem_pool_stride_1(input_shape=(64, 64, 3), classes=6):
    return _model_with_stem(input_shape, classes, pool_strides=1)


@mistake("ResNet50", "the stem has no ZeroPadding2D((3, 3))")
def resnet_stem_without_zero_padding(input_shape=(64, 64, 3), classes=6):
    return _model_with_stem(input_shape, classes, pad=False)


@mistake("ResNet50", "the stem's 7x7 convolution needs strides=(2, 2)")
def resnet_stem_conv_stride_1(input_shape=(64, 64, 3), classes=6):
    return _model_with_stem(input_shape, classes, conv_strides=1)


@mistake("ResNet50", "the stem's MaxPooling2D uses padding='same'")
def resnet_stem_pool_same_padding(input_shape=(64, 64, 3), classes=6):
    return _model_with_stem(input_shape, classes, pool_padding="same")


@mistake("ResNet50", "the head pools with MaxPooling2D")
def resnet_head_max_pool(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = _stages(_stem(X_input), CORRECT_STAGES)
    X = layers.Flatten()(layers.MaxPooling2D((2, 2))(X))  # same shapes and parameter counts
    return keras.Model(X_input, layers.Dense(classes, activation="softmax")(X))


@mistake("ResNet50", "a ReLU is applied before the softmax")
def resnet_head_relu_before_softmax(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = _head(_stages(_stem(X_input), CORRECT_STAGES), classes, activation="relu")
    return keras.Model(X_input, layers.Softmax()(X))  # same shapes and parameter counts


@mistake("ResNet50", "the output uses a sigmoid")
def resnet_head_sigmoid(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    return keras.Model(X_input, _head(_stages(_stem(X_input), CORRECT_STAGES), classes, activation="sigmoid"))


@mistake("ResNet50", "stage 2's convolutional_block has the wrong stride")
def resnet_stage2_stride_2(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = _stages(_stem(X_input), _with_stage(2, stride=2))
    return keras.Model(inputs=X_input, outputs=_head(X, classes))


@mistake("ResNet50", "at stage 3's output")
def resnet_block_output_not_used(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = _stages(_stem(X_input), CORRECT_STAGES[:1])
    X = convolutional_block(X, f=3, filters=[128, 128, 512], s=2)
    for _ in range(3):
        identity_block(X, 3, [128, 128, 512])  # the output is dropped: X is not reassigned
    X = _stages(X, CORRECT_STAGES[2:])
    return keras.Model(inputs=X_input, outputs=_head(X, classes))


@mistake("ResNet50", "at the probabilities")
def resnet_dropout_before_dense(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = layers.Flatten()(layers.AveragePooling2D((2, 2))(_stages(_stem(X_input), CORRECT_STAGES)))
    X = layers.Dropout(0.5)(X)  # changes the function in training mode only; same shapes and counts
    return keras.Model(X_input, layers.Dense(classes, activation="softmax")(X))


@mistake("ResNet50", "stage 5 has 1 identity blocks")
def resnet_stage5_one_identity_block(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = _stages(_stem(X_input), _with_stage(5, identity_blocks=1))
    return keras.Model(inputs=X_input, outputs=_head(X, classes))


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


@alternative("identity_block", **F5_CASE)
def identity_as_a_loop_over_components(X, f, filters, training=True, initializer=random_uniform):
    X_shortcut = X
    for index, (F, kernel, padding) in enumerate(zip(filters, (1, f, 1), ("valid", "same", "valid"))):
        X = layers.Conv2D(F, kernel, padding=padding, kernel_initializer=initializer(seed=0))(X)
        X = layers.BatchNormalization(axis=3)(X, training=training)
        if index < 2:
            X = layers.Activation("relu")(X)
    return layers.Activation("relu")(layers.Add()([X_shortcut, X]))


@alternative("identity_block")
def identity_with_ops_maximum_and_add(X, f, filters, training=True, initializer=random_uniform):
    F1, F2, F3 = filters
    X_shortcut = X
    X = keras.ops.maximum(_bn(_conv(X, F1, (1, 1), initializer), training), 0.0)
    X = keras.ops.maximum(_bn(_conv(X, F2, (f, f), initializer, padding="same"), training), 0.0)
    X = _bn(_conv(X, F3, (1, 1), initializer), training)
    return keras.ops.maximum(keras.ops.add(X, X_shortcut), 0.0)


@alternative("convolutional_block", **S3_CASE)
def conv_as_a_loop_over_components(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = _bn(_conv(X, F3, 1, initializer, strides=s), training)
    for index, (F, kernel, strides, padding) in enumerate(
        ((F1, 1, s, "valid"), (F2, f, 1, "same"), (F3, 1, 1, "valid"))
    ):
        X = _bn(_conv(X, F, kernel, initializer, strides=strides, padding=padding), training)
        if index < 2:
            X = layers.ReLU()(X)
    return layers.ReLU()(layers.Add()([X_shortcut, X]))


@alternative("convolutional_block")
def conv_with_activation_function_and_sum(X, f, filters, s=2, training=True, initializer=glorot_uniform):
    F1, F2, F3 = filters
    X_shortcut = _bn(_conv(X, F3, (1, 1), initializer, strides=(s, s)), training)
    X = keras.activations.relu(_bn(_conv(X, F1, (1, 1), initializer, strides=(s, s)), training))
    X = keras.activations.relu(_bn(_conv(X, F2, f, initializer, padding="same"), training))
    X = _bn(_conv(X, F3, 1, initializer), training)
    return layers.Activation("relu")(X + X_shortcut)


def _standard_body(X_input):
    return _stages(_stem(X_input), CORRECT_STAGES)


@alternative("ResNet50")
def resnet_global_average_pooling_head(input_shape=(64, 64, 3), classes=6):
    # On stage 5's 2x2 map, global average pooling is AveragePooling2D(2) then Flatten.
    X_input = keras.Input(input_shape)
    X = layers.GlobalAveragePooling2D()(_standard_body(X_input))
    return keras.Model(X_input, layers.Dense(classes, activation="softmax")(X))


@alternative("ResNet50")
def resnet_dense_then_softmax_activation(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = layers.Flatten()(layers.AveragePooling2D(pool_size=(2, 2), strides=(2, 2))(_standard_body(X_input)))
    X = layers.Activation("softmax")(layers.Dense(classes)(X))
    return keras.Model(X_input, X)


@alternative("ResNet50")
def resnet_stem_with_relu_layer_and_ops_head(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = layers.ZeroPadding2D(padding=((3, 3), (3, 3)))(X_input)
    X = layers.Conv2D(64, 7, strides=(2, 2), padding="valid")(X)
    X = layers.ReLU()(layers.BatchNormalization(axis=-1)(X))
    X = layers.MaxPool2D(3, 2)(X)
    X = _stages(X, CORRECT_STAGES)
    X = keras.ops.mean(X, axis=(1, 2))
    return keras.Model(X_input, keras.ops.softmax(layers.Dense(classes)(X)))


@alternative("ResNet50")
def resnet_stages_from_a_dictionary(input_shape=(64, 64, 3), classes=6):
    X_input = keras.Input(input_shape)
    X = _stem(X_input)
    settings = {2: (64, 1, 3), 3: (128, 2, 4), 4: (256, 2, 6), 5: (512, 2, 3)}  # blocks per stage in total
    for stage in sorted(settings):
        width, stride, blocks = settings[stage]
        filters = [width, width, 4 * width]
        X = convolutional_block(X, 3, filters, s=stride)
        block = 1
        while block < blocks:
            X = identity_block(X, f=3, filters=filters)
            block += 1
    return keras.Model(X_input, _head(X, classes))


@alternative("ResNet50")
def resnet_with_copies_of_the_blocks(input_shape=(64, 64, 3), classes=6):
    # Blocks under other names: the model is right; the check notes that it is not built from the notebook's blocks.
    X_input = keras.Input(input_shape)
    X = _stem(X_input)
    for filters, stride, identity_blocks in CORRECT_STAGES:
        X = REFERENCE["convolutional_block"](X, 3, filters, s=stride)
        for _ in range(identity_blocks):
            X = REFERENCE["identity_block"](X, 3, filters)
    return keras.Model(X_input, _head(X, classes))
