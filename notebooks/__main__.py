"""``python -m notebooks``: run a notebook top to bottom, unattended, and keep the executed copy.

``make notebook-run`` runs ``notebooks/explore.ipynb`` against the last demo run; the executed
notebook (outputs and plots) is written to ``.local/state/notebooks/``. Exit 1 when a cell fails.
``AUGURY_NOTEBOOK_*`` environment variables set the note's parameters (see its first cell).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from augury import env as env_names

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    """Execute the notebook; 0 when every cell ran."""
    p = argparse.ArgumentParser(prog="python -m notebooks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("notebook", nargs="?", type=Path, default=ROOT / "notebooks" / "explore.ipynb")
    p.add_argument("--output", type=Path, help="executed copy (default .local/state/notebooks/)")
    p.add_argument("--timeout", type=int, default=600, help="seconds per cell (default 600)")
    args = p.parse_args(argv)

    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    # A kernel started from a PyFlink process must not reuse that process's Java gateway.
    kept = env_names.for_child_process(os.environ)
    os.environ.clear()
    os.environ.update(kept)
    out = args.output or ROOT / ".local" / "state" / "notebooks" / args.notebook.name
    out.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.read(args.notebook, as_version=4)  # type: ignore[no-untyped-call]
    here = {"metadata": {"path": str(args.notebook.parent)}}
    client = NotebookClient(nb, timeout=args.timeout, kernel_name="python3", resources=here)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    started = time.monotonic()
    failed = None
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            number = code_cells.index(cell) + 1
            first = cell.source.splitlines()[0] if cell.source else ""
            print(f"[notebook] cell {number}/{len(code_cells)}: {first[:70]}", file=sys.stderr)
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as exc:
                failed = exc
                break
    nbformat.write(nb, out)  # type: ignore[no-untyped-call]
    took = time.monotonic() - started
    if failed is not None:
        print(
            f"[notebook] failed after {took:.0f} s; executed copy: {out}\n{failed}", file=sys.stderr
        )
        return 1
    print(f"[notebook] {len(code_cells)} cells ran in {took:.0f} s; executed copy: {out}",
          file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
