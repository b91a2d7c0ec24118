#!/usr/bin/env python3
"""Generates a synthetic runbook project in the real format, for the search benchmark.

    python3 benches/search/gen.py OUT_DIR [--runbooks 10000] [--steps 10] [--seed 1]

Writes OUT_DIR/runbooks/facts.toml, OUT_DIR/runbooks/shared/*.toml and one runbook per file
(OUT_DIR/runbooks/rb-NNNNN.toml), each with about `--steps` steps (10,000 runbooks x 10 steps =
100,000 steps), with revisions, sections, conditions at every level, roles, kinds, waits,
includes of shared steps and Markdown bodies of realistic administration text. Everything it
writes passes `runbook check`. The same seed gives the same files, byte for byte.
"""

import argparse
import os
import random

FACTS = """# Synthetic facts for the search benchmark (same shape as the Work 365 facts).

[facts.tier]
type = "enum"
name = "Partner tier"
question = "Is the partner 1-Tier (Direct Bill) or 2-Tier?"
description = "How the partner buys from Microsoft."
values = { "1-tier" = "1-Tier (Direct Bill)", "2-tier" = "2-Tier" }

[facts.version]
type = "version"
name = "Product version"
question = "Which version is being installed or upgraded to?"
description = "The product version."

[facts.region]
type = "enum"
name = "Data centre"
question = "Which data centre?"
description = "The data centre region."
values = { us = "US Data Center", eu = "EU Data Center", apac = "APAC Data Center" }

[facts.mode]
type = "enum"
name = "Installation"
question = "First install or upgrade?"
description = "Whether the product is installed for the first time or upgraded."
values = { install = "first install", upgrade = "upgrade" }

[facts.identity]
type = "enum"
name = "Service identity"
question = "Service account or application user?"
description = "The identity the product uses."
values = { "service-account" = "service account", "application-user" = "application user" }

[facts.aad_premium]
type = "bool"
name = "Azure AD Premium or EMS"
question = "Does the tenant have Azure AD Premium P1 or EMS?"
description = "Whether the tenant has Azure AD Premium P1 or EMS licences."

[lookups.app_id]
fact = "region"
description = "The application ID for the data centre."
values = { us = "e4b1a995-abe3-4350-a61c-65fccd32e8bd", eu = "5e56ae97-9be1-40d3-938b-99ea52175a30", apac = "0c3f3d5e-2f7d-4c4e-9a55-6f0f7e1c2b11" }

[roles.global-admin]
title = "Global Administrator"
description = "A tenant Global Administrator."

[roles.system-admin]
title = "Dynamics 365 System Administrator"
description = "A user with the System Administrator role in Dynamics 365."

[roles.service-account]
title = "Service account"
description = "The service account, signed in with its own credentials."

[roles.billing-admin]
title = "Billing administrator"
description = "A user who manages billing and invoices."
"""

ROLES = ["global-admin", "system-admin", "service-account", "billing-admin"]
KINDS = ["action"] * 6 + ["requirement", "check", "note", "warning"]

VERBS = """assign configure enable disable verify check open select create delete import export
register approve grant revoke install upgrade update review confirm copy paste sign submit
synchronize map migrate publish schedule restart renew rotate validate download upload
activate deactivate promote add remove rename reset test monitor record""".split()

OBJECTS = """licence licences subscription subscriptions tenant user users account accounts role
roles permission permissions policy policies certificate certificates invoice invoices
contract contracts customer customers product products catalogue price prices plan plans
connector connectors mailbox mailboxes domain domains group groups security solution
solutions application applications consent secret secrets token tokens password passwords
organization organizations environment environments workflow workflows report reports
dashboard dashboards template templates queue queues record records entity entities field
fields form forms view views integration integrations webhook webhooks endpoint endpoints
gateway gateways resource resources region regions setting settings profile profiles""".split()

ADJECTIVES = """global administrative billing partner direct indirect primary secondary default
custom temporary permanent scheduled automated manual external internal shared private
public regional tenant-wide monthly annual recurring pending active inactive expired
verified unverified encrypted secure legacy current previous new existing""".split()

