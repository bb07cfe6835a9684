"""Trainings at once on the same cores: TensorFlow's default threads against each its share of the cores.

The grader grades N submissions at once, and a training test may run in each.
This starts ``--concurrent`` processes at the same moment, each training the
reference ResNet50 with the judges' quick recipe on the first ``--images``
training images for ``--epochs`` epochs, once with TensorFlow's default
thread pools (a thread per core each) and once with ``cores // concurrent``
threads each (what ``grader/jobs/autograde.py`` gives the judges). It prints
the wall seconds until the last process finished, the CPU seconds in all, and
each process's steady images per second (epochs after the first, which also
traces the training step; the processes may not overlap for all of them).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import add_json_option, print_table, write_json  # noqa: E402


def train_once(images: int, epochs: int) -> dict:
    """Train the reference ResNet50 in this process; its steady images per second and CPU seconds."""
    from common import keras_module, reference_resnet50, signs_arrays

    from resnet_course import training

    keras = keras_module()
    keras.utils.set_random_seed(0)
    model = reference_resnet50()(input_shape=(64, 64, 3), classes=6)
    X_train, Y_train, _, _ = signs_arrays()
    started = time.process_time()
    result = training.train(
        model,
        X_train[:images],
        Y_train[:images],
        recipe=training.QUICK_RECIPE.replace(epochs=epochs),
        verbose=0,
        recompute_bn=False,
    )
    return {
        "steady_images_per_second": round(result.steady_images_per_second, 2),
        "epoch_seconds": [round(s, 1) for s in result.history["seconds"]],
        "cpu_seconds": round(time.process_time() - started, 1),
    }


def run_at_once(concurrent: int, threads: int, images: int, epochs: int) -> tuple[list[dict], float]:
    """Start ``concurrent`` trainings together (``threads`` 0: TensorFlow's default); their results, and the
    seconds until the last one finished."""
    from resnet_course.grader.judges.judge_process import THREAD_VARIABLES, judges_environment

    environment = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES}
    environment.update(judges_environment(threads))  # what the grader gives the judges
    command = [sys.executable, __file__, "--child", "--images", str(images), "--epochs", str(epochs)]
    started = time.monotonic()
    children = [
        subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, text=True) for _ in range(concurrent)
    ]
    results = []
    for child in children:
        output, _ = child.communicate()
        if child.returncode != 0:
            raise RuntimeError(f"a training process failed with exit status {child.returncode}")
        results.append(json.loads(output.strip().splitlines()[-1]))
    return results, time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrent", type=int, default=2, help="trainings at once (default 2)")
    parser.add_argument("--images", type=int, default=640, help="training images per epoch (default 640)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs, the first one not counted (default 3)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    add_json_option(parser)
    args = parser.parse_args(argv)
    if args.epochs < 2:
        parser.error("--epochs must be at least 2: the first epoch also traces the training step")
    if args.child:
        print(json.dumps(train_once(args.images, args.epochs)))
        return 0
    from resnet_course.grader.jobs.autograde import judges_threads
    from resnet_course.grader.jobs.parallel import default_workers

    cores, share = default_workers(), judges_threads(args.concurrent)
    rows = []
    for label, threads in (("TensorFlow's default", 0), (f"{share} each (cores // concurrent)", share)):
        results, seconds = run_at_once(args.concurrent, threads, args.images, args.epochs)
        rows.append(
            {
                "threads": label,
                "wall s until all finished": round(seconds, 1),
                "CPU s in all": round(sum(r["cpu_seconds"] for r in results), 1),
                "images/s in all": round(sum(r["steady_images_per_second"] for r in results), 1),
                "images/s each": ", ".join(str(r["steady_images_per_second"]) for r in results),
                "CPU s each": ", ".join(str(r["cpu_seconds"]) for r in results),
            }
        )
        print(f"{label}: {json.dumps(results)}", flush=True)
    print(f"{args.concurrent} trainings at once on {cores} cores, {args.images} images, {args.epochs} epochs:")
    print_table(rows, ["threads", "wall s until all finished", "CPU s in all", "images/s in all", "images/s each"])
    write_json("concurrent-training", {"cores": cores, "concurrent": args.concurrent, "rows": rows}, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
