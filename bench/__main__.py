"""``python -m bench [NAME ...]``: run benchmarks and write bench/results/ (JSON + Markdown).

Several benchmarks run one after the other, each in a Python process of its own: a PyFlink JVM
lives as long as its process and keeps the heap its first job sized, so a replay's must not be
the one a streaming benchmark is measured in.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Callable

from bench import (
    clickgen,
    collector,
    firehose_start,
    flink_replay,
    freshness,
    harness,
    read_api,
    redis_sink,
    redis_soak,
    stream_capacity,
)

BENCHMARKS: dict[str, Callable[[], harness.BenchResult]] = {
    "redis_sink": redis_sink.run,
    "clickgen": clickgen.run,
    "flink_replay": flink_replay.run,
    "flink_replay_10m": lambda: flink_replay.run(10_000_000),
    "stream_capacity": stream_capacity.run,
    "freshness": freshness.run,
    "read_api": read_api.run,
    "redis_soak": redis_soak.run,
    "firehose_start": firehose_start.run,
    "collector": collector.run,
}


def main(argv: list[str] | None = None) -> int:
    """Run the selected benchmarks (all by default) and print the table."""
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Run Augury's benchmarks against the local platform (make up first); "
        "results go to bench/results/<name>.json and .md, as ratios to each baseline.",
    )
    parser.add_argument("names", nargs="*", help=f"any of {', '.join(BENCHMARKS)} (default: all)")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    names = args.names or list(BENCHMARKS)
    if len(names) > 1:  # each in a process of its own: its own JVM, sized for its own mode
        failed = [n for n in names if subprocess.run([sys.executable, "-m", "bench", n]).returncode]
        if failed:
            print(f"[bench] failed: {', '.join(failed)}", file=sys.stderr)
        return 1 if failed else 0
    name = names[0]
    print(f"[bench] {name} ...", file=sys.stderr, flush=True)
    result = BENCHMARKS[name]()
    json_path, _ = harness.write([result], name)
    print(f"[bench] {name}: wrote {json_path}", file=sys.stderr)
    print(harness.to_markdown([result]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
