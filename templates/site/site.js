/* The help site's page script: the sidebar (from toc.js), the light or dark theme and the
   search box (pagefind). Everything but search works from the file system; search explains
   how to serve the site. */
(function () {
  "use strict";
  var doc = document.documentElement;
  var root = doc.getAttribute("data-root") || "";
  var here = doc.getAttribute("data-path") || "";

  function isRelative(href) {
    return !/^([a-z][a-z0-9+.-]*:|\/|#)/i.test(href);
  }

  // ---- Sidebar: one copy for the whole site in toc.js, links relative to the root.
  var nav = document.getElementById("rbk-sidebar");
  var tocBox = document.getElementById("rbk-toc") || nav;
  if (nav && typeof window.RBK_TOC === "string") {
    tocBox.innerHTML = window.RBK_TOC;
    var links = tocBox.querySelectorAll("a[href]");
    var active = null;
    for (var i = 0; i < links.length; i++) {
      var a = links[i];
      var href = a.getAttribute("href");
      if (!isRelative(href)) continue;
      if (href === here) {
        a.classList.add("rbk-active");
        a.setAttribute("aria-current", "page");
        active = a;
      }
      a.setAttribute("href", root + href);
    }
    if (active && active.scrollIntoView) {
      var box = nav.getBoundingClientRect();
      var r = active.getBoundingClientRect();
      if (r.bottom > box.bottom || r.top < box.top) nav.scrollTop += r.top - box.top - box.height / 3;
    }
  }
  // ---- The menu button opens the sidebar over the page on narrow screens, and the search
  // button the search box on phones: one at a time.
  var menu = document.getElementById("rbk-menu");
  var searchToggle = document.getElementById("rbk-search-toggle");
  function fold(button, cls, open) {
    if (!button) return;
    doc.classList.toggle(cls, open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
  }
  function sidebar(open) {
    fold(menu, "rbk-sidebar-open", open);
    if (open) fold(searchToggle, "rbk-search-open", false);
  }
  if (menu) {
    menu.addEventListener("click", function () {
      sidebar(!doc.classList.contains("rbk-sidebar-open"));
    });
    document.addEventListener("click", function (e) {
      if (doc.classList.contains("rbk-sidebar-open") && !nav.contains(e.target) && !menu.contains(e.target)) sidebar(false);
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && doc.classList.contains("rbk-sidebar-open")) {
        sidebar(false);
        menu.focus();
      }
    });
  }

  // ---- Light or dark: the system's setting until the reader chooses, then their choice.
  var themeButton = document.getElementById("rbk-theme");
  var systemDark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  function isDark() {
    var chosen = doc.getAttribute("data-theme");
    return chosen ? chosen === "dark" : !!(systemDark && systemDark.matches);
  }
  function showTheme() {
    themeButton.setAttribute("aria-pressed", isDark() ? "true" : "false");
  }
  if (themeButton) {
    themeButton.hidden = false;
    showTheme();
    themeButton.addEventListener("click", function () {
      var theme = isDark() ? "light" : "dark";
      doc.setAttribute("data-theme", theme);
      try {
        localStorage.setItem("rbk-theme", theme);
      } catch (e) {
        /* not kept: private windows and the like */
      }
      showTheme();
    });
    if (systemDark && systemDark.addEventListener) systemDark.addEventListener("change", showTheme);
  }

  // ---- Search.
  var form = document.getElementById("rbk-search");
  if (!form) return;
  var input = document.getElementById("rbk-search-input");
  var panel = document.getElementById("rbk-search-panel");
  var statusLine = document.getElementById("rbk-search-status");
  var list = document.getElementById("rbk-search-results");
  var selects = form.querySelectorAll("select[data-filter]");
  var limit = parseInt(form.getAttribute("data-limit"), 10) || 30;
  var shown = 8;
  var loading = null;
  var generation = 0;

  function say(text) {
    statusLine.textContent = text;
  }

  function open() {
    panel.hidden = false;
    // Keep the panel inside the window, whatever the header left of the search box.
    panel.style.left = "";
    var r = panel.getBoundingClientRect();
    var over = r.right - (doc.clientWidth - 8);
    if (over > 0 && getComputedStyle(panel).position === "absolute") {
      panel.style.left = -Math.min(over, Math.max(0, r.left - 8)) + "px";
    }
  }

  function close() {
    panel.hidden = true;
  }

  function load() {
    if (location.protocol === "file:") {
      return Promise.reject(new Error("file"));
    }
    if (!loading) {
      var base = new URL(root + "pagefind/", document.baseURI).href;
      // A large site's index comes in shards: the first at pagefind/, the others listed in
      // shards.json and merged into its searches.
      var shards = fetch(base + "shards.json", { cache: "no-cache" })
        .then(function (r) {
          return r.ok ? r.json() : { shards: [] };
        })
        .then(
          function (m) {
            return (m && m.shards) || [];
          },
          function () {
            return [];
          }
        );
      loading = Promise.all([import(base + "pagefind.js"), shards]).then(function (got) {
        var pagefind = got[0];
        // No worker: one file less to download, and searches here are quick.
        return Promise.resolve(pagefind.options({ excerptLength: 20, noWorker: true }))
          .then(function () {
            return pagefind.init ? pagefind.init() : null;
          })
          .then(function () {
            return Promise.all(
              got[1].map(function (dir) {
                return pagefind.mergeIndex(base + dir, { excerptLength: 20 });
              })
            );
          })
          .then(function () {
            return pagefind;
          });
      });
      loading.catch(function () {
        loading = null;
      });
    }
    return loading;
  }

  function filters() {
    var out = {};
    for (var i = 0; i < selects.length; i++) {
      var v = selects[i].value;
      if (v) out[selects[i].getAttribute("data-filter")] = v;
    }
    return out;
  }

  // Pagefind marks matches with <mark>; everything else in an excerpt is kept as text.
  function excerpt(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    var out = document.createElement("p");
    out.className = "rbk-search-excerpt";
    (function copy(from, to) {
      for (var n = from.firstChild; n; n = n.nextSibling) {
        if (n.nodeType === 3) {
          to.appendChild(document.createTextNode(n.nodeValue));
        } else if (n.nodeType === 1) {
          if (n.nodeName === "MARK") {
            var m = document.createElement("mark");
            copy(n, m);
            to.appendChild(m);
          } else {
            copy(n, to);
          }
        }
      }
    })(tpl.content, out);
    return out;
  }

  // Result addresses are root-relative ("runbooks/install.html#step") or absolute paths.
  function address(url) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(url) || url.charAt(0) === "/") return url;
    return root + url;
  }

  function render(results, total, query) {
    list.textContent = "";
    if (!total) {
      say("Nothing found for \u201c" + query + "\u201d.");
      return;
    }
    say(total === 1 ? "1 result" : total + " results" + (total > results.length ? ", the first " + results.length + " shown" : ""));
    results.forEach(function (r) {
      var li = document.createElement("li");
      var sub = (r.sub_results || []).filter(function (s) {
        return s.url !== r.url;
      })[0];
      var a = document.createElement("a");
      a.href = address(sub ? sub.url : r.url);
      a.textContent = (r.meta && r.meta.title) || r.url;
      if (sub && sub.title && sub.title !== a.textContent) {
        a.textContent += " \u203a " + sub.title;
      }
      li.appendChild(a);
      if (r.meta && r.meta.runbook) {
        var ctx = document.createElement("div");
        ctx.className = "rbk-search-context";
        ctx.textContent = r.meta.runbook + (r.meta.section ? " \u203a " + r.meta.section : "") + (r.meta.role ? " \u00b7 " + r.meta.role : "");
        li.appendChild(ctx);
      }
      li.appendChild(excerpt((sub && sub.excerpt) || r.excerpt || ""));
      list.appendChild(li);
    });
  }

  function search() {
    var query = input.value.trim();
    var mine = ++generation;
    open();
    if (!query) {
      list.textContent = "";
      say("Type to search every chapter, runbook and step.");
      return;
    }
    say("Searching\u2026");
    load()
      .then(function (pagefind) {
        return pagefind.search(query, { filters: filters() }).then(function (found) {
          if (mine !== generation) return;
          var top = found.results.slice(0, Math.min(shown, limit));
          return Promise.all(
            top.map(function (r) {
              return r.data();
            })
          ).then(function (data) {
            if (mine !== generation) return;
            render(data, Math.min(found.results.length, limit), query);
          });
        });
      })
      .catch(function (e) {
        if (mine !== generation) return;
        list.textContent = "";
        if (location.protocol === "file:" || (e && e.message === "file")) {
          say(
            "Search needs the site to be served over HTTP: it cannot load its index from files. " +
              "Run `runbook serve` in the project (or any web server in the site's folder, " +
              "such as `python3 -m http.server`) and open the address it prints. Everything else works as it is."
          );
        } else {
          say("Search is not available: " + (e && e.message ? e.message : e));
        }
      });
  }

  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 150);
  });
  input.addEventListener("focus", function () {
    if (location.protocol === "file:" || input.value.trim()) {
      search();
    } else {
      load().catch(function () {});
    }
  });
  for (var s = 0; s < selects.length; s++) selects[s].addEventListener("change", search);
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var first = list.querySelector("a");
    if (first) location.href = first.href;
  });
  if (searchToggle) {
    searchToggle.addEventListener("click", function () {
      var show = !doc.classList.contains("rbk-search-open");
      fold(searchToggle, "rbk-search-open", show);
      if (show) {
        sidebar(false);
        input.focus();
      } else {
        close();
      }
    });
  }
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") close();
    if (e.key === "/" && document.activeElement !== input && !/INPUT|SELECT|TEXTAREA/.test(document.activeElement.nodeName)) {
      e.preventDefault();
      if (searchToggle) fold(searchToggle, "rbk-search-open", true);
      input.focus();
    }
  });
  document.addEventListener("click", function (e) {
    if (!form.contains(e.target)) close();
  });
})();
