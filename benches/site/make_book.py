#!/usr/bin/env python3
"""Makes a large mdBook book by replicating one: `make_book.py SOURCE COPIES OUT`.

Each copy of SOURCE's src/ goes to OUT/src/c<k>/, and OUT/src/SUMMARY.md lists every copy's
chapters under a part title of its own, in the source's order and nesting. Links inside a
copy stay relative, so every copy's links resolve within it."""
import re
import shutil
import sys
from pathlib import Path

source, copies, out = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
if out.exists():
    shutil.rmtree(out)
(out / "src").mkdir(parents=True)
shutil.copy(source / "book.toml", out / "book.toml")
link = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")
summary = (source / "src" / "SUMMARY.md").read_text()
items = []  # (indent, name, target)
for line in summary.splitlines():
    m = link.search(line)
    if not m:
        continue
    stripped = line.lstrip()
    indent = len(line) - len(stripped) if stripped.startswith(("-", "*")) else 0
    items.append((indent, m.group(1), m.group(2)))
lines = ["# Summary", ""]
for k in range(1, copies + 1):
    shutil.copytree(source / "src", out / "src" / f"c{k}")
    lines += [f"# Copy {k}", ""]
    for indent, name, target in items:
        where = f"c{k}/{target}" if target else ""
        lines.append(" " * indent + f"- [{name}]({where})")
    lines.append("")
(out / "src" / "SUMMARY.md").write_text("\n".join(lines))
if (source / "src" / "404.md").exists():
    shutil.copy(source / "src" / "404.md", out / "src" / "404.md")
chapters = sum(1 for _, _, t in items if t) * copies
print(chapters)
