// The checklist builder (the engine as WebAssembly, driven by the page's form in Chromium)
// against `runbook checklist --format json`, for property-generated profiles: unknown facts,
// pre-release versions, versions below the minimum, strings, every operator. Over the shipped
// content and over a fixture project that uses every fact type and operator. The page must
// list the same steps in the same order, with the same numbers, roles, conditions and text, the
// same notes and totals, or refuse where the command refuses.
//
// Needs RUNBOOK (the binary), and for each project its root and served site: PROJECT and
// BASE_URL, ENGINE_PROJECT and ENGINE_URL.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { launch, open } from "./browser.mjs";

const RUNBOOK = process.env.RUNBOOK;

function cli(project, args, format = "json") {
  return new Promise((resolve) => {
    const argv = ["-C", project, "--color", "never", "checklist", "--format", format, ...args];
    execFile(RUNBOOK, argv, { maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, stderr });
    });
  });
}

// A small deterministic generator (mulberry32), so that a failure names a profile that the
// next run generates again.
function random(seed) {
  return function () {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VERSIONS = ["0.9", "1", "1.2", "1.5", "2", "2.0.1", "2.2", "2.4", "2.5", "2.5.0-rc.1", "2.5.0-rc.2", "3.0", "3.4.9", "3.5", "3.5.0-rc.1", "3.6", "10.1", "v3"];
const STRINGS = ["contoso", "fabrikam", "Contoso", "a b", "é"];

// The form's fields as the page has them: fact id, type and the values of a select.
async function formFields(page) {
  return page.$$eval("[data-fact]", (els) =>
    els.map((e) => ({
      id: e.getAttribute("data-fact"),
      select: e.tagName === "SELECT",
      values: e.tagName === "SELECT" ? [...e.options].map((o) => o.value).filter((v) => v) : [],
      version: e.getAttribute("inputmode") === "decimal",
    }))
  );
}

function profiles(fields, n, seed) {
  const rnd = random(seed);
  const pick = (xs) => xs[Math.floor(rnd() * xs.length)];
  const out = [{}];
  for (let i = 0; i < n; i++) {
    const facts = {};
    for (const f of fields) {
      if (rnd() < 0.3) continue; // not known
      facts[f.id] = f.select ? pick(f.values) : f.version ? pick(VERSIONS) : pick(STRINGS);
    }
    out.push(facts);
  }
  return out;
}

// What the page shows, read from its DOM, in the shape the command's JSON gives.
async function shown(page, facts) {
  return page.evaluate((facts) => {
    const form = document.getElementById("rbk-cl-form");
    for (const f of form.querySelectorAll("[data-fact]")) f.value = facts[f.getAttribute("data-fact")] || "";
    form.dispatchEvent(new Event("change"));
    // A value its fact does not take is refused at its field.
    const invalid = [...form.querySelectorAll(".rbk-cl-error:not([hidden])")].map((e) => e.textContent);
    if (invalid.length) return { errors: invalid };
    const out = document.getElementById("rbk-cl-result");
    const errors = out.querySelector(".rbk-cl-errors");
    if (errors) return { errors: [...errors.querySelectorAll("li")].map((li) => li.textContent) };
    const text = (e, sel) => (e.querySelector(sel) ? e.querySelector(sel).textContent : null);
    const words = (e) => (e ? e.textContent.replace(/\s+/g, " ").trim() : "");
    const condition = (e) => {
      const b = e.querySelector(":scope > .rbk-step-meta .rbk-badge-condition, :scope > .rbk-cl-step-main > .rbk-step-meta .rbk-badge-condition");
      return b ? b.textContent : null;
    };
    return {
      totals: text(out, ".rbk-cl-totals"),
      notes: [...out.querySelectorAll(".rbk-cl-note")].map((n) => n.textContent),
      runbooks: [...out.querySelectorAll(".rbk-cl-runbook")].map((rb) => ({
        title: text(rb, ".rbk-runbook-title"),
        condition: condition(rb),
        steps: [...rb.querySelectorAll("[data-address]")].map((st) => ({
          address: st.getAttribute("data-address"),
          number: text(st, ".rbk-number"),
          role: text(st, ".rbk-badge-role"),
          condition: condition(st),
          body: words(st.querySelector(".rbk-step-body")),
        })),
      })),
    };
  }, facts);
}

// Each step's text as `runbook checklist --format html` renders it: address → its words.
async function bodies(browser, html) {
  const page = await browser.newPage();
  try {
    await page.setContent(html);
    return await page.$$eval("li.step", (els) =>
      Object.fromEntries(
        els.map((e) => {
          const body = e.querySelector(".body");
          return [e.id.replace("--", "#"), body ? body.textContent.replace(/\s+/g, " ").trim() : ""];
        })
      )
    );
  } finally {
    await page.close();
  }
}

function expected(j, text) {
  const t = j.totals;
  let line = `${t.steps} ${t.steps === 1 ? "step" : "steps"} in ${t.runbooks} ${t.runbooks === 1 ? "runbook" : "runbooks"}`;
  if (t.estimate) line += `, estimated ${t.estimate.text}`;
  if (t.waits) line += `, plus waits of ${t.waits.text}`;
  return {
    totals: line + ".",
    notes: j.notes,
    runbooks: j.runbooks.map((rb) => ({
      title: `${rb.number}. ${rb.title}`,
      condition: rb.condition ? rb.condition.text : null,
      steps: rb.sections.flatMap((s) =>
        s.steps.map((st) => ({
          address: st.address,
          number: st.number,
          role: st.role ? st.role.title : null,
          condition: st.condition ? st.condition.text : null,
          body: text[st.address],
        }))
      ),
    })),
  };
}

async function parity(project, url, n, seed) {
  const browser = await launch();
  try {
    const { page, problems } = await open(browser, url + "checklist.html");
    await page.locator("#rbk-cl-result[data-ready]").waitFor();
    const cases = profiles(await formFields(page), n, seed);
    let compared = 0;
    let refused = 0;
    for (const facts of cases) {
      const label = JSON.stringify(facts);
      const args = Object.entries(facts).flatMap(([k, v]) => ["--set", `${k}=${v}`]);
      const [out, page_] = [await cli(project, args), await shown(page, facts)];
      if (out.code !== 0) {
        assert.equal(out.code, 1, `${label}: ${out.stderr}`);
        const said = page_.errors;
        assert.ok(said && said.length, `${label}: the command refused (${out.stderr.split("\n")[0]}) but the page did not`);
        for (const e of said) assert.ok(out.stderr.includes(e.split(" (")[0]), `${label}: the page said "${e}", the command:\n${out.stderr}`);
        refused++;
        continue;
      }
      assert.ok(!page_.errors, `${label}: the page refused: ${page_.errors}`);
      // Step text too: values, lookups and conditional text decided alike.
      const html = await cli(project, args, "html");
      const text = await bodies(browser, html.stdout);
      assert.deepEqual(page_, expected(JSON.parse(out.stdout), text), label);
      compared++;
    }
    assert.deepEqual(problems, []);
    return { compared, refused };
  } finally {
    await browser.close();
  }
}

test("the builder lists the steps of `runbook checklist`, for generated profiles of the shipped content", async () => {
  const r = await parity(process.env.PROJECT, process.env.BASE_URL, 120, 1);
  assert.ok(r.compared > 40 && r.refused > 5, JSON.stringify(r));
});

test("the builder lists the steps of `runbook checklist`, for generated profiles of a project with every fact type and operator", async () => {
  const r = await parity(process.env.ENGINE_PROJECT, process.env.ENGINE_URL, 150, 2);
  assert.ok(r.compared > 40 && r.refused > 5, JSON.stringify(r));
});

test("step text gets the customer's values, escaped", async () => {
  const browser = await launch();
  try {
    const q = "?plan=pro&version=3.1&customer.name=" + encodeURIComponent("Contoso <Ltd>") + "&customer.domain=contoso.example";
    const { page, problems } = await open(browser, process.env.ENGINE_URL + "checklist.html" + q);
    await page.locator("#rbk-cl-result[data-ready]").waitFor();
    const body = await page.locator('[data-address="setup#sign-in"] .rbk-step-body').innerText();
    assert.equal(body.trim(), "Open https://pro.example/admin and sign in for Contoso <Ltd> (Pro).");
    const html = await page.locator('[data-address="setup#sign-in"] .rbk-step-body').innerHTML();
    assert.ok(html.includes("Contoso &lt;Ltd&gt;"), html);
    assert.equal(await page.locator("#rbk-cl-result script, #rbk-cl-result ltd").count(), 0);
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
