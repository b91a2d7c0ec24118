// `runbook serve` reloads the open pages after a build, and shows a failed build's errors.
//
// Needs LIVE_URL (`runbook serve`, watching, of a copy of the project that this test edits),
// LIVE_PROJECT (that copy), and BASE_URL and SITE (a site served without watching).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { launch, open, sitePages } from "./browser.mjs";

const LIVE_URL = (process.env.LIVE_URL || "").replace(/\/?$/, "/");
const LIVE_PROJECT = process.env.LIVE_PROJECT;
const BASE_URL = (process.env.BASE_URL || "").replace(/\/?$/, "/");
const SITE = process.env.SITE;
// Bounded waits for a rebuild: the watcher's settling time and a debug build of the site.
const REBUILT = { timeout: 60000 };

let browser;

before(async () => {
  assert.ok(LIVE_URL !== "/" && LIVE_PROJECT, "set LIVE_URL and LIVE_PROJECT");
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
});

// Marks a page: the mark is gone once the page has reloaded.
const mark = (page, value) => page.evaluate((v) => (window.rbkTestMark = v), value);
const marked = (page) => page.evaluate(() => window.rbkTestMark);

test("an edit reaches the open pages by itself; a failed build shows its errors instead", async (t) => {
  const chapter = path.join(LIVE_PROJECT, "guide", "introduction.md");
  const original = readFileSync(chapter, "utf8");
  t.after(() => writeFileSync(chapter, original));
  const context = await browser.newContext();
  // The chapter, and another page of the site open beside it.
  const one = await open(context, LIVE_URL + "introduction.html", { reloads: true });
  const two = await open(context, LIVE_URL + "runbooks/install.html", { reloads: true });
  assert.equal(await one.page.locator("script[data-events]").count(), 1, "serve adds its script");
  await mark(one.page, "before the edit");
  await mark(two.page, "before the edit");

  writeFileSync(chapter, original + "\nThe first live edit reached the page.\n");
  await one.page.getByText("The first live edit reached the page.").waitFor(REBUILT);
  assert.equal(await marked(one.page), undefined, "the chapter reloaded by itself");
  await two.page.waitForFunction(() => window.rbkTestMark === undefined, null, REBUILT);

  // A broken link fails the build: the page stays as it is and shows why.
  await mark(one.page, "before the failed build");
  writeFileSync(chapter, original + "\nThe first live edit reached the page. [A broken link](no-such-chapter.md).\n");
  const error = one.page.locator("#rbk-serve-error");
  await error.waitFor(REBUILT);
  assert.match(await error.textContent(), /no-such-chapter\.md/);
  assert.match(await error.textContent(), /introduction\.md/);
  assert.equal(await marked(one.page), "before the failed build", "no reload for a failed build");
  assert.equal(await one.page.locator("#rbk-content", { hasText: "A broken link" }).count(), 0);
  assert.equal(await one.page.locator("#rbk-content", { hasText: "The first live edit" }).count(), 1);
  await two.page.locator("#rbk-serve-error").waitFor(REBUILT);

  // Fixed: the error goes and the page reloads with the new text.
  writeFileSync(chapter, original + "\nThe second live edit reached the page.\n");
  await one.page.getByText("The second live edit reached the page.").waitFor(REBUILT);
  assert.equal(await one.page.locator("#rbk-serve-error").count(), 0);
  assert.equal(await marked(one.page), undefined);

  assert.deepEqual(one.problems, []);
  assert.deepEqual(two.problems, []);
  await context.close();
});

test("the built site has nothing of this, nor a site served without watching", { skip: !SITE || BASE_URL === "/" }, async () => {
  for (const rel of sitePages(SITE)) {
    // The script `serve` adds; the guide may well mention the events' address in its text.
    assert.ok(!readFileSync(path.join(SITE, rel), "utf8").includes("<script data-server="), rel);
  }
  const context = await browser.newContext();
  const { page, problems } = await open(context, BASE_URL + "introduction.html");
  assert.equal(await page.locator("script[data-events]").count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});
