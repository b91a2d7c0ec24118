// A run carried in the checklist builder: started for a profile, two steps ticked (one with a
// note), one skipped with its reason, downloaded as a .jsonl, which `runbook run status` reads
// in a copy of the project with the same progress and states, and pins the same steps with the
// same hashes as `runbook run start`. A run made by the command line, loaded into the page,
// shows its ticks; the run stays across a reload; its controls fit a phone and a desktop.
//
// Needs RUNBOOK (the binary), PROJECT (the shipped project) and BASE_URL (its site, served).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { launch, open, overflow } from "./browser.mjs";

const BASE_URL = (process.env.BASE_URL || "").replace(/\/?$/, "/");
const RUNBOOK = process.env.RUNBOOK;
const PROJECT = process.env.PROJECT;
const PROFILE = "examples/contoso-1tier-us-install.toml";
const QUERY =
  "?tier=1-tier&version=3.6&region=us&mode=install&identity=service-account&aad_premium=true" +
  "&customer.name=Contoso+Ltd&customer.domain=contoso.com&customer.timezone=America%2FNew_York";

let browser;
let work;

function cli(args) {
  return execFileSync(RUNBOOK, ["-C", work, "--color", "never", ...args], { encoding: "utf8" });
}

function first(file) {
  return JSON.parse(readFileSync(file, "utf8").split("\n")[0]);
}

