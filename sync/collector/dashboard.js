/* dashboard.js - the dashboard's core: state in the URL hash, language, number and date
   formats, requests with the read token, the filter bar, tabs, CSV export and an accessible
   Chart.js wrapper. The views (dashboard_views.js) register in TP.views. */
"use strict";
var TP = (function () {
  var TP = {views: {}, charts: {}, cache: {}};
  var $ = TP.$ = function (id) { return document.getElementById(id); };
  var LS = "tp.lang", SS_TOKEN = "tp.token", SS_ADMIN = "tp.admin";

  function store(kind, key, val) {
    try {
      var s = kind === "local" ? window.localStorage : window.sessionStorage;
      if (val === undefined) return s.getItem(key);
      if (val === null) s.removeItem(key); else s.setItem(key, val);
    } catch (e) { /* storage refused (private mode): the value lives for this page only */ }
    return null;
  }
  TP.store = store;

  /* Language: Vietnamese unless the reader chose English (remembered) or the link says so. */
  TP.lang = store("local", LS) === "en" ? "en" : "vi";
  TP.t = function (key) {
    var s = (TP_I18N[TP.lang][key] !== undefined ? TP_I18N[TP.lang][key] : TP_I18N.en[key]);
    if (s === undefined) s = key;
    for (var i = 1; i < arguments.length; i++) s = s.split("{" + (i - 1) + "}").join(arguments[i]);
    return s;
  };
  var t = TP.t;
  function locale() { return TP.lang === "vi" ? "vi-VN" : "en-US"; }
  /* One formatter per locale and precision: toLocaleString builds a new one per call, which
     cost the first view of 100 stores and 500 touchpoints a second (make bench). */
  var fmts = {};
  TP.num = function (x, digits) {
    if (x === null || x === undefined || isNaN(x)) return "-";
    var k = locale() + "/" + (digits || 0);
    if (!fmts[k]) fmts[k] = new Intl.NumberFormat(locale(), {minimumFractionDigits: digits || 0,
                                                             maximumFractionDigits: digits || 0});
    return fmts[k].format(Number(x));
  };
  TP.int = function (x) { return TP.num(x, 0); };
  TP.f1 = function (x) { return TP.num(x, 1); };
  TP.f2 = function (x) { return TP.num(x, 2); };
  TP.pct = function (x) { return x === null || x === undefined ? "-" : TP.f1(x) + "%"; };
  /* A "YYYY-MM-DD" day as 28/11 (vi) or 28 Nov (en). */
  TP.day = function (iso, withYear) {
    var p = String(iso).split("-");
    if (p.length < 3) return String(iso);
    /* Vietnamese writes 28/11 (Intl's vi-VN gives 28-11 for a day and month alone). */
    if (TP.lang === "vi") return p[2] + "/" + p[1] + (withYear ? "/" + p[0] : "");
    var d = new Date(+p[0], +p[1] - 1, +p[2], 12);
    return d.toLocaleDateString("en-GB", withYear ? {day: "2-digit", month: "short", year: "numeric"}
                                                  : {day: "2-digit", month: "short"});
  };
  TP.esc = function (s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]; });
  };
  TP.ago = function (ms) {
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 90) return t("ago_s", TP.int(s));
    if (s < 5400) return t("ago_m", TP.int(Math.round(s / 60)));
    if (s < 172800) return t("ago_h", TP.int(Math.round(s / 3600)));
    return t("ago_d", TP.int(Math.round(s / 86400)));
  };
  /* ms since the epoch as a local date and time (28/11 14:05). */
  TP.when = function (ms) {
    var d = new Date(ms);
    return TP.day(isoDay(d)) + " " + String(d.getHours()).padStart(2, "0") + ":" +
      String(d.getMinutes()).padStart(2, "0");
  };
  TP.dur = function (ms) {
    if (ms === null || ms === undefined) return "-";
    var m = ms / 60000;
    if (m < 90) return TP.int(Math.round(m)) + " min";
    if (m < 2880) return TP.f1(m / 60) + " h";
    return TP.f1(m / 1440) + (TP.lang === "vi" ? " ngày" : " d");
  };
  function isoDay(d) {
    return d.getFullYear() + "-" + String(d.getMonth() + 1).padStart(2, "0") + "-" +
      String(d.getDate()).padStart(2, "0");
  }
  TP.isoDay = isoDay;

  /* State: filters and view, mirrored in location.hash so a link reproduces the view. */
  var KEYS = ["view", "preset", "from", "to", "region", "store", "tp", "survey", "version", "kind", "heat",
              "case", "lang"];
  TP.state = {view: "overview", preset: "30"};
  function parseHash() {
    var h = location.hash.replace(/^#/, ""), st = {view: "overview", preset: "30"};
    h.split("&").forEach(function (kv) {
      if (!kv) return;
      var i = kv.indexOf("="), k = decodeURIComponent(i < 0 ? kv : kv.slice(0, i));
      var v = i < 0 ? "" : decodeURIComponent(kv.slice(i + 1).replace(/\+/g, " "));
      if (k === "token") { store("session", SS_TOKEN, v); return; }  /* legacy /#token=... */
      if (KEYS.indexOf(k) >= 0) st[k] = v;
    });
    if (st["case"]) st.view = "cases";
    if (st.lang === "vi" || st.lang === "en") { TP.lang = st.lang; store("local", LS, st.lang); }
    delete st.lang;
    if (!TP.views[st.view] && ["overview", "journey", "reasons", "rankings", "heatmap", "devices", "cases"].indexOf(st.view) < 0)
      st.view = "overview";
    return st;
  }
  function writeHash() {
    var parts = [];
    KEYS.forEach(function (k) {
      var v = TP.state[k];
      if (v === undefined || v === null || v === "") return;
      if (k === "preset" && v !== "custom") { parts.push("preset=" + encodeURIComponent(v)); return; }
      parts.push(k + "=" + encodeURIComponent(v));
    });
    var h = "#" + parts.join("&");
    if (location.hash !== h) history.replaceState(null, "", location.pathname + location.search + h);
  }
  TP.writeHash = writeHash;

  /* The date range of a preset, in the browser's days. */
  function range(st) {
    var now = new Date(), p = st.preset || "30";
    if (p === "custom" && st.from && st.to) return [st.from, st.to];
    if (p === "month") return [isoDay(new Date(now.getFullYear(), now.getMonth(), 1, 12)), isoDay(now)];
    if (p === "lastmonth") return [isoDay(new Date(now.getFullYear(), now.getMonth() - 1, 1, 12)),
                                   isoDay(new Date(now.getFullYear(), now.getMonth(), 0, 12))];
    var n = parseInt(p, 10) || 30;
    return [isoDay(new Date(now.getFullYear(), now.getMonth(), now.getDate() - (n - 1), 12)), isoDay(now)];
  }
  TP.range = function () { return range(TP.state); };
  /* The previous period of the same length, ending the day before from. */
  TP.prevRange = function () {
    var r = TP.range(), a = new Date(r[0] + "T12:00:00"), b = new Date(r[1] + "T12:00:00");
    var days = Math.round((b - a) / 86400000) + 1;
    return [isoDay(new Date(a.getFullYear(), a.getMonth(), a.getDate() - days, 12)),
            isoDay(new Date(a.getFullYear(), a.getMonth(), a.getDate() - 1, 12))];
  };
  /* The query string of the filters (without a leading "&"). */
  TP.query = function (rng) {
    var r = rng || TP.range(), st = TP.state, q = "from=" + r[0] + "&to=" + r[1];
    if (st.region) q += "&node=" + encodeURIComponent(st.region);
    if (st.store) q += "&store=" + encodeURIComponent(st.store);
    if (st.tp) q += "&touchpoint=" + encodeURIComponent(st.tp);
    if (st.survey) q += "&survey=" + encodeURIComponent(st.survey);
    if (st.version) q += "&version=" + encodeURIComponent(st.version);
    return q;
  };

  /* The collector caps the reads one reader has in flight (2 by default) and answers 429 over
     it, so the page keeps at most two requests open and retries a 429 after its Retry-After. */
  var MAX_FLIGHT = 2, flight = 0, waiting = [];
  function limited(path, h, tries) {
    return new Promise(function (resolve, reject) {
      waiting.push(function () {
        flight++;
        fetch(path, {headers: h, cache: "no-store"}).then(function (r) {
          flight--; next();
          if (r.status === 429 && tries < 5) {
            var s = Math.min(10, Math.max(1, parseInt(r.headers.get("Retry-After"), 10) || 1));
            setTimeout(function () { limited(path, h, tries + 1).then(resolve, reject); }, s * 1000);
            return;
          }
          resolve(r);
        }, function (e) { flight--; next(); reject(e); });
      });
      next();
    });
  }
  function next() { while (flight < MAX_FLIGHT && waiting.length) waiting.shift()(); }

  /* GET path as JSON with the read token; 404 -> null (the endpoint is not on this collector). */
  TP.get = function (path) {
    if (TP.cache[path]) return TP.cache[path];
    var h = {}, tok = store("session", SS_TOKEN);
    if (tok) h.Authorization = "Bearer " + tok;
    var p = limited(path, h, 0).then(function (r) {
      if (r.status === 404) return null;
      if (r.status === 401) { var e = new Error("401"); e.status = 401; throw e; }
      if (!r.ok) return r.text().then(function (body) {
        var msg = "HTTP " + r.status;
        try { msg = JSON.parse(body).error.message || msg; } catch (x) { /* not JSON */ }
        var e = new Error(path.split("?")[0] + ": " + msg); e.status = r.status; throw e;
      });
      return r.json();
    });
    TP.cache[path] = p;
    p.catch(function () { delete TP.cache[path]; });
    return p;
  };
  /* POST to the admin API with the admin token typed into the page. */
  TP.post = function (path, body) {
    var tok = store("session", SS_ADMIN);
    if (!tok) return Promise.reject(new Error(t("c_need_admin")));
    return fetch(path, {method: "POST", headers: {"Authorization": "Bearer " + tok,
                        "Content-Type": "application/json"}, body: JSON.stringify(body || {})})
      .then(function (r) {
        return r.text().then(function (b) {
          if (!r.ok) { var m = "HTTP " + r.status; try { m = JSON.parse(b).error.message; } catch (x) { /* */ }
                       throw new Error(m); }
          return b ? JSON.parse(b) : {};
        });
      });
  };
  TP.adminToken = function (v) { return store("session", SS_ADMIN, v); };

  /* Chart.js with keyboard access: the canvas is focusable, arrows move the tooltip. A table
     with the same numbers sits in a <details> beside it (the text alternative). */
  TP.chart = function (host, id, config, label, table) {
    if (TP.charts[id]) { TP.charts[id].destroy(); delete TP.charts[id]; }
    var box = document.createElement("div");
    box.className = "chart";
    var cv = document.createElement("canvas");
    cv.id = id; cv.tabIndex = 0; cv.setAttribute("role", "img"); cv.setAttribute("aria-label", label);
    box.appendChild(cv);
    host.appendChild(box);
    if (table) {
      var d = document.createElement("details");
      d.className = "alt";
      d.innerHTML = "<summary>" + TP.esc(t("show_table")) + "</summary><div class=\"scroll\">" + table + "</div>";
      host.appendChild(d);
    }
    if (typeof Chart === "undefined") return null;
    config.options = config.options || {};
    config.options.responsive = true;
    config.options.maintainAspectRatio = false;
    config.options.animation = false;
    config.options.locale = locale();
    var ch = new Chart(cv, config);
    TP.charts[id] = ch;
    var idx = -1;
    cv.addEventListener("keydown", function (ev) {
      var n = ch.data.labels.length;
      if (!n || (ev.key !== "ArrowRight" && ev.key !== "ArrowLeft" && ev.key !== "Home" && ev.key !== "End")) return;
      ev.preventDefault();
      idx = ev.key === "Home" ? 0 : ev.key === "End" ? n - 1 :
            ev.key === "ArrowRight" ? Math.min(n - 1, idx + 1) : Math.max(0, idx - 1);
      var act = [];
      ch.data.datasets.forEach(function (ds, di) {
        if (ch.isDatasetVisible(di) && ds.data[idx] !== null && ds.data[idx] !== undefined && !ds.noKeys)
          act.push({datasetIndex: di, index: idx});
      });
      ch.setActiveElements(act);
      ch.tooltip.setActiveElements(act, {x: 0, y: 0});
      ch.update();
    });
    cv.addEventListener("blur", function () { ch.tooltip.setActiveElements([], {x: 0, y: 0}); ch.update(); });
    return ch;
  };

  /* CSV of rows (arrays); the current view provides them. */
  TP.csv = function (rows) {
    return rows.map(function (r) {
      return r.map(function (c) {
        var s = c === null || c === undefined ? "" : String(c);
        return /[",\n;]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
      }).join(",");
    }).join("\r\n") + "\r\n";
  };
  function exportCsv() {
    var v = TP.views[TP.state.view], rows = v && v.csv ? v.csv() : null;
    if (!rows || rows.length < 2) { alert(t("csv_none")); return; }
    var r = TP.range(), name = "touchpoint-" + TP.state.view + "-" + r[0] + "-" + r[1] + ".csv";
    var blob = new Blob(["\ufeff" + TP.csv(rows)], {type: "text/csv;charset=utf-8"});
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob); a.download = name;
    document.body.appendChild(a); a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    TP.lastCsv = TP.csv(rows);
  }

  /* The filter bar from the state, and the state from the filter bar. */
  function option(v, label, sel) {
    return '<option value="' + TP.esc(v) + '"' + (v === sel ? " selected" : "") + ">" + TP.esc(label) + "</option>";
  }
  TP.fillSelect = function (sel, items, cur) {
    var h = option("", t("f_all"), cur || ""), seen = false;
    items.forEach(function (it) { h += option(it[0], it[1], cur); if (it[0] === cur) seen = true; });
    if (cur && !seen) h += option(cur, cur, cur);
    sel.innerHTML = h;
  };
  function fillFilters() {
    var st = TP.state, r = TP.range();
    $("f-preset").value = st.preset || "30";
    $("f-from").value = dmy(r[0]); $("f-to").value = dmy(r[1]);
    $("f-from").classList.remove("bad"); $("f-to").classList.remove("bad");
    $("f-survey").value = st.survey || ""; $("f-version").value = st.version || "";
    TP.fillOrg();
  }
  /* Region / store / touchpoint lists: from /v1/nodes (the tree, plus ids seen in the answers
     outside it) when the collector serves it, else the store and touchpoint ids of the period. */
  TP.fillOrg = function () {
    var st = TP.state, nr = TP.nodes, regions = [], stores = {}, tps = {};
    if (nr && nr.nodes) {
      nr.nodes.forEach(function (n) {
        var seg = n.path.split("/");
        if (n.in_scope === false) return;
        if (n.depth === 2) regions.push([n.path, n.name || n.path]);
        if (n.depth === 3 && (!st.region || n.path.indexOf(st.region + "/") === 0)) stores[seg[2]] = n.name || seg[2];
        if (n.depth === 4 && (!st.region || n.path.indexOf(st.region + "/") === 0) && (!st.store || seg[2] === st.store))
          tps[seg[3]] = n.name || seg[3];
      });
      if (!st.region) (nr.stores || []).forEach(function (k) { if (!stores[k]) stores[k] = k; });
      (nr.touchpoints || []).forEach(function (k) {
        var p = k.split("/");
        if ((!st.store || p[0] === st.store) && !tps[p[1]] && (!st.region || stores[p[0]])) tps[p[1]] = p[1];
      });
    } else if (TP.ids) {
      TP.ids.store.forEach(function (k) { stores[k] = k; });
      TP.ids.touchpoint.forEach(function (k) { var p = k.split("/"); tps[p[p.length - 1]] = p[p.length - 1]; });
    }
    var pairs = function (o) { return Object.keys(o).sort().map(function (k) { return [k, o[k]]; }); };
    $("l-region").hidden = !regions.length;
    TP.fillSelect($("f-region"), regions, st.region);
    TP.fillSelect($("f-store"), pairs(stores), st.store);
    TP.fillSelect($("f-tp"), pairs(tps), st.tp);
  };
  TP.nodeName = function (id) { return id; };
  /* The date fields are text in dd/mm/yyyy (both languages), so the page, not the browser's
     own locale, decides how a day is written; yyyy-mm-dd is accepted too. */
  function dmy(iso) { var p = iso.split("-"); return p[2] + "/" + p[1] + "/" + p[0]; }
  function parseDay(s) {
    var m = /^\s*(\d{1,2})[\/.\-](\d{1,2})[\/.\-](\d{4})\s*$/.exec(s), y, mo, d;
    if (m) { d = +m[1]; mo = +m[2]; y = +m[3]; }
    else if ((m = /^\s*(\d{4})-(\d{2})-(\d{2})\s*$/.exec(s))) { y = +m[1]; mo = +m[2]; d = +m[3]; }
    else return null;
    var dt = new Date(y, mo - 1, d, 12);
    return dt.getMonth() === mo - 1 && dt.getDate() === d ? isoDay(dt) : null;
  }
  function readFilters() {
    var st = TP.state, p = $("f-preset").value;
    st.preset = p;
    if (p === "custom") {
      var f = parseDay($("f-from").value), to = parseDay($("f-to").value);
      $("f-from").classList.toggle("bad", !f); $("f-to").classList.toggle("bad", !to);
      if (!f || !to) return false;
      st.from = f; st.to = to;
    } else { delete st.from; delete st.to; }
    st.region = $("f-region").value; st.store = $("f-store").value; st.tp = $("f-tp").value;
    st.survey = $("f-survey").value.trim(); st.version = $("f-version").value.trim();
    return true;
  }

  function translate() {
    document.documentElement.lang = TP.lang;
    document.querySelectorAll("[data-t]").forEach(function (e) { e.textContent = t(e.getAttribute("data-t")); });
    $("lang").textContent = t("lang_other");
    $("lang").setAttribute("aria-label", TP.lang === "vi" ? "Switch to English" : "Chuyển sang tiếng Việt");
    document.title = "Touchpoint - " + t("title");
  }

  function showTabs() {
    document.querySelectorAll("#tabs button").forEach(function (b) {
      var on = b.getAttribute("data-view") === TP.state.view;
      b.setAttribute("aria-selected", on ? "true" : "false");
      b.tabIndex = on ? 0 : -1;
    });
    document.querySelectorAll(".view").forEach(function (s) { s.hidden = s.id !== "view-" + TP.state.view; });
  }

  var seq = 0;
  /* Loads and draws the current view; a newer load makes an older one's result be dropped. */
  TP.load = function (fresh) {
    var my = ++seq, name = TP.state.view, v = TP.views[name];
    if (fresh) TP.cache = {};
    writeHash(); showTabs(); fillFilters();
    $("status").textContent = t("loading");
    document.body.removeAttribute("data-loaded");
    var orgP = TP.nodes !== undefined ? Promise.resolve() : TP.get("/v1/nodes").then(function (n) {
      TP.nodes = n;
    }).catch(function (e) { if (e.status === 401) throw e; TP.nodes = null; });
    return orgP.then(function () {
      if (!TP.nodes && !TP.ids) {
        var q = TP.query();
        return Promise.all([TP.get("/v1/report?by=store&" + q), TP.get("/v1/report?by=touchpoint&" + q)])
          .then(function (r) {
            TP.ids = {store: r[0].groups.map(function (g) { return g.key; }).sort(),
                      touchpoint: r[1].groups.map(function (g) { return g.key; }).sort()};
          });
      }
    }).then(function () {
      fillFilters();
      return v.load();
    }).then(function (data) {
      if (my !== seq) return;
      $("error").style.display = "none"; $("token-form").hidden = true;
      var host = $("view-" + name);
      v.render(host, data);
      $("status").textContent = t("updated", new Date().toLocaleTimeString(TP.lang === "vi" ? "vi-VN" : "en-GB"));
      document.body.setAttribute("data-loaded", "1");
      document.body.setAttribute("data-view", name);
    }).catch(function (e) {
      if (my !== seq) return;
      if (e.status === 401) { askToken(); return; }
      $("error").style.display = "block";
      $("error").textContent = t("error", e.message);
      $("status").textContent = "";
      if (window.console) console.error(e);
    });
  };

  function askToken() {
    var f = $("token-form");
    $("token-bad").hidden = !store("session", SS_TOKEN);
    f.hidden = false;
    $("status").textContent = "";
    $("token-input").focus();
  }

  function init() {
    TP.state = parseHash();
    translate();
    /* A token in the link is kept for the session and taken out of the address bar. */
    writeHash();
    $("lang").addEventListener("click", function () {
      TP.lang = TP.lang === "vi" ? "en" : "vi";
      store("local", LS, TP.lang);
      translate(); TP.load();
    });
    $("f-preset").addEventListener("change", function () {
      if ($("f-preset").value !== "custom") { readFilters(); TP.load(); }
      else { readFilters(); }
    });
    ["f-from", "f-to"].forEach(function (id) {
      $(id).addEventListener("change", function () { $("f-preset").value = "custom"; if (readFilters()) TP.load(); });
    });
    ["f-region", "f-store", "f-tp", "f-survey", "f-version"].forEach(function (id) {
      $(id).addEventListener("change", function () {
        if (id === "f-region") $("f-store").value = "";
        if (id === "f-region" || id === "f-store") $("f-tp").value = "";
        readFilters(); TP.load();
      });
    });
    $("f-refresh").addEventListener("click", function () { TP.load(true); });
    $("f-export").addEventListener("click", exportCsv);
    var tabs = Array.prototype.slice.call(document.querySelectorAll("#tabs button"));
    tabs.forEach(function (b, i) {
      b.addEventListener("click", function () {
        TP.state.view = b.getAttribute("data-view");
        if (TP.state.view !== "cases") delete TP.state["case"];
        TP.load();
      });
      b.addEventListener("keydown", function (ev) {
        if (ev.key !== "ArrowRight" && ev.key !== "ArrowLeft") return;
        var vis = tabs.filter(function (x) { return !x.hidden; }), j = vis.indexOf(b);
        var nb = vis[(j + (ev.key === "ArrowRight" ? 1 : vis.length - 1)) % vis.length];
        nb.focus(); nb.click();
      });
    });
    $("token-form").addEventListener("submit", function () {
      store("session", SS_TOKEN, $("token-input").value.trim());
      $("token-input").value = "";
      TP.nodes = undefined; TP.cache = {};
      TP.load();
    });
    window.addEventListener("hashchange", function () {
      var before = JSON.stringify(TP.state);
      TP.state = parseHash();
      if (JSON.stringify(TP.state) !== before) { translate(); TP.load(); }
    });
    /* Cases appear as a tab only when the collector serves them. */
    TP.get("/v1/cases?state=open").then(function (r) {
      if (r) document.querySelector('#tabs [data-view="cases"]').hidden = false;
    }).catch(function (e) { if (e.status === 401 || e.status === 403) document.querySelector('#tabs [data-view="cases"]').hidden = false; });
    TP.load();
    /* A wall display stays current: a reload every 2 minutes (localStorage tp.refresh_s sets
       another period; 0 turns it off, as the browser test does). */
    var every = parseInt(store("local", "tp.refresh_s"), 10);
    if (isNaN(every)) every = 120;
    if (every > 0) setInterval(function () { if (!document.hidden) TP.load(true); }, Math.max(10, every) * 1000);
  }
  TP.init = init;
  return TP;
})();
