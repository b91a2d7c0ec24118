// What the browser tests share: Debian's headless Chromium, pages that record their problems,
// and the site's pages.
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

export function launch() {
  return chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

// A new page that records console errors, uncaught exceptions and failed requests in
// `problems`. A page served with status 404 on purpose may log that status for itself: pass
// `expect404` to leave that one line out; and `reloads` for a page that reloads by itself, whose
// requests still open when it goes are aborted.
export async function open(context, url, { expect404 = false, reloads = false } = {}) {
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const at = m.location() && m.location().url;
    if (expect404 && /status of 404/.test(m.text()) && at === page.url()) return;
    // Chromium asks every server for /favicon.ico on its own, after the page has loaded: a site
    // published under a sub-path has none at the server's root.
    if (at && new URL(at).pathname === "/favicon.ico") return;
    problems.push(`console: ${m.text()}${at ? ` (${at})` : ""}`);
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => {
    if (reloads && r.failure() && r.failure().errorText === "net::ERR_ABORTED") return;
    problems.push(`request failed: ${r.url()} ${r.failure() && r.failure().errorText}`);
  });
  const response = await page.goto(url, { waitUntil: "load" });
  return { page, problems, response };
}

// Every HTML page of a built site, relative to it, but pagefind's and the 404 page.
export function sitePages(site) {
  const pages = [];
  (function walk(dir) {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) {
        if (name !== "pagefind") walk(full);
      } else if (name.endsWith(".html") && name !== "404.html") {
        pages.push(path.relative(site, full).split(path.sep).join("/"));
      }
    }
  })(site);
  return pages.sort();
}

// The page's horizontal overflow: how much wider than the window the document is, and the
// outermost elements that stick out on the right (not those inside a box that scrolls).
export function overflow(page) {
  return page.evaluate(() => {
    const doc = document.scrollingElement;
    const width = doc.clientWidth;
    const culprits = [];
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.right <= width + 0.5) continue;
      let clipped = false;
      for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
        if (getComputedStyle(p).overflowX !== "visible") {
          clipped = true;
          break;
        }
      }
      const parent = el.parentElement.getBoundingClientRect();
      if (!clipped && parent.right <= width + 0.5) {
        const name = el.tagName.toLowerCase() + (el.id ? `#${el.id}` : "") + (el.className && typeof el.className === "string" ? `.${el.className.trim().split(/\s+/).join(".")}` : "");
        culprits.push(`${name} reaches ${Math.round(r.right)}px: ${(el.textContent || "").trim().slice(0, 60)}`);
      }
    }
    return { by: doc.scrollWidth - width, culprits: culprits.slice(0, 10) };
  });
}