before(async () => {
  assert.ok(BASE_URL !== "/" && RUNBOOK && PROJECT, "set BASE_URL, RUNBOOK and PROJECT");
  work = mkdtempSync(path.join(os.tmpdir(), "runbook-run-"));
  for (const d of ["runbooks", "examples"]) cpSync(path.join(PROJECT, d), path.join(work, d), { recursive: true });
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

// What the page shows of the run: each step's address and state, and the progress.
async function shown(page) {
  const steps = await page.$$eval("[data-run-state]", (els) =>
    els.map((e) => ({ address: e.getAttribute("data-address"), state: e.getAttribute("data-run-state") }))
  );
  const progress = await page.$eval("#rbk-run-progress", (p) =>
    ["done", "skipped", "open", "total"].reduce((o, k) => ((o[k] = Number(p.getAttribute("data-" + k))), o), {})
  );
  return { steps, progress };
}

async function ready(page) {
  await page.locator("#rbk-cl-result[data-ready]").waitFor();
}

test("a run carried in the page is one the command line reads, with the same hashes", async () => {
  const context = await browser.newContext({ acceptDownloads: true });
  try {
    const { page, problems } = await open(context, BASE_URL + "checklist.html" + QUERY);
    await ready(page);
    await page.fill("#rbk-run-name", "web");
    await page.fill("#rbk-run-by", "Ann");
    await page.click("#rbk-run-start");
    const steps = page.locator("li.rbk-cl-step");
    await page.locator("li.rbk-cl-step[data-run-state]").first().waitFor();
    // Two ticks (the second with a note) and a skip with its reason.
    await steps.nth(0).locator("input[type=checkbox]").check();
    await steps.nth(1).locator("input[type=text]").fill("Checked with Contoso's admin");
    await steps.nth(1).locator("input[type=checkbox]").check();
    // A skip needs its reason: nothing is recorded without one.
    await steps.nth(2).getByRole("button", { name: "Skip" }).click();
    assert.match(await page.locator("#rbk-run-error").innerText(), /why step .* is skipped/);
    assert.equal(await steps.nth(2).getAttribute("data-run-state"), "open");
    await steps.nth(2).locator("input[type=text]").fill("Done by the customer last week");
    await steps.nth(2).getByRole("button", { name: "Skip" }).click();
    await page.locator('#rbk-run-progress[data-skipped="1"]').waitFor();
    const seen = await shown(page);
    assert.deepEqual(
      { done: seen.progress.done, skipped: seen.progress.skipped },
      { done: 2, skipped: 1 }
    );
    assert.match(await steps.nth(1).innerText(), /Note: Checked with Contoso's admin/);

    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#rbk-run-export")]);
    assert.equal(download.suggestedFilename(), "web.jsonl");
    await download.saveAs(path.join(work, "runs", "web.jsonl"));
    const status = JSON.parse(cli(["run", "status", "web", "--format", "json"]));
    assert.deepEqual(status.progress, seen.progress);
    assert.deepEqual(
      status.steps.map((s) => ({ address: s.address, state: s.state })),
      seen.steps
    );
    assert.ok(status.steps.every((s) => s.drift === null), "a step's hash differs from the command line's");
    assert.equal(status.steps[1].note, "Checked with Contoso's admin");
    assert.equal(status.steps[2].note, "Done by the customer last week");
    assert.equal(status.steps[0].by, "Ann");

    // The command line pins the same checklist, hash for hash.
    cli(["run", "start", "shell", "--profile", path.join(work, PROFILE), "--by", "Bo"]);
    const web = first(path.join(work, "runs", "web.jsonl"));
    const shell = first(path.join(work, "runs", "shell.jsonl"));
    assert.deepEqual(web.steps, shell.steps);
    assert.deepEqual(web.facts, shell.facts);
    assert.deepEqual(web.customer, shell.customer);

    // Kept in the browser across a reload.
    await page.reload();
    await ready(page);
    await page.locator('#rbk-run-progress[data-skipped="1"]').waitFor();
    assert.deepEqual(await shown(page), seen);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test("a run made by the command line loads into the page with its ticks", async () => {
  cli(["run", "start", "loaded", "--profile", path.join(work, PROFILE), "--by", "Bo"]);
  cli(["run", "done", "loaded", "1.1.1", "1.1.2", "--by", "Bo", "--note", "from the shell"]);
  const context = await browser.newContext();
  try {
    const { page, problems } = await open(context, BASE_URL + "checklist.html");
    await ready(page);
    await page.setInputFiles("#rbk-run-load", path.join(work, "runs", "loaded.jsonl"));
    await page.locator('#rbk-run-progress[data-done="2"]').waitFor();
    const seen = await shown(page);
    const status = JSON.parse(cli(["run", "status", "loaded", "--format", "json"]));
    assert.deepEqual(seen.progress, status.progress);
    assert.deepEqual(
      seen.steps,
      status.steps.map((s) => ({ address: s.address, state: s.state }))
    );
    // The form shows the run's facts, and the page carries it on.
    assert.equal(await page.inputValue("[data-fact=tier]"), "1-tier");
    assert.ok(await page.locator("[data-fact=tier]").isDisabled());
    assert.match(await page.locator("li.rbk-cl-step").first().innerText(), /Done by Bo at .*Note: from the shell/);
    await page.fill("#rbk-run-by", "Cy");
    await page.locator("li.rbk-cl-step").nth(2).locator("input[type=checkbox]").check();
    await page.locator('#rbk-run-progress[data-done="3"]').waitFor();
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

for (const [name, viewport] of [
  ["phone", { width: 390, height: 844 }],
  ["desktop", { width: 1280, height: 800 }],
]) {
  test(`a run's controls fit a ${name}`, async () => {
    const context = await browser.newContext({ viewport });
    try {
      const { page, problems } = await open(context, BASE_URL + "checklist.html" + QUERY);
      await ready(page);
      await page.fill("#rbk-run-name", "fit");
      await page.fill("#rbk-run-by", "A person with a rather long name");
      await page.click("#rbk-run-start");
      const step = page.locator("li.rbk-cl-step").first();
      await step.locator("input[type=text]").fill("A long note ".repeat(12));
      await step.locator("input[type=checkbox]").check();
      await page.locator('#rbk-run-progress[data-done="1"]').waitFor();
      const over = await overflow(page);
      assert.ok(over.by <= 0, `the page is ${over.by}px wider than a ${name}:\n  ${over.culprits.join("\n  ")}`);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });
}
