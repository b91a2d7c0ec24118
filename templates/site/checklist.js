/* The checklist builder: the runbooks' conditions, compiled at build time into
   assets/checklist-data.js, evaluated here exactly as `runbook checklist` evaluates them
   (src/condition.rs, src/checklist.rs): three-valued, versions compared as semver with the
   short forms 2.5 = 2.5.0, the revision chosen by version, shared steps listed once.
   The evaluator has no DOM dependency, so it can be tested under Node as well. */
(function (global) {
  "use strict";

  // ---------------------------------------------------------------------------------------
  // Values: {enum: s} | {str: s} | {bool: b} | {version: {text, major, minor, patch, pre, build}}

  var KINDS = ["enum", "version", "bool", "str"];

  function kindOf(v) {
    for (var i = 0; i < KINDS.length; i++) {
      if (Object.prototype.hasOwnProperty.call(v, KINDS[i])) return i;
    }
    return -1;
  }

  function sign(n) {
    return n < 0 ? -1 : n > 0 ? 1 : 0;
  }

  // Strings compare as Rust compares them: by code point (UTF-8 byte order).
  function cmpStr(a, b) {
    if (a === b) return 0;
    var x = Array.from(a);
    var y = Array.from(b);
    for (var i = 0; i < x.length && i < y.length; i++) {
      var d = x[i].codePointAt(0) - y[i].codePointAt(0);
      if (d) return sign(d);
    }
    return sign(x.length - y.length);
  }

  function cmpBig(a, b) {
    var x = BigInt(a);
    var y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }

  var DIGITS = /^[0-9]*$/;

  // semver's Prerelease order: no pre-release sorts after any; numeric identifiers below
  // alphanumeric ones, numeric by value; a longer list wins when the rest is equal.
  function cmpPre(a, b) {
    if (a === b) return 0;
    if (a === "") return 1;
    if (b === "") return -1;
    var x = a.split(".");
    var y = b.split(".");
    for (var i = 0; i < x.length; i++) {
      if (i >= y.length) return 1;
      var dx = DIGITS.test(x[i]);
      var dy = DIGITS.test(y[i]);
      var o;
      if (dx && dy) o = sign(x[i].length - y[i].length) || cmpStr(x[i], y[i]);
      else if (dx) return -1;
      else if (dy) return 1;
      else o = cmpStr(x[i], y[i]);
      if (o) return o;
    }
    return y.length > x.length ? -1 : 0;
  }

  // semver's BuildMetadata order.
  function cmpBuild(a, b) {
    if (a === b) return 0;
    var x = a.split(".");
    var y = b.split(".");
    for (var i = 0; i < x.length; i++) {
      if (i >= y.length) return 1;
      var dx = DIGITS.test(x[i]);
      var dy = DIGITS.test(y[i]);
      var o;
      if (dx && dy) {
        var tx = x[i].replace(/^0+/, "");
        var ty = y[i].replace(/^0+/, "");
        o = sign(tx.length - ty.length) || cmpStr(tx, ty) || sign(x[i].length - y[i].length);
      } else if (dx) return -1;
      else if (dy) return 1;
      else o = cmpStr(x[i], y[i]);
      if (o) return o;
    }
    return y.length > x.length ? -1 : 0;
  }

  function cmpVersion(a, b) {
    return (
      cmpBig(a.major, b.major) ||
      cmpBig(a.minor, b.minor) ||
      cmpBig(a.patch, b.patch) ||
      cmpPre(a.pre, b.pre) ||
      cmpBuild(a.build, b.build)
    );
  }

  function cmpValue(a, b) {
    var ka = kindOf(a);
    var kb = kindOf(b);
    if (ka !== kb) return sign(ka - kb);
    switch (KINDS[ka]) {
      case "enum":
        return cmpStr(a["enum"], b["enum"]);
      case "str":
        return cmpStr(a.str, b.str);
      case "bool":
        return a.bool === b.bool ? 0 : a.bool ? 1 : -1;
      default:
        return cmpVersion(a.version, b.version);
    }
  }

  function versionText(v) {
    if (v.patch === "0" && v.pre === "" && v.build === "") return v.major + "." + v.minor;
    return v.major + "." + v.minor + "." + v.patch + (v.pre ? "-" + v.pre : "") + (v.build ? "+" + v.build : "");
  }

  function valueText(v) {
    switch (KINDS[kindOf(v)]) {
      case "enum":
        return v["enum"];
      case "str":
        return v.str;
      case "bool":
        return v.bool ? "true" : "false";
      default:
        return versionText(v.version);
    }
  }

  var NUM = "(0|[1-9][0-9]*)";
  var PRE_ID = "(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)";
  var SEMVER = new RegExp(
    "^" + NUM + "\\." + NUM + "\\." + NUM +
      "(?:-(" + PRE_ID + "(?:\\." + PRE_ID + ")*))?" +
      "(?:\\+([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?$"
  );
  var U64_MAX = BigInt("18446744073709551615");

  // Version::parse: "2.5" means 2.5.0, "2" means 2.0.0, a leading "v" is dropped.
  function parseVersion(text) {
    var t = String(text).trim();
    if (t.charAt(0) === "v") t = t.slice(1);
    var cut = t.search(/[-+]/);
    var core = cut < 0 ? t : t.slice(0, cut);
    var rest = cut < 0 ? "" : t.slice(cut);
    var parts = core.split(".").length;
    var padded = parts === 1 ? core + ".0.0" + rest : parts === 2 ? core + ".0" + rest : t;
    var m = SEMVER.exec(padded);
    if (!m) return null;
    for (var i = 1; i <= 3; i++) if (BigInt(m[i]) > U64_MAX) return null;
    var v = { major: m[1], minor: m[2], patch: m[3], pre: m[4] || "", build: m[5] || "" };
    v.text = versionText(v);
    return { version: v };
  }

  // Fact::parse_value.
  function parseValue(fact, text) {
    switch (fact.type) {
      case "enum":
        for (var i = 0; i < fact.values.length; i++) {
          if (fact.values[i].value === text) return { value: { "enum": text } };
        }
        return { error: "\u201c" + text + "\u201d is not a value of " + fact.name };
      case "version":
        var v = parseVersion(text);
        return v ? { value: v } : { error: "\u201c" + text + "\u201d is not a version; write it like 2.5 or 3.5.1" };
      case "bool":
        if (text === "true" || text === "yes") return { value: { bool: true } };
        if (text === "false" || text === "no") return { value: { bool: false } };
        return { error: "\u201c" + text + "\u201d is not yes or no" };
      default:
        return { value: { str: text } };
    }
  }

  // Fact::describe_value.
  function describeValue(fact, v) {
    if (fact && fact.type === "enum" && kindOf(v) === 0) {
      for (var i = 0; i < fact.values.length; i++) {
        if (fact.values[i].value === v["enum"]) return fact.values[i].label;
      }
      return v["enum"];
    }
    if (kindOf(v) === 2) return v.bool ? "yes" : "no";
    return valueText(v);
  }

  // ---------------------------------------------------------------------------------------
  // Conditions: true | false | {atom: {fact, test, span}} | {not: e} | {and: [..]} | {or: [..]}

  function isConst(e) {
    return e === true || e === false;
  }

  function eq(a, b) {
    return JSON.stringify(a) === JSON.stringify(b);
  }

  function holds(atom, value) {
    var t = atom.test;
    if (t.is_true) return kindOf(value) === 2 && value.bool === true;
    if (t["in"]) {
      return t["in"].some(function (v) {
        return cmpValue(value, v) === 0;
      });
    }
    var o = cmpValue(value, t.value);
    return opHolds(t.op, o);
  }

  // Op::holds: whether a comparison's outcome satisfies the operator.
  function opHolds(op, o) {
    switch (op) {
      case "==":
        return o === 0;
      case "!=":
        return o !== 0;
      case "<":
        return o < 0;
      case "<=":
        return o <= 0;
      case ">":
        return o > 0;
      default:
        return o >= 0;
    }
  }

  // fold_and / fold_or: constants folded, nested lists flattened, repeats dropped.
  function fold(items, isAnd) {
    var out = [];
    var key = isAnd ? "and" : "or";
    for (var i = 0; i < items.length; i++) {
      var e = items[i];
      if (e === isAnd) continue;
      if (e === !isAnd) return !isAnd;
      if (!isConst(e) && e[key]) {
        Array.prototype.push.apply(out, e[key]);
        continue;
      }
      if (
        !out.some(function (o) {
          return eq(o, e);
        })
      ) {
        out.push(e);
      }
    }
    if (out.length === 0) return isAnd;
    if (out.length === 1) return out[0];
    var r = {};
    r[key] = out;
    return r;
  }

  function and(items) {
    return fold(items, true);
  }

  // Expr::residual: what remains once the known facts are put in.
  function residual(e, facts) {
    if (isConst(e)) return e;
    if (e.atom) {
      var v = facts[e.atom.fact];
      return v === undefined ? e : holds(e.atom, v);
    }
    if (e.not !== undefined) {
      var inner = residual(e.not, facts);
      return isConst(inner) ? !inner : { not: inner };
    }
    if (e.and) {
      return fold(
        e.and.map(function (x) {
          return residual(x, facts);
        }),
        true
      );
    }
    return fold(
      e.or.map(function (x) {
        return residual(x, facts);
      }),
      false
    );
  }

  var TRUE = "true";
  var FALSE = "false";
  var UNKNOWN = "unknown";

  function evaluate(e, facts) {
    var r = residual(e, facts);
    return r === true ? TRUE : r === false ? FALSE : UNKNOWN;
  }

  // Vocabulary::performer: a role with cases is the first case whose condition holds; an
  // undecided case leaves it itself, and the facts that decide it open.
  function performer(role, facts, openFacts) {
    if (!role) return null;
    var cases = role.cases || [];
    for (var i = 0; i < cases.length; i++) {
      var r = evaluate(cases[i].when, facts);
      if (r === TRUE) return { id: cases[i].id, title: cases[i].title };
      if (r === UNKNOWN) break;
    }
    cases.forEach(function (c) {
      factsOf(residual(c.when, facts), openFacts);
    });
    return { id: role.id, title: role.title };
  }

  function precedence(e) {
    if (isConst(e) || e.atom) return 4;
    if (e.not !== undefined) return 3;
    if (e.and) return 2;
    return 1;
  }

  function literal(v) {
    return kindOf(v) === 2 ? (v.bool ? "true" : "false") : '"' + valueText(v) + '"';
  }

  // Display for Expr: the condition language, with only the parentheses it needs.
  function toSource(e, parent) {
    parent = parent || 0;
    var level = precedence(e);
    var s;
    if (isConst(e)) s = e ? "true" : "false";
    else if (e.atom) {
      var a = e.atom;
      var t = a.test;
      if (t.is_true) s = a.fact;
      else if (t["in"]) s = a.fact + " in [" + t["in"].map(literal).join(", ") + "]";
      else s = a.fact + " " + t.op + " " + literal(t.value);
    } else if (e.not !== undefined) s = "not " + toSource(e.not, level);
    else {
      s = (e.and || e.or)
        .map(function (x) {
          return toSource(x, level + 1);
        })
        .join(e.and ? " and " : " or ");
    }
    return level < parent ? "(" + s + ")" : s;
  }

  var NEGATE = { "==": "!=", "!=": "==", "<": ">=", "<=": ">", ">": "<=", ">=": "<" };

  function describeAtom(a, negated, facts) {
    var fact = facts[a.fact];
    if (!fact) return a.fact;
    var name = fact.name;
    var not = negated ? "not " : "";
    var t = a.test;
    var value = function (v) {
      return describeValue(fact, v);
    };
    if (t.is_true) return not + name;
    if (t["in"]) return name + " is " + not + "one of " + t["in"].map(value).join(", ");
    if ((t.op === "==" || t.op === "!=") && kindOf(t.value) === 2) {
      var h = (t.op === "==") === t.value.bool;
      return h !== negated ? name : "not " + name;
    }
    var op = negated ? NEGATE[t.op] : t.op;
    if (op === "==") return name + " is " + value(t.value);
    if (op === "!=") return name + " is not " + value(t.value);
    return name + " " + op + " " + value(t.value);
  }

  // Expr::describe: the condition in words.
  function describe(e, facts, parent) {
    parent = parent || 0;
    var level = precedence(e);
    var s;
    if (isConst(e)) s = e ? "always" : "never";
    else if (e.atom) s = describeAtom(e.atom, false, facts);
    else if (e.not !== undefined) {
      s = e.not.atom ? describeAtom(e.not.atom, true, facts) : "not " + describe(e.not, facts, level);
    } else {
      s = (e.and || e.or)
        .map(function (x) {
          // Expr::describe: an `and` inside an `or` gets parentheses, in words.
          return describe(x, facts, e.and ? level : 3);
        })
        .join(e.and ? " and " : " or ");
    }
    return level < parent ? "(" + s + ")" : s;
  }

  function factsOf(e, out) {
    out = out || {};
    if (isConst(e)) return out;
    if (e.atom) out[e.atom.fact] = true;
    else if (e.not !== undefined) factsOf(e.not, out);
    else (e.and || e.or).forEach(function (x) {
      factsOf(x, out);
    });
    return out;
  }

  function sortedKeys(o) {
    return Object.keys(o).sort(cmpStr);
  }

  function atomsOf(e, out) {
    out = out || [];
    if (isConst(e)) return out;
    if (e.atom) out.push(e.atom);
    else if (e.not !== undefined) atomsOf(e.not, out);
    else (e.and || e.or).forEach(function (x) {
      atomsOf(x, out);
    });
    return out;
  }

  function literals(atoms) {
    var out = [];
    atoms.forEach(function (a) {
      if (a.test["in"]) Array.prototype.push.apply(out, a.test["in"]);
      else if (!a.test.is_true) out.push(a.test.value);
    });
    return out;
  }

  var ZERO = { major: "0", minor: "0", patch: "0", pre: "", build: "" };

  // Candidate::satisfies: an exact value, a string no condition names, or a version just
  // below, at or just above a point.
  function satisfies(c, atom) {
    var t = atom.test;
    if (c.exact) return holds(atom, c.exact);
    if (c.other) return !t.is_true && !t["in"] && t.op === "!=";
    var cmp = function (v) {
      return kindOf(v) === 1 ? cmpVersion(c.point, v.version) || c.side : -1;
    };
    if (t.is_true) return false;
    if (t["in"]) {
      return t["in"].some(function (v) {
        return cmp(v) === 0;
      });
    }
    var o = cmp(t.value);
    return opHolds(t.op, o);
  }

  function partial(e, decide) {
    if (isConst(e)) return e;
    if (e.atom) {
      var d = decide(e.atom);
      return d === null ? e : d;
    }
    if (e.not !== undefined) {
      var inner = partial(e.not, decide);
      return isConst(inner) ? !inner : { not: inner };
    }
    var items = (e.and || e.or).map(function (x) {
      return partial(x, decide);
    });
    return fold(items, !!e.and);
  }

  // Expr::satisfiable over the whole version range: true, false, or null when too many
  // facts are involved to enumerate.
  function satisfiable(e, factById) {
    var facts = sortedKeys(factsOf(e));
    var all = atomsOf(e);
    var candidates = [];
    var total = 1;
    for (var i = 0; i < facts.length; i++) {
      var def = factById[facts[i]];
      if (!def) return null;
      var atoms = all.filter(function (a) {
        return a.fact === facts[i];
      });
      var values;
      if (def.type === "enum") {
        values = def.values.map(function (v) {
          return { exact: { "enum": v.value } };
        });
      } else if (def.type === "bool") {
        values = [{ exact: { bool: false } }, { exact: { bool: true } }];
      } else if (def.type === "string") {
        values = literals(atoms).map(function (v) {
          return { exact: v };
        });
        values.push({ other: true });
      } else {
        values = [{ point: ZERO, side: 0 }];
        literals(atoms).forEach(function (p) {
          if (kindOf(p) !== 1) return;
          [-1, 0, 1].forEach(function (side) {
            values.push({ point: p.version, side: side });
          });
        });
      }
      total *= Math.max(values.length, 1);
      if (total > 100000) return null;
      candidates.push(values);
    }
    var index = facts.map(function () {
      return 0;
    });
    var decide = function (atom) {
      var k = facts.indexOf(atom.fact);
      if (k < 0 || !candidates[k][index[k]]) return null;
      return satisfies(candidates[k][index[k]], atom);
    };
    for (;;) {
      if (partial(e, decide) === true) return true;
      var k = 0;
      for (;;) {
        if (k === facts.length) return false;
        index[k] += 1;
        if (index[k] < candidates[k].length) break;
        index[k] = 0;
        k += 1;
      }
    }
  }

  // checklist.rs `implies`: wherever `a` holds, `b` holds too.
  function implies(a, b, factById) {
    if (b === true || eq(a, b)) return true;
    return satisfiable(and([a, { not: b }]), factById) === false;
  }

  // ---------------------------------------------------------------------------------------
  // Durations (src/duration.rs Display).

  function words(m) {
    var h = Math.floor(m / 60);
    var r = m % 60;
    if (h === 0) return r + " min";
    if (r === 0) return h + " h";
    return h + " h " + r + " min";
  }

  function spanText(min, max) {
    if (min === max) return words(max);
    if (max < 60) return min + "\u2013" + max + " min";
    return words(min) + " \u2013 " + words(max);
  }

  // ---------------------------------------------------------------------------------------
  // The checklist (src/checklist.rs `build`).

  function optCmp(a, b, cmp) {
    if (a == null) return b == null ? 0 : -1;
    if (b == null) return 1;
    return cmp(a, b);
  }

  function contains(rev, v) {
    return (rev.since == null || cmpVersion(v, rev.since) >= 0) && (rev.before == null || cmpVersion(v, rev.before) < 0);
  }

  // Runbook::revision_for: the latest-dated revision whose range holds the version.
  function revisionFor(rb, v) {
    var found = rb.revisions.filter(function (r) {
      return contains(r, v);
    });
    found.sort(function (a, b) {
      return optCmp(b.date, a.date, cmpStr);
    });
    return found[0] || null;
  }

  // Runbook::current: the revision for the newest versions.
  function current(rb) {
    var best = null;
    rb.revisions.forEach(function (r) {
      if (best === null) {
        best = r;
        return;
      }
      var o =
        sign((r.before == null ? 1 : 0) - (best.before == null ? 1 : 0)) ||
        optCmp(r.before, best.before, cmpVersion) ||
        optCmp(r.since, best.since, cmpVersion) ||
        optCmp(r.date, best.date, cmpStr);
      if (o >= 0) best = r;
    });
    return best;
  }

  function sameRange(a, b) {
    return optCmp(a.since, b.since, cmpVersion) === 0 && optCmp(a.before, b.before, cmpVersion) === 0;
  }

  function shown(res, facts) {
    if (res === true) return null;
    return {
      expression: toSource(res),
      text: "only if " + describe(res, facts),
      facts: sortedKeys(factsOf(res)),
    };
  }

  function escapeHtml(s) {
    return String(s)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;");
  }

  /* Builds the checklist for `known` (fact id -> value) and `customer` ({name, domain,
     timezone}). Returns {errors} or the checklist in the shape of `runbook checklist
     --format json` (the parts this page shows). */
  function build(data, known, customer) {
    var factById = {};
    data.facts.forEach(function (f) {
      factById[f.id] = f;
    });
    var version = known[data.version_fact];
    version = version && version.version ? version.version : null;
    // Fact::check_supported: below the version fact's minimum, no runbook is tried.
    var versionFact = factById[data.version_fact];
    if (version && versionFact && versionFact.minimum && cmpVersion(version, versionFact.minimum) < 0) {
      return {
        errors: [
          versionFact.name + " " + versionText(version) + " is not supported: the minimum is " + versionFact.minimum.text,
        ],
      };
    }
    var values = data.variables.map(function (variable) {
      var name = variable.name;
      if (name.indexOf("customer.") === 0) {
        var field = name.slice(9);
        var given = customer && customer[field];
        return given ? given : variable.unknown;
      }
      if (factById[name]) {
        var v = known[name];
        return v === undefined ? variable.unknown : describeValue(factById[name], v);
      }
      var lookup = data.lookups[name];
      if (lookup) {
        var fv = known[lookup.fact];
        if (fv === undefined) return variable.unknown;
        var key = valueText(fv);
        return Object.prototype.hasOwnProperty.call(lookup.values, key) ? lookup.values[key] : "";
      }
      return variable.unknown;
    });
    function fill(html) {
      if (html == null) return null;
      return html.replace(/rbkv([0-9]+)q/g, function (m, i) {
        var n = parseInt(i, 10);
        return n < values.length ? escapeHtml(values[n]) : m;
      });
    }

    var errors = [];
    var notes = [];
    var runbooks = [];
    var listed = {};
    var timed = [];
    var stepsTotal = 0;
    var est = [0, 0];
    var waits = [0, 0];
    var lookupFacts = {};
    var revisionsVary = false;

    data.runbooks.forEach(function (rb) {
      var when = rb.when == null ? true : rb.when;
      if (evaluate(when, known) === FALSE) return;
      var revision;
      if (version) {
        revision = revisionFor(rb, version);
        if (!revision && evaluate(when, known) === UNKNOWN) {
          // A runbook that may not apply has no procedure for this version: left out with a note.
          notes.push(
            rb.title + " is left out: it applies only if " + describe(residual(when, known), factById) +
              ", and has no revision for version " + versionText(version) + " (it covers " + rb.coverage + ")."
          );
          return;
        }
        if (!revision) {
          var vf = factById[data.version_fact];
          var msg =
            (vf ? vf.name : "version") + " " + versionText(version) + " is not covered by runbook `" + rb.id + "` (" +
            rb.title + "): its revisions cover " + rb.coverage;
          if (rb.min_since) msg += ". The minimum version for this runbook is " + rb.min_since + "; choose a version it covers.";
          errors.push(msg);
          return;
        }
      } else {
        revision = current(rb);
        if (!revision) return;
      }
      revisionsVary =
        revisionsVary ||
        rb.revisions.some(function (r) {
          return !sameRange(r, rb.revisions[0]);
        });
      var number = String(runbooks.length + 1);
      var sections = [];
      revision.sections.forEach(function (section) {
        var sectionWhen = and(section.when);
        if (evaluate(sectionWhen, known) === FALSE) return;
        var sectionNumber = number + "." + (sections.length + 1);
        var steps = [];
        section.steps.forEach(function (step) {
          var address = rb.id + "#" + step.id;
          var stepWhen = and(step.when);
          if (evaluate(stepWhen, known) === FALSE) return;
          var full = and([when, sectionWhen, stepWhen]);
          var res = residual(full, known);
          if (step.origin != null) {
            // Listed already wherever an earlier place holds: unconditionally, or under the
            // same remaining condition, or one this condition implies.
            var earlier = listed[step.origin] || (listed[step.origin] = []);
            var covered = earlier.some(function (prev) {
              return implies(res, prev, factById);
            });
            if (covered) return;
            earlier.push(res);
          }
          var stepNumber = sectionNumber + "." + (steps.length + 1);
          stepsTotal += 1;
          (step.vars || []).forEach(function (i) {
            var lookup = data.lookups[data.variables[i].name];
            if (lookup && known[lookup.fact] === undefined) lookupFacts[lookup.fact] = true;
          });
          if (step.estimate) {
            est[0] += step.estimate.min;
            est[1] += step.estimate.max;
          }
          if (step.wait) {
            waits[0] += step.wait.time.min;
            waits[1] += step.wait.time.max;
            timed.push({ step: stepNumber, title: step.title, what: "wait", time: step.wait.time.text, note: step.wait.note });
          }
          if (step.expires) {
            timed.push({ step: stepNumber, title: step.title, what: "expires", time: step.expires.time.text, note: step.expires.note });
          }
          steps.push({
            number: stepNumber,
            address: address,
            url: revision.url + "#" + step.id,
            id: step.id,
            title: step.title,
            kind: step.kind,
            role: performer(step.role, known, lookupFacts),
            body: fill(step.body),
            estimate: step.estimate ? step.estimate.text : null,
            wait: step.wait ? { time: step.wait.time.text, note: step.wait.note } : null,
            expires: step.expires ? { time: step.expires.time.text, note: step.expires.note } : null,
            condition: shown(residual(and([sectionWhen, stepWhen]), known), factById),
          });
        });
        if (!steps.length) return;
        sections.push({
          number: sectionNumber,
          id: section.id,
          title: section.title,
          intro: fill(section.intro),
          steps: steps,
        });
      });
      if (!sections.length) return;
      if (revision.estimate) {
        est[0] += revision.estimate.min;
        est[1] += revision.estimate.max;
      }
      runbooks.push({
        number: number,
        id: rb.id,
        title: rb.title,
        summary: rb.summary,
        url: rb.url,
        revision: {
          versions: revision.versions,
          date: revision.date,
          sources: revision.sources,
          estimate: revision.estimate ? revision.estimate.text : null,
        },
        condition: shown(residual(when, known), factById),
        sections: sections,
      });
    });
    if (errors.length) return { errors: errors };

    if (!version) {
      var vfact = factById[data.version_fact];
      notes.push((vfact ? vfact.name : "The version") + " not given: each runbook is shown at its current revision.");
    }
    var open = {};
    runbooks.forEach(function (rb) {
      if (rb.condition) rb.condition.facts.forEach(function (f) {
        open[f] = true;
      });
      rb.sections.forEach(function (s) {
        s.steps.forEach(function (st) {
          if (st.condition) st.condition.facts.forEach(function (f) {
            open[f] = true;
          });
        });
      });
    });
    Object.keys(lookupFacts).forEach(function (f) {
      open[f] = true;
    });
    if (!version && revisionsVary) open[data.version_fact] = true;
    var openIds = data.facts
      .map(function (f) {
        return f.id;
      })
      .filter(function (id) {
        return open[id];
      });
    if (openIds.length) {
      var names = openIds.map(function (id) {
        return factById[id].name;
      });
      notes.push("Not given: " + names.join(", ") + ". Steps that depend on them are kept and marked with their condition.");
    }
    return {
      notes: notes,
      runbooks: runbooks,
      totals: {
        runbooks: runbooks.length,
        steps: stepsTotal,
        estimate: est[1] ? spanText(est[0], est[1]) : null,
        waits: waits[1] ? spanText(waits[0], waits[1]) : null,
        timed: timed,
      },
      open_facts: openIds,
    };
  }

  var api = {
    build: build,
    parseVersion: parseVersion,
    parseValue: parseValue,
    evaluate: evaluate,
    residual: residual,
    satisfiable: satisfiable,
    toSource: toSource,
    describe: describe,
    cmpValue: cmpValue,
    current: current,
    revisionFor: revisionFor,
  };
  if (typeof module === "object" && module.exports) module.exports = api;
  global.RBK_CHECKLIST_API = api;

  // ---------------------------------------------------------------------------------------
  // The page.

  if (typeof document === "undefined" || !global.RBK_CHECKLIST) return;
  var data = global.RBK_CHECKLIST;
  var root = document.documentElement.getAttribute("data-root") || "";
  var form = document.getElementById("rbk-cl-form");
  var out = document.getElementById("rbk-cl-result");
  var link = document.getElementById("rbk-cl-link");
  if (!form || !out) return;
  var fields = form.querySelectorAll("[data-fact]");
  var customerFields = form.querySelectorAll("[data-customer]");
  var factById = {};
  data.facts.forEach(function (f) {
    factById[f.id] = f;
  });

  function el(name, cls, text) {
    var e = document.createElement(name);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

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

  function query() {
    var params = new URLSearchParams();
    fields.forEach(function (f) {
      if (f.value.trim()) params.set(f.getAttribute("data-fact"), f.value.trim());
    });
    customerFields.forEach(function (f) {
      if (f.value.trim()) params.set("customer." + f.getAttribute("data-customer"), f.value.trim());
    });
    var s = params.toString();
    return s ? "?" + s : "";
  }

  function badge(text, cls, title) {
    var b = el("span", "rbk-badge " + cls, text);
    if (title) b.title = title;
    return b;
  }

  function renderStep(st) {
    var li = el("li", "rbk-step rbk-cl-step rbk-kind-" + st.kind);
    li.setAttribute("data-address", st.address);
    var box = el("input");
    box.type = "checkbox";
    box.setAttribute("aria-label", "Done: " + st.title);
    li.appendChild(box);
    var main = el("div", "rbk-cl-step-main");
    var h = el("h4", "rbk-step-title");
    var a = el("a", "header");
    a.href = root + st.url;
    a.appendChild(el("span", "rbk-number", st.number));
    a.appendChild(document.createTextNode(" " + st.title));
    h.appendChild(a);
    main.appendChild(h);
    var meta = el("p", "rbk-step-meta");
    meta.appendChild(badge(st.kind, "rbk-badge-kind"));
    if (st.role) meta.appendChild(badge(st.role.title, "rbk-badge-role"));
    if (st.condition) meta.appendChild(badge(st.condition.text, "rbk-badge-condition", st.condition.expression));
    if (st.estimate) meta.appendChild(badge("about " + st.estimate, "rbk-badge-estimate"));
    main.appendChild(meta);
    if (st.body) {
      var body = el("div", "rbk-step-body");
      body.innerHTML = st.body; // sanitized at build time; filled-in values are escaped
      main.appendChild(body);
    }
    if (st.wait) {
      var w = el("p", "rbk-timed rbk-wait");
      w.appendChild(el("strong", null, "Wait " + st.wait.time + ". "));
      w.appendChild(document.createTextNode(st.wait.note));
      main.appendChild(w);
    }
    if (st.expires) {
      var x = el("p", "rbk-timed rbk-expires");
      x.appendChild(el("strong", null, "Expires after " + st.expires.time + ". "));
      x.appendChild(document.createTextNode(st.expires.note));
      main.appendChild(x);
    }
    main.appendChild(el("p", "rbk-step-address", st.address));
    li.appendChild(main);
    return li;
  }

  function render(known, customer) {
    out.textContent = "";
    var result = build(data, known, customer);
    if (result.errors) {
      var box = el("div", "rbk-cl-errors");
      box.appendChild(el("p", null, "This checklist cannot be built:"));
      var ul = el("ul");
      result.errors.forEach(function (e) {
        ul.appendChild(el("li", null, e));
      });
      box.appendChild(ul);
      out.appendChild(box);
      return;
    }
    var facts = el("dl", "rbk-props rbk-cl-facts");
    data.facts.forEach(function (f) {
      facts.appendChild(el("dt", null, f.name));
      facts.appendChild(el("dd", null, known[f.id] === undefined ? "not known" : describeValue(f, known[f.id])));
    });
    out.appendChild(facts);
    var summary = el("div", "rbk-cl-summary");
    var t = result.totals;
    var line = t.steps + (t.steps === 1 ? " step" : " steps") + " in " + t.runbooks + (t.runbooks === 1 ? " runbook" : " runbooks");
    if (t.estimate) line += ", estimated " + t.estimate;
    if (t.waits) line += ", plus waits of " + t.waits;
    summary.appendChild(el("p", "rbk-cl-totals", line + "."));
    result.notes.forEach(function (n) {
      summary.appendChild(el("p", "rbk-cl-note", n));
    });
    out.appendChild(summary);
    fields.forEach(function (f) {
      var wrap = f.closest(".rbk-cl-field");
      if (wrap) wrap.classList.toggle("rbk-open", result.open_facts.indexOf(f.getAttribute("data-fact")) >= 0);
    });
    result.runbooks.forEach(function (rb) {
      var sec = el("section", "rbk-cl-runbook rbk-runbook");
      sec.setAttribute("data-runbook", rb.id);
      var h = el("h2", "rbk-runbook-title");
      var a = el("a", null, rb.number + ". " + rb.title);
      a.href = root + rb.url;
      h.appendChild(a);
      sec.appendChild(h);
      var meta = el("p", "rbk-step-meta");
      meta.appendChild(badge(rb.revision.versions + " \u00b7 " + (rb.revision.date || "undated"), "rbk-badge-current"));
      if (rb.condition) meta.appendChild(badge(rb.condition.text, "rbk-badge-condition", rb.condition.expression));
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
          ol.appendChild(renderStep(st));
        });
        ss.appendChild(ol);
        sec.appendChild(ss);
      });
      out.appendChild(sec);
    });
    if (t.timed.length) {
      var tw = el("section", "rbk-cl-timed");
      tw.appendChild(el("h2", null, "Waits and expiries"));
      var ul2 = el("ul");
      t.timed.forEach(function (x) {
        ul2.appendChild(el("li", null, x.step + " " + x.title + ": " + (x.what === "wait" ? "wait " : "expires after ") + x.time + ". " + x.note));
      });
      tw.appendChild(ul2);
      out.appendChild(tw);
    }
  }

  function update(push) {
    var known = {};
    var ok = true;
    fields.forEach(function (f) {
      var id = f.getAttribute("data-fact");
      var err = document.getElementById("rbk-fact-" + id + "-error");
      var text = f.value.trim();
      var r = text ? parseValue(factById[id], text) : null;
      if (r && r.error) {
        ok = false;
        if (err) {
          err.textContent = r.error;
          err.hidden = false;
        }
      } else {
        if (err) err.hidden = true;
        if (r) known[id] = r.value;
      }
    });
    var customer = {};
    customerFields.forEach(function (f) {
      if (f.value.trim()) customer[f.getAttribute("data-customer")] = f.value.trim();
    });
    var q = query();
    if (link) link.href = "checklist.html" + q;
    if (push) {
      try {
        history.replaceState(null, "", location.pathname + q + location.hash);
      } catch (e) {
        /* some browsers refuse this for file: addresses; the link above still works */
      }
    }
    if (ok) render(known, customer);
  }

  readUrl();
  form.addEventListener("change", function () {
    update(true);
  });
  form.addEventListener("input", function (e) {
    if (e.target && e.target.tagName === "INPUT") update(true);
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
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
      update(true);
    });
  }
  var print = document.getElementById("rbk-cl-print");
  if (print) {
    print.addEventListener("click", function () {
      window.print();
    });
  }
  update(false);
})(typeof window !== "undefined" ? window : globalThis);
