// Helpers shared by the trading and operations pages (exit pool, exchange, farmer, guardian): exact decimal
// parsing and formatting (amounts have 7 decimals, prices 18; BigInt, never floating point), times, the DOM
// builder the pages use, typed error display and the refresh loop of a page. Not a page: it exports no `render`.

/// Decimals of an amount (every asset: base units of 10^-7 token).
export const AMOUNT_DECIMALS = 7;
/// Decimals of a price (USD or quote per whole token).
export const PRICE_DECIMALS = 18;

/// Parses a non-negative decimal text into integer units with `decimals` fractional digits.
/// Throws an `Error` whose message says what is wrong in words a user understands.
export function parseDecimal(text, decimals, what = "value") {
  const s = String(text ?? "").trim();
  if (s === "") throw new Error(`${what}: enter a number`);
  if (s.startsWith("-")) throw new Error(`${what}: must not be negative`);
  const m = /^([0-9]+)(?:\.([0-9]*))?$/.exec(s) || /^()\.([0-9]+)$/.exec(s);
  if (!m) throw new Error(`${what}: "${s}" is not a decimal number (use digits and one point, e.g. 12.5)`);
  const frac = m[2] || "";
  if (frac.length > decimals) throw new Error(`${what}: at most ${decimals} decimals`);
  return BigInt((m[1] || "0") + frac.padEnd(decimals, "0"));
}

/// Formats integer units with `decimals` fractional digits, without trailing zeros (`12.5`, `0`).
export function formatUnits(units, decimals) {
  const neg = units < 0n;
  const digits = (neg ? -units : units).toString().padStart(decimals + 1, "0");
  const whole = digits.slice(0, digits.length - decimals);
  const frac = digits.slice(digits.length - decimals).replace(/0+$/, "");
  return (neg ? "-" : "") + whole + (frac ? "." + frac : "");
}

/// A decimal text as canonical wire text (no leading zeros or trailing zeros), after checking it.
export function canonicalDecimal(text, decimals, what) {
  return formatUnits(parseDecimal(text, decimals, what), decimals);
}

/// Amount units of a decimal amount string from the API (`"12.5"`); 0n for null.
export function amountUnits(text) {
  return text == null ? 0n : parseDecimal(text, AMOUNT_DECIMALS);
}

/// Sum of amount strings, as an amount string.
export function sumAmounts(texts) {
  return formatUnits(texts.reduce((acc, t) => acc + amountUnits(t), 0n), AMOUNT_DECIMALS);
}

