"""``make demo``: the pipeline end to end on this machine (see ``python -m demo --help``).

- ``runners``: the Flink job and the scheduled generator as child processes (demo and bench).
- ``live``: the terminal view; ``checks``: the end-of-run checks (pure).
- ``terminal``: a command in a pseudo-terminal with an emulated screen (tests, screenshots).
- ``screenshots``: ``make screenshots``, the README's pictures from a real run.
"""
