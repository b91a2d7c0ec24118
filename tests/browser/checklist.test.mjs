// The checklist builder's evaluator (assets/checklist.js, run here under Node) against
// `runbook checklist --format json` for many fact combinations: the same runbooks,
// revisions, sections, steps, numbers, remaining conditions, notes and totals.
//
// Needs RUNBOOK (the binary), SITE (a built site) and PROJECT (the project root).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import vm from "node:vm";

const RUNBOOK = process.env.RUNBOOK;
const SITE = process.env.SITE;
const PROJECT = process.env.PROJECT;

function loadData() {
  const sandbox = { window: {} };
  vm.runInNewContext(readFileSync(path.join(SITE, "assets/checklist-data.js"), "utf8"), sandbox);
  return sandbox.window.RBK_CHECKLIST;
}

const require = createRequire(import.meta.url);
const api = require(path.resolve(SITE, "assets/checklist.js"));
const data = loadData();

function cli(args) {
  return new Promise((resolve) => {
    execFile(RUNBOOK, ["-C", PROJECT, "--color", "never", "checklist", "--format", "json", ...args], { maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

function known(facts) {
  const out = {};
  for (const [id, text] of Object.entries(facts)) {
    const fact = data.facts.find((f) => f.id === id);
    const r = api.parseValue(fact, text);
    assert.ok(!r.error, `${id}=${text}: ${r.error}`);
    out[id] = r.value;
  }
  return out;
}

const cond = (c) => (c ? { expression: c.expression, text: c.text } : null);

// The parts of a checklist both sides produce.
function shapeCli(j) {
  return {
    notes: j.notes,
    open_facts: j.open_facts,
    steps: j.totals.steps,
    estimate: j.totals.estimate ? j.totals.estimate.text : null,
    waits: j.totals.waits ? j.totals.waits.text : null,
    timed: j.totals.timed.map((t) => [t.step, t.what, t.time.text, t.note]),
    runbooks: j.runbooks.map((rb) => ({
      number: rb.number,
      id: rb.id,
      versions: rb.revision.versions,
      date: rb.revision.date,
      revisionEstimate: rb.revision.estimate ? rb.revision.estimate.text : null,
      condition: cond(rb.condition),
      sections: rb.sections.map((s) => ({
        number: s.number,
        id: s.id,
        title: s.title,
        steps: s.steps.map((st) => ({
          number: st.number,
          address: st.address,
          title: st.title,
          kind: st.kind,
          role: st.role ? st.role.title : null,
          condition: cond(st.condition),
          estimate: st.estimate ? st.estimate.text : null,
          wait: st.wait ? [st.wait.time.text, st.wait.note] : null,
          expires: st.expires ? [st.expires.time.text, st.expires.note] : null,
        })),
      })),
    })),
  };
}

function shapeJs(r) {
  return {
    notes: r.notes,
    open_facts: r.open_facts,
    steps: r.totals.steps,
    estimate: r.totals.estimate,
    waits: r.totals.waits,
    timed: r.totals.timed.map((t) => [t.step, t.what, t.time, t.note]),
    runbooks: r.runbooks.map((rb) => ({
      number: rb.number,
      id: rb.id,
      versions: rb.revision.versions,
      date: rb.revision.date,
      revisionEstimate: rb.revision.estimate,
      condition: cond(rb.condition),
      sections: rb.sections.map((s) => ({
        number: s.number,
        id: s.id,
        title: s.title,
        steps: s.steps.map((st) => ({
          number: st.number,
          address: st.address,
          title: st.title,
          kind: st.kind,
          role: st.role ? st.role.title : null,
          condition: cond(st.condition),
          estimate: st.estimate,
          wait: st.wait ? [st.wait.time, st.wait.note] : null,
          expires: st.expires ? [st.expires.time, st.expires.note] : null,
        })),
      })),
    })),
  };
}

// Fact combinations: every enum and bool fact known or not, crossed with versions.
function combinations() {
  const choices = data.facts
    .filter((f) => f.type === "enum" || f.type === "bool")
    .map((f) => [f.id, [null, ...f.values.map((v) => v.value)]]);
  const versions = [null, "2.4", "2.5", "3.0", "3.4.9", "3.5", "3.6", "4.0", "3.5.0-rc.1"];
  const out = [];
  // A deterministic walk: each fact cycles at its own pace so that pairs vary.
  const n = 260;
  for (let i = 0; i < n; i++) {
    const facts = {};
    let k = i;
    for (const [id, values] of choices) {
      const v = values[k % values.length];
      k = Math.floor(k / values.length) + i;
      if (v !== null) facts[id] = v;
    }
    const version = versions[i % versions.length];
    if (version !== null) facts[data.version_fact] = version;
    out.push(facts);
  }
  // Every fact unknown, every fact known.
  out.push({});
  return out;
}

async function pool(items, size, fn) {
  const results = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: size }, worker));
  return results;
}

test("the browser's checklist matches `runbook checklist` for many fact combinations", async () => {
  assert.ok(RUNBOOK && SITE && PROJECT, "set RUNBOOK, SITE and PROJECT");
  const cases = combinations();
  let compared = 0;
  let errors = 0;
  await pool(cases, 4, async (facts) => {
    const args = Object.entries(facts).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
    const out = await cli(args);
    const js = api.build(data, known(facts), {});
    const label = JSON.stringify(facts);
    if (out.code !== 0) {
      assert.equal(out.code, 1, `${label}: ${out.stderr}`);
      assert.ok(js.errors, `${label}: the CLI failed (${out.stderr.split("\n")[0]}) but the page built a checklist`);
      for (const e of js.errors) {
        const id = /runbook `([^`]+)`/.exec(e);
        // Either the same runbook is not covered, or the version is below the minimum.
        assert.ok(id ? out.stderr.includes(`runbook \`${id[1]}\``) : out.stderr.includes(`error: ${e}\n`), `${label}: ${e}`);
      }
      errors++;
      return;
    }
    assert.ok(!js.errors, `${label}: the page refused: ${js.errors}`);
    // (JSON round trip: the data comes from another realm, with other prototypes.)
    assert.deepEqual(JSON.parse(JSON.stringify(shapeJs(js))), shapeCli(JSON.parse(out.stdout)), label);
    compared++;
  });
  assert.ok(compared > 150, `compared ${compared}`);
  assert.ok(errors > 0, "some versions are not covered");
});

