// The command center's page: talks to the public API only; the tokens live in this closure, never in storage.
(function () {
  "use strict";

  var API = "/api/v1";
  var SVG = "http://www.w3.org/2000/svg";
  // Sequential and neutral (no alarm red): many reports mean much use of the channel, not a badly run area.
  var PALETTE = ["#1b2a47", "#22476e", "#1f6f8b", "#20a39e", "#8cc152", "#f4d35e"];
  var T = {
    id: {
      title: "Pusat Komando JAKI", period: "Periode", period_1: "Bulan ini", period_3: "3 bulan terakhir",
      period_12: "12 bulan terakhir", logout: "Keluar", login_title: "Masuk petugas",
      login_hint: "Untuk admin, pusat komando dan admin dinas. Token hanya disimpan di memori halaman ini.",
      nik: "NIK", password: "Kata sandi", login: "Masuk", kpi_today: "Laporan hari ini", kpi_today_sub: "sejak 00.00 WIB",
      kpi_open: "Masih terbuka", kpi_overdue: "Lewat tenggat", kpi_within_sla: "Selesai dalam SLA",
      map_title: "Laporan per kelurahan", note: "Jumlah laporan mencerminkan seberapa banyak warga memakai kanal ini, bukan seberapa baik suatu wilayah dikelola.",
      detail_title: "Pilih kelurahan", detail_hint: "Klik sebuah kelurahan di peta untuk melihat laporannya.",
      trend_title: "Tren bulanan", backlog_title: "Tunggakan per dinas", agency: "Dinas", open: "Terbuka",
      overdue: "Lewat tenggat", red: "Merah", oldest: "Tertua", board_title: "Integrasi dinas",
      apps_title: "Perizinan dan surat", type: "Jenis", applications: "Permohonan", decided: "Diputus",
      within: "Dalam SLA", median_days: "Median hari kerja", other_lang: "English",
      red_flags: "{n} merah (terbuka ≥ {d} hari)", oldest_open: "tertua {d} hari", resolved_of: "{r} selesai dari {n} laporan",
      reports_in: "{n} laporan dalam periode", integrated_of: "{i} dari {t} terintegrasi · {c} tersambung API",
      days: "{d} hari", days_short: "{d} hr", none: "Tidak ada laporan publik di kelurahan ini.", loading: "Memuat…",
      latest: "Laporan terbaru", filed: "laporan", resolved: "selesai", legend_zero: "0", local: "data lokal",
      not_integrated: "belum terintegrasi", as_of: "Jumlah per {c}; median per {m}.", login_failed: "Gagal masuk.",
      not_allowed: "Akun ini tidak berhak melihat statistik.", late: "lewat tenggat", count_label: "Laporan",
      resolved_label: "Selesai", red_note: "merah = terbuka ≥ {d} hari", map_desc: "Peta 267 kelurahan DKI Jakarta"
    },
    en: {
      title: "JAKI Command Center", period: "Period", period_1: "This month", period_3: "Last 3 months",
      period_12: "Last 12 months", logout: "Log out", login_title: "Staff login",
      login_hint: "For admins, the command center and agency admins. The token is kept in this page's memory only.",
      nik: "NIK", password: "Password", login: "Log in", kpi_today: "Reports today", kpi_today_sub: "since 00:00 WIB",
      kpi_open: "Still open", kpi_overdue: "Past deadline", kpi_within_sla: "Resolved within SLA",
      map_title: "Reports per kelurahan", note: "Report counts reflect how much residents use this channel, not how well an area is run.",
      detail_title: "Pick a kelurahan", detail_hint: "Click a kelurahan on the map to see its reports.",
      trend_title: "Monthly trend", backlog_title: "Backlog per agency", agency: "Agency", open: "Open",
      overdue: "Overdue", red: "Red", oldest: "Oldest", board_title: "Agency integration",
      apps_title: "Permits and letters", type: "Type", applications: "Applications", decided: "Decided",
      within: "Within SLA", median_days: "Median working days", other_lang: "Bahasa Indonesia",
      red_flags: "{n} red (open ≥ {d} days)", oldest_open: "oldest {d} days", resolved_of: "{r} resolved of {n} reports",
      reports_in: "{n} reports in the period", integrated_of: "{i} of {t} integrated · {c} connected by API",
      days: "{d} days", days_short: "{d} d", none: "No public reports in this kelurahan.", loading: "Loading…",
      latest: "Latest reports", filed: "reports", resolved: "resolved", legend_zero: "0", local: "local data",
      not_integrated: "not integrated", as_of: "Counts as of {c}; medians as of {m}.", login_failed: "Login failed.",
      not_allowed: "This account may not see the statistics.", late: "overdue", count_label: "Reports",
      resolved_label: "Resolved", red_note: "red = open ≥ {d} days", map_desc: "Map of Jakarta's 267 kelurahan"
    }
  };

  var lang = pickLanguage();
  var session = { access: null, refresh: null };
  var cache = { geo: null, data: null, selected: null };

  function pickLanguage() {
    var asked = new URLSearchParams(window.location.search).get("lang");
    if (asked === "en" || asked === "id") return asked;
    return document.documentElement.lang === "en" ? "en" : "id"; // the server's pick from Accept-Language
  }

  function t(key, params) {
    var text = (T[lang] && T[lang][key]) || T.id[key] || key;
    Object.keys(params || {}).forEach(function (name) { text = text.replace("{" + name + "}", params[name]); });
    return text;
  }

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  function fmt(n) { return n === null || n === undefined ? "–" : Number(n).toLocaleString(lang === "en" ? "en-GB" : "id-ID"); }
  function pct(x) { return x === null || x === undefined ? "–" : (Math.round(x * 1000) / 10).toLocaleString(lang === "en" ? "en-GB" : "id-ID") + "%"; }
  function when(iso) {
    return iso ? new Date(iso).toLocaleString(lang === "en" ? "en-GB" : "id-ID", { timeZone: "Asia/Jakarta", dateStyle: "medium", timeStyle: "short" }) : "–";
  }

  function translateStatic() {
    document.documentElement.lang = lang;
    document.title = t("title");
    document.querySelectorAll("[data-t]").forEach(function (node) { node.textContent = t(node.getAttribute("data-t")); });
    $("lang").textContent = t("other_lang");
    $("map-desc").textContent = t("map_desc");
  }

  // ---- the API ------------------------------------------------------------------------------------------

  function request(path, options, retried) {
    options = options || {};
    var headers = { "Accept-Language": lang, Accept: "application/json" };
    if (options.body) headers["Content-Type"] = "application/json";
    var token = options.token || session.access;
    if (token) headers.Authorization = "Bearer " + token;
    return fetch(API + path, { method: options.method || "GET", headers: headers, body: options.body, credentials: "omit", cache: "no-store" })
      .then(function (response) {
        if (response.status === 401 && session.refresh && !retried && !options.token) {
          return refresh().then(function () { return request(path, options, true); });
        }
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (!response.ok) { var error = new Error(body.message || response.statusText); error.status = response.status; throw error; }
          return body;
        });
      });
  }

  function refresh() {
    var token = session.refresh;
    session.refresh = null;
    return request("/auth/refresh", { method: "POST", token: token }).then(function (pair) {
      session.access = pair.access_token;
      session.refresh = pair.refresh_token;
    }).catch(function (error) { logout(); throw error; });
  }

  function periodArgs() {
    var months = Number($("period").value || 12);
    var now = new Date(Date.now() + 7 * 3600 * 1000); // Jakarta's month (WIB, UTC+7, no daylight saving)
    var until = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
    var since = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - (months - 1), 1));
    function ym(d) { return d.getUTCFullYear() + "-" + String(d.getUTCMonth() + 1).padStart(2, "0"); }
    return "since=" + ym(since) + "&until=" + ym(until);
  }

  // ---- login --------------------------------------------------------------------------------------------

  function onLogin(event) {
    event.preventDefault();
    $("login-error").textContent = "";
    var nik = $("nik").value, password = $("password").value;
    request("/auth/login", { method: "POST", body: JSON.stringify({ nik: nik, password: password }) })
      .then(function (pair) {
        session.access = pair.access_token;
        session.refresh = pair.refresh_token;
        $("password").value = "";
        return request("/stats/summary?" + periodArgs());
      })
      .then(function () { showDashboard(); })
      .catch(function (error) {
        $("login-error").textContent = error.status === 403 ? t("not_allowed") : (error.message || t("login_failed"));
        if (error.status === 403) logout(true);
      });
  }

  function logout(keepMessage) {
    var token = session.access, refreshToken = session.refresh;
    session.access = session.refresh = null;
    if (token) {
      request("/auth/logout", { method: "POST", token: token, body: JSON.stringify({ refresh_token: refreshToken }) }).catch(function () {});
    }
    cache.data = null;
    $("dashboard").hidden = true;
    $("logout").hidden = true;
    document.querySelector(".period").hidden = true;
    $("login").hidden = false;
    if (!keepMessage) $("login-error").textContent = "";
  }

  function showDashboard() {
    $("login").hidden = true;
    $("dashboard").hidden = false;
    $("logout").hidden = false;
    document.querySelector(".period").hidden = false;
    load();
  }

  // ---- loading ------------------------------------------------------------------------------------------

  function load() {
    var period = periodArgs();
    var geo = cache.geo ? Promise.resolve(cache.geo) : fetch(API + "/areas.geojson?level=kelurahan").then(function (r) { return r.json(); });
    return Promise.all([
      geo,
      request("/stats/summary?" + period),
      request("/stats/reports?group_by=kelurahan&" + period),
      request("/stats/reports?group_by=month&" + period),
      request("/stats/backlog?group_by=agency"),
      request("/stats/agencies"),
      request("/stats/applications?" + period)
    ]).then(function (answers) {
      cache.geo = answers[0];
      cache.data = { summary: answers[1], kelurahan: answers[2], months: answers[3], backlog: answers[4], board: answers[5], apps: answers[6] };
      render();
    }).catch(function (error) {
      if (error.status === 401 || error.status === 403) { logout(true); $("login-error").textContent = error.message; }
    });
  }

  function render() {
    var d = cache.data;
    if (!d) return;
    renderKpis(d.summary);
    renderMap(cache.geo, d.kelurahan);
    renderTrend(d.months);
    renderBacklog(d.backlog);
    renderBoard(d.board);
    renderApps(d.apps);
    $("as-of").textContent = t("as_of", { c: when(d.kelurahan.counts_as_of), m: when(d.kelurahan.medians_as_of) });
    if (cache.selected) select(cache.selected);
  }

  function setKpi(name, value, shown) {
    var node = document.querySelector('[data-kpi="' + name + '"]');
    node.setAttribute("data-value", value === null || value === undefined ? "" : String(value));
    node.querySelector(".kpi-value").textContent = shown;
  }

  function renderKpis(s) {
    setKpi("today", s.today, fmt(s.today));
    setKpi("open", s.open, fmt(s.open));
    setKpi("overdue", s.overdue, fmt(s.overdue));
    setKpi("within_sla", s.within_sla_share, pct(s.within_sla_share));
    $("kpi-oldest").textContent = s.oldest_open_hours ? t("oldest_open", { d: Math.floor(s.oldest_open_hours / 24) }) : "";
    var red = $("kpi-red");
    red.textContent = t("red_flags", { n: fmt(s.red_flagged), d: s.red_flag_days });
    red.className = "kpi-sub" + (s.red_flagged ? " red" : "");
    $("kpi-resolved").textContent = t("resolved_of", { r: fmt(s.resolved), n: fmt(s.filed) });
  }

  // ---- the map: an equirectangular projection fitted to the box, Kepulauan Seribu in an inset --------------

  function rings(geometry) {
    if (!geometry) return [];
    return geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  }

  function bounds(features) {
    var b = [Infinity, Infinity, -Infinity, -Infinity];
    features.forEach(function (f) {
      rings(f.geometry).forEach(function (polygon) {
        polygon.forEach(function (ring) {
          ring.forEach(function (p) {
            if (p[0] < b[0]) b[0] = p[0]; if (p[1] < b[1]) b[1] = p[1];
            if (p[0] > b[2]) b[2] = p[0]; if (p[1] > b[3]) b[3] = p[1];
          });
        });
      });
    });
    return b;
  }

  function projection(b, x, y, w, h) {
    var k = Math.cos(((b[1] + b[3]) / 2) * Math.PI / 180); // a degree of longitude is shorter than one of latitude
    var scale = Math.min(w / ((b[2] - b[0]) * k), h / (b[3] - b[1]));
    var dx = x + (w - (b[2] - b[0]) * k * scale) / 2, dy = y + (h - (b[3] - b[1]) * scale) / 2;
    return function (p) { return [dx + (p[0] - b[0]) * k * scale, dy + (b[3] - p[1]) * scale]; };
  }

  function pathOf(geometry, project) {
    var d = "";
    rings(geometry).forEach(function (polygon) {
      polygon.forEach(function (ring) {
        ring.forEach(function (p, i) { var q = project(p); d += (i ? "L" : "M") + q[0].toFixed(1) + " " + q[1].toFixed(1); });
        d += "Z";
      });
    });
    return d;
  }

  function classes(values) {
    var sorted = values.filter(function (v) { return v > 0; }).sort(function (a, b) { return a - b; });
    if (!sorted.length) return [];
    var breaks = [];
    for (var i = 1; i < PALETTE.length - 1; i++) breaks.push(sorted[Math.floor((i / (PALETTE.length - 1)) * (sorted.length - 1))]);
    return breaks.filter(function (v, i, all) { return all.indexOf(v) === i; });
  }

  function colour(value, breaks) {
    if (!value) return PALETTE[0];
    for (var i = 0; i < breaks.length; i++) if (value <= breaks[i]) return PALETTE[i + 1];
    return PALETTE[Math.min(breaks.length + 1, PALETTE.length - 1)];
  }

  function renderMap(geo, stats) {
    var map = $("map");
    var W = 900, H = 620;
    map.setAttribute("viewBox", "0 0 " + W + " " + H);
    while (map.lastChild && map.lastChild.tagName !== "desc") map.removeChild(map.lastChild);
    var counts = {};
    stats.rows.forEach(function (r) { counts[r.key] = r; });
    var islands = geo.features.filter(function (f) { return f.id.indexOf("31.01.") === 0; });
    var mainland = geo.features.filter(function (f) { return f.id.indexOf("31.01.") !== 0; });
    var main = projection(bounds(mainland), 10, 10, W - 20, H - 20);
    var inset = { x: 8, y: 8, w: 200, h: 150 }; // over the Java Sea, north-west of the mainland
    var island = projection(bounds(islands), inset.x + 6, inset.y + 16, inset.w - 12, inset.h - 22);
    map.appendChild(svg("rect", { class: "inset", x: inset.x, y: inset.y, width: inset.w, height: inset.h, rx: 6 }));
    var label = svg("text", { x: inset.x + 8, y: inset.y + 13 });
    label.textContent = "Kepulauan Seribu";
    map.appendChild(label);
    var breaks = classes(Object.keys(counts).map(function (k) { return counts[k].count; }));
    var group = svg("g", { id: "kelurahan" });
    geo.features.forEach(function (f) {
      var row = counts[f.id];
      var n = row ? row.count : 0;
      var shape = svg("path", {
        d: pathOf(f.geometry, f.id.indexOf("31.01.") === 0 ? island : main),
        fill: colour(n, breaks), "data-code": f.id, "data-count": String(n), tabindex: "0"
      });
      var title = svg("title");
      title.textContent = f.properties.name + ": " + fmt(n) + " " + t("filed");
      shape.appendChild(title);
      shape.addEventListener("click", function () { select(f.id); });
      shape.addEventListener("keydown", function (e) { if (e.key === "Enter") select(f.id); });
      group.appendChild(shape);
    });
    map.appendChild(group);
    $("map-total").textContent = t("reports_in", { n: fmt(stats.total.count) });
    renderLegend(breaks);
  }

  function renderLegend(breaks) {
    var legend = $("legend");
    legend.textContent = "";
    var edges = [0].concat(breaks);
    edges.forEach(function (edge, i) {
      var item = el("span");
      var swatch = svg("svg", { width: 14, height: 10 });
      swatch.appendChild(svg("rect", { width: 14, height: 10, rx: 2, fill: PALETTE[i] }));
      item.appendChild(swatch);
      var text = i === 0 ? t("legend_zero") : (edges[i - 1] + 1) + "–" + edge;
      item.appendChild(document.createTextNode(" " + text));
      legend.appendChild(item);
    });
    if (breaks.length) {
      var last = el("span");
      var sw = svg("svg", { width: 14, height: 10 });
      sw.appendChild(svg("rect", { width: 14, height: 10, rx: 2, fill: PALETTE[Math.min(breaks.length + 1, PALETTE.length - 1)] }));
      last.appendChild(sw);
      last.appendChild(document.createTextNode(" > " + breaks[breaks.length - 1]));
      legend.appendChild(last);
    }
  }

  function select(code) {
    cache.selected = code;
    document.querySelectorAll("#map path.selected").forEach(function (p) { p.classList.remove("selected"); });
    var shape = document.querySelector('#map path[data-code="' + code + '"]');
    if (shape) shape.classList.add("selected");
    var feature = cache.geo.features.filter(function (f) { return f.id === code; })[0];
    var row = cache.data.kelurahan.rows.filter(function (r) { return r.key === code; })[0];
    var detail = $("detail");
    detail.textContent = "";
    detail.setAttribute("data-code", code);
    detail.appendChild(el("h2", {}, feature ? feature.properties.name : code));
    detail.appendChild(el("p", { class: "meta" }, code + " · " + t("reports_in", { n: fmt(row ? row.count : 0) }) +
      (row ? " · " + fmt(row.resolved) + " " + t("resolved") : "")));
    detail.appendChild(el("h2", {}, t("latest")));
    var list = el("ol", { id: "detail-reports" });
    detail.appendChild(list);
    list.appendChild(el("li", { class: "meta" }, t("loading")));
    request("/reports?limit=20&area=" + encodeURIComponent(code)).then(function (page) {
      if (cache.selected !== code) return;
      list.textContent = "";
      if (!page.items.length) list.appendChild(el("li", { class: "meta" }, t("none")));
      page.items.forEach(function (r) {
        var item = el("li", { "data-report": r.id });
        item.appendChild(el("b", {}, r.category_name));
        item.appendChild(el("span", { class: "pill" }, r.public_status.label));
        if (r.sla_breached) item.appendChild(el("span", { class: "pill late" }, t("late")));
        item.appendChild(el("div", {}, r.description.length > 110 ? r.description.slice(0, 110) + "…" : r.description));
        item.appendChild(el("div", { class: "meta" }, r.reference + " · " + when(r.created_at) + (r.address ? " · " + r.address : "")));
        list.appendChild(item);
      });
    }).catch(function (error) { list.textContent = error.message; });
  }

  // ---- the trend chart ----------------------------------------------------------------------------------

  function renderTrend(stats) {
    var chart = $("trend");
    var W = 460, H = 230, left = 34, bottom = 26, top = 14;
    chart.setAttribute("viewBox", "0 0 " + W + " " + H);
    chart.textContent = "";
    var rows = stats.rows.slice().sort(function (a, b) { return a.key < b.key ? -1 : 1; });
    var max = Math.max.apply(null, [1].concat(rows.map(function (r) { return r.count; })));
    var step = Math.pow(10, Math.floor(Math.log10(max)));
    var ceiling = Math.ceil(max / step) * step;
    var plotH = H - bottom - top, slot = (W - left - 6) / Math.max(rows.length, 1);
    for (var g = 0; g <= 4; g++) {
      var y = top + plotH - (g / 4) * plotH;
      chart.appendChild(svg("line", { class: "axis", x1: left, x2: W - 4, y1: y, y2: y }));
      var tick = svg("text", { x: left - 4, y: y + 3, "text-anchor": "end" });
      tick.textContent = fmt(Math.round((g / 4) * ceiling));
      chart.appendChild(tick);
    }
    rows.forEach(function (r, i) {
      var x = left + i * slot + slot * 0.15, w = slot * 0.35;
      var h = (r.count / ceiling) * plotH, hr = (r.resolved / ceiling) * plotH;
      var bar = svg("rect", { class: "bar-count", x: x, y: top + plotH - h, width: w, height: h, "data-month": r.key, "data-count": r.count });
      var tip = svg("title"); tip.textContent = r.name + ": " + fmt(r.count) + " " + t("filed") + ", " + fmt(r.resolved) + " " + t("resolved");
      bar.appendChild(tip);
      chart.appendChild(bar);
      chart.appendChild(svg("rect", { class: "bar-resolved", x: x + w, y: top + plotH - hr, width: w, height: hr }));
      var label = svg("text", { x: x + w, y: H - 10, "text-anchor": "middle" });
      label.textContent = r.key.slice(5) + (r.key.slice(5) === "01" || i === 0 ? "/" + r.key.slice(2, 4) : "");
      chart.appendChild(label);
    });
    var key = svg("text", { x: W - 4, y: 10, "text-anchor": "end" });
    key.textContent = "■ " + t("count_label") + "  ■ " + t("resolved_label");
    chart.appendChild(key);
  }

  // ---- tables and the board -----------------------------------------------------------------------------

  function cell(text, cls) { return el("td", cls ? { class: cls } : {}, text); }

  function renderBacklog(b) {
    var body = document.querySelector("#backlog tbody");
    body.textContent = "";
    $("backlog-note").textContent = t("red_note", { d: b.red_flag_days });
    b.rows.forEach(function (r) {
      var tr = el("tr", { "data-agency": r.key });
      tr.appendChild(cell(r.name || r.key));
      tr.appendChild(cell(fmt(r.open), "num"));
      tr.appendChild(cell(fmt(r.overdue), "num"));
      tr.appendChild(cell(fmt(r.red_flagged), r.red_flagged ? "num red" : "num"));
      tr.appendChild(cell(r.oldest_hours === null ? "–" : t("days_short", { d: Math.floor(r.oldest_hours / 24) }), "num"));
      body.appendChild(tr);
    });
  }

  function renderBoard(board) {
    var grid = $("board");
    grid.textContent = "";
    $("board-count").textContent = t("integrated_of", { i: board.integrated, t: board.total, c: board.connected });
    board.rows.forEach(function (a) {
      var tile = el("div", { class: "tile " + (a.integrated ? "on" : "off"), "data-agency": a.code, title: a.name });
      tile.appendChild(el("b", {}, a.short_name));
      var state = el("div", { class: "state" });
      if (a.connector === "http") {
        state.appendChild(el("span", { class: "dot " + (a.breaker_state || "") }));
        state.appendChild(document.createTextNode((a.breaker_state || "?") + (a.latency_p50_ms !== null ? " · " + Math.round(a.latency_p50_ms) + " ms" : "")));
        if (a.last_success_at) state.appendChild(el("div", {}, "✓ " + when(a.last_success_at)));
      } else {
        state.textContent = a.integrated ? (a.connector === "local" ? t("local") : "✓") : t("not_integrated");
      }
      tile.appendChild(state);
      grid.appendChild(tile);
    });
  }

  function renderApps(apps) {
    var body = document.querySelector("#apps tbody");
    body.textContent = "";
    apps.rows.forEach(function (r) {
      var tr = el("tr", { "data-type": r.type_code });
      var name = cell(r.type_code);
      name.setAttribute("title", r.name);
      tr.appendChild(name);
      tr.appendChild(cell(fmt(r.applications), "num"));
      tr.appendChild(cell(fmt(r.decided), "num"));
      tr.appendChild(cell(pct(r.within_sla_share), "num"));
      tr.appendChild(cell(r.median_working_days === null ? "–" : fmt(r.median_working_days), "num"));
      body.appendChild(tr);
    });
  }

  function tick() {
    $("clock").textContent = new Date().toLocaleString(lang === "en" ? "en-GB" : "id-ID", { timeZone: "Asia/Jakarta", weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" }) + " WIB";
  }

  document.addEventListener("DOMContentLoaded", function () {
    translateStatic();
    tick();
    setInterval(tick, 15000);
    $("login-form").addEventListener("submit", onLogin);
    $("logout").addEventListener("click", function () { logout(); });
    $("period").addEventListener("change", function () { if (session.access) load(); });
    $("lang").addEventListener("click", function () {
      lang = lang === "id" ? "en" : "id";
      var url = new URL(window.location.href);
      url.searchParams.set("lang", lang);
      window.history.replaceState(null, "", url.toString());
      translateStatic();
      tick();
      if (session.access) load();
    });
    // A wall display refreshes itself; the counts are live, the medians as of their rollup.
    setInterval(function () { if (session.access) load(); }, 60000);
  });
})();
