// Augury dashboard: reads the read API on this origin and draws SVG charts (no library, works
// offline). Every mark carries data-* attributes with the value it shows, for people and tests.
"use strict";

const REFRESH_MS = 5000;
const MINUTE_MS = 60 * 1000;
const params = new URLSearchParams(location.search);
const MINUTES = Math.max(1, Number(params.get("minutes")) || 60);
const USER = params.get("user");
const SVG = "http://www.w3.org/2000/svg";
const DURATION_BUCKETS = [ // [label, min ms (inclusive), max ms (exclusive)]
  ["<10s", 0, 10e3], ["10-30s", 10e3, 30e3], ["30-60s", 30e3, 60e3], ["1-2m", 60e3, 120e3],
  ["2-5m", 120e3, 300e3], ["5-10m", 300e3, 600e3], ["10m+", 600e3, Infinity],
];

async function api(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function clear(svg) {
  while (svg.firstChild) svg.removeChild(svg.firstChild);
  const { width, height } = svg.getBoundingClientRect();
  return { w: width || 600, h: height || 260 };
}

function empty(svg, text) {
  const { w, h } = clear(svg);
  el("text", { x: w / 2, y: h / 2, "text-anchor": "middle", class: "empty" }, svg).textContent = text;
}

// Windows are as long as the pipeline settings say (the API's window_ms): label them to the
// second when they are not whole minutes.
let windowMs = MINUTE_MS;
const clock = (ms) => new Date(ms).toISOString().slice(11, windowMs % MINUTE_MS ? 19 : 16);

function windowSize(ms) {
  if (ms % MINUTE_MS) return `${ms / 1000}-second`;
  return ms === MINUTE_MS ? "one-minute" : `${ms / MINUTE_MS}-minute`;
}

function lineChart(svg, windows, series) {
  if (!windows.length) return empty(svg, "no windows in range yet");
  const { w, h } = clear(svg);
  const pad = { l: 44, r: 28, t: 22, b: 22 };
  const rows = [...windows].sort((a, b) => a.start_ms - b.start_ms);
  const max = Math.max(1, ...rows.flatMap((r) => series.map((s) => r[s])));
  const x = (i) => pad.l + (rows.length === 1 ? (w - pad.l - pad.r) / 2 : i * (w - pad.l - pad.r) / (rows.length - 1));
  const y = (v) => h - pad.b - v * (h - pad.t - pad.b) / max;
  for (const v of [0, max / 2, max]) {
    el("text", { x: pad.l - 6, y: y(v) + 4, "text-anchor": "end", class: "axis" }, svg).textContent = Math.round(v);
  }
  rows.forEach((r, i) => {
    if (rows.length <= 12 || i % Math.ceil(rows.length / 12) === 0) {
      el("text", { x: x(i), y: h - 6, "text-anchor": "middle", class: "axis" }, svg).textContent = clock(r.start_ms);
    }
  });
  series.forEach((s, k) => {
    el("path", { class: `line series-${s}`, d: rows.map((r, i) => `${i ? "L" : "M"}${x(i)},${y(r[s])}`).join(" ") }, svg);
    el("text", { x: pad.l + k * 90, y: 12, class: `label series-${s}` }, svg).textContent = `— ${s}`;
    rows.forEach((r, i) => {
      const dot = el("circle", {
        class: `point ${s} ${r.final ? "final" : "early"}`, cx: x(i), cy: y(r[s]), r: 3.5,
        "data-series": s, "data-window": r.start_ms, "data-end": r.end_ms, "data-value": r[s],
        "data-final": r.final ? 1 : 0,
      }, svg);
      el("title", {}, dot).textContent = `${clock(r.start_ms)} ${s}: ${r[s]}${r.final ? "" : " (early)"}`;
    });
  });
}

function barChart(svg, items, emptyText) {
  if (!items.length || items.every((it) => it.value === 0) && emptyText) return empty(svg, emptyText);
  const { w, h } = clear(svg);
  const labelW = Math.min(160, w * 0.4);
  const rowH = Math.min(26, (h - 8) / items.length);
  const max = Math.max(1, ...items.map((it) => it.value));
  items.forEach((it, i) => {
    const y = 4 + i * rowH;
    el("text", { x: labelW - 6, y: y + rowH * 0.65, "text-anchor": "end", class: "label" }, svg).textContent = it.label;
    const width = Math.max(1, (w - labelW - 50) * it.value / max);
    const attrs = { class: "bar", x: labelW, y, width, height: rowH * 0.75, "data-label": it.label, "data-value": it.value };
    Object.assign(attrs, it.attrs || {});
    const bar = el("rect", attrs, svg);
    el("title", {}, bar).textContent = `${it.label}: ${it.value}`;
    el("text", { x: labelW + width + 4, y: y + rowH * 0.65, class: "axis" }, svg).textContent = it.value;
  });
}

function countries(windows) {
  const sums = {};
  for (const w of windows) for (const [cc, n] of Object.entries(w.countries)) sums[cc] = (sums[cc] || 0) + n;
  return Object.entries(sums).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 10)
    .map(([label, value]) => ({ label, value }));
}

