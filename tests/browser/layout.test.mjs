// Every page of the help site on a phone (390 pixels wide) and on a desktop: nothing wider
// than the window, no console error, the sidebar and search within reach; and dark mode, from
// the system's setting or the reader's choice, which is remembered.
//
// Needs BASE_URL (`runbook serve` of the site) and SITE (the built site's folder).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, open, overflow, sitePages } from "./browser.mjs";

const BASE_URL = (process.env.BASE_URL || "").replace(/\/?$/, "/");
const SITE = process.env.SITE;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

let browser;

before(async () => {
  assert.ok(BASE_URL !== "/" && SITE, "set BASE_URL and SITE");
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
});

// Every page, a checklist with answers (its steps are drawn by the page), and an address the
// site does not have (the 404 page, at any depth).
function everyPage() {
  const pages = sitePages(SITE).map((rel) => ({ rel }));
  assert.ok(["index.html", "checklist.html", "print.html"].every((p) => pages.some((x) => x.rel === p)));
  assert.ok(pages.some((x) => /^runbooks\/[^/]+\/.+\.html$/.test(x.rel)), "an older revision's page");
  pages.push({ rel: "checklist.html?tier=1-tier&mode=upgrade&version=3.6&region=eu", steps: true });
  pages.push({ rel: "404.html" });
  pages.push({ rel: "no/such/page.html", missing: true });
  return pages;
}

async function fits(viewport, name) {
  const context = await browser.newContext({ viewport });
  try {
    for (const { rel, steps, missing } of everyPage()) {
      const { page, problems, response } = await open(context, BASE_URL + rel, { expect404: missing });
      assert.equal(response.status(), missing ? 404 : 200, rel);
      if (steps) await page.locator("[data-address]").first().waitFor();
      const over = await overflow(page);
      assert.ok(over.by <= 0, `${rel} is ${over.by}px wider than a ${name} (${viewport.width}px):\n  ${over.culprits.join("\n  ")}`);
      assert.deepEqual(problems, [], `${rel} on a ${name}`);
      await page.close();
    }
  } finally {
    await context.close();
  }
}

test("no page is wider than a phone, or logs an error there", async () => {
  await fits(PHONE, "phone");
});

test("no page is wider than a desktop window, or logs an error there", async () => {
  await fits(DESKTOP, "desktop");
});

test("on a phone the sidebar opens from the menu button and search from its own", async () => {
  const context = await browser.newContext({ viewport: PHONE });
  const { page, problems } = await open(context, BASE_URL + "runbooks/install.html");
  const sidebar = page.locator("#rbk-sidebar");
  assert.ok(!(await sidebar.isVisible()), "the sidebar starts closed");
  assert.ok(!(await page.locator("#rbk-search-input").isVisible()), "the search box starts folded");

  await page.click("#rbk-menu");
  await sidebar.waitFor({ state: "visible" });
  assert.equal(await page.getAttribute("#rbk-menu", "aria-expanded"), "true");
  const box = await sidebar.boundingBox();
  assert.ok(box.x >= 0 && box.x + box.width <= PHONE.width, JSON.stringify(box));
  // The header's tools are in it, and the page it is on is marked.
  assert.ok(await sidebar.locator('a[href$="checklist.html"]').first().isVisible());
  assert.ok(await sidebar.locator('a[aria-current="page"]').isVisible());
  assert.ok((await overflow(page)).by <= 0);
  // A tap beside it (in the margin of the page) closes it.
  await page.mouse.click(PHONE.width - 4, 400);
  await sidebar.waitFor({ state: "hidden" });

  await page.click("#rbk-search-toggle");
  const input = page.locator("#rbk-search-input");
  await input.waitFor({ state: "visible" });
  assert.ok(await input.evaluate((el) => el === document.activeElement), "the search box has the focus");
  await input.fill("Admin Agent role");
  const result = page.locator("#rbk-search-results a").first();
  await result.waitFor({ timeout: 15000 });
  const panel = await page.locator("#rbk-search-panel").boundingBox();
  assert.ok(panel.x >= 0 && panel.x + panel.width <= PHONE.width, JSON.stringify(panel));
  assert.ok((await overflow(page)).by <= 0);
  // Opening the sidebar folds the search box away.
  await page.click("#rbk-menu");
  await sidebar.waitFor({ state: "visible" });
  assert.ok(!(await input.isVisible()));
  assert.deepEqual(problems, []);
  await context.close();
});

test("on a desktop the sidebar and the search box are there without buttons", async () => {
  const context = await browser.newContext({ viewport: DESKTOP });
  const { page, problems } = await open(context, BASE_URL + "introduction.html");
  assert.ok(await page.locator("#rbk-sidebar").isVisible());
  assert.ok(await page.locator("#rbk-search-input").isVisible());
  assert.ok(!(await page.locator("#rbk-menu").isVisible()));
  assert.ok(!(await page.locator("#rbk-search-toggle").isVisible()));
  assert.ok(await page.locator(".rbk-tools a").first().isVisible());
  assert.deepEqual(problems, []);
  await context.close();
});

// The page's background, as [r, g, b].
function background(page) {
  return page.evaluate(() => {
    const c = getComputedStyle(document.body).backgroundColor.match(/\d+(\.\d+)?/g).map(Number);
    return c.slice(0, 3);
  });
}
const isDark = (rgb) => rgb.reduce((a, b) => a + b, 0) / 3 < 80;

test("dark mode follows the system's setting", async () => {
  for (const colorScheme of ["dark", "light"]) {
    const context = await browser.newContext({ viewport: PHONE, colorScheme });
    const { page, problems } = await open(context, BASE_URL + "runbooks/prerequisites.html");
    assert.equal(isDark(await background(page)), colorScheme === "dark", colorScheme);
    assert.equal(await page.getAttribute("#rbk-theme", "aria-pressed"), colorScheme === "dark" ? "true" : "false");
    assert.deepEqual(problems, []);
    await context.close();
  }
});

test("the dark mode button's choice is remembered across reloads and pages", async () => {
  const context = await browser.newContext({ viewport: PHONE, colorScheme: "light" });
  const { page, problems } = await open(context, BASE_URL + "introduction.html");
  assert.ok(!isDark(await background(page)));
  await page.click("#rbk-theme");
  assert.equal(await page.getAttribute("html", "data-theme"), "dark");
  assert.ok(isDark(await background(page)));
  assert.equal(await page.getAttribute("#rbk-theme", "aria-pressed"), "true");

  await page.reload({ waitUntil: "load" });
  assert.equal(await page.getAttribute("html", "data-theme"), "dark");
  assert.ok(isDark(await background(page)), "dark after a reload");
  assert.equal(await page.getAttribute("#rbk-theme", "aria-pressed"), "true");
  assert.equal(await page.evaluate(() => localStorage.getItem("rbk-theme")), "dark");

  // Another page, in a folder of its own: the same choice.
  const other = await open(context, BASE_URL + "runbooks/install.html");
  assert.ok(isDark(await background(other.page)), "dark on another page");

  // And back to light, against a system that prefers dark: the choice wins.
  await other.page.emulateMedia({ colorScheme: "dark" });
  await other.page.click("#rbk-theme");
  await other.page.reload({ waitUntil: "load" });
  await other.page.emulateMedia({ colorScheme: "dark" });
  assert.equal(await other.page.getAttribute("html", "data-theme"), "light");
  assert.ok(!isDark(await background(other.page)), "light as chosen");
  assert.deepEqual(problems, []);
  assert.deepEqual(other.problems, []);
  await context.close();
});
