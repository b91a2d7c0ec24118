// Bytes a reader downloads for one search, measured in headless Chromium:
//   node search-bytes.mjs runbook|mdbook URL QUERY
// Counts every response that belongs to search (pagefind's files for runbook's site;
// searchindex, searcher, elasticlunr and mark.js for mdBook's), from the page load through
// the first results. Prints the byte count on stdout.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(path.resolve(process.cwd(), "tests/browser/package.json"));
const { chromium } = require("playwright-core");

const [kind, url, query] = process.argv.slice(2);
const profile = mkdtempSync(path.join(tmpdir(), "rbk-bench-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
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
try {
  const page = await context.newPage();
  const seen = [];
  page.on("response", async (r) => {
    try {
      const body = await r.body();
      seen.push({ url: r.url(), bytes: body.length });
    } catch {
      /* no body */
    }
  });
  await page.goto(url, { waitUntil: "load" });
  if (kind === "runbook") {
    await page.fill("#rbk-search-input", query);
    await page.locator("#rbk-search-results a").first().waitFor({ timeout: 60000 });
  } else {
    // mdBook: the search bar opens with "s".
    await page.keyboard.press("s");
    await page.waitForSelector("#mdbook-searchbar, #searchbar", { state: "visible", timeout: 60000 });
    // Its index loads when the search bar opens; type once it is there.
    await page.waitForLoadState("networkidle");
    // mdBook searches on key events, so the query is typed.
    await page.locator("#mdbook-searchbar, #searchbar").pressSequentially(query);
    await page.waitForSelector("#mdbook-searchresults li, #searchresults li", { timeout: 60000 });
  }
  await page.waitForTimeout(500);
  const isSearch =
    kind === "runbook"
      ? (u) => u.includes("/pagefind/")
      : (u) => /searchindex|searcher|elasticlunr|mark(\.min)?[-.]/.test(u);
  const bytes = seen.filter((s) => isSearch(s.url)).reduce((n, s) => n + s.bytes, 0);
  if (process.env.VERBOSE) {
    for (const s of seen.filter((s) => isSearch(s.url))) console.error(`${s.bytes}\t${s.url}`);
  }
  console.log(bytes);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