function durations(sessions) {
  return DURATION_BUCKETS.map(([label, lo, hi]) => ({
    label,
    value: sessions.filter((s) => s.duration_ms >= lo && s.duration_ms < hi).length,
    attrs: { "data-min-ms": lo, "data-max-ms": hi === Infinity ? "" : hi },
  }));
}

function tiles(totals, health) {
  const box = document.getElementById("totals");
  box.replaceChildren(...Object.keys(totals).map((name) => {
    const tile = document.createElement("div");
    tile.className = "tile";
    tile.dataset.total = name;
    tile.innerHTML = `<b>${totals[name]}</b><span>${name.replace("_", " ")}</span>`;
    return tile;
  }));
  const fresh = document.createElement("div");
  fresh.className = "tile";
  fresh.dataset.total = "freshness";
  fresh.innerHTML = `<b>${health.freshness_s == null ? "–" : health.freshness_s.toFixed(1) + " s"}</b><span>newest result age</span>`;
  box.appendChild(fresh);
}

// ?user=ID: that user's closed sessions (the demo shop links here with its visitor's id).
function userSessions(list) {
  const body = document.getElementById("user-sessions");
  const rows = list.sessions.map((s) => {
    const tr = document.createElement("tr");
    tr.dataset.session = s.session_id;
    const cells = [new Date(s.start_ms).toISOString().slice(11, 19), `${(s.duration_ms / 1000).toFixed(0)} s`,
      s.events, s.first_event, s.last_event, s.device_id, s.countrycode];
    for (const c of cells) tr.appendChild(document.createElement("td")).textContent = String(c);
    return tr;
  });
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = tr.appendChild(document.createElement("td"));
    td.colSpan = 7;
    td.textContent = "no closed session yet";
    rows.push(tr);
  }
  body.replaceChildren(...rows);
}

async function refresh() {
  const status = document.getElementById("status");
  const to = Date.now();
  const range = `from=${to - MINUTES * MINUTE_MS}&to=${to}`;
  try {
    const [win, pages, sess, totals, health, mine] = await Promise.all([
      api(`/windows?${range}&limit=1000`), api(`/pages/top?${range}&limit=10&windows=1000`),
      api(`/sessions?${range}&limit=1000`), api("/totals"), api("/health"),
      USER ? api(`/users/${encodeURIComponent(USER)}/sessions?limit=100`) : null,
    ]);
    if (mine) userSessions(mine);
    windowMs = win.window_ms;
    for (const node of document.querySelectorAll(".window-size")) node.textContent = windowSize(windowMs);
    lineChart(document.getElementById("per-window"), win.windows, ["events", "users", "sessions"]);
    barChart(document.getElementById("top-pages"), pages.pages.map((p) => ({ label: p.page_url, value: p.events })), "no pages yet");
    barChart(document.getElementById("countries"), countries(win.windows), "no countries yet");
    barChart(document.getElementById("session-durations"), durations(sess.sessions), "no closed sessions yet");
    tiles(totals, health);
    status.className = "";
    status.textContent = `${win.windows.length} windows, ${sess.sessions.length} sessions; updated ${new Date().toISOString().slice(11, 19)} UTC`;
    document.body.dataset.from = to - MINUTES * MINUTE_MS;
    document.body.dataset.windowMs = windowMs;
    document.body.dataset.to = to;
    document.body.dataset.rendered = String(Number(document.body.dataset.rendered || 0) + 1);
  } catch (err) {
    status.className = "error";
    status.textContent = `cannot read the API: ${err.message}`;
  }
}

document.getElementById("minutes").textContent = MINUTES;
if (USER) {
  document.getElementById("user").hidden = false;
  document.getElementById("user-name").textContent = USER;
}
refresh();
setInterval(refresh, REFRESH_MS);
