"""Entry point for `accelerate launch -m twin.train.worker RUN_DIR [--resume]` (one process per GPU)."""

from __future__ import annotations

import sys
from pathlib import Path

from twin.train.rundir import RunDir
from twin.train.runner import execute_run


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    resume = "--resume" in args
    paths = [a for a in args if a != "--resume"]
    if len(paths) != 1:
        sys.stderr.write("usage: python -m twin.train.worker RUN_DIR [--resume]\n")
        return 2
    execute_run(RunDir(Path(paths[0])), resume=resume)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
