"""Epoch time and 10-epoch test accuracy of the course path on a GPU.

    KERAS_BACKEND=jax python benchmarks/bench_gpu.py            # JAX + CUDA, no TensorFlow needed
    KERAS_BACKEND=torch python benchmarks/bench_gpu.py          # PyTorch + CUDA: eager, nothing to compile
    KERAS_BACKEND=tensorflow python benchmarks/bench_gpu.py
    python benchmarks/bench_gpu.py --seeds 0 1 2 --precision float32

Uses ``configure_for_device()`` (mixed bfloat16 on Ampere or newer, mixed
float16 before that; XLA via ``jit_compile="auto"``; on JAX, XLA's compiled
programs kept on disk for the next run) and COURSE_RECIPE.
``benchmarks/gpu_check.sh`` runs this as the course's one prepared GPU check.
The first epoch includes compilation and is reported apart from the
steady epochs; "train s" is all of ``train()``: compilation, the epochs and
the BatchNorm recompute ("bn s"; jitted on JAX, ``--time-eager-bn`` times
the eager alternative too). Exits with a message, doing nothing, when the backend sees
no GPU (``--allow-cpu`` runs anyway, e.g. as a smoke test with
``--epochs 1 --train-images 128``).
The course code imports TensorFlow only when it is the Keras backend (Keras
seeds TensorFlow too where it is installed); the data are read with h5py.
Writes ``artifacts/bench/gpu.json``.
"""

import argparse
import sys
import time

from common import add_json_option, keras_module, median, print_table, reference_resnet50, signs_arrays, write_json


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--precision", default="auto", help="dtype policy, or 'auto'")
    parser.add_argument("--epochs", type=int, default=None, help="override COURSE_RECIPE's epochs")
    parser.add_argument("--train-images", type=int, default=None, help="train on the first N images only")
    parser.add_argument("--allow-cpu", action="store_true", help="run even without a GPU (smoke test)")
    parser.add_argument(
        "--no-compilation-cache",
        action="store_true",
        help="compile everything in this process (see training.use_compilation_cache)",
    )
    parser.add_argument(
        "--time-eager-bn",
        action="store_true",
        help="also time the BatchNorm recompute by eager calls (the first seed's is cold)",
    )
    parser.add_argument(
        "--cudnn-benchmark",
        action="store_true",
        help="torch only: let cuDNN time its algorithms for each new convolution shape",
    )
    add_json_option(parser)
    args = parser.parse_args()

    keras_module()
    from resnet_course import training
    from resnet_course.keras_setup import accelerator_names

    if not accelerator_names() and not args.allow_cpu:
        print(
            f"No GPU visible to Keras' {training.keras.backend.backend()} backend: nothing to measure. "
            "Run this on a machine with a CUDA GPU (e.g. KERAS_BACKEND=jax with jax[cuda12]), "
            "or pass --allow-cpu for a smoke test."
        )
        return 0

    if args.cudnn_benchmark:
        if training.keras.backend.backend() != "torch":
            parser.error("--cudnn-benchmark is for KERAS_BACKEND=torch")
        import torch

        torch.backends.cudnn.benchmark = True
        print("torch.backends.cudnn.benchmark = True")
    setup = training.configure_for_device(args.precision, compilation_cache=not args.no_compilation_cache)
    print(setup.summary, flush=True)
    X_train, Y_train, X_test, Y_test = signs_arrays()
    if args.train_images:
        X_train, Y_train = X_train[: args.train_images], Y_train[: args.train_images]
    build = reference_resnet50()
    recipe = training.COURSE_RECIPE
    if args.epochs:
        recipe = recipe.replace(epochs=args.epochs, warmup_epochs=min(recipe.warmup_epochs, args.epochs - 1))

    rows = []
    for seed in args.seeds:
        started = time.perf_counter()
        model = build()
        result = training.train(model, X_train, Y_train, recipe=recipe.replace(seed=seed), verbose=2, device=setup)
        eager_bn = {}
        if args.time_eager_bn:
            eager_started = time.perf_counter()
            from resnet_course.instructor.batchnorm_statistics import recompute_batchnorm_statistics

            recompute_batchnorm_statistics(model, X_train, batch_size=recipe.batch_size, compiled=False)
            eager_bn["eager bn s"] = time.perf_counter() - eager_started
        test = training.evaluate(model, X_test, Y_test)
        epochs = result.history["seconds"]
        rows.append(
            {
                "seed": seed,
                "test acc": test["accuracy"],
                "train acc": training.evaluate(model, X_train, Y_train)["accuracy"],
                # train(): compilation, every epoch and the BatchNorm recompute.
                "train s": result.seconds,
                "first epoch s": epochs[0],
                "steady epoch s": median(epochs[1:]) if len(epochs) > 1 else float("nan"),
                "img/s": result.steady_images_per_second or result.images_per_second,
                "bn s": result.bn_seconds,
                **eager_bn,
                "wall s": time.perf_counter() - started,
            }
        )
        # Each seed's row as soon as it is known: a run cut short keeps what it measured.
        print()
        print_table(rows, list(rows[0]))
        write_json("gpu", {"device": setup.summary, "recipe": recipe, "runs": rows}, path=args.json)
    accuracies = [row["test acc"] for row in rows]
    print(f"\ntest accuracy median {median(accuracies):.4f}, min {min(accuracies):.4f} over {len(rows)} seed(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
