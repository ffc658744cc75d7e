"""Where a py-spy collapsed-stack profile spends its samples, by package and by function.

.venv/bin/python -m bench.profile_summary bench/results/worker-profile.txt
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

PACKAGES = ("stream_app", "faust", "mode", "aiokafka", "orjson", "pydantic", "asyncio")


def _package(frame: str) -> str:
    for name in PACKAGES:
        if f"/{name}/" in frame or f"({name}" in frame:
            return name
    return "other"


def main(path: Path) -> None:
    by_package: Counter[str] = Counter()
    by_function: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        samples = int(count)
        leaf = stack.split(";")[-1]
        total += samples
        by_function[leaf.split(" (")[0] + " (" + _package(leaf) + ")"] += samples
        # Attribute each sample to the innermost frame of a known package.
        for frame in reversed(stack.split(";")):
            package = _package(frame)
            if package != "other":
                by_package[package] += samples
                break
        else:
            by_package["other"] += samples
    print(f"{total} samples")
    for package, samples in by_package.most_common():
        print(f"  {package:<12} {100 * samples / total:5.1f}%")
    print("top leaf functions:")
    for function, samples in by_function.most_common(15):
        print(f"  {100 * samples / total:5.1f}%  {function}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
