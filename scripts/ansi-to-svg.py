"""Turns an ANSI terminal capture (`tmux capture-pane -e -p`) into an SVG with `rich`.

Usage: python3 scripts/ansi-to-svg.py CAPTURE.ansi OUT.svg [WIDTH] [TITLE]
Needs `pip install rich` (scripts/lsp-screenshot.sh installs it in a throwaway venv).
"""

import os
import sys

from rich.console import Console
from rich.text import Text


def main() -> None:
    capture, out = sys.argv[1], sys.argv[2]
    width = int(sys.argv[3]) if len(sys.argv) > 3 else 110
    title = sys.argv[4] if len(sys.argv) > 4 else "gitops-lint lsp"
    with open(capture, encoding="utf-8", errors="replace") as f:
        lines = f.read().rstrip("\n").split("\n")
    with open(os.devnull, "w", encoding="utf-8") as sink:
        console = Console(record=True, width=width, file=sink, force_terminal=True,
                          color_system="truecolor")
        for line in lines:
            console.print(Text.from_ansi(line), no_wrap=True, crop=True, overflow="crop")
        console.save_svg(out, title=title)


if __name__ == "__main__":
    main()
