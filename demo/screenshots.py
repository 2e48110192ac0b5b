"""``make screenshots``: the README's pictures, taken from a real demo run.

Runs ``python -m demo`` in a pseudo-terminal (``demo.terminal``), waits until the live view
shows final windows and closed sessions, renders that screen (characters and colours, as the
terminal emulator holds them) to a PNG with headless Chromium, screenshots the dashboard page
the demo serves at the same moment, then stops the demo with Ctrl-C. Needs the platform's
prerequisites only: the demo installs and starts everything else.
"""

from __future__ import annotations

import argparse
import html
import re
import sys
import time
from pathlib import Path
from typing import Any

from demo.live import WINDOW_ROW
from demo.terminal import Terminal
from localplatform.config import REPO_ROOT

OUT = REPO_ROOT / "docs" / "img"
# xterm's colours, for the names pyte gives the 16 ANSI colours.
PALETTE = {
    "black": "#000000", "red": "#cd3131", "green": "#0dbc79", "brown": "#e5e510",
    "blue": "#2472c8", "magenta": "#bc3fbc", "cyan": "#11a8cd", "white": "#e5e5e5",
    "brightblack": "#666666", "brightred": "#f14c4c", "brightgreen": "#23d18b",
    "brightbrown": "#f5f543", "brightblue": "#3b8eea", "brightmagenta": "#d670d6",
    "brightcyan": "#29b8db", "brightwhite": "#ffffff",
}  # fmt: skip
FOREGROUND, BACKGROUND = "#d4d4d4", "#1e1e1e"
DASHBOARD_URL = re.compile(r"dashboard (http://127\.0\.0\.1:\d+/dashboard/)")


def _colour(name: str, default: str) -> str:
    if name == "default":
        return default
    if re.fullmatch(r"[0-9a-fA-F]{6}", name):
        return f"#{name}"
    return PALETTE.get(name, default)


def screen_html(screen: Any) -> str:
    """A pyte screen as an HTML page: one ``<pre>``, a span per run of equally styled cells."""
    rows = []
    last = max((y for y in range(screen.lines) if "".join(screen.display[y]).strip()), default=0)
    for y in range(last + 1):
        line = screen.buffer[y]
        spans: list[str] = []
        run: list[str] = []
        style = ""
        for x in range(screen.columns):
            char = line[x]
            fg, bg = _colour(char.fg, FOREGROUND), _colour(char.bg, BACKGROUND)
            if char.reverse:
                fg, bg = bg, fg
            css = f"color:{fg};background:{bg}" + (";font-weight:bold" if char.bold else "")
            css += ";font-style:italic" if char.italics else ""
            if css != style and run:
                spans.append(f'<span style="{style}">{html.escape("".join(run))}</span>')
                run = []
            style = css
            run.append(char.data or " ")
        if run:
            spans.append(f'<span style="{style}">{html.escape("".join(run))}</span>')
        rows.append("".join(spans))
    body = "\n".join(rows)
    return (
        "<!doctype html><meta charset='utf-8'><style>body{margin:0;background:"
        f"{BACKGROUND}}}pre{{margin:0;padding:12px;font:13px/1.25 'DejaVu Sans Mono',monospace;"
        f"color:{FOREGROUND};display:inline-block}}</style><pre id='screen'>{body}</pre>"
    )


def render_png(page_html: str, out: Path, browser: Any) -> Path:
    """Render an HTML page's ``#screen`` to ``out`` with a running Chromium (Playwright)."""
    page = browser.new_page(viewport={"width": 1700, "height": 1000})
    page.set_content(page_html)
    page.locator("#screen").screenshot(path=str(out))
    page.close()
    return out


def dashboard_png(url: str, out: Path, browser: Any) -> Path:
    """Screenshot the dashboard page once it has drawn the API's data."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.wait_for_function("Number(document.body.dataset.rendered || 0) >= 1", timeout=30_000)
    page.screenshot(path=str(out), full_page=True)
    page.close()
    return out


def ready(screen: str) -> bool:
    """Worth a picture: two final windows with events, an early one, and sessions closed."""
    states = [m.group(1) for m in WINDOW_ROW.finditer(screen)]
    enough = states.count("final") >= 2 and "early" in states
    return enough and "Recent sessions" in screen and "user-" in screen


def main(argv: list[str] | None = None) -> int:
    """Take both pictures into ``--out``."""
    p = argparse.ArgumentParser(prog="python -m demo.screenshots", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--out", type=Path, default=OUT, help="directory (default docs/img)")
    p.add_argument("--rate", type=float, default=20, help="the demo's events/s (default 20)")
    p.add_argument("--timeout", type=float, default=600,
                   help="seconds to wait for a screen worth taking (default 600)")  # fmt: skip
    args = p.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from localplatform import browser as chromium

    executable = chromium.install()
    args.out.mkdir(parents=True, exist_ok=True)
    print("[screenshots] running the demo in a 160x50 terminal until it has final windows "
          "and sessions (3-4 minutes)", file=sys.stderr)  # fmt: skip
    term = Terminal([sys.executable, "-m", "demo", "--api-port", "0", "--rate",
                     f"{args.rate:g}", "--duration", "15"], cols=160, rows=50)  # fmt: skip
    try:
        term.wait_for(lambda s: "6/6 live view" in s, args.timeout, "the live view")
        shown = time.monotonic()
        term.wait_for(lambda s: WINDOW_ROW.search(s) is not None, args.timeout, "a window")
        print(f"[screenshots] the first window row came {time.monotonic() - shown:.1f} s "
              "after the last setup step (6/6 live view)", file=sys.stderr)  # fmt: skip
        screen = term.wait_for(ready, args.timeout, "final windows and sessions")
        url = DASHBOARD_URL.search(screen)
        with sync_playwright() as pw:
            b = pw.chromium.launch(executable_path=executable, headless=True,
                                   args=list(chromium.LAUNCH_ARGS))  # fmt: skip
            with term.lock:
                page_html = screen_html(term.screen)
            live = render_png(page_html, args.out / "live-view.png", b)
            print(f"[screenshots] wrote {live}", file=sys.stderr)
            if url is None:
                raise RuntimeError(f"no dashboard URL on the screen:\n{screen}")
            board = dashboard_png(url.group(1), args.out / "dashboard.png", b)
            print(f"[screenshots] wrote {board}", file=sys.stderr)
            b.close()
        term.press_ctrl_c()
        term.wait(60)
    except (TimeoutError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        term.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