/// Formats an amount string with thousands separators and its asset code: `1,234.5 TFT`.
export function fmtAmount(ctx, text, asset) {
  if (text == null) return "—";
  if (ctx?.ui?.fmt?.amount) return ctx.ui.fmt.amount(String(text), asset);
  const [whole, frac] = String(text).split(".");
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${grouped}${frac ? "." + frac : ""}${asset ? " " + asset : ""}`;
}

/// A price string shortened for display (at most `digits` decimals, never rounded up), with a unit.
export function fmtPrice(text, unit = "", digits = 6) {
  if (text == null) return "—";
  const [whole, frac = ""] = String(text).split(".");
  const cut = frac.slice(0, digits).replace(/0+$/, "");
  return `${whole}${cut ? "." + cut : ""}${unit ? " " + unit : ""}`;
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`.
export function fmtTime(unix) {
  if (unix == null) return "—";
  return new Date(Number(unix) * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/// Seconds as `2d 3h`, `4m 05s`, `12s`.
export function fmtDuration(seconds) {
  let s = Math.max(0, Math.floor(Number(seconds)));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, "0")}m`;
  if (m > 0) return `${m}m ${String(s).padStart(2, "0")}s`;
  return `${s}s`;
}

/// Basis points as a percentage text (`12.5%`).
export function fmtBps(bps) {
  return `${formatUnits(BigInt(bps), 2)}%`;
}

/// A 64-hex key shortened for tables (`ab12cd…ef90`); the full key is in the `title`.
export function shortKey(key) {
  return key ? `${key.slice(0, 8)}…${key.slice(-6)}` : "—";
}

/// Builds an element: `h("button", {type: "button", onclick: fn, dataset: {testid: "x"}}, "Text")`.
/// Attributes: `class`, `dataset`, `on*` handlers, booleans (`disabled`, `checked`, `required`), others as
/// attributes; `testid` is a shorthand for `data-testid`. Children: nodes, strings, numbers, arrays, null.
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "testid") node.setAttribute("data-testid", value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "value") node.value = value;
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/// Replaces the children of `node`.
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

let fieldCounter = 0;

/// A labelled input (or select, when `options` is given): `{label, name, value, hint, options, type, ...}`.
/// Returns `{wrap, input}`; the hint is linked by `aria-describedby`.
export function field({ label, name, hint, options, ...attrs }) {
  const id = `pg-${name}-${++fieldCounter}`;
  const hintId = hint ? `${id}-hint` : null;
  const common = { id, name, "aria-describedby": hintId, ...attrs };
  const input = options
    ? h("select", common, options.map(([value, text]) => h("option", { value }, text)))
    : h("input", { type: "text", autocomplete: "off", ...common });
  if (options && attrs.value != null) input.value = attrs.value;
  const wrap = h("div", { class: "field" }, h("label", { for: id }, label), input,
    hint ? h("p", { id: hintId, class: "help" }, hint) : null);
  return { wrap, input };
}

let sectionCounter = 0;

/// A card section labelled by its `<h2>` (the shell puts the page's `<h1>` above the page).
export function section(title, testid, ...children) {
  const id = `pg-sec-${++sectionCounter}`;
  return h("section", { class: "card", testid, "aria-labelledby": id }, h("h2", { id }, title), ...children);
}

/// A table from columns `[{label, cell: row => node|text, testid?}]` and rows; `empty` text when none.
export function table(columns, rows, { empty = "Nothing yet.", testid, caption } = {}) {
  if (!rows.length) return h("p", { class: "muted", testid: testid ? `${testid}-empty` : null }, empty);
  return h("div", { class: "table-wrap", role: "region", tabindex: "0", "aria-label": caption || empty.split(":")[0] },
    h("table", { testid },
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label)))),
      h("tbody", {}, rows.map((row) => h("tr", { testid: testid ? `${testid}-row` : null },
        columns.map((c) => h("td", { "data-label": c.label, testid: c.testid?.(row) }, c.cell(row))))))));
}

/// Key/value list (`<dl>`): `[[label, value, testid?], ...]`.
export function facts(items) {
  return h("dl", { class: "stats" }, items.map(([label, value, testid]) =>
    h("div", { class: "stat" }, h("dt", {}, label), h("dd", { testid }, value))));
}

/// The words of an error: an `ApiError` shows its code (and the core's detail), others their message.
export function errorText(error) {
  if (error && error.code) {
    const detail = error.detail && typeof error.detail === "object"
      ? Object.entries(error.detail).filter(([k]) => k !== "code").map(([k, v]) => `${k}: ${typeof v === "object" ? JSON.stringify(v) : v}`).join(", ")
      : "";
    return `${error.message || "request refused"} (${error.code}${detail ? "; " + detail : ""})`;
  }
  return error?.message || String(error);
}

/// A status line (`role="status"`, or `alert` for errors) the page writes its outcome into.
export function statusLine(testid) {
  const node = h("p", { class: "status-line", role: "status", "aria-live": "polite", testid });
  return {
    node,
    ok(text) { node.className = "status-line notice notice-success"; node.setAttribute("role", "status"); node.textContent = text; },
    error(err) {
      node.className = "status-line notice notice-error";
      node.setAttribute("role", "alert");
      node.dataset.code = err?.code || "input";
      node.textContent = errorText(err);
    },
    info(text) { node.className = "status-line notice notice-info"; node.setAttribute("role", "status"); node.textContent = text; },
    clear() { node.className = "status-line"; node.textContent = ""; delete node.dataset.code; },
  };
}

/// An inline error block for a failed read.
export function errorBlock(error, testid) {
  return h("p", { class: "notice notice-error", role: "alert", testid, "data-code": error?.code || "error" },
    errorText(error));
}

/// The notice shown where one's own data needs an unlocked wallet.
export function needWallet(what) {
  return h("p", { class: "notice notice-info", testid: "need-wallet" },
    `Unlock or create a wallet (`, h("a", { href: "#/wallet" }, "Wallet"), `) to see ${what}.`);
}

/// Runs `fn` on submit of `form` with the button disabled meanwhile; `fn` errors go to `status`.
export function onSubmit(form, status, fn) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    status.info("Working…");
    try {
      await fn(event);
    } catch (error) {
      status.error(error);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });
}

/// A signed read when a wallet is unlocked, else `null`.
export async function ownRead(ctx, path) {
  return ctx.wallet.account ? ctx.api.signedGet(path) : null;
}

/// The outcome text of an accepted command: its journal seq and event kinds.
export function acceptedText(what, accepted) {
  const kinds = (accepted?.events || []).map((e) => e.event).filter(Boolean);
  return `${what}: accepted at journal seq ${accepted?.seq}${kinds.length ? ` (${kinds.join(", ")})` : ""}.`;
}

/// A page's refresh loop: `refresh()` now, on wallet changes, on matching events (debounced) and every
/// `everyMs`; returns the cleanup function. Overlapping refreshes are coalesced.
export function liveRefresh(ctx, refresh, { filters = [], everyMs = 0 } = {}) {
  let running = false;
  let again = false;
  let timer = null;
  let stopped = false;
  const run = async () => {
    if (stopped) return;
    if (running) { again = true; return; }
    running = true;
    try { await refresh(); } finally {
      running = false;
      if (again && !stopped) { again = false; run(); }
    }
  };
  const soon = () => { clearTimeout(timer); timer = setTimeout(run, 150); };
  const unsubs = [];
  const resubscribe = () => {
    while (unsubs.length) unsubs.pop()();
    for (const filter of (typeof filters === "function" ? filters() : filters)) {
      if (filter) unsubs.push(ctx.events.subscribe(filter, soon));
    }
  };
  resubscribe();
  const offWallet = ctx.wallet.onChange?.(() => { resubscribe(); run(); });
  const interval = everyMs ? setInterval(run, everyMs) : null;
  run();
  return {
    run,
    stop() {
      stopped = true;
      clearTimeout(timer);
      if (interval) clearInterval(interval);
      while (unsubs.length) unsubs.pop()();
      if (typeof offWallet === "function") offWallet();
    },
  };
}
