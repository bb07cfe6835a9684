"""Test accuracy (inference mode) of a training recipe over several seeds.

    .venv/bin/python benchmarks/bench_accuracy.py                    # COURSE_RECIPE, seeds 0 1 2
    .venv/bin/python benchmarks/bench_accuracy.py --recipe quick --seeds 0 1 2 3

Each seed builds the reference ResNet50 afresh, trains it with
``resnet_course.training.train`` (BatchNorm statistics recomputed at the
end), then evaluates train and test sets with ``training=False``.
"wall s" runs from building the model to the end of both evaluations,
which is what an autograder cell would spend. Under a mixed dtype policy,
"f32 test acc" is the accuracy of the float32 copy that ``make pretrained``
saves (same weights, BatchNorm statistics recomputed). Targets for
COURSE_RECIPE: median test accuracy >= 0.98 and min >= 0.97.
Writes ``artifacts/bench/accuracy_<recipe>.json`` (``accuracy_<recipe>_<policy>.json``
with an explicit ``--precision``).
"""

import argparse
import time

from common import add_json_option, keras_module, median, print_table, reference_resnet50, signs_arrays, write_json


def run_seed(training, build, arrays, recipe) -> dict:
    """Build, train and evaluate one model; return its row of the table."""
    X_train, Y_train, X_test, Y_test = arrays
    started = time.perf_counter()
    model = build()
    result = training.train(model, X_train, Y_train, recipe=recipe, verbose=0)
    test = training.evaluate(model, X_test, Y_test)
    train = training.evaluate(model, X_train, Y_train)
    wall = time.perf_counter() - started
    extra = {}
    if model.dtype_policy.name != "float32":
        from resnet_course.pretrained import float32_copy

        copy = float32_copy(model, build, X_train, recipe.batch_size)
        extra["f32 test acc"] = training.evaluate(copy, X_test, Y_test)["accuracy"]
    return {
        "seed": recipe.seed,
        "test acc": test["accuracy"],
        "train acc": train["accuracy"],
        "test loss": test["loss"],
        "train s": result.fit_seconds,
        "bn s": result.bn_seconds,
        "wall s": wall,
        "img/s": result.steady_images_per_second or result.images_per_second,
        "epoch loss": result.history["loss"],
        **extra,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", default="course", choices=["course", "quick", "classic"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--precision", default="auto", help="dtype policy, or 'auto' (see configure_for_device)")
    add_json_option(parser)
    args = parser.parse_args()

    keras_module()
    from resnet_course import training

    base_recipe = {
        "course": training.COURSE_RECIPE,
        "quick": training.QUICK_RECIPE,
        "classic": training.CLASSIC_RECIPE,
    }[args.recipe]
    setup = training.configure_for_device(args.precision)
    print(f"{setup.summary}\nrecipe: {base_recipe}")
    arrays, build = signs_arrays(), reference_resnet50()

    rows = []
    for seed in args.seeds:
        rows.append(run_seed(training, build, arrays, base_recipe.replace(seed=seed)))
        print(f"seed {seed}: test accuracy {rows[-1]['test acc']:.4f}, wall {rows[-1]['wall s']:.0f} s", flush=True)

    accuracies = [row["test acc"] for row in rows]
    summary = {
        "median test acc": median(accuracies),
        "min test acc": min(accuracies),
        "min train acc": min(row["train acc"] for row in rows),
        "median wall s": median(row["wall s"] for row in rows),
        "max wall s": max(row["wall s"] for row in rows),
    }
    print()
    columns = ["seed", "test acc", "train acc", "test loss", "train s", "bn s", "wall s", "img/s"]
    if "f32 test acc" in rows[0]:
        columns.insert(2, "f32 test acc")
        summary["median f32 test acc"] = median(row["f32 test acc"] for row in rows)
        summary["min f32 test acc"] = min(row["f32 test acc"] for row in rows)
    print_table(rows, columns)
    print()
    print_table([summary], list(summary))
    name = f"accuracy_{args.recipe}" + ("" if args.precision == "auto" else f"_{args.precision}")
    write_json(name, {"recipe": base_recipe, "device": setup.summary, "runs": rows, "summary": summary}, path=args.json)


if __name__ == "__main__":
    main()