PRODUCTS = """Dynamics 365, Partner Center, Azure AD, Office 365, Exchange Online, SharePoint,
Teams, Power Automate, Power Apps, AppSource, Microsoft 365 admin center, Azure portal,
Business Central, Intune, Entra ID""".replace("\n", " ").split(", ")

PLACES = """Settings > Security > Users|Settings > Solutions|Settings > Administration|
Billing > Invoices|Customers > Subscriptions|Advanced Settings > Customizations|
Admin center > Users > Active users|Azure portal > App registrations|
Partner Center > Account settings|Power Platform admin center > Environments""".replace(
    "\n", ""
).split("|")

CONNECTORS = """before you continue|after the import completes|once the policy takes effect|
so that the next steps succeed|while the service account is signed in|
for every customer that is migrated|when the wizard prompts you|if the validation fails|
to avoid duplicate invoices|before the billing run starts""".replace("\n", "").split("|")

RARE = """reconciliation proration idempotent throttling deduplication provisioning
escalation quarantine remediation telemetry sandbox failover tokenization
attestation federation delegation impersonation onboarding offboarding""".split()


def sentence(rng):
    v = rng.choice(VERBS)
    o = rng.choice(OBJECTS)
    a = rng.choice(ADJECTIVES)
    shapes = [
        lambda: f"{v.capitalize()} the {a} {o} in {rng.choice(PRODUCTS)} {rng.choice(CONNECTORS)}.",
        lambda: f"In **{rng.choice(PLACES)}**, {v} the {o} and {rng.choice(VERBS)} the {rng.choice(OBJECTS)}.",
        lambda: f"The {rng.choice(OBJECTS)} must be {rng.choice(['assigned', 'enabled', 'verified', 'renewed', 'approved'])} {rng.choice(CONNECTORS)}.",
        lambda: f"Use the `{rng.choice(OBJECTS)}-{rng.choice(['id', 'key', 'name', 'url'])}` value from {rng.choice(PRODUCTS)} to {v} the {a} {o}.",
        lambda: f"This {o} is needed for {rng.choice(RARE)} of the {rng.choice(OBJECTS)}; see [the {rng.choice(PRODUCTS)} documentation](https://example.com/{o}).",
        lambda: f"Wait until the {rng.choice(OBJECTS)} shows as *{rng.choice(['Active', 'Completed', 'Verified', 'Enabled'])}*, then {v} the {o}.",
    ]
    return rng.choice(shapes)()


def body(rng):
    parts = [" ".join(sentence(rng) for _ in range(rng.randint(2, 4)))]
    r = rng.random()
    if r < 0.25:
        parts.append("\n".join(f"- {sentence(rng)}" for _ in range(rng.randint(2, 3))))
    elif r < 0.35:
        parts.append("Enter the application ID `{{ app_id }}` for {{ customer.name }}.")
    if rng.random() < 0.3:
        parts.append(sentence(rng))
    return "\n\n".join(parts)


def title(rng):
    v = rng.choice(VERBS)
    return f"{v.capitalize()} the {rng.choice(ADJECTIVES)} {rng.choice(OBJECTS)} in {rng.choice(PRODUCTS)}"


def quote(text):
    return '"""\n' + text.replace("\\", "\\\\").replace('"""', '\\"""') + '\n"""'


STEP_CONDITIONS = [
    'region == "eu"',
    'region in ["us", "apac"]',
    "aad_premium",
    "not aad_premium",
    'identity == "service-account"',
    'identity == "application-user"',
    'region != "us" and aad_premium',
]


def step(rng, out, sid, *, version_ok):
    out.append("[[revision.section.step]]")
    out.append(f'id = "{sid}"')
    out.append(f'title = "{title(rng)}"')
    kind = rng.choice(KINDS)
    if kind != "action":
        out.append(f'kind = "{kind}"')
    if rng.random() < 0.3:
        out.append(f'role = "{rng.choice(ROLES)}"')
    r = rng.random()
    if r < 0.25:
        out.append(f"when = '{rng.choice(STEP_CONDITIONS)}'")
    elif r < 0.3 and version_ok:
        out.append(f"when = 'version >= \"{rng.choice(['3.0', '3.5', '4.0'])}\"'")
    if rng.random() < 0.1:
        out.append(f'estimate = "{rng.choice(["5m", "15m", "1h", "5-10m"])}"')
    if rng.random() < 0.05:
        out.append(
            f'wait = {{ time = "{rng.choice(["5m", "15m", "5-10m"])}", note = "{sentence(rng)}" }}'
        )
    out.append(f"body = {quote(body(rng))}")
    out.append("")


