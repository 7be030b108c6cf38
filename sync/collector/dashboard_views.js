/* dashboard_views.js - the views: overview, journey map, reasons, rankings, heat map, devices
   and cases. Each has load() (a promise of its data, from the filters in TP.state), render(host,
   data) and csv() (the rows of the current view for the export). Every number shown carries a
   data-metric attribute so the browser test can read it. */
"use strict";
(function () {
  var t = TP.t, esc = TP.esc, num = TP.num, f1 = TP.f1, int = TP.int;
  /* The kiosk's colours (ui/ui_draw.c): CSAT faces 1-5, smiley4 faces 1-4, very unhappy first. */
  var C_CSAT = ["#e0484b", "#f08a3c", "#f2c04b", "#9ccb5b", "#228b54"];
  var C_SMILEY = ["#be282c", "#f07c72", "#8ccb5e", "#188542"];
  var C_CES = ["#e0484b", "#ea693f", "#f08a3c", "#f2c04b", "#c4d25a", "#9ccb5b", "#228b54"];
  var C_NPS = function (v) { return v <= 6 ? "#cc3036" : v <= 8 ? "#f2a93b" : "#197d48"; };
  var BAND_COL = {negative: "#cc3036", neutral: "#f2a93b", positive: "#197d48", none: "#9aa0a8"};

  var KIND_LABEL = {nps: "NPS", csat: "CSAT", ces: "CES", smiley4: "Smiley"};
  function empty(msg) { return '<div class="empty">' + esc(msg || t("no_data")) + "</div>"; }
  function cust(g) { return g.customers !== undefined ? g.customers : g.n; }
  function answers(g) { return g.answers !== undefined ? g.answers : g.n; }
  function scoreTxt(s, pct) {
    if (!s || s.score === null || s.score === undefined) return "-";
    return (pct ? f1(s.score) + "%" : f1(s.score)) + " ± " + f1(s.moe);
  }
  function table(head, rows, cls) {
    return '<div class="scroll"><table class="cards' + (cls ? " " + cls : "") + '"><thead><tr>' + head.map(function (h) {
      var cls = (h[1] ? "num " : "") + (h[2] || "");
      return "<th" + (cls ? ' class="' + cls.trim() + '"' : "") + ">" + esc(h[0]) + "</th>"; }).join("") +
      "</tr></thead><tbody>" + rows.map(function (r) {
        /* each cell names its column first (data-label: the heading shown in a phone's card) */
        var i = 0;
        return r.replace(/<td/g, function () { return '<td data-label="' + esc(head[i++] ? head[i - 1][0] : "") + '"'; });
      }).join("") + "</tbody></table></div>";
  }
  function card(title, hint, body) {
    return '<div class="card"><h2>' + esc(title) + (hint ? ' <span class="hint">' + esc(hint) + "</span>" : "") +
      "</h2>" + body + "</div>";
  }
  function kpi(id, label, value, note, lead) {
    return '<div class="card kpi' + (lead ? " lead" : "") + '"><div class="label">' + esc(label) +
      '</div><div class="value" id="kpi-' + id + '">' + esc(value) + '</div><div class="note" id="kpi-' +
      id + '-note">' + (note || "&nbsp;") + "</div></div>";
  }
  /* The survey's words for a question or option id (/v1/reasons, the journey's top reason): the
     text in the page's language, the id when the collector does not hold that survey version.
     The kiosk's non-breaking spaces place its own line breaks; here the page wraps freely (a
     long label must not push a phone's card sideways). The CSV keeps the text as published. */
  function lbl(label, id) { return label && label[TP.lang] ? label[TP.lang].replace(/\u00a0/g, " ") : id; }
  /* The label with its id on hover (title): what the customer read, and what the data says. */
  function lblHtml(label, id, attrs) {
    return "<span" + (attrs || "") + ' title="' + esc(id) + '">' + esc(lbl(label, id)) + "</span>";
  }
  /* A chart tick in lines of at most max characters (a phone's narrow chart would clip a long
     label): the kiosk's non-breaking spaces are only for the kiosk's layout. */
  function wrapTick(text, max) {
    var lines = [], cur = "";
    text.split(/[ \u00a0]+/).forEach(function (w) {
      if (cur && (cur + " " + w).length > max) { lines.push(cur); cur = w; }
      else cur = cur ? cur + " " + w : w;
    });
    if (cur) lines.push(cur);
    return lines.length > 1 ? lines : text;
  }
  function storeLabel(key) {
    var p = String(key).split("/");
    return p.length === 2 ? TP.nodeName(p[0]) + " / " + TP.nodeName(p[1]) : TP.nodeName(key);
  }

  /* ---- overview ---- */
  function npsStack(nps) {
    if (!nps.n) return '<div class="stack"></div>';
    var d = 100 * nps.detractors / nps.n, p = 100 * nps.passives / nps.n, g = 100 * nps.promoters / nps.n;
    return '<div class="stack" title="' + esc(t("detractors") + " " + f1(d) + "%, " + t("passives") + " " +
      f1(p) + "%, " + t("promoters") + " " + f1(g) + "%") + '"><span style="width:' + d +
      '%;background:#cc3036"></span><span style="width:' + p + '%;background:#f2a93b"></span><span style="width:' +
      g + '%;background:#197d48"></span></div>';
  }
  /* Smiley column: the four faces' shares in the kiosk's colours. */
  function smileyCol(s) {
    if (!s || !s.n) return '<span class="muted">-</span>';
    var h = '<span class="smcol" data-metric="smiley" title="' + esc(t("faces_smiley") + ", n = " + int(s.n)) + '">';
    s.distribution.forEach(function (v, i) {
      h += '<span class="face" style="background:' + C_SMILEY[i] + '"></span>' + int(Math.round(100 * v / s.n)) + "% ";
    });
    return h + "</span>";
  }
  function groupTable(rep, by) {
    if (!rep.groups.length) return empty();
    var rows = rep.groups.slice().sort(function (a, b) { return cust(b) - cust(a); }).map(function (g) {
      var cls = g.nps.score === null ? "" : g.nps.score >= 0 ? "pos" : "neg";
      return '<tr data-key="' + esc(g.key) + '"><td><b>' + esc(storeLabel(g.key)) + "</b></td>" +
        '<td class="num" data-metric="customers">' + int(cust(g)) + "</td>" +
        '<td class="num" data-metric="n">' + int(answers(g)) + "</td>" +
        '<td class="num ' + cls + '" data-metric="nps">' + f1(g.nps.score) + "</td>" +
        '<td class="num muted" data-metric="moe">' + f1(g.nps.moe) + "</td>" +
        '<td class="hide-narrow">' + npsStack(g.nps) + "</td>" +
        '<td class="num" data-metric="csat">' + TP.pct(g.csat.pct_4_5) + "</td>" +
        '<td class="num" data-metric="ces">' + (g.ces.mean === null ? "-" : TP.f2(g.ces.mean)) + "</td>" +
        "<td>" + smileyCol(g.smiley4) + "</td></tr>";
    });
    return table([[by], [t("customers"), 1], [t("answers"), 1], ["NPS", 1], ["±", 1], [""],
                  ["CSAT", 1], ["CES", 1], [t("smiley_col")]], rows);
  }
  function fillDays(rep, from, to) {
    var byKey = {}, out = [];
    rep.groups.forEach(function (g) { byKey[g.key] = g; });
    for (var d = new Date(from + "T12:00:00"), end = new Date(to + "T12:00:00"); d <= end; d.setDate(d.getDate() + 1))
      out.push({key: TP.isoDay(d), g: byKey[TP.isoDay(d)] || null});
    return out;
  }
  function trendChart(host, rep, from, to) {
    var days = fillDays(rep, from, to);
    var labels = days.map(function (d) { return TP.day(d.key); });
    var nps = days.map(function (d) { return d.g && d.g.nps.n ? d.g.nps.score : null; });
    var lo = days.map(function (d) { return d.g && d.g.nps.n ? Math.max(-100, d.g.nps.score - d.g.nps.moe) : null; });
    var hi = days.map(function (d) { return d.g && d.g.nps.n ? Math.min(100, d.g.nps.score + d.g.nps.moe) : null; });
    var cs = days.map(function (d) { return d.g ? cust(d.g) : 0; });
    var rows = days.map(function (d, i) {
      return "<tr><td>" + esc(TP.day(d.key, true)) + '</td><td class="num">' + int(cs[i]) + '</td><td class="num">' +
        (nps[i] === null ? "-" : f1(nps[i]) + " ± " + f1(d.g.nps.moe)) + "</td></tr>";
    });
    TP.chart(host, "chart-trend", {
      data: {labels: labels, datasets: [
        {type: "line", label: "NPS", data: nps, borderColor: "#0e6e6e", backgroundColor: "#0e6e6e",
         spanGaps: false, yAxisID: "y", order: 1, pointRadius: 3},
        {type: "line", label: "95% low", data: lo, borderWidth: 0, pointRadius: 0, fill: false, yAxisID: "y", noKeys: true},
        {type: "line", label: "95%", data: hi, borderWidth: 0, pointRadius: 0, fill: "-1",
         backgroundColor: "rgba(14,110,110,.15)", yAxisID: "y", noKeys: true},
        {type: "bar", label: t("customers"), data: cs, backgroundColor: "#e2ded4", yAxisID: "y2", order: 2}]},
      options: {interaction: {mode: "index", intersect: false},
        plugins: {legend: {display: false}, tooltip: {filter: function (it) { return !it.dataset.noKeys; }}},
        scales: {y: {min: -100, max: 100, position: "left"},
                 y2: {position: "right", beginAtZero: true, grid: {display: false}},
                 x: {ticks: {maxRotation: 0, autoSkip: true, maxTicksLimit: 8}}}}
    }, t("chart_nps_label"), table([[t("day")], [t("customers"), 1], ["NPS", 1]], rows));
  }
  function distChart(host, id, title, dist, labels, colors) {
    var total = dist.reduce(function (a, b) { return a + b; }, 0);
    var rows = dist.map(function (v, i) {
      return '<tr data-value="' + esc(labels[i]) + '"><td>' + esc(labels[i]) + '</td><td class="num">' + int(v) +
        '</td><td class="num">' + (total ? f1(100 * v / total) + "%" : "-") + "</td></tr>";
    });
    var box = document.createElement("div");
    box.innerHTML = "<h2>" + esc(title) + ' <span class="hint">n = ' + int(total) + "</span></h2>";
    host.appendChild(box);
    TP.chart(box, id, {type: "bar",
      data: {labels: labels, datasets: [{label: title, data: dist, backgroundColor: colors}]},
      options: {plugins: {legend: {display: false}, tooltip: {callbacks: {label: function (c) {
        return int(c.raw) + (total ? " (" + f1(100 * c.raw / total) + "%)" : ""); }}}},
        scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}},
      title + ", n = " + int(total), table([[t("value")], [t("count"), 1], [t("share"), 1]], rows));
  }
  /* Comments next to the session's scores (issue 15): GET /v1/comments lists each comment with
     the answers of its session (joined by device and session, whichever arrived first). */
  function answerText(a) {
    if (a.kind === "choice") return a.label ? lbl(a.label, a.choice) : a.question + ": " + a.choice;
    return (KIND_LABEL[a.kind] || a.kind) + " " + a.value;
  }
  function commentsCard(c) {
    if (!c) return "";
    var list = c.comments || [];
    var body = list.length ? list.map(function (x) {
      var sc = (x.answers || []).map(answerText).join(" · ");
      var ids = (x.answers || []).filter(function (a) { return a.kind === "choice"; })
        .map(function (a) { return a.question + ": " + a.choice; }).join(" · ");
      var ct = x.contact && (x.contact.name || x.contact.phone || x.contact.email) ?
        [x.contact.name, x.contact.phone, x.contact.email].filter(Boolean).join(", ") : "";
      return '<div class="comment" data-comment="' + esc(x.id) + '"><div class="scores" data-metric="scores"' + (ids ? ' title="' + esc(ids) + '"' : "") + "><b>" +
        esc(sc || t("no_scores")) + "</b></div><div>" + esc(x.text) + '</div><div class="meta">' +
        esc(storeLabel((x.store || "") + (x.touchpoint ? "/" + x.touchpoint : ""))) + " · " + esc(TP.when(x.created_ms)) +
        (x.tags && x.tags.length ? " · " + esc(x.tags.join(", ")) : "") + (ct ? " · " + esc(t("contact")) + ": " + esc(ct) : "") +
        "</div></div>";
    }).join("") : empty(t("no_comments"));
    return '<div class="card" id="ov-comments"><h2>' + esc(t("comments")) + ' <span class="hint">n = ' + int(c.total || 0) +
      "</span></h2>" + body + "</div>";
  }
  var ov = {};
  TP.views.overview = {
    load: function () {
      var q = TP.query();
      return Promise.all([TP.get("/v1/report?by=day&" + q), TP.get("/v1/report?by=store&" + q),
                          TP.get("/v1/report?by=touchpoint&" + q), TP.get("/v1/devices"),
                          TP.get("/v1/comments?limit=20&" + q).catch(function (e) {
                            if (e.status === 401) throw e;
                            return null;  /* comments are optional: the page works without them */
                          })]);
    },
    render: function (host, r) {
      var day = r[0], tot = day.total, dev = r[3] || {devices: []};
      ov = {day: day, store: r[1], tp: r[2]};
      var devs = filterDevices(dev.devices), silent = 0, gaps = 0;
      devs.forEach(function (d) { if (d.silent) silent++; if (d.has_gaps) gaps++; });
      var from = day.from, to = day.to;
      var h = '<section class="kpis">' +
        kpi("customers", t("customers"), int(cust(tot)), esc(t("answers_note", TP.day(from, true), TP.day(to, true))), true) +
        kpi("n", t("answers"), int(answers(tot)), esc(t("per_customer", cust(tot) ? TP.f1(answers(tot) / cust(tot)) : "-") +
          (tot.uncorrected ? ", " + t("uncertain", int(tot.uncorrected)) : ""))) +
        kpi("nps", "NPS", f1(tot.nps.score), esc(tot.nps.n ? t("moe_note", f1(tot.nps.moe), int(tot.nps.n)) : t("no_answers_of"))) +
        kpi("csat", t("csat"), TP.pct(tot.csat.pct_4_5), esc(tot.csat.n ? t("mean_note", TP.f2(tot.csat.mean), int(tot.csat.n)) : t("no_answers_of"))) +
        kpi("ces", t("ces"), tot.ces.mean === null ? "-" : TP.f2(tot.ces.mean), esc(tot.ces.n ? t("ces_note", f1(tot.ces.pct_5_7), int(tot.ces.n)) : t("no_answers_of"))) +
        kpi("smiley", t("smiley"), TP.pct(tot.smiley4.pct_3_4), esc(tot.smiley4.n ? t("n_note", int(tot.smiley4.n)) : t("no_answers_of"))) +
        kpi("devices", t("devices"), int(devs.length), esc(t("dev_note", int(silent), int(gaps)))) +
        "</section>" +
        '<section class="grid2"><div class="card"><h2>' + esc(t("trend")) + ' <span class="hint">' + esc(t("trend_hint")) +
        '</span></h2><div id="ov-trend"></div></div><div class="card" id="ov-nps"></div></section>' +
        '<section class="card" style="margin-top:12px"><h2>' + esc(t("dist_faces")) + '</h2><div class="faces" id="ov-faces"></div></section>' +
        '<section class="wide2">' + card(t("by_store"), "", groupTable(r[1], t("store"))) +
        card(t("by_tp"), "", groupTable(r[2], t("touchpoint"))) + "</section>" +
        '<section class="wide2">' + commentsCard(r[4]) + "</section>";
      host.innerHTML = h;
      trendChart(TP.$("ov-trend"), day, from, to);
      distChart(TP.$("ov-nps"), "chart-nps", t("faces_nps"), tot.nps.distribution,
                [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10], tot.nps.distribution.map(function (_, i) { return C_NPS(i); }));
      var faces = TP.$("ov-faces"), any = false;
      [["csat", "faces_csat", [1, 2, 3, 4, 5], C_CSAT], ["ces", "faces_ces", [1, 2, 3, 4, 5, 6, 7], C_CES],
       ["smiley4", "faces_smiley", ["☹☹", "☹", "☺", "☺☺"], C_SMILEY]].forEach(function (k) {
        if (!tot[k[0]].n) return;
        any = true;
        var d = document.createElement("div");
        faces.appendChild(d);
        distChart(d, "chart-" + k[0], t(k[1]), tot[k[0]].distribution, k[2], k[3]);
      });
      if (!any) faces.innerHTML = empty();
      /* The devices tab is drawn too (hidden) from the same reply: one click away, no wait. */
      if (r[3]) TP.views.devices.render(TP.$("view-devices"), r[3]);
    },
    csv: function () {
      if (!ov.day) return null;
      var rows = [["group", "key", "customers", "answers", "nps", "nps_moe", "nps_n", "csat_pct_4_5", "ces_mean", "smiley4_pct_3_4"]];
      [["day", ov.day], ["store", ov.store], ["touchpoint", ov.tp]].forEach(function (p) {
        p[1].groups.forEach(function (g) {
          rows.push([p[0], g.key, cust(g), answers(g), g.nps.score, g.nps.moe, g.nps.n, g.csat.pct_4_5, g.ces.mean, g.smiley4.pct_3_4]);
        });
      });
      var tt = ov.day.total;
      rows.push(["total", "", cust(tt), answers(tt), tt.nps.score, tt.nps.moe, tt.nps.n, tt.csat.pct_4_5, tt.ces.mean, tt.smiley4.pct_3_4]);
      return rows;
    }
  };

  /* ---- journey map ---- */
  function arrow(tr, delta) {
    if (tr === "up") return '<span class="arrow pos" title="' + esc(t("up")) + '">▲ ' + f1(delta) + "</span>";
    if (tr === "down") return '<span class="arrow neg" title="' + esc(t("down")) + '">▼ ' + f1(delta) + "</span>";
    if (tr === "flat") return '<span class="arrow neutral" title="' + esc(t("same")) + '">→ ' + f1(delta) + "</span>";
    return '<span class="muted">-</span>';
  }
  var jr = null;
  TP.views.journey = {
    load: function () { return TP.get("/v1/journey?" + TP.query()); },
    render: function (host, r) {
      jr = r;
      if (!r) { host.innerHTML = empty(t("not_available")); return; }
      var cols = r.stages.filter(function (s) { return s.stage !== "unassigned" || s.touchpoints.length; });
      var h = '<p class="hint">' + esc(t("vs_prev")) + ": " + esc(TP.day(r.previous.from, true) + " - " + TP.day(r.previous.to, true)) +
        '</p><div class="journey">';
      cols.forEach(function (s) {
        h += '<div class="stage" data-stage="' + esc(s.stage) + '"><h3>' + esc(t("stage_" + (s.stage === "unassigned" ? "other" : s.stage))) + "</h3>";
        if (!s.touchpoints.length) h += '<div class="muted">-</div>';
        s.touchpoints.forEach(function (p) {
          var pct = p.kind !== "nps", sc = p.score || {};
          var tr = p.top_reason;
          var few = p.customers < 30, v = sc.score, lvl = v === null || v === undefined ? "" :
            (pct ? (v >= 80 ? "good" : v >= 60 ? "mid" : "bad") : (v >= 30 ? "good" : v >= 0 ? "mid" : "bad"));
          h += '<div class="card tpcard ' + (few ? "few" : lvl) + '" data-tp="' + esc(p.store + "/" + p.touchpoint) + '">' +
            (few ? '<span class="badge b-few" style="float:right">' + esc(t("too_few")) + "</span>" : "") +
            '<div class="name">' + esc(TP.nodeName(p.touchpoint)) + ' <span class="muted">' + esc(TP.nodeName(p.store)) + "</span></div>" +
            '<div class="scores"><span><span class="big" data-metric="score">' + (sc.score === null || sc.score === undefined ? "-" : f1(sc.score) + (pct ? "%" : "")) +
            '</span> <span class="muted">' + esc(KIND_LABEL[p.kind] || p.kind || "") + " ± <span data-metric=\"moe\">" + f1(sc.moe) + "</span></span></span>" +
            "<span>" + arrow(p.trend, p.delta) + "</span></div>" +
            '<div>' + esc(t("customers")) + ': <b data-metric="customers">' + int(p.customers) + "</b></div>" +
            '<div class="hint">' + esc(t("top_reason")) + ": " + (tr ? '<b data-metric="reason" data-choice="' + esc(tr.choice) + '" title="' +
              esc(tr.question + ": " + tr.choice) + '">' + esc(lbl(tr.label, tr.choice)) + "</b> (" + f1(tr.share) + "%)" : "-") + "</div></div>";
        });
        h += "</div>";
      });
      host.innerHTML = h + "</div>";
    },
    csv: function () {
      if (!jr) return null;
      var rows = [["stage", "store", "touchpoint", "customers", "kind", "score", "moe", "previous_score", "trend", "top_reason",
                   "top_reason_vi", "top_reason_en"]];
      jr.stages.forEach(function (s) { s.touchpoints.forEach(function (p) {
        var tr = p.top_reason, l = tr && tr.label;
        rows.push([s.stage, p.store, p.touchpoint, p.customers, p.kind, p.score && p.score.score, p.score && p.score.moe,
                   p.previous && p.previous.score, p.trend, tr ? tr.choice : "", l ? l.vi : "", l ? l.en : ""]);
      }); });
      return rows;
    }
  };

  /* ---- reasons ---- */
  var rs = null;
  function bandName(b) {
    var n = TP_I18N[TP.lang].bn[b.band_name];
    return n || b.band_name || b.band;
  }
  TP.views.reasons = {
    load: function () { return TP.get("/v1/reasons?by=all&" + TP.query()); },
    render: function (host, r) {
      rs = r;
      if (!r) { host.innerHTML = empty(t("not_available")); return; }
      var qs = [];
      r.groups.forEach(function (g) { g.questions.forEach(function (q) { qs.push(q); }); });
      if (!qs.length) { host.innerHTML = empty(); return; }
      host.innerHTML = '<div class="reasons" id="rs-list"></div>';
      var list = TP.$("rs-list"), k = 0;
      qs.forEach(function (q) {
        q.bands.forEach(function (b) {
          if (!b.n) return;
          var box = document.createElement("div");
          box.className = "card";
          box.setAttribute("data-question", q.question);
          box.setAttribute("data-band", b.band);
          box.innerHTML = "<h2>" + esc(t(b.band === "positive" ? "reasons_positive" : b.band === "neutral" ? "reasons_neutral" : "reasons_title", bandName(b))) + "</h2>" +
            '<div class="hint qline">' + lblHtml(q.question_label, q.question, ' class="qlabel" data-metric="question"') +
            esc(" · " + q.survey + " v" + q.version + " · n = " + int(b.n)) +
            (q.labelled === false ? ' · <span class="muted" data-metric="unlabelled">' + esc(t("no_labels")) + "</span>" : "") + "</div>";
          list.appendChild(box);
          var rows = b.options.map(function (o) {
            return '<tr data-choice="' + esc(o.choice) + '"><td>' + lblHtml(o.label, o.choice, ' data-metric="label"') +
              '</td><td class="num" data-metric="n">' + int(o.n) +
              '</td><td class="num" data-metric="share">' + f1(o.share) + "%</td></tr>";
          });
          var narrow = list.clientWidth < 600, lines = 1;
          TP.chart(box, "chart-reason-" + (k++), {type: "bar",
            data: {labels: b.options.map(function (o) {
                     var l = lbl(o.label, o.choice) + " · " + f1(o.share) + "%";
                     if (!narrow) return l;
                     l = wrapTick(l, 18);
                     lines = Math.max(lines, Array.isArray(l) ? l.length : 1);
                     return l;
                   }),
                   datasets: [{label: bandName(b), data: b.options.map(function (o) { return o.n; }),
                               backgroundColor: BAND_COL[b.band] || "#888", maxBarThickness: 26}]},
            options: {indexAxis: "y", plugins: {legend: {display: false}, tooltip: {callbacks: {
              title: function (c) { var o = b.options[c[0].dataIndex]; return lbl(o.label, o.choice) + " (" + o.choice + ")"; },
              label: function (c) { return int(c.raw) + " (" + f1(b.options[c.dataIndex].share) + "%)"; }}}},
              scales: {x: {beginAtZero: true, ticks: {precision: 0}}}}},
            t(b.band === "positive" ? "reasons_positive" : b.band === "neutral" ? "reasons_neutral" : "reasons_title", bandName(b)), table([[t("option")], [t("count"), 1], [t("share"), 1]], rows));
          box.querySelector(".chart").style.height = Math.max(120, (20 + 14 * lines) * b.options.length + 40) + "px";
        });
      });
    },
    csv: function () {
      if (!rs) return null;
      var rows = [["group", "survey", "version", "question", "band", "choice", "n", "share", "question_vi", "question_en",
                   "choice_vi", "choice_en"]];
      rs.groups.forEach(function (g) { g.questions.forEach(function (q) { q.bands.forEach(function (b) {
        var ql = q.question_label || {};
        b.options.forEach(function (o) {
          var ol = o.label || {};
          rows.push([g.key, q.survey, q.version, q.question, b.band, o.choice, o.n, o.share, ql.vi || "", ql.en || "",
                     ol.vi || "", ol.en || ""]);
        });
      }); }); });
      return rows;
    }
  };

  /* ---- rankings ---- */
  var rk = null;
  function ivalBar(s, avg, pct) {
    if (!s || s.score === null || s.score === undefined) return "";
    var lo = pct ? 0 : -100, span = pct ? 100 : 200, pos = function (v) { return (100 * (v - lo) / span).toFixed(1) + "%"; };
    return '<div class="ival" title="' + esc(f1(s.low) + " … " + f1(s.high)) + '"><div class="bar" style="left:' + pos(s.low) +
      ";width:" + (100 * (s.high - s.low) / span).toFixed(1) + '%"></div><div class="dot" style="left:' + pos(s.score) + '"></div>' +
      (avg && avg.score !== null ? '<div class="avg" style="left:' + pos(avg.score) + '"></div>' : "") + "</div>";
  }
  function rankTable(r) {
    if (!r) return empty(t("not_available"));
    if (!r.rows.length) return empty();
    var pct = r.kind !== "nps";
    var rows = r.rows.map(function (w) {
      var s = w.score || {};
      var verdict = w.too_few ? '<span class="badge b-few">' + esc(t("too_few")) + "</span>" :
        w.vs_average === "better" ? '<span class="badge b-better">' + esc(t("better")) + "</span>" :
        w.vs_average === "worse" ? '<span class="badge b-worse">' + esc(t("worse")) + "</span>" :
        '<span class="badge b-same">' + esc(t("no_diff")) + "</span>";
      var ch = w.change === null || w.change === undefined ? "-" :
        (w.change_direction === "up" ? '<span class="pos">▲ ' : w.change_direction === "down" ? '<span class="neg">▼ ' : '<span class="neutral">') +
        (w.change > 0 ? "+" : "") + f1(w.change) + "</span>";
      return '<tr data-key="' + esc(w.key) + '" data-verdict="' + esc(w.too_few ? "too_few" : w.vs_average) + '"' +
        (w.too_few ? ' class="few"' : "") + '><td class="num" data-metric="rank">' + (w.rank === null ? "" : int(w.rank)) +
        "</td><td><b>" + esc(storeLabel(w.key)) + '</b></td><td class="num" data-metric="customers">' + int(w.customers) +
        '</td><td class="num" data-metric="score">' + (s.score === null ? "-" : f1(s.score) + (pct ? "%" : "")) +
        '</td><td class="num muted">' + (s.score === null ? "" : f1(s.low) + " … " + f1(s.high)) +
        '</td><td class="hide-narrow" style="min-width:110px">' + ivalBar(s, r.average, pct) + "</td><td>" + verdict +
        '</td><td class="num">' + ch + "</td></tr>";
    });
    return '<p class="hint">' + esc(t("chain_avg", scoreTxt(r.average, pct) + ", " + t("customers").toLowerCase() + " " + int(r.average.customers))) + "</p>" +
      table([[t("rank"), 1], [r.of === "store" ? t("store") : t("touchpoint")], [t("customers"), 1],
             [KIND_LABEL[r.kind] || r.kind, 1], [t("interval"), 1], [""], [t("verdict")], [t("change"), 1]], rows, "rank");
  }
  TP.views.rankings = {
    load: function () {
      var q = TP.query(), k = TP.state.kind || "nps";
      return Promise.all([TP.get("/v1/rankings?of=store&kind=" + k + "&" + q), TP.get("/v1/rankings?of=touchpoint&kind=" + k + "&" + q)]);
    },
    render: function (host, r) {
      rk = r;
      var k = TP.state.kind || "nps";
      host.innerHTML = '<label class="hint">' + esc(t("metric")) + ' <select id="rk-kind">' +
        ["nps", "csat", "ces", "smiley4"].map(function (x) {
          return '<option value="' + x + '"' + (x === k ? " selected" : "") + ">" + KIND_LABEL[x] + "</option>"; }).join("") +
        '</select></label> <span class="hint">' + esc(t("rank_hint")) + "</span>" +
        '<section class="wide2"><div class="card" id="rk-store">' + "<h2>" + esc(t("by_store")) + "</h2>" + rankTable(r[0]) +
        '</div><div class="card" id="rk-tp"><h2>' + esc(t("by_tp")) + "</h2>" + rankTable(r[1]) + "</div></section>";
      TP.$("rk-kind").addEventListener("change", function () { TP.state.kind = this.value; TP.load(); });
    },
    csv: function () {
      if (!rk || !rk[0]) return null;
      var rows = [["of", "key", "customers", "score", "moe", "low", "high", "rank", "too_few", "vs_average", "previous_score", "change", "change_direction"]];
      rk.forEach(function (r) { if (r) r.rows.forEach(function (w) {
        var s = w.score || {};
        rows.push([r.of, w.key, w.customers, s.score, s.moe, s.low, s.high, w.rank, w.too_few, w.vs_average,
                   w.previous && w.previous.score, w.change, w.change_direction]);
      }); });
      return rows;
    }
  };

  /* ---- heat map: hour x weekday, plain HTML/CSS grid ---- */
  var hm = null;
  TP.views.heatmap = {
    load: function () { return TP.get("/v1/heatmap?" + TP.query()); },
    render: function (host, r) {
      hm = r;
      if (!r) { host.innerHTML = empty(t("not_available")); return; }
      var m = TP.state.heat === "negative" ? "negative" : "customers";
      var cells = {}, maxc = 1;
      r.cells.forEach(function (c) { cells[c.weekday + ":" + c.hour] = c; if (c.customers > maxc) maxc = c.customers; });
      var wd = t("weekdays").split(",");
      var h = '<div class="hint" style="margin-bottom:8px"><label>' + esc(t("metric")) + ' <select id="hm-metric">' +
        '<option value="customers"' + (m === "customers" ? " selected" : "") + ">" + esc(t("heat_customers")) + "</option>" +
        '<option value="negative"' + (m === "negative" ? " selected" : "") + ">" + esc(t("heat_negative")) + "</option></select></label> " +
        esc(t("heat_hint")) + '</div><div class="heat" id="heat" role="grid">' + "<div></div>";
      for (var hr = 0; hr < 24; hr++) h += '<div class="hl' + (hr % 3 ? " odd" : "") + '">' + hr + "</div>";
      for (var d = 0; d < 7; d++) {
        h += '<div class="hl">' + esc(wd[d]) + "</div>";
        for (hr = 0; hr < 24; hr++) {
          var c = cells[d + ":" + hr], bg = "#f4f2ed", txt = "", tip;
          var cu = c ? c.customers : 0, ns = c ? c.negative_share : null;
          if (m === "customers" && cu) {
            bg = "rgba(14,110,110," + (0.12 + 0.88 * cu / maxc).toFixed(2) + ")"; txt = int(cu);
          } else if (m === "negative" && ns !== null && ns !== undefined) {
            bg = "rgba(204,48,54," + (0.08 + 0.9 * ns / 100).toFixed(2) + ")"; txt = int(Math.round(ns));
          }
          tip = wd[d] + " " + hr + ":00 - " + t("customers") + " " + int(cu) + ", " + t("negative") + " " +
            (ns === null || ns === undefined ? "-" : f1(ns) + "%") + (c ? " (" + int(c.negative) + "/" + int(c.rated) + ")" : "");
          h += '<div class="cell" tabindex="' + (d === 0 && hr === 0 ? 0 : -1) + '" role="gridcell" style="background:' + bg + (m === "customers" && cu > maxc * 0.6 || m === "negative" && ns > 60 ? ";color:#fff" : "") +
            '" data-wd="' + d + '" data-h="' + hr + '" data-customers="' + cu + '" data-negative-share="' + (ns === null || ns === undefined ? "" : ns) +
            '" title="' + esc(tip) + '" aria-label="' + esc(tip) + '">' + txt + "</div>";
        }
      }
      h += "</div>" + '<div class="legend"><span>0</span><span class="ramp" style="background:linear-gradient(90deg,' +
        (m === "customers" ? "rgba(14,110,110,.12),rgba(14,110,110,1)" : "rgba(204,48,54,.08),rgba(204,48,54,.98)") + ')"></span><span>' +
        (m === "customers" ? int(maxc) + " " + esc(t("customers").toLowerCase()) : "100% " + esc(t("negative").toLowerCase())) + "</span></div>";
      host.innerHTML = h;
      /* One tab stop for the grid; the arrow keys move between hours and days. */
      TP.$("heat").addEventListener("keydown", function (ev) {
        var c = ev.target, mv = {ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0]}[ev.key];
        if (!mv || !c.getAttribute("data-wd")) return;
        ev.preventDefault();
        var wd2 = Math.min(6, Math.max(0, +c.getAttribute("data-wd") + mv[0]));
        var h2 = Math.min(23, Math.max(0, +c.getAttribute("data-h") + mv[1]));
        var n = host.querySelector('.cell[data-wd="' + wd2 + '"][data-h="' + h2 + '"]');
        c.tabIndex = -1; n.tabIndex = 0; n.focus();
      });
      TP.$("hm-metric").addEventListener("change", function () { TP.state.heat = this.value === "negative" ? "negative" : ""; TP.writeHash(); TP.views.heatmap.render(host, hm); });
    },
    csv: function () {
      if (!hm) return null;
      var rows = [["weekday", "hour", "customers", "rated", "negative", "negative_share"]];
      hm.cells.forEach(function (c) { rows.push([hm.weekdays[c.weekday], c.hour, c.customers, c.rated, c.negative, c.negative_share]); });
      return rows;
    }
  };

  /* ---- devices ---- */
  function filterDevices(list) {
    var st = TP.state;
    return (list || []).filter(function (d) {
      var seg = (d.node || "").split("/");
      if (st.store && seg.length >= 3 && seg[2] !== st.store) return false;
      if (st.region && d.node && d.node.indexOf(st.region + "/") !== 0 && d.node !== st.region) return false;
      return true;
    });
  }
  var dv = null;
  function clockCell(d) {
    var c = d.clock;
    if (c && c.status === "failed") return '<span class="neg" data-clock="failed">' + esc(c.text ? c.text[TP.lang] : t("clock_failed")) + "</span>";
    if (c && c.status === "not_synchronised")
      return '<span class="neutral" data-clock="not_synchronised">' + esc(t("clock_pending", int(c.corrected))) + "</span>";
    if (c || d.clock_trusted) {
      var skew = Math.abs(d.clock_skew_ms || 0) >= 60000 ? " (" + t("clock_off", int(Math.round(d.clock_skew_ms / 60000))) + ")" : "";
      return '<span data-clock="synchronised">' + esc(t("clock_ok") + skew) + "</span>";
    }
    return '<span class="neutral" data-clock="not_synchronised">' + esc(t("clock_pending", "-")) + "</span>";
  }
  TP.views.devices = {
    load: function () { return TP.get("/v1/devices"); },
    render: function (host, dev) {
      var list = filterDevices(dev.devices);
      dv = list;
      if (!list.length) { host.innerHTML = empty(t("no_devices")); return; }
      var rows = list.slice().sort(function (a, b) {
        var sa = (a.silent ? 2 : 0) + (a.has_gaps ? 1 : 0), sb = (b.silent ? 2 : 0) + (b.has_gaps ? 1 : 0);
        return sb - sa || (a.id < b.id ? -1 : 1);
      }).map(function (d) {
        var cfg = d.desired_revision === undefined ? '<span class="muted">' + esc(t("not_in_fleet")) + "</span>" :
          !d.desired_revision ? '<span class="muted">' + esc(t("cfg_none")) + "</span>" :
          d.running_revision === d.desired_revision ? '<span class="badge b-ok" data-config="current">' + esc(d.desired_revision.slice(0, 8)) + "</span>" :
          '<span class="badge b-gaps" data-config="pending">' + esc((d.running_revision || "local").slice(0, 8)) + " → " + esc(d.desired_revision.slice(0, 8)) + "</span>";
        if (d.apply_error) cfg += ' <span class="neg" data-config="error" title="' + esc(d.apply_error) + '">' + esc(t("apply_failed", d.apply_error.slice(0, 80))) + "</span>";
        var badge = d.silent ? '<span class="badge b-silent">' + esc(t("s_silent")) + "</span> " : "";
        badge += d.has_gaps ? '<span class="badge b-gaps">' + esc(t("s_gaps")) + "</span>" : "";
        if (!badge) badge = '<span class="badge b-ok">' + esc(t("s_ok")) + "</span>";
        var gapText = [];
        (d.epochs || []).forEach(function (e) { (e.gaps || []).slice(0, 5).forEach(function (g) { gapText.push(g[0] === g[1] ? g[0] : g[0] + "-" + g[1]); }); });
        var tech = t("tech", d.highest_seq, gapText.join(", ") || "-") + (d.pending_reported !== undefined ? "; device.pending " + d.pending_reported : "");
        var missing = d.answers_missing !== undefined ? d.answers_missing : d.missing;
        return '<tr data-device="' + esc(d.id) + '" title="' + esc(tech) + '"><td><b>' + esc(d.id) + "</b>" +
          (d.words ? '<div class="hint">' + esc(d.words[TP.lang] || "") + "</div>" : "") + '</td><td class="hide-narrow">' + esc(d.node || "") +
          "</td><td>" + badge + '</td><td title="' + esc(d.last_seen || "") + '">' + esc(TP.ago(dev.now_ms - d.last_seen_ms)) +
          '</td><td class="num" data-metric="pending">' + int(d.pending) + '</td><td class="num hide-narrow" data-metric="received" title="' + esc(tech) + '">' +
          int(d.last_answer_no !== undefined ? d.last_answer_no : d.highest_seq) + '</td><td class="num" data-metric="missing" title="' + esc(tech) + '">' +
          int(missing) + (d.holes ? ' <span class="muted">(' + esc(t("skipped", int(d.holes))) + ")</span>" : "") + "</td><td>" + clockCell(d) +
          '</td><td class="hide-narrow">' + esc(d.app_version || "") + '</td><td class="num hide-narrow">' + esc(bytes(d.disk_free)) +
          '</td><td class="num">' + int(d.answers) + '</td><td class="hide-narrow">' + cfg + "</td></tr>";
      });
      host.innerHTML = '<p class="hint" id="devices-hint">' + esc(t("silent_hint", int(Math.round(dev.silent_after_s / 60)))) + "</p>" +
        table([[t("d_device")], [t("d_node"), 0, "hide-narrow"], [t("d_status")], [t("d_last")], [t("d_pending"), 1],
               [t("d_received"), 1, "hide-narrow"], [t("d_missing"), 1], [t("d_clock")], [t("d_app"), 0, "hide-narrow"],
               [t("d_disk"), 1, "hide-narrow"], [t("d_answers"), 1], [t("d_config"), 0, "hide-narrow"]], rows);
    },
    csv: function () {
      if (!dv) return null;
      var rows = [["device", "node", "silent", "has_gaps", "last_seen", "pending", "highest_seq", "missing", "clock", "app_version", "disk_free", "answers"]];
      dv.forEach(function (d) {
        rows.push([d.id, d.node || "", d.silent, d.has_gaps, d.last_seen, d.pending, d.highest_seq, d.missing,
                   d.clock ? d.clock.status : (d.clock_trusted ? "synchronised" : "not_synchronised"), d.app_version, d.disk_free, d.answers]);
      });
      return rows;
    }
  };
  function bytes(n) {
    var u = ["B", "KB", "MB", "GB", "TB"], i = 0;
    n = n || 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return num(n, i ? 1 : 0) + " " + u[i];
  }

  /* ---- cases ---- */
  var cs = null;
  function caseRows(list) {
    return list.map(function (c) {
      var act = c.state === "resolved" ? "" :
        (c.state === "open" ? '<button type="button" data-act="ack" data-id="' + esc(c.id) + '">' + esc(t("c_ack")) + "</button> " : "") +
        '<button type="button" data-act="resolve" data-id="' + esc(c.id) + '">' + esc(t("c_resolve")) + "</button>";
      return '<tr data-case="' + esc(c.id) + '"' + (c.id === TP.state["case"] ? ' style="background:#fff6d6"' : "") + "><td>" +
        esc(c.title ? c.title[TP.lang] || c.title.en : c.id) + '</td><td>' + esc(c.store ? TP.nodeName(c.store) : c.node) +
        '</td><td data-metric="state">' + esc(t("st_" + c.state)) + '</td><td class="num" data-metric="age">' + esc(TP.dur(c.age_s * 1000)) +
        "</td><td>" + esc(c.assignee || "") + '</td><td><span class="acts">' + act + "</span></td></tr>";
    });
  }
  TP.views.cases = {
    load: function () {
      var st = TP.state, q = (st.region ? "&node=" + encodeURIComponent(st.region) : "") + (st.store ? "&store=" + encodeURIComponent(st.store) : "");
      var r = TP.range();
      var one = st["case"] ? TP.get("/v1/cases/" + encodeURIComponent(st["case"])).catch(function () { return null; }) : Promise.resolve(null);
      return Promise.all([TP.get("/v1/cases?state=active" + q), TP.get("/v1/cases/report?by=store&from=" + r[0] + "&to=" + r[1] + q), one]);
    },
    render: function (host, r) {
      cs = r;
      if (!r[0]) { host.innerHTML = empty(t("not_available")); return; }
      var list = r[0].cases, rep = r[1];
      if (r[2] && r[2]["case"] && !list.some(function (c) { return c.id === r[2]["case"].id; })) list = [r[2]["case"]].concat(list);
      var tot = rep ? rep.total : null;
      var h = '<section class="kpis">' +
        kpi("cases-open", t("c_open"), int(r[0].counts.open + r[0].counts.acknowledged), "") +
        (tot ? kpi("tta", t("c_tta"), TP.dur(tot.tta_s.median === null ? null : tot.tta_s.median * 1000),
                   esc("p90 " + TP.dur(tot.tta_s.p90 === null ? null : tot.tta_s.p90 * 1000) + ", n = " + int(tot.tta_s.n))) +
               kpi("ttr", t("c_ttr"), TP.dur(tot.ttr_s.median === null ? null : tot.ttr_s.median * 1000),
                   esc("p90 " + TP.dur(tot.ttr_s.p90 === null ? null : tot.ttr_s.p90 * 1000) + ", n = " + int(tot.ttr_s.n))) : "") +
        "</section>" +
        '<form class="card" id="admin-form" style="margin-top:12px" onsubmit="return false"><label class="hint">' + esc(t("c_admin")) +
        ' <input id="admin-token" type="password" autocomplete="off" value=""></label> <button type="submit">' + esc(t("c_admin_save")) +
        '</button> <span id="case-msg" class="hint" aria-live="polite"></span></form>' +
        '<div class="card" style="margin-top:12px"><h2>' + esc(t("c_open")) + "</h2>" +
        (list.length ? table([[t("c_title")], [t("store")], [t("c_state")], [t("c_age"), 1], [t("c_assignee")], [t("c_actions")]], caseRows(list)) : empty(t("c_none"))) + "</div>";
      if (r[2] && r[2].timeline) {
        h += '<div class="card" style="margin-top:12px" id="case-timeline"><h2>' + esc(r[2]["case"].title[TP.lang] || "") + "</h2>" +
          r[2].timeline.map(function (e) {
            return '<div class="comment"><div class="meta">' + esc(TP.when(e.at_ms) + " · " + e.actor + " · " + t("act_" + e.action)) +
              "</div>" + (e.text ? "<div>" + esc(e.text) + "</div>" : "") + "</div>";
          }).join("") + "</div>";
      }
      host.innerHTML = h;
      if (TP.adminToken()) TP.$("admin-token").placeholder = "••••••";
      TP.$("admin-form").addEventListener("submit", function () {
        var v = TP.$("admin-token").value.trim();
        if (v) TP.adminToken(v);
        TP.$("admin-token").value = ""; TP.$("admin-token").placeholder = "••••••";
      });
      host.querySelectorAll("button[data-act]").forEach(function (b) {
        b.addEventListener("click", function () {
          var tokIn = TP.$("admin-token").value.trim();
          if (tokIn) TP.adminToken(tokIn);
          TP.post("/v1/admin/cases", {action: b.getAttribute("data-act"), id: b.getAttribute("data-id")}).then(function () {
            TP.load(true).then(function () { var m = TP.$("case-msg"); if (m) m.textContent = t("c_done"); });
          }).catch(function (e) { TP.$("case-msg").textContent = e.message; TP.$("case-msg").className = "neg"; });
        });
      });
    },
    csv: function () {
      if (!cs || !cs[0]) return null;
      var rows = [["id", "state", "store", "node", "title", "opened_at", "age_s", "assignee"]];
      cs[0].cases.forEach(function (c) { rows.push([c.id, c.state, c.store, c.node, c.title ? c.title[TP.lang] : "", c.opened_at, c.age_s, c.assignee]); });
      return rows;
    }
  };

  TP.init();
})();
