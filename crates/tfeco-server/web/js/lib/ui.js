// DOM helpers of the web app (ctx.ui): element construction, number formatting, tables, labelled forms,
// notices and uPlot charts. No HTML strings are ever parsed: every text goes in as a text node.

import { uPlot } from "../../vendor/vendor.js";
import * as dec from "./decimal.js";

let uniqueId = 0;
/** A document-unique id with the given prefix (for label/input pairs). */
export function uid(prefix = "f") {
  uniqueId += 1;
  return `${prefix}-${uniqueId}`;
}

/**
 * el(tag, attrs, ...children): an element. attrs: `class` → className; `on<event>` with a function → listener;
 * `value`, `checked`, `disabled`, `selected` → properties; `true` → empty attribute; `false`/null/undefined →
 * omitted; anything else → setAttribute(String). children: strings/numbers → text, Nodes, arrays (flattened),
 * null/undefined/false skipped.
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (["value", "checked", "disabled", "selected"].includes(key)) node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `node` with `children` (same rules as el). */
export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

const GROUP = /\B(?=(\d{3})+(?!\d))/g;

function group(text) {
  const [int, frac] = text.split(".");
  return frac === undefined ? int.replace(GROUP, ",") : `${int.replace(GROUP, ",")}.${frac}`;
}

/** Number formatting; every function returns "—" for null/undefined. */
export const fmt = {
  /** A decimal amount string: thousands grouped, trailing zeros trimmed, then the asset ("1,234.5 TFT"). */
  amount(text, asset) {
    if (text === null || text === undefined || text === "") return "—";
    const value = group(dec.round(String(text), 7));
    return asset ? `${value} ${asset}` : value;
  },
  /** A price or rate string rounded to `places` (default 6) decimals, with an optional unit ("0.0125 USD"). */
  price(text, unit, places = 6) {
    if (text === null || text === undefined || text === "") return "—";
    const value = group(dec.round(String(text), places));
    return unit ? `${value} ${unit}` : value;
  },
  /** A whole number with thousands grouped. */
  int(n) {
    return n === null || n === undefined ? "—" : group(String(n));
  },
  /** Unix seconds as an ISO-like UTC time "2025-10-01 12:00 UTC". */
  time(unix) {
    if (unix === null || unix === undefined) return "—";
    return `${new Date(unix * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  },
  /** A duration in seconds as "3 d 4 h", "5 h 2 min", "40 s". */
  duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const s = Math.max(0, Math.round(seconds));
    const [d, h, m] = [Math.floor(s / 86400), Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60)];
    if (d > 0) return `${d} d ${h} h`;
    if (h > 0) return `${h} h ${m} min`;
    if (m > 0) return `${m} min ${s % 60} s`;
    return `${s} s`;
  },
  /** A long hex key shortened for display: "863e37d0…56e23a" (use the full key in a title or copy button). */
  short(hex) {
    if (!hex) return "—";
    return hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-6)}` : hex;
  },
};

/**
 * table(columns, rows, opts): a <table> in a horizontally scrollable wrapper. columns: [{label, key?,
 * render?(row) → string|Node, numeric?, testid?(row) → string}]; a cell shows render(row), else row[key].
 * opts: {caption, empty (text when no rows), rowTestid(row), label (aria-label of the wrapper)}.
 */
export function table(columns, rows, opts = {}) {
  const head = el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col", class: c.numeric ? "num" : null }, c.label))));
  const body = el("tbody");
  if (rows.length === 0) {
    body.append(el("tr", {}, el("td", { colspan: columns.length, class: "empty" }, opts.empty ?? "Nothing yet.")));
  }
  for (const row of rows) {
    const tr = el("tr", { "data-testid": opts.rowTestid ? opts.rowTestid(row) : null });
    for (const c of columns) {
      const value = c.render ? c.render(row) : row[c.key];
      tr.append(el("td", { class: c.numeric ? "num" : null, "data-testid": c.testid ? c.testid(row) : null }, value ?? "—"));
    }
    body.append(tr);
  }
  const caption = opts.caption ? el("caption", {}, opts.caption) : null;
  return el("div", { class: "table-wrap", role: "region", tabindex: 0, "aria-label": opts.label ?? opts.caption ?? "table" },
    el("table", {}, caption, head, body));
}

function field(spec) {
  const id = uid(spec.name);
  const help = spec.help ? el("p", { class: "help", id: `${id}-help` }, spec.help) : null;
  const common = {
    id, name: spec.name, required: spec.required ?? false, "aria-describedby": help ? `${id}-help` : null,
    "data-testid": spec.testid ?? null, autocomplete: spec.autocomplete ?? "off",
  };
  let input;
  if (spec.type === "select") {
    input = el("select", common, (spec.options ?? []).map((o) => {
      const option = typeof o === "object" ? o : { value: o, label: o };
      return el("option", { value: String(option.value), selected: String(option.value) === String(spec.value ?? "") }, option.label);
    }));
  } else if (spec.type === "textarea") {
    input = el("textarea", { ...common, rows: spec.rows ?? 3, placeholder: spec.placeholder ?? null, spellcheck: "false" });
    input.value = spec.value ?? "";
  } else if (spec.type === "checkbox") {
    input = el("input", { ...common, type: "checkbox", checked: Boolean(spec.value) });
    return el("div", { class: "field checkbox" }, input, el("label", { for: id }, spec.label), help);
  } else {
    input = el("input", {
      ...common, type: spec.type ?? "text", placeholder: spec.placeholder ?? null, step: spec.step ?? null,
      min: spec.min ?? null, max: spec.max ?? null, inputmode: spec.inputmode ?? null, pattern: spec.pattern ?? null,
      value: spec.value === undefined ? null : String(spec.value),
    });
  }
  return el("div", { class: "field" }, el("label", { for: id }, spec.label), input, help);
}

