"""Device set-up: dtype policy, XLA, compilation cache, and the one description of the device.

:func:`configure_for_device` chooses everything once, before the model is
built, and returns a :class:`DeviceSetup`; :func:`resnet_course.training.train`
takes those choices (``device=``) instead of working them out again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..keras_setup import accelerator_names, describe_device, import_keras
from .kernels.fused_batchnorm import fused_batchnorm_available
from .kernels.gemm_conv import gemm_convolutions_pay_off

keras = import_keras()


@dataclass(frozen=True)
class DeviceSetup:
    """What :func:`configure_for_device` chose, for logs and benchmark files."""

    backend: str
    accelerators: tuple[str, ...]
    dtype_policy: str
    jit_compile: bool | str
    fused_batchnorm: bool
    gemm_convolutions: bool = False
    compilation_cache: str | None = None

    @property
    def summary(self) -> str:
        """One line for logs: :func:`~resnet_course.keras_setup.describe_device` and the choices."""
        return (
            describe_device(self.backend, self.accelerators) + ", "
            f"dtype policy {self.dtype_policy}, jit_compile={self.jit_compile}, "
            f"fused BatchNorm {'on' if self.fused_batchnorm else 'off'}, "
            f"GEMM convolutions {'on' if self.gemm_convolutions else 'off'}"
            + (f", compilation cache {self.compilation_cache}" if self.compilation_cache else "")
        )


def _gpu_supports_bfloat16() -> bool:
    """True when the first GPU is an NVIDIA Ampere (compute capability 8) or newer."""
    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability", (0, 0))
            return tuple(capability) >= (8, 0)
        if backend == "jax":
            import jax

            gpu = next(d for d in jax.devices() if d.platform == "gpu")
            return float(getattr(gpu, "compute_capability", "0")) >= 8.0
        if backend == "torch":
            import torch

            return torch.cuda.is_bf16_supported()
    except Exception:  # unknown device: float16 is the safe mixed precision
        return False
    return False


def choose_dtype_policy(precision: str = "auto") -> str:
    """The Keras dtype policy for ``precision`` on the device the backend sees.

    Args:
        precision: ``"auto"`` (mixed precision on a GPU, bfloat16 where the GPU
            supports it; float32 on a CPU), or an explicit policy name such as
            ``"float32"`` or ``"mixed_bfloat16"``.

    Returns:
        A policy name for ``keras.mixed_precision.set_dtype_policy``.
    """
    if precision != "auto":
        return precision
    if not accelerator_names():
        # On a CPU with AMX mixed bfloat16 does less CPU work per image
        # (benchmarks/bench_cpu_throughput.py) but does not reach float32's
        # final test accuracy with the course recipe
        # (benchmarks/bench_accuracy.py --precision mixed_bfloat16), so
        # float32. Figures: docs/measurements.md.
        return "float32"
    return "mixed_bfloat16" if _gpu_supports_bfloat16() else "mixed_float16"


def choose_jit_compile() -> bool | str:
    """``jit_compile`` for ``model.compile``: XLA on accelerators and JAX, never on a TF CPU or torch.

    On a CPU an XLA-compiled ResNet50 training step runs several times slower
    than TensorFlow's oneDNN kernels (docs/measurements.md), so TensorFlow on a CPU gets False.
    On torch, True would mean ``torch.compile`` (Keras' "auto" is eager
    there too); False says so in the logs.
    """
    backend = keras.backend.backend()
    if backend == "torch" or (backend == "tensorflow" and not accelerator_names()):
        return False
    return "auto"


def keep_outputs_in_float32(model) -> list:
    """Compute the layers that produce ``model``'s outputs in float32.

    Under a mixed policy every layer computes in 16 bits, softmax included, so
    the probabilities the loss sees are rounded to 3 significant digits. The
    usual mixed-precision practice is a float32 head; this applies it to a
    model already built (its variables are float32 either way).

    Returns:
        The layers that were switched (empty for a float32 model, or a model
        without functional outputs).
    """
    switched = []
    for output in getattr(model, "outputs", None) or []:
        history = getattr(output, "_keras_history", None)
        layer = getattr(history, "operation", None)
        if isinstance(layer, keras.layers.Layer) and layer.compute_dtype != "float32":
            layer.dtype_policy = "float32"
            switched.append(layer)
    return switched


def default_compilation_cache() -> Path:
    """``$XDG_CACHE_HOME/resnet_course/jax`` (``~/.cache`` without the variable).

    The user's own folder, because JAX runs whatever the cache holds: in the
    grading sandbox it is the submission's private /tmp.
    """
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "resnet_course" / "jax"


def use_compilation_cache(directory: str | os.PathLike | None = None, force: bool = False) -> str | None:
    """Keep XLA's compiled programs on disk, on JAX with a GPU, for the next run.

    Compiling the training step is most of the first epoch on a GPU; with
    the cache filled by an earlier run, ``train()`` skips it (measured by
    benchmarks/gpu_check.sh, figures in docs/measurements.md). A directory
    set already (``JAX_COMPILATION_CACHE_DIR``) is kept.

    Args:
        directory: Where; None is :func:`default_compilation_cache`.
        force: Also without a GPU (tests; JAX on a CPU gains less).

    Returns:
        The cache directory in use, or None where none is.
    """
    if keras.backend.backend() != "jax" or not (force or accelerator_names()):
        return None
    import jax
    from jax.experimental.compilation_cache import compilation_cache

    if jax.config.jax_compilation_cache_dir:
        return str(jax.config.jax_compilation_cache_dir)
    directory = Path(directory) if directory is not None else default_compilation_cache()
    directory.mkdir(parents=True, exist_ok=True)
    compilation_cache.set_cache_dir(str(directory))
    return str(directory)


def configure_for_device(precision: str = "auto", compilation_cache: bool = True) -> DeviceSetup:
    """Pick the dtype policy and XLA setting for the device, and apply the policy.

    Call this BEFORE building the model: a layer takes the global dtype
    policy when it is created, so a model built earlier stays float32.

    Args:
        precision: See :func:`choose_dtype_policy`.
        compilation_cache: On JAX with a GPU, keep compiled programs on
            disk (:func:`use_compilation_cache`).

    Returns:
        The :class:`DeviceSetup` chosen (print ``.summary`` to log it; pass
        it to ``train(device=...)``).
    """
    policy = choose_dtype_policy(precision)
    keras.mixed_precision.set_dtype_policy(policy)
    cache = use_compilation_cache() if compilation_cache else None
    return current_device(compilation_cache=cache)


def current_device(compilation_cache: str | None = None) -> DeviceSetup:
    """The :class:`DeviceSetup` in force now (the global dtype policy), choosing nothing new.

    What ``train()`` uses when it is not given the result of :func:`configure_for_device`.
    """
    return DeviceSetup(
        backend=keras.backend.backend(),
        accelerators=tuple(accelerator_names()),
        dtype_policy=keras.mixed_precision.dtype_policy().name,
        jit_compile=choose_jit_compile(),
        fused_batchnorm=fused_batchnorm_available(),
        gemm_convolutions=gemm_convolutions_pay_off(),
        compilation_cache=compilation_cache,
    )
