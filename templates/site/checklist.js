/* The checklist builder's page. The checklist itself comes from the runbook engine, the same
   code as `runbook checklist`, compiled to WebAssembly (assets/engine.wasm); this file only
   loads it, reads the form, keeps the answers in the page's address, and shows the answer.
   The project (assets/checklist-data.js) holds step text as HTML, sanitized at build time,
   into which the engine fills the answers, escaped.
   A run (the record `runbook run` keeps in runs/NAME.jsonl) can be carried here: the engine
   makes each line and replays the record, so the file downloaded is one the command reads;
   this file only adds the time and a random id, and keeps the record in localStorage. */
(function (global) {
  "use strict";

  if (typeof document === "undefined" || !global.RBK_CHECKLIST) return;
  var data = global.RBK_CHECKLIST;
  var root = document.documentElement.getAttribute("data-root") || "";
  var form = document.getElementById("rbk-cl-form");
  var out = document.getElementById("rbk-cl-result");
  var link = document.getElementById("rbk-cl-link");
  if (!form || !out) return;
  var fields = form.querySelectorAll("[data-fact]");
  var customerFields = form.querySelectorAll("[data-customer]");

  // ---------------------------------------------------------------------------------------
  // The engine: JSON in and out through the module's memory (crates/runbook-wasm); the
  // project goes in as the site encoded it.

  function decode(base64) {
    var text = atob(base64);
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }

  function engineBytes() {
    if (location.protocol !== "file:") {
      return fetch(root + "assets/engine.wasm").then(function (r) {
        if (!r.ok) throw new Error("assets/engine.wasm: " + r.status);
        return r.arrayBuffer();
      });
    }
    // A page opened from disk cannot fetch: the same bytes, from a script.
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = root + "assets/engine-inline.js";
      s.onload = function () {
        resolve(decode(global.RBK_ENGINE));
      };
      s.onerror = function () {
        reject(new Error("assets/engine-inline.js could not be loaded"));
      };
      document.head.appendChild(s);
    });
  }

  function connect(instance) {
    var x = instance.exports;
    // `value` is JSON's, or bytes as they are (the project, for `load`).
    return function call(name, value) {
      var input =
        value instanceof Uint8Array ? value : new TextEncoder().encode(JSON.stringify(value));
      var ptr = x.alloc(input.length);
      new Uint8Array(x.memory.buffer, ptr, input.length).set(input);
      var len = x[name](ptr, input.length);
      var reply = new Uint8Array(x.memory.buffer, x.output(), len);
      return JSON.parse(new TextDecoder().decode(reply));
    };
  }

  // ---------------------------------------------------------------------------------------
  // Showing an answer.

  function el(name, cls, text) {
    var e = document.createElement(name);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  function badge(text, cls, title) {
    var b = el("span", "rbk-badge " + cls, text);
    if (title) b.title = title;
    return b;
  }

  function conditionBadge(c) {
    return badge(c.text, "rbk-badge-condition", c.expression);
  }

  function timed(cls, lead, t) {
    var p = el("p", "rbk-timed " + cls);
    p.appendChild(el("strong", null, lead + t.time.text + ". "));
    p.appendChild(document.createTextNode(t.note));
    return p;
  }

  function renderStep(st, url) {
    var li = el("li", "rbk-step rbk-cl-step rbk-kind-" + st.kind);
    li.setAttribute("data-address", st.address);
    var box = el("input");
    box.type = "checkbox";
    box.setAttribute("aria-label", "Done: " + st.title);
    li.appendChild(box);
    var main = el("div", "rbk-cl-step-main");
    var h = el("h4", "rbk-step-title");
    var a = el("a", "header");
    a.href = root + url + "#" + st.id;
    a.appendChild(el("span", "rbk-number", st.number));
    a.appendChild(document.createTextNode(" " + st.title));
    h.appendChild(a);
    main.appendChild(h);
    var meta = el("p", "rbk-step-meta");
    meta.appendChild(badge(st.kind, "rbk-badge-kind"));
    if (st.role) meta.appendChild(badge(st.role.title, "rbk-badge-role"));
    if (st.condition) meta.appendChild(conditionBadge(st.condition));
    if (st.estimate) meta.appendChild(badge("about " + st.estimate.text, "rbk-badge-estimate"));
    main.appendChild(meta);
    if (st.body) {
      var body = el("div", "rbk-step-body");
      body.innerHTML = st.body; // sanitized at build time; the engine escapes filled-in values
      main.appendChild(body);
    }
    if (st.wait) main.appendChild(timed("rbk-wait", "Wait ", st.wait));
    if (st.expires) main.appendChild(timed("rbk-expires", "Expires after ", st.expires));
    main.appendChild(el("p", "rbk-step-address", st.address));
    li.appendChild(main);
    return li;
  }

  function renderRunbook(rb) {
    var urls = data.urls[rb.id] || [];
    var url = urls[rb.revision.index] || "";
    var sec = el("section", "rbk-cl-runbook rbk-runbook");
    sec.setAttribute("data-runbook", rb.id);
    var h = el("h2", "rbk-runbook-title");
    var a = el("a", null, rb.number + ". " + rb.title);
    a.href = root + url;
    h.appendChild(a);
    sec.appendChild(h);
    var meta = el("p", "rbk-step-meta");
    var when = rb.revision.versions + " \u00b7 " + (rb.revision.date || rb.revision.id || "undated");
    meta.appendChild(badge(when, "rbk-badge-current"));
    if (rb.condition) meta.appendChild(conditionBadge(rb.condition));
    sec.appendChild(meta);
    rb.sections.forEach(function (s) {
      var ss = el("section", "rbk-section");
      ss.appendChild(el("h3", "rbk-section-title", s.number + ". " + s.title));
      if (s.intro) {
        var intro = el("div", "rbk-section-intro");
        intro.innerHTML = s.intro;
        ss.appendChild(intro);
      }
      var ol = el("ol", "rbk-steps");
      s.steps.forEach(function (st) {
        ol.appendChild(renderStep(st, url));
      });
      ss.appendChild(ol);
      sec.appendChild(ss);
    });
    return sec;
  }

  function renderErrors(errors) {
    var box = el("div", "rbk-cl-errors");
    box.appendChild(el("p", null, "This checklist cannot be built:"));
    var ul = el("ul");
    errors.forEach(function (e) {
      ul.appendChild(el("li", null, e));
    });
    box.appendChild(ul);
    out.appendChild(box);
  }

  function render(c) {
    var facts = el("dl", "rbk-props rbk-cl-facts");
    c.facts.forEach(function (f) {
      facts.appendChild(el("dt", null, f.name));
      facts.appendChild(el("dd", null, f.label == null ? "not known" : f.label));
    });
    out.appendChild(facts);
    var summary = el("div", "rbk-cl-summary");
    var t = c.totals;
    var line = t.steps + (t.steps === 1 ? " step" : " steps") + " in " + t.runbooks + (t.runbooks === 1 ? " runbook" : " runbooks");
    if (t.estimate) line += ", estimated " + t.estimate.text;
    if (t.waits) line += ", plus waits of " + t.waits.text;
    summary.appendChild(el("p", "rbk-cl-totals", line + "."));
    c.notes.forEach(function (n) {
      summary.appendChild(el("p", "rbk-cl-note", n));
    });
    out.appendChild(summary);
    fields.forEach(function (f) {
      var wrap = f.closest(".rbk-cl-field");
      if (wrap) wrap.classList.toggle("rbk-open", c.open_facts.indexOf(f.getAttribute("data-fact")) >= 0);
    });
    c.runbooks.forEach(function (rb) {
      out.appendChild(renderRunbook(rb));
    });
    if (t.timed.length) {
      var tw = el("section", "rbk-cl-timed");
      tw.appendChild(el("h2", null, "Waits and expiries"));
      var ul = el("ul");
      t.timed.forEach(function (x) {
        var what = x.what === "wait" ? "wait " : "expires after ";
        ul.appendChild(el("li", null, x.step + " " + x.title + ": " + what + x.time.text + ". " + x.note));
      });
      tw.appendChild(ul);
      out.appendChild(tw);
    }
  }

  // ---------------------------------------------------------------------------------------
  // The form and the page's address.

  function readUrl() {
    var params = new URLSearchParams(location.search);
    fields.forEach(function (f) {
      var v = params.get(f.getAttribute("data-fact"));
      if (v != null) f.value = v;
    });
    customerFields.forEach(function (f) {
      var v = params.get("customer." + f.getAttribute("data-customer"));
      if (v != null) f.value = v;
    });
  }

  function answers() {
    var facts = {};
    var customer = {};
    var params = new URLSearchParams();
    fields.forEach(function (f) {
      var text = f.value.trim();
      if (!text) return;
      facts[f.getAttribute("data-fact")] = text;
      params.set(f.getAttribute("data-fact"), text);
    });
    customerFields.forEach(function (f) {
      var text = f.value.trim();
      if (!text) return;
      customer[f.getAttribute("data-customer")] = text;
      params.set("customer." + f.getAttribute("data-customer"), text);
    });
    var q = params.toString();
    return { ask: { facts: facts, customer: customer }, query: q ? "?" + q : "" };
  }

  function showInvalid(invalid) {
    fields.forEach(function (f) {
      var err = document.getElementById("rbk-fact-" + f.getAttribute("data-fact") + "-error");
      if (!err) return;
      var message = invalid && invalid[f.getAttribute("data-fact")];
      err.textContent = message || "";
      err.hidden = !message;
    });
  }

  function update(call, push) {
    var a = answers();
    if (link) link.href = "checklist.html" + a.query;
    if (push) {
      try {
        history.replaceState(null, "", location.pathname + a.query + location.hash);
      } catch (e) {
        /* some browsers refuse this for file: addresses; the link above still works */
      }
    }
    var answer = call("checklist", a.ask);
    showInvalid(answer.invalid);
    if (answer.invalid) return;
    out.textContent = "";
    if (answer.errors) renderErrors(answer.errors);
    else render(answer.checklist);
    showRun();
    out.setAttribute("data-ready", "");
  }

  // ---------------------------------------------------------------------------------------
  // A run, kept in the browser.

  var runBox = document.getElementById("rbk-cl-run");
  var runName = document.getElementById("rbk-run-name");
  var runBy = document.getElementById("rbk-run-by");
  var runError = document.getElementById("rbk-run-error");
  var runProgress = document.getElementById("rbk-run-progress");
  var STORE = "rbk-run:" + location.pathname;
  var BY = "rbk-run-by";
  var record = null; // the run's lines, as text
  var engine = null;

  function storage() {
    try {
      return global.localStorage;
    } catch (e) {
      return null; // storage refused (a private window): the run lasts as long as the page
    }
  }

  function save() {
    var s = storage();
    if (!s) return;
    if (record) s.setItem(STORE, record);
    else s.removeItem(STORE);
  }

  function say(message) {
    runError.textContent = message || "";
    runError.hidden = !message;
  }

  function problem(answer) {
    if (answer.errors) return answer.errors.join(" ");
    if (answer.invalid) {
      return Object.keys(answer.invalid)
        .map(function (k) {
          return answer.invalid[k];
        })
        .join(" ");
    }
    return null;
  }

  function newId() {
    if (global.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map
      .call(bytes, function (b) {
        return (b + 256).toString(16).slice(1);
      })
      .join("");
  }

  function who() {
    var by = runBy.value.trim();
    var s = storage();
    if (by && s) s.setItem(BY, by);
    return by;
  }

  function replay() {
    return record ? engine("run", { op: "replay", record: record }) : null;
  }

  // Appends the line the engine makes for `ask` (its `op`: start, done, skip or undo), or says
  // why there is none.
  function append(ask) {
    var by = who();
    if (!by) {
      say("Say who you are (Your name): the run records who did each step.");
      return false;
    }
    ask.by = by;
    ask.at = new Date().toISOString();
    ask.id = newId();
    var answer = engine("run", ask);
    if (answer.line == null) {
      say(problem(answer));
      return false;
    }
    record = (record || "") + answer.line;
    save();
    say(null);
    return true;
  }

  // The form shows the run's facts, and cannot change them: a run pins one checklist.
  function pinForm(view) {
    fields.forEach(function (f) {
      var v = view ? view.facts[f.getAttribute("data-fact")] : null;
      if (view) f.value = v == null ? "" : v;
      f.disabled = !!view;
    });
    customerFields.forEach(function (f) {
      var v = view ? view.customer[f.getAttribute("data-customer")] : null;
      if (view) f.value = v == null ? "" : v;
      f.disabled = !!view;
    });
  }

  function stepControls(li, st) {
    var box = li.querySelector("input[type=checkbox]");
    var wrap = el("div", "rbk-cl-run-step");
    li.setAttribute("data-run-state", st.mark);
    box.checked = st.mark === "done";
    box.disabled = st.mark === "skipped";
    box.onchange = function () {
      var note = wrap.querySelector("input[type=text]");
      var text = note ? note.value.trim() : "";
      append({ op: st.mark === "open" ? "done" : "undo", record: record, step: st.pinned.address, note: text || null });
      refresh();
    };
    if (st.mark === "open") {
      var note = el("input");
      note.type = "text";
      note.placeholder = "Note, or why it is skipped";
      note.setAttribute("aria-label", "Note on " + st.pinned.number + " " + st.pinned.title);
      wrap.appendChild(note);
      var skip = el("button", "rbk-button rbk-button-quiet", "Skip");
      skip.type = "button";
      skip.onclick = function () {
        if (!note.value.trim()) {
          say("Write why step " + st.pinned.number + " is skipped in its note field, then choose Skip.");
          note.focus();
          return;
        }
        append({ op: "skip", record: record, step: st.pinned.address, note: note.value.trim() });
        refresh();
      };
      wrap.appendChild(skip);
    } else {
      var what = st.mark === "done" ? "Done by " : "Skipped by ";
      var text = what + st.by + " at " + st.at + (st.note ? (st.mark === "done" ? ". Note: " : ". Reason: ") + st.note : "");
      wrap.appendChild(el("p", "rbk-cl-run-mark", text));
      var undo = el("button", "rbk-button rbk-button-quiet", "Undo");
      undo.type = "button";
      undo.onclick = function () {
        append({ op: "undo", record: record, step: st.pinned.address });
        refresh();
      };
      wrap.appendChild(undo);
    }
    li.querySelector(".rbk-cl-step-main").appendChild(wrap);
  }

  // The run's state over the checklist shown.
  function showRun() {
    if (!engine) return;
    var answer = replay();
    var view = answer && answer.run;
    document.getElementById("rbk-run-export").hidden = !view;
    document.getElementById("rbk-run-close").hidden = !view;
    document.getElementById("rbk-run-start").hidden = !!view;
    runName.disabled = !!view;
    runProgress.textContent = "";
    if (!view) return;
    runName.value = view.run;
    var counts = { done: 0, skipped: 0, open: 0 };
    var byAddress = {};
    view.steps.forEach(function (st) {
      counts[st.mark] += 1;
      byAddress[st.pinned.address] = st;
    });
    out.querySelectorAll(".rbk-cl-step").forEach(function (li) {
      var st = byAddress[li.getAttribute("data-address")];
      if (st) stepControls(li, st);
    });
    var p = runProgress;
    p.setAttribute("data-done", counts.done);
    p.setAttribute("data-skipped", counts.skipped);
    p.setAttribute("data-open", counts.open);
    p.setAttribute("data-total", view.steps.length);
    p.textContent =
      "Run " + view.run + (view.customer.name ? " for " + view.customer.name : "") + ": " + counts.done + " done, " +
      counts.skipped + " skipped, " + counts.open + " open, of " + view.steps.length + ".";
  }

  // Shows the record anew: the form pinned to its facts, the checklist, the state.
  function refresh() {
    var answer = replay();
    if (answer && !answer.run) {
      // A record this site's runbooks cannot read (kept from another project): dropped.
      say("The run kept in this browser cannot be carried on here: " + problem(answer));
      record = null;
      save();
      answer = null;
    }
    pinForm(answer && answer.run);
    update(engine, true);
  }

  function startRun() {
    var name = runName.value.trim();
    if (append({ op: "start", run: name, ask: answers().ask })) refresh();
  }

  function download() {
    var view = replay().run;
    var a = document.createElement("a");
    a.href = URL.createObjectURL(new Blob([record], { type: "application/x-ndjson" }));
    a.download = view.run + ".jsonl";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () {
      URL.revokeObjectURL(a.href);
    }, 0);
  }

  function load(file) {
    file.text().then(function (text) {
      if (text && text.slice(-1) !== "\n") text += "\n";
      var answer = engine("run", { op: "replay", record: text });
      if (!answer.run) {
        say(file.name + ": " + problem(answer));
        return;
      }
      record = text;
      save();
      say(null);
      refresh();
    });
  }

  function startRuns(call) {
    engine = call;
    var s = storage();
    if (s) {
      record = s.getItem(STORE);
      if (s.getItem(BY) && !runBy.value) runBy.value = s.getItem(BY);
    }
    document.getElementById("rbk-run-start").addEventListener("click", startRun);
    document.getElementById("rbk-run-export").addEventListener("click", download);
    document.getElementById("rbk-run-close").addEventListener("click", function () {
      record = null;
      save();
      say(null);
      refresh();
    });
    var picker = document.getElementById("rbk-run-load");
    picker.addEventListener("change", function () {
      if (picker.files[0]) load(picker.files[0]);
      picker.value = "";
    });
    runBox.hidden = false;
  }

  function start(call) {
    var loaded = call("load", decode(data.load));
    if (loaded.errors) {
      out.textContent = "";
      renderErrors(loaded.errors);
      return;
    }
    form.addEventListener("change", function () {
      update(call, true);
    });
    form.addEventListener("input", function (e) {
      if (e.target && e.target.tagName === "INPUT") update(call, true);
    });
    var clear = document.getElementById("rbk-cl-clear");
    if (clear) {
      clear.addEventListener("click", function () {
        fields.forEach(function (f) {
          f.value = "";
        });
        customerFields.forEach(function (f) {
          f.value = "";
        });
        update(call, true);
      });
    }
    if (runBox) startRuns(call);
    if (record) refresh();
    else update(call, false);
  }

  readUrl();
  form.addEventListener("submit", function (e) {
    e.preventDefault();
  });
  var print = document.getElementById("rbk-cl-print");
  if (print) {
    print.addEventListener("click", function () {
      window.print();
    });
  }
  engineBytes()
    .then(function (bytes) {
      return WebAssembly.instantiate(bytes, {});
    })
    .then(function (m) {
      start(connect(m.instance));
    })
    .catch(function (e) {
      out.textContent = "";
      renderErrors(["The checklist engine could not be loaded: " + e.message]);
    });
})(window);