test("step text gets the customer's values, escaped", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), "rbk-profile-"));
  const profile = path.join(dir, "p.toml");
  writeFileSync(
    profile,
    '[customer]\nname = "Contoso <Ltd>"\ndomain = "contoso.com"\ntimezone = "Europe/Paris"\n\n[facts]\nregion = "eu"\nmode = "install"\nversion = "3.6"\nidentity = "application-user"\n'
  );
  const out = await cli(["--profile", profile]);
  assert.equal(out.code, 0, out.stderr);
  const cliJson = JSON.parse(out.stdout);
  const js = api.build(data, known({ region: "eu", mode: "install", version: "3.6", identity: "application-user" }), {
    name: "Contoso <Ltd>",
    domain: "contoso.com",
    timezone: "Europe/Paris",
  });
  const bodies = (r, f) => r.runbooks.flatMap((rb) => rb.sections.flatMap((s) => s.steps.map((st) => [st.address, f(st.body || "")])));
  const jsBodies = new Map(bodies(js, (b) => b));
  for (const [address, body] of bodies(cliJson, (b) => b)) {
    const html = jsBodies.get(address);
    assert.ok(html !== undefined, address);
    assert.ok(!/rbkv\d+q/.test(html), `${address}: a variable was left unfilled`);
    for (const value of ["5e56ae97-9be1-40d3-938b-99ea52175a30", "contoso.com", "Europe/Paris"]) {
      if (body.includes(value)) assert.ok(html.includes(value), `${address}: ${value} missing`);
    }
    assert.ok(!html.includes("Contoso <Ltd>"), `${address}: unescaped customer name`);
  }
  assert.ok([...jsBodies.values()].some((b) => b.includes("5e56ae97-9be1-40d3-938b-99ea52175a30")), "the EU application ID is filled in");
});

test("versions compare as semver, with the short forms", () => {
  const v = (t) => api.parseVersion(t);
  assert.equal(api.cmpValue(v("2.10"), v("2.5")), 1);
  assert.equal(api.cmpValue(v("2.5"), v("2.5.0")), 0);
  assert.equal(api.cmpValue(v("3.5"), v("3.5.0-rc.1")), 1);
  assert.equal(api.cmpValue(v("1.0.0-alpha.2"), v("1.0.0-alpha.10")), -1);
  assert.equal(api.cmpValue(v("1.0.0-alpha"), v("1.0.0-alpha.1")), -1);
  assert.equal(api.cmpValue(v("1.0.0-1"), v("1.0.0-a")), -1);
  assert.equal(v("v3").version.text, "3.0");
  assert.equal(v("3.5.1").version.text, "3.5.1");
  assert.equal(v("two"), null);
  assert.equal(v("01.2"), null);
  assert.equal(v("1.2.3.4"), null);
});
