#!/usr/bin/env python3
"""Extracts every ```csharp block of the given Markdown files, for .ci/consumer-smoke.sh.

Convention: an HTML comment on the lines just before a block (blank lines may stand between) says what the
smoke test does with it; GitHub and NuGet show neither the comment nor anything else of it.
  <!-- snippet: run -->   compiled in a console app and run against the bundled data (exactly one such block)
  <!-- snippet: web -->   compiled in an ASP.NET Core app (`dotnet new web`) instead of a console app
  (no comment)           compiled in a console app
Each block must compile on its own as the Program.cs of a fresh app, as a reader would paste it.

Usage: readme-snippets.py OUT_DIR FILE.md...  Writes OUT_DIR/<n>.cs and prints one line per block:
"<n> <kind> <file>:<line>", kind being run, console or web.
"""
import os
import re
import sys

MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(\w+)\s*-->\s*$")
KINDS = {"run", "web"}


def blocks(path):
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    pending = None  # the kind named by the last marker, until a non-blank line that is no block ends it
    i = 0
    while i < len(lines):
        line = lines[i]
        marker = MARKER.match(line)
        if marker:
            kind = marker.group(1)
            if kind not in KINDS:
                sys.exit(f"{path}:{i + 1}: unknown snippet kind '{kind}' (known: {', '.join(sorted(KINDS))})")
            pending = kind
        elif line.strip().startswith("```csharp") or line.strip().startswith("```cs"):
            start = i + 1
            body = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                body.append(lines[i])
                i += 1
            if i == len(lines):
                sys.exit(f"{path}:{start}: the csharp block is never closed")
            yield pending or "console", start, "\n".join(body) + "\n"
            pending = None
        elif line.strip():
            pending = None
        i += 1


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    n = 0
    runs = 0
    for path in sys.argv[2:]:
        for kind, line, code in blocks(path):
            n += 1
            runs += kind == "run"
            with open(os.path.join(out, f"{n}.cs"), "w", encoding="utf-8") as f:
                f.write(code)
            print(f"{n} {kind} {path}:{line}")
    if runs != 1:
        sys.exit(f"expected exactly one block marked <!-- snippet: run -->, found {runs}")


if __name__ == "__main__":
    main()
