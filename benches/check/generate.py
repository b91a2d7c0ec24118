#!/usr/bin/env python3
"""Generates a project of synthetic runbooks in the real format, for benchmarking `runbook check`.

usage: generate.py DIR [RUNBOOKS] [STEPS_PER_RUNBOOK]

Each runbook has two revisions (before 3.0 and from 3.0 on) sharing its steps between them,
and steps over the real Work 365 facts, shared-step includes, waits and lookups in bodies.
"""
import random
import shutil
import sys
from pathlib import Path

WORDS = (
    "tenant consent service account partner center integration licence dynamics "
    "administrator region application security role profile upgrade install solution "
    "registration policy authentication subscription invoice provider manufacturer "
    "environment portal cache credentials browser window permissions organization"
).split()

# Runbooks are conditioned on the region, steps on everything else, so that no condition is
# contradicted or implied by its runbook's.
RUNBOOK_CONDITIONS = ['region == "eu"', 'region != "eu"', 'region in ["us"]']
CONDITIONS = [
    'tier == "1-tier"',
    'tier == "2-tier"',
    'mode == "install"',
    'mode == "upgrade" or identity == "service-account"',
    "aad_premium",
    'not aad_premium and tier == "1-tier"',
    'version >= "3.5"',
    'identity == "application-user" and version >= "3.5"',
]


def sentence(rng, n=12):
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def step(rng, rb, s, n, in_new):
    lines = [
        "[[revision.section.step]]",
        f'id = "step-{s}-{n}"',
        f'title = "{sentence(rng, 6)[:-1]}"',
        f'kind = "{rng.choice(["action", "requirement", "check", "note", "warning"])}"',
        'role = "admin"',
    ]
    if rng.random() < 0.5:
        cond = rng.choice(CONDITIONS)
        if "3.5" in cond and not in_new:
            cond = 'tier == "1-tier"'
        lines.append(f"when = '{cond}'")
    if rng.random() < 0.2:
        lines.append('estimate = "5m"')
    if rng.random() < 0.1:
        lines.append('wait = { time = "5-10m", note = "Let the change take effect." }')
    body = " ".join(sentence(rng) for _ in range(2))
    if rng.random() < 0.1:
        body += " Use {{ app_id }} for {{ customer.name }}."
    lines.append(f'body = """\n{body}\n"""')
    return "\n".join(lines)


def runbook(rng, i, steps):
    out = [
        f'id = "rb-{i:05d}"',
        f'title = "{sentence(rng, 5)[:-1]}"',
        f'summary = "{sentence(rng)}"',
    ]
    if i > 0:
        out.append(f'after = ["rb-{i - 1:05d}"]')
    if rng.random() < 0.3:
        out.append(f"when = '{rng.choice(RUNBOOK_CONDITIONS)}'")
    for rev, (range_key, date) in enumerate([('before = "3.0"', "2019-05-01"), ('since = "3.0"', "2021-05-01")]):
        out += ["", "[[revision]]", f"date = {date}", range_key]
        # The runbook's steps are split between its two revisions.
        per_section = 5
        for s in range(max(1, steps // 2 // per_section)):
            out += ["", "[[revision.section]]", f'id = "section-{s}"', f'title = "{sentence(rng, 4)[:-1]}"']
            for n in range(per_section):
                out += ["", step(rng, i, s, n, rev == 1)]
            out += ["", "[[revision.section.step]]", 'include = "shared-check"', f'id = "shared-{s}"']
    return "\n".join(out) + "\n"


def main():
    dest = Path(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 50
    rng = random.Random(7)
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "runbooks" / "shared").mkdir(parents=True)
    root = Path(__file__).resolve().parents[2]
    shutil.copy(root / "runbooks" / "facts.toml", dest / "runbooks" / "facts.toml")
    with open(dest / "runbooks" / "facts.toml", "a") as f:
        f.write('\n[roles.admin]\ntitle = "Administrator"\ndescription = "An administrator."\n')
    (dest / "runbooks" / "shared" / "common.toml").write_text(
        '[[step]]\nid = "shared-check"\ntitle = "Check the result"\nkind = "check"\n'
    )
    for i in range(count):
        (dest / "runbooks" / f"rb-{i:05d}.toml").write_text(runbook(rng, i, steps))


if __name__ == "__main__":
    main()
