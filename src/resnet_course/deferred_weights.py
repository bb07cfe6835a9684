"""Build Keras models without computing their weights' initial values.

Three places build models whose initial weights nobody looks at: a graded
cell builds the student's model only to hand over its configuration
(``resnet_course.evidence``), ``checks.check_resnet50`` builds it only to set
every weight itself, and the judges rebuild it only to give every weight a
value of their own (``checks.assign_weights``, ``grader.judges.behaviour``).
Running Keras' initializers there is most of the cost: for ResNet50, 320
variables and 23.6 million random numbers, about two thirds of a build's time
on a CPU.

Inside :func:`deferred_weights`, Keras (its ``StatelessScope``) records each
new variable's initializer instead of running it, on every backend. Such a
variable has a shape but no value: :func:`set_weight` gives it its first
value directly, and :func:`initialize_unset` runs the recorded initializer of
any variable the caller did not set, so a model is always complete before it
is called. The configuration of a model built this way is the one an ordinary
build gives (apart from the generated layer names, which differ between any
two builds).
"""

from __future__ import annotations

import contextlib

from .keras_setup import import_keras

#: Where Keras keeps the variables whose initializers a ``StatelessScope`` recorded.
_REGISTRY = "uninitialized_variables"


def _global_state():
    from keras.src.backend.common import global_state

    return global_state


@contextlib.contextmanager
def deferred_weights():
    """Build models in this block without running their weights' initializers.

    Yields:
        A list that holds, once the block ends, the variables created in it. Keras'
        own list of variables still to initialise is left as it was before the
        block, so nothing built here is initialised behind the caller's back later
        (for example when a JAX training step leaves its own stateless scope).
    """
    keras = import_keras()
    state = _global_state()
    earlier = state.get_global_attribute(_REGISTRY, None)
    state.set_global_attribute(_REGISTRY, [])
    created: list = []
    try:
        with keras.StatelessScope(initialize_variables=False):
            yield created
    finally:
        created.extend(state.get_global_attribute(_REGISTRY, None) or [])
        state.set_global_attribute(_REGISTRY, earlier if earlier is not None else [])


def build_without_initial_weights(build, *, before_retry=None):
    """The model ``build()`` returns, built inside :func:`deferred_weights` where it can be.

    Code that needs values while it builds (a variable made from an array, say) fails without
    them. It is then built again the ordinary way, after ``before_retry()`` if given, so the model
    returned, or the error raised, is always what an ordinary build gives.
    """
    try:
        with deferred_weights():
            return build()
    except Exception:
        if before_retry is not None:
            before_retry()
    return build()


def is_unset(variable) -> bool:
    """Whether ``variable`` was created in :func:`deferred_weights` and has no value yet."""
    return getattr(variable, "_value", True) is None and hasattr(variable, "_initializer")


def set_weight(variable, value) -> None:
    """Give ``variable`` the value ``value`` (a numpy array of its shape), set or not."""
    if is_unset(variable):
        keras = import_keras()
        variable._initialize(keras.ops.convert_to_tensor(value, dtype=variable.dtype))
    else:
        variable.assign(value)


def initialize_unset(model) -> None:
    """Run the recorded initializer of every variable of ``model`` that has no value yet.

    ``model.variables`` includes what ``model.weights`` leaves out, such as the
    state of a random layer's seed generator.
    """
    for variable in model.variables:
        if is_unset(variable):
            variable._deferred_initialize()
