// Installed in every sandbox context before the capability's module. Captures the host
// functions in closures and removes them from the global object, so capability code only ever
// sees `console`, `utils` and (when granted) `fetch`. Arguments crossing to the host are read
// once and copied as plain data: a Proxy or a `toString` that changes its answer gets no second
// read.
(function () {
  "use strict";
  const hostLog = globalThis.__host_log;
    const hostFetch = globalThis.__host_fetch;
    const hostDb = globalThis.__host_db;
  delete globalThis.__host_db;
  const hostAi = globalThis.__host_ai;
  delete globalThis.__host_ai;
  delete globalThis.__host_log;
  delete globalThis.__host_fetch;
  const freeze = Object.freeze;

  const text = (v) => {
    if (typeof v === "string") return v;
    try {
      const s = JSON.stringify(v);
      return s === undefined ? String(typeof v) : s;
    } catch (_) {
      return "[" + typeof v + "]";
    }
  };
  const log = (level) => (...args) => hostLog(level, args.map(text).join(" "));
  const console = freeze({ log: log("log"), info: log("info"), warn: log("warn"), error: log("error"), debug: log("debug") });

  // Numbers of a data set: plain numbers, or every finite numeric field of rows.
  const numbers = (data) => {
    const out = [];
    const push = (v) => {
      const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
      if (Number.isFinite(n)) out.push(n);
    };
    for (const row of Array.isArray(data) ? data : []) {
      if (row !== null && typeof row === "object") Object.values(row).forEach(push);
      else push(row);
    }
    return out;
  };
  const mean = (data) => {
    const xs = numbers(data);
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
  };
  const median = (data) => {
    const xs = numbers(data).sort((a, b) => a - b);
    if (!xs.length) return null;
    const m = xs.length >> 1;
    return xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
  };
  const standardDeviation = (data) => {
    const xs = numbers(data);
    if (xs.length < 2) return xs.length ? 0 : null;
    const mu = xs.reduce((a, b) => a + b, 0) / xs.length;
    return Math.sqrt(xs.reduce((a, b) => a + (b - mu) ** 2, 0) / (xs.length - 1));
  };
  // Tukey's fences: values beyond 1.5 interquartile ranges.
  const findOutliers = (data) => {
    const xs = numbers(data).sort((a, b) => a - b);
    if (xs.length < 4) return [];
    const q = (p) => {
      const i = (xs.length - 1) * p, lo = Math.floor(i), hi = Math.ceil(i);
      return xs[lo] + (xs[hi] - xs[lo]) * (i - lo);
    };
    const q1 = q(0.25), q3 = q(0.75), k = 1.5 * (q3 - q1);
    return xs.filter((x) => x < q1 - k || x > q3 + k);
  };
  // RFC 4180 CSV: quoted fields, escaped quotes, CRLF or LF. With a header row (default) each
  // row is an object; numeric-looking fields become numbers.
  const parseCSV = (input, options) => {
    const src = String(input);
    const header = !(options && options.header === false);
    const rows = [];
    let row = [], field = "", quoted = false, i = 0;
    while (i < src.length) {
      const c = src[i];
      if (quoted) {
        if (c === '"') {
          if (src[i + 1] === '"') { field += '"'; i += 2; continue; }
          quoted = false; i++; continue;
        }
        field += c; i++; continue;
      }
      if (c === '"') { quoted = true; i++; continue; }
      if (c === ",") { row.push(field); field = ""; i++; continue; }
      if (c === "\n" || c === "\r") {
        row.push(field); field = "";
        if (row.length > 1 || row[0] !== "") rows.push(row);
        row = [];
        i += c === "\r" && src[i + 1] === "\n" ? 2 : 1;
        continue;
      }
      field += c; i++;
    }
    if (field !== "" || row.length) { row.push(field); rows.push(row); }
    const value = (s) => (s.trim() !== "" && Number.isFinite(Number(s)) ? Number(s) : s);
    if (!header) return rows.map((r) => r.map(value));
    const [head = [], ...body] = rows;
    return body.map((r) => Object.fromEntries(head.map((h, j) => [h, value(r[j] ?? "")])));
  };
  const utils = freeze({ parseCSV, mean, median, standardDeviation, findOutliers, numbers, sum: (d) => numbers(d).reduce((a, b) => a + b, 0), min: (d) => Math.min(...numbers(d)), max: (d) => Math.max(...numbers(d)) });

  const fetch = hostFetch
    ? async function fetch(url, options) {
        const u = String(url);
        const o = options === undefined || options === null ? {} : JSON.parse(JSON.stringify(options));
        const method = String(o.method === undefined ? "GET" : o.method).toUpperCase();
        const headers = [];
        if (o.headers && typeof o.headers === "object") {
          for (const k of Object.keys(o.headers)) headers.push([String(k), String(o.headers[k])]);
        }
        const body = o.body === undefined || o.body === null ? null : typeof o.body === "string" ? o.body : JSON.stringify(o.body);
        const res = JSON.parse(await hostFetch(u, method, JSON.stringify(headers), body));
        return freeze({
          status: res.status,
          ok: res.status >= 200 && res.status < 300,
          headers: freeze(Object.fromEntries(res.headers)),
          text: async () => res.body,
          json: async () => JSON.parse(res.body),
        });
      }
    : undefined;

    // `db.query(sql, params)`: one parameterized statement on this capability's own database.
  const db = hostDb
    ? freeze({
        query: async (sql, params) => {
          const p = params === undefined || params === null ? [] : JSON.parse(JSON.stringify(params));
          if (!Array.isArray(p)) throw new TypeError("db.query parameters must be an array");
          return JSON.parse(await hostDb(String(sql), JSON.stringify(p)));
        },
      })
    : undefined;

    // `ai.call(prompt | { messages, system, temperature, max_tokens })`: the configured model.
  const ai = hostAi
    ? freeze({
        call: async (request) => {
          const r = typeof request === "string" ? { prompt: request } : JSON.parse(JSON.stringify(request ?? {}));
          return JSON.parse(await hostAi(JSON.stringify(r)));
        },
      })
    : undefined;

  Object.defineProperty(globalThis, "console", { value: console });
  if (ai) Object.defineProperty(globalThis, "ai", { value: ai });
  if (db) Object.defineProperty(globalThis, "db", { value: db });
  Object.defineProperty(globalThis, "utils", { value: utils });
  if (fetch) Object.defineProperty(globalThis, "fetch", { value: fetch });

  // The action's result as JSON text, refused as soon as it is known to exceed `cap` bytes:
  // the replacer counts what is written while it is written, so a 100 MiB string is refused
  // before any of it is copied (and long before the deadline). Answers -1 when too large.
  // `stringify` is captured now, before capability code could replace `JSON.stringify`.
  const stringify = JSON.stringify;
  Object.defineProperty(globalThis, "__capsmith_output", {
    value: (v, cap) => {
      let n = 0;
      const tooLarge = {};
      try {
        // A lower bound of the bytes written for each value (a separator, the key of an
        // object member, the string's characters), so nothing within the cap is refused; the
        // host checks the exact size of what comes out.
        return stringify(v, function (k, x) {
          n += 1 + (Array.isArray(this) ? 0 : k.length + 3);
          if (typeof x === "string") n += x.length + 2;
          if (n > cap) throw tooLarge;
          return x;
        });
      } catch (e) {
        if (e === tooLarge) return -1;
        throw e;
      }
    },
  });

  // `this` inside an action: the other actions, utils, config and the granted APIs.
  Object.defineProperty(globalThis, "__capsmith_this", {
    value: (actions, config) => {
      const self = Object.create(null);
      for (const k of Object.keys(actions)) if (typeof actions[k] === "function") self[k] = actions[k];
      self.utils = utils;
      self.config = freeze(config);
      self.console = console;
            if (fetch) self.fetch = fetch;
            if (db) self.db = db;
      if (ai) self.ai = ai;
      return freeze(self);
    },
  });
})();