function values(form, fields) {
  const out = {};
  for (const spec of fields) {
    const input = form.elements.namedItem(spec.name);
    out[spec.name] = spec.type === "checkbox" ? input.checked : input.value.trim();
  }
  return out;
}

/**
 * form(fields, onSubmit, opts): a <form> of labelled inputs. fields: [{name, label, type ("text", "number",
 * "password", "select", "textarea", "checkbox", ...), options (select: strings or {value, label}), value,
 * required, placeholder, help, step, min, max, inputmode, pattern, autocomplete, testid}]. On submit,
 * `await onSubmit(values, form)` runs with {name: trimmed string (checkbox: boolean)}, the submit button is
 * disabled meanwhile, and a thrown error is shown in the form's status line (role=alert); a returned string
 * is shown as a success notice. opts: {submitLabel, testid, class}.
 */
export function form(fields, onSubmit, opts = {}) {
  const status = el("div", { class: "form-status", "aria-live": "polite" });
  const button = el("button", { type: "submit", "data-testid": opts.testid ? `${opts.testid}-submit` : null }, opts.submitLabel ?? "Submit");
  const node = el("form", { class: opts.class ?? "stack", "data-testid": opts.testid ?? null, novalidate: false },
    fields.map(field), el("div", { class: "actions" }, button), status);
  node.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    button.disabled = true;
    status.replaceChildren();
    try {
      const message = await onSubmit(values(node, fields), node);
      if (typeof message === "string") status.append(notice(message, "success"));
    } catch (error) {
      status.append(notice(errorText(error), "error"));
    } finally {
      button.disabled = false;
    }
  });
  return node;
}

/** The user-facing text of an error: an ApiError's message with its code, else the error's message. */
export function errorText(error) {
  if (error && error.code && error.message) return `${error.message} (${error.code})`;
  return error?.message ?? String(error);
}

/** notice(text, kind): a message box; kind "info" (default), "success", "warning" or "error" (role=alert). */
export function notice(text, kind = "info") {
  const role = kind === "error" || kind === "warning" ? "alert" : "status";
  return el("div", { class: `notice notice-${kind}`, role }, text);
}

/** stats([{label, value, testid, title, wide}]): a definition list of key figures (`wide`: a full row). */
export function stats(items) {
  return el("dl", { class: "stats" }, items.map((item) =>
    el("div", { class: item.wide ? "stat wide" : "stat" }, el("dt", {}, item.label),
      el("dd", { "data-testid": item.testid ?? null, title: item.title ?? null }, item.value ?? "—"))));
}

/** section(title, ...children): a titled <section> (h2), labelled by its heading. */
export function section(title, ...children) {
  const id = uid("sec");
  return el("section", { class: "card", "aria-labelledby": id }, el("h2", { id }, title), ...children);
}

const PALETTE = ["#1f5fa8", "#b3261e", "#1b7a3e", "#7a4cc2", "#a35a00"];

/**
 * chart(container, {x, series, time, yLabel, xLabel, height, title}): a uPlot line chart that follows the
 * container's width. x: numbers (unix seconds when `time` is true, the default); series: [{label, values,
 * color?}]. Returns {update({x, series}), destroy()}. The chart is described for screen readers by `title`.
 */
export function chart(container, spec) {
  const width = () => Math.max(280, container.clientWidth || 600);
  const options = {
    width: width(), height: spec.height ?? 260, title: spec.title,
    scales: { x: { time: spec.time ?? true } },
    axes: [{ label: spec.xLabel, stroke: "#333" }, { label: spec.yLabel, stroke: "#333", size: 70 }],
    series: [{}, ...spec.series.map((s, i) => ({ label: s.label, stroke: s.color ?? PALETTE[i % PALETTE.length], width: 2 }))],
  };
  const data = (d) => [d.x, ...d.series.map((s) => s.values)];
  container.setAttribute("role", "img");
  container.setAttribute("aria-label", spec.title ?? spec.series.map((s) => s.label).join(", "));
  const plot = new uPlot(options, data(spec), container);
  const observer = new ResizeObserver(() => plot.setSize({ width: width(), height: options.height }));
  observer.observe(container);
  return {
    update(next) { plot.setData(data(next)); },
    destroy() { observer.disconnect(); plot.destroy(); },
  };
}

export { dec };
