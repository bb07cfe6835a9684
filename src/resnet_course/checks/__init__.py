"""Self-checks for the graded functions and answers of the ResNet notebook.

Students call the ``check_*`` functions in visible test cells; the course's
judges (``solutions/resnets/grader_only/judges.py``) call the ``verify_*``
functions with other sizes, outside the student's kernel. The package also
hands the notebook the BatchNorm exercise's self-check
(:func:`~resnet_course.bn_exercise.check_recompute_batchnorm`) and the
short answers' form check (:func:`~resnet_course.answers.check_answer`), so
that one import gives the notebook every self-check.
Each check either returns quietly (the ``check_*`` functions then print one
line, and any notes) or raises :class:`SelfCheckError`, an ``AssertionError``
whose message names the part that is wrong, what was expected and what was
found, and the mistake that most likely explains it.
While nbgrader autogrades, the ``check_*`` functions print one line and compare
nothing (:func:`resnet_course.grading.skipped_while_autograding`): the judges'
verdict replaces the graded cell's outputs there.

Every check judges behaviour: the check chooses the weights itself, as a
pure function of each weight's shape and a seed, and compares the outputs
with a numpy forward pass in training and in inference mode. The blocks get
their kernels through their ``initializer`` argument; ResNet50 gets every
weight assigned, and its stem, stages, head and probabilities are looked up
among the model's tensors by value (see :mod:`.resnet50`, which also says
how a ``training`` value hard-coded into the graph is treated and why).
``verify_block_models`` and ``verify_resnet50_model`` judge models that are
already built and never call student code, for grading outside the kernel.

The package is written for untrusted notebooks: the numpy functions it needs
are bound at import time, arrays are compared with ndarray methods, and
failures raise instead of printing. A notebook can still patch its own copy,
which fools only its own self-checks: grading imports this package afresh in
the judges' process (``resnet_course.grader.judges.judge_process``), which no
student code reaches.

Module map:

* :mod:`.core`: SelfCheckError, message layout, quiet calls, comparisons.
* :mod:`.weights`: the deterministic weights and the blocks' initializer.
* :mod:`.numpy_ops`: numpy convolution, BatchNormalization, pooling, softmax.
* :mod:`.block_case`: a block's check case and its numpy reference.
* :mod:`.graph`: reading a (partial) Keras layer graph from its input.
* :mod:`.block_structure`: the blocks' convolutions, BatchNorms, addition, parameters.
* :mod:`.block_values`: a block's outputs against the reference, and the mistake that explains them.
* :mod:`.blocks`: building and checking a block; ``verify_*_block``, ``verify_block_models``.
* :mod:`.resnet50_reference`: ResNet50's stages, sizes, counts and numpy forward pass.
* :mod:`.diagnoses`: what ResNet50's block calls say (stage arguments, block counts).
* :mod:`.probe`: a built model's intermediate values, and any ``training`` baked into it.
* :mod:`.resnet50`: the ResNet50 behaviour check; ``verify_resnet50``, ``verify_resnet50_model``.
"""

from ..answers import check_answer
from ..bn_exercise import check_recompute_batchnorm
from .blocks import (
    BLOCK_CHECKS,
    check_convolutional_block,
    check_identity_block,
    verify_block_models,
    verify_convolutional_block,
    verify_identity_block,
)
from .core import TOLERANCE, SelfCheckError
from .diagnoses import _build_recording_calls
from .resnet50 import (
    RESNET50_CHECKS,
    RESNET50_TOLERANCE,
    check_resnet50,
    stage_output_shapes,
    training_note,
    verify_resnet50,
    verify_resnet50_model,
)
from .resnet50_reference import RESNET50_STAGES, resnet50_parameter_counts
from .weights import assign_weights, deterministic_kernel, deterministic_weight, make_initializer

__all__ = [
    "BLOCK_CHECKS",
    "RESNET50_CHECKS",
    "RESNET50_STAGES",
    "RESNET50_TOLERANCE",
    "TOLERANCE",
    "SelfCheckError",
    "_build_recording_calls",
    "assign_weights",
    "check_answer",
    "check_convolutional_block",
    "check_identity_block",
    "check_recompute_batchnorm",
    "check_resnet50",
    "deterministic_kernel",
    "deterministic_weight",
    "make_initializer",
    "resnet50_parameter_counts",
    "stage_output_shapes",
    "training_note",
    "verify_block_models",
    "verify_convolutional_block",
    "verify_identity_block",
    "verify_resnet50",
    "verify_resnet50_model",
]
