/*! Augury browser tracker: page views and custom events to the Augury collector. docs/tracker.md
 *
 * Copy-paste snippet (the endpoint is the collector's base URL; the first script is optional:
 * it lets the page call augury.track / augury.identify before this file has run):
 *
 *   <script>
 *     window.augury = window.augury || [];
 *     for (const m of ["track", "identify"])
 *       augury[m] = augury[m] || ((...a) => augury.push([m, ...a]));
 *   </script>
 *   <script src="https://collector.example.com/augury.js"
 *           data-endpoint="https://collector.example.com" defer></script>
 *
 *   augury.track("add_to_cart", { sku: "westmalle-tripel", qty: 1 });  // anywhere after
 *
 * Options: data-* attributes of the script tag, or window.auguryConfig = {...} set before it
 * (which wins over the attributes):
 *   endpoint           data-endpoint              required; events go to {endpoint}/events/batch
 *   userId             data-user-id               the user id; else the last identify(), else
 *                                                 "anon-" + the device id
 *   country            data-country               two letters; else navigator.language's region
 *                                                 ("nl-BE" -> "BE"); else "ZZ"
 *   respectDoNotTrack  data-respect-do-not-track  default true: with DNT or GPC on, send nothing
 *   batchSize          data-batch-size            default 20 (1..500) events per request
 *   flushIntervalMs    data-flush-interval-ms     default 2000: how often the queue is sent
 *   debug              data-debug                 log what happens to the console
 *
 * API (window.augury): track(name, props), identify(userId or null), flush() -> Promise,
 * ids() -> {userId, deviceId, sessionId} (what the events carry), push([method, ...args]). An event name is lowercased, each character outside [a-z0-9_]
 * becomes "_", and it is cut to 64 characters: track("Add to cart!") sends "add_to_cart_".
 * Page views ("page_view") are sent on load and whenever the SPA changes pathname + search
 * (history.pushState / replaceState / popstate). Plain ES2017, no dependencies; nothing it
 * does throws into the page.
 */
