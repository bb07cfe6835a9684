"""Command line of the course hub.

Usage::

    python -m resnet_course.hub start [--skip-training-test]   # make hub
    python -m resnet_course.hub stop                           # make hub-stop
    python -m resnet_course.hub setup [--skip-training-test]

The folders and ports come from ``HUB_DIR``, ``HUB_PORT``, ``HUB_API_PORT``
and ``HUB_PROXY_API_PORT`` (``layout.py``). ``--skip-training-test`` leaves
the minutes-long training test out of the instructor's course, so that its
5 points are graded for nobody (the browser test of the hub uses it).
"""

from __future__ import annotations

import argparse
import sys

from .layout import HubLayout
from .service import HubError, setup, start, stop


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m resnet_course.hub", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("start", "set up, then serve until Ctrl-C"), ("setup", "create accounts and folders only")):
        command = commands.add_parser(name, help=text)
        command.add_argument(
            "--skip-training-test", action="store_true", help="leave the training test (5 points) out of the course"
        )
    commands.add_parser("stop", help="stop a running hub and every process it started")
    args = parser.parse_args(argv)
    layout = HubLayout.from_env()
    try:
        if args.command == "start":
            return start(layout, args.skip_training_test)
        if args.command == "setup":
            setup(layout, args.skip_training_test)
            print(f"set up in {layout.root}")
            return 0
        return stop(layout)
    except HubError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
