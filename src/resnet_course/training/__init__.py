"""Train, repair and evaluate the course's ResNet50 on any Keras 3 backend.

Why this package exists: Keras 3 evaluates BatchNormalization with its
moving averages, which lag far behind fast-changing weights, so a model
that trains well can score near chance in inference mode. The course path
therefore ends every training run by recomputing each BatchNormalization
layer's statistics exactly over the training set
(``resnet_course.instructor.batchnorm_statistics``: the solution of a graded
exercise, imported only when :func:`train` runs, never in a student's kernel).

Everything uses ``keras``, ``keras.ops`` and numpy, so it runs unchanged
under ``KERAS_BACKEND=jax`` (or torch) as well as TensorFlow; the
backend-specific parts only make it faster.

Module map (one job per module; imports only point down this list):

- ``kernels/layer_patches``: find layers and, for a while, route their ``call`` elsewhere.
- ``kernels/fused_batchnorm``: TensorFlow's fused BatchNorm kernel in place of Keras' ops.
- ``kernels/gemm_conv``: convolutions as matrix products on a CPU.
- ``device``: dtype policy, XLA and compilation cache; :class:`DeviceSetup`, the one description of the device.
- ``batches``: shuffled, augmented full batches (:class:`TrainingBatches`, :class:`Augmentation`).
- ``recipes``: :class:`Recipe`, the course's recipes, and the optimizer and compile a recipe makes.
- ``inference``: predictions and evaluation in inference mode.
- ``loop``: :func:`train` and its pieces (:func:`prepare_training`, :func:`run_epoch`).

This ``__init__`` re-exports the names the notebooks, tests and benchmarks use.
"""

from ..keras_setup import accelerator_names
from .batches import Augmentation, TrainingBatches, batch_workers
from .device import (
    DeviceSetup,
    choose_dtype_policy,
    choose_jit_compile,
    configure_for_device,
    current_device,
    default_compilation_cache,
    keep_outputs_in_float32,
    use_compilation_cache,
)
from .inference import evaluate, no_gradients, predict_classes, predict_probabilities
from .kernels.fused_batchnorm import fused_batchnorm, fused_batchnorm_available, use_fused_batchnorm
from .kernels.gemm_conv import gemm_convolutions, gemm_convolutions_pay_off, use_gemm_convolutions
from .kernels.layer_patches import batchnorm_layers
from .loop import TrainingResult, prepare_training, run_epoch, train
from .recipes import (
    CLASSIC_RECIPE,
    COURSE_RECIPE,
    OPTIMIZERS,
    QUICK_RECIPE,
    SCHEDULES,
    Recipe,
    compile_for_recipe,
    keras,
    make_learning_rate,
    make_optimizer,
)

__all__ = [
    "Augmentation",
    "TrainingBatches",
    "batch_workers",
    "DeviceSetup",
    "choose_dtype_policy",
    "choose_jit_compile",
    "configure_for_device",
    "current_device",
    "default_compilation_cache",
    "keep_outputs_in_float32",
    "use_compilation_cache",
    "evaluate",
    "no_gradients",
    "predict_classes",
    "predict_probabilities",
    "fused_batchnorm",
    "fused_batchnorm_available",
    "use_fused_batchnorm",
    "gemm_convolutions",
    "gemm_convolutions_pay_off",
    "use_gemm_convolutions",
    "batchnorm_layers",
    "TrainingResult",
    "prepare_training",
    "run_epoch",
    "train",
    "CLASSIC_RECIPE",
    "COURSE_RECIPE",
    "OPTIMIZERS",
    "QUICK_RECIPE",
    "SCHEDULES",
    "Recipe",
    "compile_for_recipe",
    "make_learning_rate",
    "make_optimizer",
    "keras",
    "accelerator_names",
]