(() => {
  "use strict";
  const w = window, d = document, n = navigator, P = "augury:", VERSION = "1.0.0";
  const MAX_QUEUE = 1000, MAX_EVENT = 16384, MAX_BEACON = 61440, MAX_BACKOFF = 6e4;
  // A beaconed event stays queued and is resent by fetch, whose answer is read (a beacon's is
  // not); if the beacon did arrive, the job drops the copy by event_id, but it remembers an id
  // for 10 minutes only (its dedupe horizon). So an event beaconed longer ago than this is
  // dropped, not resent: it most probably arrived, and if not it is lost. Half the horizon: the
  // other half covers the resend's back-off (up to 60 s) and the records' way to the job.
  const BEACON_RESEND_MS = 5 * 6e4;
  const pre = Array.isArray(w.augury) ? w.augury : [];
  if (w.augury && w.augury.version) return; // loaded twice: the first one runs
  const warn = (...a) => { try { console.warn("[augury]", ...a); } catch (e) { /* no console */ } };
  const guard = (f) => (...a) => { try { return f(...a); } catch (e) { warn(e); } };
  const none = () => Promise.resolve();
  const api = { version: VERSION, track: none, identify: none, flush: none };
  api.push = guard((c) => api[c[0]](...c.slice(1)));
  w.augury = api;

  try {
    const s = d.currentScript || d.querySelector("script[data-endpoint]") || {};
    const c = Object.assign({}, s.dataset, w.auguryConfig);
    const bool = (v, dflt) => v == null ? dflt : !/^(false|0)$/.test(v);
    const num = (v, dflt, lo, hi) => (v = Math.floor(Number(v))) >= lo ? Math.min(v, hi) : dflt;
    const log = bool(c.debug, false) ? (...a) => console.log("[augury]", ...a) : () => {};
    if (bool(c.respectDoNotTrack, true) &&
        (n.doNotTrack === "1" || w.doNotTrack === "1" || n.globalPrivacyControl === true)) {
      return log("DNT/GPC: off");
    }
    const endpoint = String(c.endpoint || "").replace(/\/+$/, "");
    if (!endpoint) return warn("no data-endpoint");
    const batchSize = num(c.batchSize, 20, 1, 500);
    const interval = num(c.flushIntervalMs, 2000, 50, 864e5);
    const stale = 3 * interval + 1e4; // another page's queue untouched this long is adopted

    // Storage: localStorage / sessionStorage, else memory (private modes, disabled storage).
    const storage = (name, m = {}) => {
      try { const st = w[name]; st.setItem(P, "1"); st.removeItem(P); return st; } catch (e) {
        return { getItem: (k) => k in m ? m[k] : null, setItem: (k, v) => { m[k] = String(v); }, removeItem: (k) => delete m[k] };
      }
    };
    const ls = storage("localStorage"), ss = storage("sessionStorage");
    const get = (st, k) => { try { return st.getItem(P + k); } catch (e) { return null; } };
    const set = (st, k, v) => {
      try { v == null ? st.removeItem(P + k) : st.setItem(P + k, v); } catch (e) { log(e); } // full
    };

    const uuid = () => {
      const cr = w.crypto;
      if (cr && cr.randomUUID) return cr.randomUUID();
      const b = cr.getRandomValues(new Uint8Array(16));
      b[6] = (b[6] & 15) | 64; // version 4
      b[8] = (b[8] & 63) | 128; // variant 10
      return Array.from(b, (x) => (x + 256).toString(16).slice(1)).join("")
        .replace(/(.{8})(.{4})(.{4})(.{4})/, "$1-$2-$3-$4-");
    };
    let device = get(ls, "device");
    if (!device) set(ls, "device", (device = "web-" + uuid()));
    let session = get(ss, "session");
    if (!session) set(ss, "session", (session = uuid()));
    const cut = (x) => Array.from(String(x)).slice(0, 128).join(""); // code points, not halves
    let user = c.userId ? cut(c.userId) : get(ls, "user");
    const cc = (x) => /^[A-Za-z]{2}$/.test(x) ? x.toUpperCase() : "";
    const region = /[-_]([A-Za-z]{2})(?![A-Za-z0-9])/.exec(n.language || "");
    const country = cc(c.country) || cc(region && region[1]) || "ZZ";
    const path = () => {
      const p = (location.pathname + location.search).slice(0, 2048);
      return p[0] === "/" ? p : undefined; // undefined: no page_url
    };

    // The queue: this page's events not yet stored by the collector, persisted under a key of
    // its own (pages in other tabs write theirs), with the time it was last written and, in b,
    // when a beacon carried each event that one did (event_id -> ms).
    const key = "q:" + uuid();
    let q = [], b = {}, closed = false; // closed: the page is hidden for good (t: 0, adopt at once)
    const save = () => {
      const marks = {};
      for (const e of q) if (b[e.event_id]) marks[e.event_id] = b[e.event_id];
      b = marks;
      set(ls, key, q.length ? JSON.stringify({ t: closed ? 0 : Date.now(), q, b }) : null);
    };
    const remove = (ids) => { q = q.filter((e) => !ids.has(e.event_id)); save(); };
    const cap = () => {
      if (q.length > MAX_QUEUE) warn("queue full, dropped", q.splice(0, q.length - MAX_QUEUE).length);
    };
    // Queues left by closed or reloaded pages (or by pages idle for long) are taken over.
    const adopt = () => {
      if (!(ls instanceof Storage)) return;
      for (const k of Object.keys(ls)) {
        if (!k.startsWith(P + "q:") || k === P + key) continue;
        try {
          const v = JSON.parse(ls.getItem(k));
          if (v && v.t > Date.now() - stale) continue;
          ls.removeItem(k);
          const have = new Set(q.map((e) => e.event_id));
          q = v.q.filter((e) => !have.has(e.event_id)).concat(q);
          for (const id in v.b || {}) b[id] = Math.min(v.b[id], b[id] || Infinity); // the first
        } catch (e) { try { ls.removeItem(k); } catch (e2) { /* gone */ } }
      }
      cap();
      save();
    };

    const add = (name, props) => {
      const e = {
        event_id: uuid(), user_id: user || "anon-" + device, device_id: device, client_event: name,
        client_timestamp: new Date().toISOString(), countrycode: country, page_url: path(),
        session_id: session,
      };
      if (props && typeof props === "object") e.props = JSON.parse(JSON.stringify(props));
      if (JSON.stringify(e).length > MAX_EVENT) { warn("props over 16 KB dropped", name); delete e.props; }
      q.push(e);
      cap();
      save();
      log("queued", e);
      if (q.length >= batchSize) flush();
    };

    let running = null, fails = 0, next = 0, solo = 0;
    const send = async (force) => {
      const old = Date.now() - BEACON_RESEND_MS;
      const gone = new Set(q.filter((e) => b[e.event_id] < old).map((e) => e.event_id));
      if (gone.size) { log("beaconed over 5 min ago: not resent", gone); remove(gone); }
      if (!q.length || (!force && Date.now() < next)) return;
      const one = solo > 0, batch = q.slice(0, one ? 1 : batchSize), done = new Set();
      let retry = false;
      try {
        const r = await fetch(endpoint + "/events/batch", {
          method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ events: batch }), credentials: "omit",
        });
        if (r.status === 400 || r.status === 413) {
          // Refused: resend one by one, so that only the events refused alone are dropped.
          if (batch.length > 1) solo = batch.length;
          else { warn("refused, dropped", r.status, await r.text(), batch[0]); done.add(batch[0].event_id); }
        } else if (r.ok) {
          const results = ((await r.json()) || {}).results || [];
          batch.forEach((e, i) => { if (results[i] && results[i].error_code) retry = true; else done.add(e.event_id); });
        } else retry = true;
        log("sent", r.status, batch, done);
      } catch (e) {
        retry = true;
        log(e);
      }
      if (one && !retry) solo--;
      if (done.size) remove(done);
      if (retry) {
        fails++; // resent later with the same event_id: the job counts each event once
        next = Date.now() + Math.min(MAX_BACKOFF, interval * 2 ** fails) * (0.5 + Math.random() / 2);
      } else {
        fails = next = 0;
        if (solo || q.length >= batchSize) setTimeout(flush, 0);
      }
    };
    const flush = (force) => running ||
      (running = send(force).catch(warn).then(() => { running = null; }));

    // Page hidden or left: beacon the events no beacon carried yet, in chunks (text/plain,
    // exactly: no CORS preflight). They stay queued, marked, until a fetch's answer: the page
    // resends them when it flushes again, or the next page of the site that adopts the queue.
    const beacon = () => {
      if (!n.sendBeacon) return;
      let chunk = [], size = 12, ok = true;
      const post = () => {
        ok = n.sendBeacon(endpoint + "/events/batch",
          new Blob([JSON.stringify({ events: chunk })], { type: "text/plain" }));
        log("beacon", ok, chunk);
        const now = Date.now();
        if (ok) for (const e of chunk) b[e.event_id] = now;
        chunk = [];
        size = 12;
      };
      for (const e of q) {
        if (b[e.event_id]) continue;
        const bytes = new Blob([JSON.stringify(e)]).size + 1;
        if (size + bytes > MAX_BEACON || chunk.length === 500) { post(); if (!ok) break; }
        chunk.push(e);
        size += bytes;
      }
      if (ok && chunk.length) post();
      save();
    };
    d.addEventListener("visibilitychange", guard(() => {
      if (d.visibilityState === "hidden") beacon(); else { adopt(); flush(); } // visible again
    }));
    w.addEventListener("pagehide", guard(() => { closed = true; beacon(); save(); }));
    w.addEventListener("pageshow", guard(() => { closed = false; save(); })); // back from bfcache

    // Page views: on load and on each SPA navigation that changes pathname + search.
    let last;
    const pageView = guard(() => { const p = path(); if (p !== last) { last = p; add("page_view"); } });
    for (const m of ["pushState", "replaceState"]) {
      const orig = history[m];
      history[m] = function (...a) { const r = orig.apply(this, a); pageView(); return r; };
    }
    w.addEventListener("popstate", pageView);

    api.track = guard((name, props) => {
      const ev = String(name).toLowerCase().replace(/[^a-z0-9_]/g, "_").slice(0, 64);
      if (ev) add(ev, props); else warn("empty event name");
    });
    api.identify = guard((id) => {
      user = id == null || id === "" ? null : cut(id);
      set(ls, "user", user);
    });
    // After a send in flight, send again: what was queued meanwhile is in the promise too.
    api.ids = guard(() => ({ userId: user || "anon-" + device, deviceId: device, sessionId: session }));
    api.flush = guard(() => { adopt(); return (running || none()).then(() => flush(true)); });

    adopt();
    const calls = pre.filter((x) => Array.isArray(x) && api[x[0]]);
    calls.filter((x) => x[0] === "identify").forEach(api.push); // before the first page view
    pageView();
    calls.filter((x) => x[0] !== "identify").forEach(api.push);
    setInterval(guard(() => { adopt(); flush(); }), interval);
    log("ready", device, session, country);
  } catch (e) {
    warn(e);
  }
})();
