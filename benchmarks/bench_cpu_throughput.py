"""Training images/s: plain ``model.fit`` versus the course path, side by side.

    .venv/bin/python benchmarks/bench_cpu_throughput.py
    .venv/bin/python benchmarks/bench_cpu_throughput.py --epochs 3 --variants float32:64:conv float32:64:unfused:conv

The baseline is what the old notebook ran: float32, ``compile(Adam(1e-3),
"categorical_crossentropy")`` and ``model.fit(X, Y, batch_size=32)``. The
course path is ``resnet_course.training`` with COURSE_RECIPE, the dtype
policy ``configure_for_device()`` picks and, on a TensorFlow CPU, fused
BatchNorm and GEMM convolutions (what ``training.train`` does). Extra
``--variants`` (``policy:batch_size`` plus optional ``:unfused`` for Keras'
own BatchNorm and ``:conv`` for Keras' own convolutions) run the course path
with other settings, to show what each knob is worth.

All models are built and warmed up first (one epoch each, which traces and
compiles the step function; reported separately), then measured epochs run
round-robin (baseline, course, variants, baseline, ...) so that load from
other processes on a shared machine hits every contender alike. Wall-clock
rates on a shared 2-core machine still swing (x1.2 to x1.9 for the same code
on the same day), so the table also gives images per CPU-second of this
process, which swings less (though still up to 25% between epochs of one
contender on the course VM), and that ratio for each contender's cheapest
epoch (stalls and load only ever add time).
Writes ``artifacts/bench/cpu_throughput.json``.
"""

import argparse
import time

from common import add_json_option, keras_module, median, print_table, reference_resnet50, signs_arrays, write_json


class PlainFit:
    """The baseline: the old notebook's compile and fit, one epoch per call."""

    name = "baseline model.fit float32 b32"

    def __init__(self, keras, build, X, Y):
        keras.mixed_precision.set_dtype_policy("float32")
        self.model = build()
        self.model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"])
        self.X, self.Y = X, Y
        self.images_per_epoch = len(X)

    def epoch(self, epoch: int) -> float:
        started = time.perf_counter()
        self.model.fit(self.X, self.Y, batch_size=32, epochs=1, verbose=0)
        return time.perf_counter() - started


class CoursePath:
    """``training.prepare_training`` + ``training.run_epoch``: what ``training.train`` runs."""

    def __init__(self, keras, training, build, X, Y, recipe, policy, name, fuse_batchnorm, gemm_convolutions):
        keras.mixed_precision.set_dtype_policy(policy)
        self.model = build()
        keras.mixed_precision.set_dtype_policy("float32")
        self.training, self.recipe, self.name = training, recipe, name
        training.keep_outputs_in_float32(self.model)  # as training.train does
        if fuse_batchnorm:
            training.use_fused_batchnorm(self.model)
        if gemm_convolutions:
            from resnet_course.training.kernels.gemm_conv import use_gemm_convolutions

            use_gemm_convolutions(self.model)
        self.batches = training.prepare_training(self.model, X, Y, recipe)
        self.images_per_epoch = len(self.batches) * recipe.batch_size

    def epoch(self, epoch: int) -> float:
        return self.training.run_epoch(self.model, self.batches, epoch, self.recipe.epochs, verbose=0)["seconds"]


