#!/usr/bin/env python3
"""Edit-to-served latency of `runbook serve` against `mdbook serve`, in the same run:
`serve.py RUNBOOK MDBOOK BOOK [EDITS]`.

For each tool in turn: serve BOOK (a copy of it, so that both start from the same text) on a
free loopback port, wait for the first page, then EDITS times (default 7) append a new
sentence to the chapter in the middle of SUMMARY.md and time from writing the file to the server giving the page with
that sentence (polled without pause). Prints a line per tool: median and every edit in ms.
A tool whose page has not changed after 600 s is reported as failed. TOOLS="runbook" measures
one tool only."""
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

runbook, mdbook, book = sys.argv[1], sys.argv[2], Path(sys.argv[3])
edits = int(sys.argv[4]) if len(sys.argv) > 4 else 7


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("GET", path)
        r = c.getresponse()
        body = r.read()
        c.close()
        return r.status, body
    except OSError:
        return None, b""


def chapter(root):
    """The chapter in the middle of SUMMARY.md, and its address."""
    summary = (root / "src" / "SUMMARY.md").read_text()
    listed = [t for t in re.findall(r"\]\(([^)]+)\)", summary) if t.endswith(".md") and not t.endswith("README.md")]
    rel = listed[len(listed) // 2]
    return root / "src" / rel, "/" + rel[: -len(".md")] + ".html"


def measure(tool):
    work = Path(tempfile.mkdtemp())
    root = work / "book"
    shutil.copytree(book, root)
    port = free_port()
    dest = work / "site"
    if tool == "runbook":
        cmd = [runbook, "--color", "never", "-C", str(root), "serve", "--port", str(port), "--dest", str(dest)]
    else:
        cmd = [mdbook, "serve", "-p", str(port), "-n", "127.0.0.1", "-d", str(dest), str(root)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path, address = chapter(root)
    try:
        deadline = time.time() + 600
        while get(port, address)[0] != 200:
            if time.time() > deadline or server.poll() is not None:
                return None
            time.sleep(0.05)
        time.sleep(2)  # let the watcher settle
        times = []
        for n in range(edits):
            marker = f"Edited {n} at {time.time_ns()}."
            text = path.read_text()
            start = time.perf_counter()
            path.write_text(text + f"\n\n{marker}\n")
            while marker.encode() not in get(port, address)[1]:
                if time.perf_counter() - start > 600:
                    return None
            times.append((time.perf_counter() - start) * 1000)
            time.sleep(3)  # whatever the server does after giving the page is done by now
        return times
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)


for tool in os.environ.get("TOOLS", "mdbook runbook").split():
    times = measure(tool)
    if times is None:
        print(f"{tool}: failed")
    else:
        every = " ".join(f"{t:.0f}" for t in times)
        print(f"{tool}: median {statistics.median(times):.1f} ms (edits: {every})")
