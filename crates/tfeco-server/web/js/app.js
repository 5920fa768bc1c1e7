// The shell of the web app: the hash router (#/dashboard, #/market, ...), the navigation, the wallet and
// node status in the header, and the `ctx` handed to every page (see js/README.md, the contract).

import { createApi, ApiError } from "./lib/api.js";
import { createWallet, WalletError } from "./lib/wallet.js";
import { createEvents } from "./lib/events.js";
import * as ui from "./lib/ui.js";

/** The pages, in navigation order: [module name, fallback title]. */
const PAGES = [
  ["dashboard", "Dashboard"], ["market", "Market"], ["wallet", "Wallet"], ["exit", "Exit pool"],
  ["exchange", "Exchange"], ["farmer", "Farmer"], ["guardian", "Guardian"],
];
const DEFAULT_PAGE = "dashboard";
const APP_NAME = "TFGrid Economy";

const wallet = createWallet();
const api = createApi(wallet);
const events = createEvents();
const modules = new Map();
let current = null;
let generation = 0;

function pageName() {
  const match = /^#\/([a-z0-9-]+)/.exec(location.hash);
  return match ? match[1] : DEFAULT_PAGE;
}

/** A ctx whose subscriptions (events, wallet changes) end when the page is left. */
function scope(name) {
  const disposers = [];
  const track = (unsubscribe) => { disposers.push(unsubscribe); return unsubscribe; };
  const pageWallet = Object.create(wallet, { onChange: { value: (cb) => track(wallet.onChange(cb)) } });
  const ctx = {
    api, ui, wallet: pageWallet, page: name, ApiError, WalletError,
    events: { subscribe: (filter, cb) => track(events.subscribe(filter, cb)), get status() { return events.status; } },
    navigate: (page) => { location.hash = `#/${page}`; },
    rerender: () => { if (current && current.name === name) show(); },
    get status() { return nodeStatus; },
  };
  return { ctx, dispose: () => disposers.splice(0).forEach((d) => d()) };
}

function leave() {
  if (!current) return;
  const { cleanup, dispose } = current;
  current = null;
  dispose();
  if (typeof cleanup === "function") {
    try { cleanup(); } catch (error) { console.warn("page cleanup failed", error); }
  }
}

async function show() {
  const name = pageName();
  const mine = ++generation;
  leave();
  const host = document.getElementById("page");
  const heading = document.getElementById("page-title");
  for (const link of document.querySelectorAll("nav a[data-page]")) {
    if (link.dataset.page === name) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  const root = ui.el("section", { class: "page", "data-page": name, "aria-labelledby": "page-title" });
  host.replaceChildren(root);
  const entry = modules.get(name);
  if (!entry) {
    heading.textContent = "Page not found";
    document.title = `Page not found · ${APP_NAME}`;
    root.append(ui.notice(`There is no page "${name}". Choose one in the navigation.`, "warning"));
    return;
  }
  heading.textContent = entry.title;
  document.title = `${entry.title} · ${APP_NAME}`;
  if (!entry.module) {
    root.append(ui.notice(`This page could not be loaded: ${entry.error}`, "error"));
    return;
  }
  const { ctx, dispose } = scope(name);
  current = { name, dispose, cleanup: null };
  try {
    const cleanup = await entry.module.render(root, ctx);
    if (mine !== generation) { if (typeof cleanup === "function") cleanup(); return; }
    current.cleanup = cleanup;
  } catch (error) {
    if (mine === generation) root.append(ui.notice(`This page failed: ${ui.errorText(error)}`, "error"));
  }
}

function buildNav() {
  const list = document.getElementById("nav-list");
  list.replaceChildren(...PAGES.map(([name]) => ui.el("li", {},
    ui.el("a", { href: `#/${name}`, "data-page": name }, modules.get(name).title))));
}

function renderWalletStatus() {
  const box = document.getElementById("wallet-status");
  const state = wallet.state;
  const key = wallet.storedAccount;
  if (state === "none") {
    ui.replace(box, ui.el("a", { href: "#/wallet", class: "button secondary" }, "Create or restore a wallet"));
  } else if (state === "locked") {
    ui.replace(box, ui.el("span", { title: key }, `Locked ${ui.fmt.short(key)}`), " ",
      ui.el("a", { href: "#/wallet", class: "button secondary" }, "Unlock"));
  } else {
    ui.replace(box, ui.el("span", { title: key, "data-testid": "header-account" }, `Account ${ui.fmt.short(key)}`), " ",
      ui.el("button", { type: "button", class: "secondary", onclick: () => wallet.lock(), "data-testid": "lock-wallet" }, "Lock"));
  }
}

let nodeStatus = null;
function renderNodeStatus() {
  const footer = document.getElementById("node-status");
  const live = { live: "live", connecting: "connecting…", offline: "offline" }[events.status];
  const s = nodeStatus;
  ui.replace(footer,
    s ? `Node entry ${ui.fmt.int(s.seq)} · node time ${ui.fmt.time(s.now)} · ` : "",
    ui.el("span", { "data-testid": "live-status", class: `live live-${events.status}` }, `events ${live}`),
    " · ", ui.el("a", { href: "/openapi.json" }, "API (OpenAPI)"));
  document.getElementById("dev-mode").hidden = !(s && s.dev_mode);
}

async function refreshStatus() {
  try { nodeStatus = await api.get("/v1/status"); } catch { /* shown as missing */ }
  renderNodeStatus();
}

async function start() {
  if (!globalThis.crypto?.subtle) {
    document.getElementById("page").append(ui.notice("This page needs a secure context (https, or http on localhost) for its cryptography.", "error"));
  }
  document.getElementById("skip-link").addEventListener("click", (event) => {
    event.preventDefault();
    document.getElementById("main").focus();
  });
  const loaded = await Promise.allSettled(PAGES.map(([name]) => import(`./pages/${name}.js`)));
  PAGES.forEach(([name, fallback], i) => {
    const result = loaded[i];
    modules.set(name, result.status === "fulfilled"
      ? { module: result.value, title: result.value.title ?? fallback }
      : { module: null, title: fallback, error: String(result.reason?.message ?? result.reason) });
  });
  buildNav();
  wallet.onChange(renderWalletStatus);
  events.onStatus(renderNodeStatus);
  events.subscribe({}, (entry) => {
    if (nodeStatus) { nodeStatus = { ...nodeStatus, seq: Math.max(nodeStatus.seq, entry.seq), now: Math.max(nodeStatus.now, entry.ts) }; }
    renderNodeStatus();
  });
  renderWalletStatus();
  addEventListener("hashchange", () => {
    if (!location.hash.startsWith("#/")) return;
    show().then(() => document.getElementById("page-title").focus());
  });
  await Promise.all([refreshStatus(), show()]);
}

start();
