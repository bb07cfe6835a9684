#!/usr/bin/env bash
# The GPU check of the training path, as one prepared run with a time limit.
#
#   bash benchmarks/gpu_check.sh [OUTDIR] [SECONDS]
#
# For a CUDA machine with JAX and PyTorch but no Keras or TensorFlow (the
# course's lent H200): Keras, namex and optree travel as Python 3.12 wheels in
# .whl/ (see README, "GPU and other backends"), the SIGNS files in data/.
# Runs, in order of importance, while time is left, each in a fresh process,
# with the precision configure_for_device() picks:
#   1. torch: bench_gpu.py on Keras' torch backend, seeds 0-2. Eager, so
#      nothing compiles: the candidate for "10 epochs in 20 s from a cold
#      start", which JAX misses (its first epoch compiles for ~30 s);
#   2. jax: on JAX, seeds 0-2, with the compilation cache in a new, empty
#      folder (seed 0 compiles from nothing, seeds 1-2 find their programs);
#   3. jax_next_run: JAX seed 0 again, what the next run on the same machine costs;
#   4. torch_cudnn_benchmark: torch seed 0 with cuDNN timing its algorithms;
#   5. jax_no_autotune: JAX seed 0 with XLA's GPU autotuning off and no cache (a
#      shorter compilation, slower kernels).
# Everything it prints goes to OUTDIR/gpu_check.log, each JSON next to it.
set -uo pipefail
out=${1:-artifacts/bench}
budget=${2:-420}
extra=${GPU_CHECK_ARGS:-}  # e.g. "--allow-cpu --epochs 1 --train-images 64" for a smoke test
mkdir -p "$out"
started=$SECONDS
export KERAS_BACKEND=jax PYTHONUNBUFFERED=1 PYTHONPATH="src${PYTHONPATH:+:$PYTHONPATH}"

if compgen -G ".whl/*.whl" >/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH="$PYTHONPATH:/tmp/site"
fi

# Run one step with what is left of the budget; keep its JSON under its own name.
step() {
    local name=$1 need=$2
    shift 2
    local left=$((budget - (SECONDS - started)))
    if ((left < need)); then
        echo "== $name: skipped, ${left} s left of ${budget} s"
        return
    fi
    echo "== $name ($(date -u +%H:%M:%S), ${left} s left): $*"
    timeout "$left" "$@"
    echo "== $name: exit $? after $((SECONDS - started)) s in all"
    [[ -f artifacts/bench/gpu.json ]] && mv artifacts/bench/gpu.json "$out/gpu_$name.json"
}

{
    nvidia-smi -L
    python3 -c 'import sys, jax, keras; print("python", sys.version.split()[0], "jax", jax.__version__, "keras", keras.__version__, jax.devices())'
    python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())'
    step torch 60 env KERAS_BACKEND=torch python3 benchmarks/bench_gpu.py --seeds 0 1 2 $extra
    export JAX_COMPILATION_CACHE_DIR
    JAX_COMPILATION_CACHE_DIR=$(mktemp -d)
    step jax 60 python3 benchmarks/bench_gpu.py --seeds 0 1 2 $extra
    step jax_next_run 30 python3 benchmarks/bench_gpu.py --seeds 0 $extra
    step torch_cudnn_benchmark 30 env KERAS_BACKEND=torch python3 benchmarks/bench_gpu.py --seeds 0 --cudnn-benchmark $extra
    step jax_no_autotune 60 env -u JAX_COMPILATION_CACHE_DIR XLA_FLAGS=--xla_gpu_autotune_level=0 \
        python3 benchmarks/bench_gpu.py --seeds 0 --no-compilation-cache $extra
} 2>&1 | tee "$out/gpu_check.log"
