// The help site in a real browser: Debian's headless Chromium, driven by playwright-core,
// against `runbook serve`. Needs BASE_URL (the server), SITE (the built site's folder),
// RUNBOOK (the binary) and PROJECT (the project root).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, statSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const BASE_URL = (process.env.BASE_URL || "").replace(/\/?$/, "/");
const SHARDED_URL = process.env.SHARDED_URL ? process.env.SHARDED_URL.replace(/\/?$/, "/") : "";
const SITE = process.env.SITE;
const RUNBOOK = process.env.RUNBOOK;
const PROJECT = process.env.PROJECT;

let context;
let profileDir;

before(async () => {
  assert.ok(BASE_URL !== "/" && SITE, "set BASE_URL and SITE");
  profileDir = mkdtempSync(path.join(tmpdir(), "rbk-chromium-"));
  // launchPersistentContext takes the fresh profile folder (Chromium's --user-data-dir).
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

after(async () => {
  if (context) await context.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
});

// A page that records console errors, failed requests and the bytes it downloads.
async function open(url) {
  const page = await context.newPage();
  const problems = [];
  const downloads = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()} ${r.failure() && r.failure().errorText}`));
  page.on("response", async (r) => {
    try {
      const body = await r.body();
      downloads.push({ url: r.url(), bytes: body.length, status: r.status() });
    } catch {
      /* redirects and the like have no body */
    }
  });
  const response = await page.goto(url, { waitUntil: "load" });
  return { page, problems, downloads, response };
}

test("every page loads without console errors, with the sidebar", async () => {
  const pages = [];
  (function walk(dir) {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) {
        if (name !== "pagefind") walk(full);
      } else if (name.endsWith(".html") && name !== "404.html") {
        pages.push(path.relative(SITE, full).split(path.sep).join("/"));
      }
    }
  })(SITE);
  assert.ok(pages.includes("index.html") && pages.includes("checklist.html") && pages.includes("print.html"));
  for (const rel of pages) {
    const { page, problems, response } = await open(BASE_URL + rel);
    assert.equal(response.status(), 200, rel);
    assert.deepEqual(problems, [], rel);
    if (rel !== "print.html") {
      const links = await page.locator("#rbk-sidebar a").count();
      assert.ok(links > 3, `${rel}: the sidebar has ${links} links`);
    }
    await page.close();
  }
});

// A search for a step, narrowed by a fact's filter, then followed to the step.
async function searchForTheStep(base) {
  const { page, problems, downloads } = await open(base + "introduction.html");
  const before = downloads.length;
  await page.fill("#rbk-search-input", "Admin Agent role");
  const result = page.locator('#rbk-search-results a[href*="/prerequisites.html#partner-center-integration-account"]').first();
  await result.waitFor({ timeout: 15000 });
  const href = await result.getAttribute("href");
  assert.match(href, /runbooks\/prerequisites\.html#partner-center-integration-account$/);
  const searchBytes = downloads.slice(before).reduce((n, d) => n + d.bytes, 0);
  console.log(`# bytes downloaded for one search: ${searchBytes}`);
  assert.ok(searchBytes <= 300 * 1024, `a search downloaded ${searchBytes} bytes`);

  // The integration account is for 1-Tier partners only: filtered out for 2-Tier.
  await page.selectOption('select[data-filter="tier"]', "2-tier");
  await page.waitForFunction(() => {
    const s = document.getElementById("rbk-search-status").textContent;
    return s && !/Searching/.test(s);
  });
  await page.waitForTimeout(300);
  const texts = await page.locator("#rbk-search-results a").allTextContents();
  assert.ok(!texts.some((t) => t.includes("Partner Center integration account")), texts.join(" | "));

  await page.selectOption('select[data-filter="tier"]', "1-tier");
  await result.waitFor({ timeout: 15000 });
  await result.click();
  await page.waitForURL(/prerequisites\.html#partner-center-integration-account$/);
  assert.ok(await page.locator("#partner-center-integration-account").isVisible());
  assert.deepEqual(problems, []);
  await page.close();
}

test("search finds the step, and narrows to what applies", async () => {
  await searchForTheStep(BASE_URL);
});

// SHARDED_URL serves the same project built with a search index in shards of a few pages,
// as a large book's is: the shards after the first are merged into each search.
test("a search index in shards finds the step, and narrows to what applies", { skip: !SHARDED_URL }, async () => {
  const res = await fetch(SHARDED_URL + "pagefind/shards.json");
  assert.equal(res.status, 200);
  const { shards } = await res.json();
  assert.ok(shards.length >= 3, `shards: ${JSON.stringify(shards)}`);
  await searchForTheStep(SHARDED_URL);

  // Pages go to shards by their addresses: whichever shard holds a chapter or a runbook, the
  // shards merged find the pages the single index finds.
  const found = async (base, query) => {
    const { page, problems } = await open(base + "index.html");
    const urls = await page.evaluate(
      async ({ base, query }) => {
        const pagefind = await import(base + "pagefind/pagefind.js");
        await pagefind.options({ noWorker: true });
        await pagefind.init();
        const res = await fetch(base + "pagefind/shards.json");
        for (const dir of res.ok ? (await res.json()).shards : []) await pagefind.mergeIndex(base + "pagefind/" + dir);
        const search = await pagefind.search(query);
        const data = await Promise.all(search.results.map((r) => r.data()));
        return data.map((d) => d.url.replace(/^.*?\/(runbooks\/|[^/]*\.html)/, "$1")).sort();
      },
      { base, query }
    );
    assert.deepEqual(problems, []);
    await page.close();
    return urls;
  };
  // (The merged shards find a few step records more than the single index for some queries:
  // left for the search work to explain.)
  for (const query of ["runbook", "checklist", "consent"]) {
    const single = await found(BASE_URL, query);
    assert.ok(single.length > 3, `${query}: ${single}`);
    const merged = await found(SHARDED_URL, query);
    assert.deepEqual(single.filter((u) => !merged.includes(u)), [], `${query}: the shards miss these`);
  }
});

test("the checklist builder drops the integration account step for 2-Tier, and keeps the choice in the address", async () => {
  const step = '[data-address="prerequisites#partner-center-integration-account"]';
  const { page, problems } = await open(BASE_URL + "checklist.html");
  await page.locator(step).first().waitFor();
  await page.selectOption("#rbk-fact-tier", "2-tier");
  await page.locator(step).first().waitFor({ state: "detached" });
  assert.match(page.url(), /[?&]tier=2-tier/);

  // The shared address restores the checklist.
  await page.selectOption("#rbk-fact-mode", "upgrade");
  await page.fill("#rbk-fact-version", "3.6");
  await page.locator("#rbk-fact-version").dispatchEvent("change");
  const url = page.url();
  assert.match(url, /version=3\.6/);
  const again = await open(url);
  assert.equal(await again.page.inputValue("#rbk-fact-tier"), "2-tier");
  assert.equal(await again.page.locator(step).count(), 0);
  const shown = await again.page.locator("[data-address]").evaluateAll((els) => els.map((e) => e.getAttribute("data-address")));

  // Exactly the steps of `runbook checklist` for the same facts.
  if (RUNBOOK && PROJECT) {
    const json = JSON.parse(
      execFileSync(RUNBOOK, ["-C", PROJECT, "checklist", "--format", "json", "--set", "tier=2-tier", "--set", "mode=upgrade", "--set", "version=3.6"], {
        encoding: "utf8",
      })
    );
    const expected = json.runbooks.flatMap((rb) => rb.sections.flatMap((s) => s.steps.map((st) => st.address)));
    assert.deepEqual(shown, expected);
  }
  // 1-Tier brings it back.
  await again.page.selectOption("#rbk-fact-tier", "1-tier");
  await again.page.locator(step).first().waitFor();
  assert.deepEqual(problems, []);
  assert.deepEqual(again.problems, []);
  await page.close();
  await again.page.close();
});

test("a version below the minimum is explained at its field, not crashed on", async () => {
  const { page, problems } = await open(BASE_URL + "checklist.html?version=2.0");
  await page.locator("#rbk-fact-version-error").waitFor();
  assert.match(await page.locator("#rbk-fact-version-error").textContent(), /2\.0 is not supported: the minimum is 2\.5/);
  assert.deepEqual(problems, []);
  await page.close();
});

test("from the file system everything works but search, which says how to serve the site", async () => {
  const { page, problems } = await open(pathToFileURL(path.join(SITE, "runbooks/install.html")).href);
  assert.ok((await page.locator("#rbk-sidebar a").count()) > 3);
  await page.fill("#rbk-search-input", "consent");
  await page.locator("#rbk-search-status", { hasText: "runbook serve" }).waitFor();
  const checklist = await open(pathToFileURL(path.join(SITE, "checklist.html")).href + "?tier=2-tier");
  await checklist.page.locator("[data-address]").first().waitFor();
  assert.equal(await checklist.page.locator('[data-address="prerequisites#partner-center-integration-account"]').count(), 0);
  assert.deepEqual(problems, []);
  assert.deepEqual(checklist.problems, []);
  await page.close();
  await checklist.page.close();
});

test("an unknown address gets the 404 page", async () => {
  const { page, response } = await open(BASE_URL + "no/such/page.html");
  assert.equal(response.status(), 404);
  assert.match(await page.title(), /not found/i);
  await page.close();
});