def runbook(rng, n, shared_steps, ids):
    rid = f"rb-{n:05d}"
    out = [
        f"# Synthetic runbook {n} for the search benchmark.",
        f'id = "{rid}"',
        f'title = "{title(rng)}"',
        f'summary = "{sentence(rng)}"',
        'audience = "Implementation engineers"',
    ]
    if rng.random() < 0.2:
        out.append(f"when = 'mode == \"{rng.choice(['install', 'upgrade'])}\"'")
    if ids and rng.random() < 0.1:
        out.append(f'after = ["{rng.choice(ids[-50:])}"]')
    out.append("")
    two = rng.random() < 0.2
    revisions = (
        [("2019-02-04", None, "3.5", None), ("2020-09-28", "3.5", None, None)]
        if two
        else [(rng.choice(["2019-08-14", "2020-09-28", "2021-03-01"]), None, None, None)]
    )
    per_revision = 10 // len(revisions)
    for date, since, before, _ in revisions:
        out.append("[[revision]]")
        out.append(f"date = {date}")
        if since:
            out.append(f'since = "{since}"')
        if before:
            out.append(f'before = "{before}"')
        out.append("")
        out.append("[[revision.source]]")
        out.append(f'title = "{title(rng)}"')
        out.append(f'article = "{n:05d}_{date}.txt"')
        out.append(f"published = {date}")
        out.append("")
        sections = 2 if per_revision <= 5 else rng.choice([2, 3])
        counts = [per_revision // sections] * sections
        counts[-1] += per_revision - sum(counts)
        step_no = 0
        used = set()
        for s in range(sections):
            out.append("[[revision.section]]")
            out.append(f'id = "section-{s + 1}"')
            out.append(f'title = "{title(rng)}"')
            if rng.random() < 0.3:
                out.append(f'role = "{rng.choice(ROLES)}"')
            if rng.random() < 0.1:
                out.append(f"when = 'tier == \"{rng.choice(['1-tier', '2-tier'])}\"'")
            out.append("")
            for i in range(counts[s]):
                step_no += 1
                include = rng.choice(shared_steps)
                if i == counts[s] - 1 and rng.random() < 0.3 and include not in used:
                    used.add(include)
                    out.append("[[revision.section.step]]")
                    out.append(f'include = "{include}"')
                    out.append("")
                else:
                    step(rng, out, f"step-{step_no}", version_ok=not two)
    ids.append(rid)
    return rid, "\n".join(out)


def shared_file(rng, n):
    out = [f"# Shared steps, file {n}."]
    ids = []
    for i in range(10):
        sid = f"shared-{n:02d}-{i}"
        ids.append(sid)
        out.append("[[step]]")
        out.append(f'id = "{sid}"')
        out.append(f'title = "{title(rng)}"')
        out.append(f"body = {quote(body(rng))}")
        out.append("")
    return ids, "\n".join(out)




def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--runbooks", type=int, default=10000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    root = os.path.join(args.out, "runbooks")
    os.makedirs(os.path.join(root, "shared"), exist_ok=True)
    with open(os.path.join(root, "facts.toml"), "w") as f:
        f.write(FACTS)
    shared = []
    for n in range(20):
        ids, text = shared_file(rng, n)
        shared.extend(ids)
        with open(os.path.join(root, "shared", f"steps-{n:02d}.toml"), "w") as f:
            f.write(text + "\n")
    ids = []
    for n in range(args.runbooks):
        rid, text = runbook(rng, n, shared, ids)
        with open(os.path.join(root, f"{rid}.toml"), "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