def kernel_names(policy: str, batch_size: int, fused: bool, gemm: bool) -> str:
    """A contender's settings in a few words, e.g. ``float32 b64 fused BN GEMM conv``."""
    return f"{policy} b{batch_size} {'fused' if fused else 'Keras'} BN {'GEMM' if gemm else 'Keras'} conv"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=2, help="measured epochs per contender (after one warm-up epoch)")
    parser.add_argument(
        "--variants",
        nargs="*",
        default=[],
        help="extra course-path settings, as policy:batch_size or policy:batch_size:unfused",
    )
    add_json_option(parser)
    args = parser.parse_args()

    keras = keras_module()
    from resnet_course import training

    setup = training.configure_for_device()
    course_policy = setup.dtype_policy
    print(setup.summary)
    X, Y, _, _ = signs_arrays()
    build = reference_resnet50()
    recipe = training.COURSE_RECIPE.replace(epochs=args.epochs + 1)

    kernels = kernel_names(course_policy, recipe.batch_size, setup.fused_batchnorm, setup.gemm_convolutions)
    contenders = [
        PlainFit(keras, build, X, Y),
        CoursePath(
            keras,
            training,
            build,
            X,
            Y,
            recipe,
            course_policy,
            f"course path {kernels}",
            setup.fused_batchnorm,
            setup.gemm_convolutions,
        ),
    ]
    for variant in args.variants:
        policy, batch_size, *flags = variant.split(":")
        unknown = set(flags) - {"unfused", "conv"}
        if unknown:
            parser.error(f"unknown variant flag(s) {sorted(unknown)} in {variant!r}: use :unfused and/or :conv")
        fused = "unfused" not in flags and setup.fused_batchnorm
        gemm = "conv" not in flags and setup.gemm_convolutions
        contenders.append(
            CoursePath(
                keras,
                training,
                build,
                X,
                Y,
                recipe.replace(batch_size=int(batch_size)),
                policy,
                f"variant {kernel_names(policy, int(batch_size), fused, gemm)}",
                fused,
                gemm,
            )
        )

    warmup = {}
    for contender in contenders:
        warmup[contender.name] = contender.epoch(0)
        print(f"warm-up epoch (traces the step) {contender.name}: {warmup[contender.name]:.1f} s", flush=True)
    seconds = {contender.name: [] for contender in contenders}
    cpu_seconds = {contender.name: [] for contender in contenders}
    for epoch in range(1, args.epochs + 1):
        for contender in contenders:
            cpu_started = time.process_time()  # all threads of this process
            seconds[contender.name].append(contender.epoch(epoch))
            cpu_seconds[contender.name].append(time.process_time() - cpu_started)
            print(
                f"epoch {epoch} {contender.name}: {seconds[contender.name][-1]:.1f} s wall, "
                f"{cpu_seconds[contender.name][-1]:.1f} s CPU",
                flush=True,
            )

    baseline = contenders[0]
    baseline_rate = baseline.images_per_epoch * args.epochs / sum(seconds[baseline.name])
    baseline_cpu_rate = baseline.images_per_epoch * args.epochs / sum(cpu_seconds[baseline.name])
    rows = []
    for contender in contenders:
        rate = contender.images_per_epoch * args.epochs / sum(seconds[contender.name])
        cpu_rate = contender.images_per_epoch * args.epochs / sum(cpu_seconds[contender.name])
        rows.append(
            {
                "contender": contender.name,
                "images/s": rate,
                "x baseline": rate / baseline_rate,
                "images/CPU-s": cpu_rate,
                "x baseline (CPU)": cpu_rate / baseline_cpu_rate,
                # Stalls only ever add time, so each contender's cheapest epoch is the least noisy figure.
                "x baseline (CPU, best epoch)": (contender.images_per_epoch / min(cpu_seconds[contender.name]))
                / (baseline.images_per_epoch / min(cpu_seconds[baseline.name])),
                "median epoch s": median(seconds[contender.name]),
                "warm-up epoch s": warmup[contender.name],
                "images/epoch": contender.images_per_epoch,
            }
        )
    print()
    print_table(rows, list(rows[0]))
    write_json(
        "cpu_throughput",
        {
            "device": setup.summary,
            "measured_epochs": args.epochs,
            "rows": rows,
            "epoch_seconds": seconds,
            "epoch_cpu_seconds": cpu_seconds,
            "warmup_seconds": warmup,
        },
        path=args.json,
    )


if __name__ == "__main__":
    main()
