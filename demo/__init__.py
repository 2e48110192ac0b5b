"""``make demo``: the pipeline end to end on this machine (see ``python -m demo --help``)."""
