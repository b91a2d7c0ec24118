// Redirects as mdBook's pages make them: a redirect page carries the `#part` on to the new
// address, and a part of a page that moved (an `"page.html#part"` entry) leads to where it went.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, open } from "./browser.mjs";

const BASE = process.env.PUBLISHED_URL;

test("redirects and moved parts lead where book.toml says", async () => {
  assert.ok(BASE, "set PUBLISHED_URL");
  const browser = await launch();
  try {
    const context = await browser.newContext();
    for (const [from, to] of [
      ["vec-alloc.html", "vec/vec-alloc.html"],
      ["vec-alloc.html#growing", "vec/vec-alloc.html#growing"],
      ["vec-alloc.html#elsewhere", "vec/vec-alloc.html#elsewhere"],
      ["old/intro.html#part", "intro.html#part"],
      ["intro.html#old-name", "intro.html#new-name"],
    ]) {
      const { page, problems } = await open(context, BASE + from, { reloads: true });
      await page.waitForURL(BASE + to, { timeout: 5000 });
      assert.deepEqual(problems, [], from);
      await page.close();
    }
  } finally {
    await browser.close();
  }
});
