// Wallet: keys (create with 24 words shown once and confirmed, restore from words, unlock, lock, forget),
// balances (total and free), send, enter CC with TFT (the rate and the parity rule), unlock TFP, withdrawals
// and the account's history of events, all updated live from the account's events.

import { newPhrase, parsePhrase } from "../lib/keys.js";
import { MIN_PASSWORD } from "../lib/wallet.js";

export const title = "Wallet";

const ASSETS = ["TFT", "TFP", "CC", "USDC"];
const HISTORY_PAGE = 20;

function passwordFields(ui) {
  return [
    { name: "password", label: "Password (encrypts the key in this browser)", type: "password", required: true, autocomplete: "new-password", help: `At least ${MIN_PASSWORD} characters. It never leaves this browser; without it, only your words restore the wallet.`, testid: "new-password" },
    { name: "confirm", label: "Repeat the password", type: "password", required: true, autocomplete: "new-password", testid: "confirm-password" },
  ];
}

function checkPasswords(values) {
  if (values.password !== values.confirm) throw new Error("The two passwords differ.");
}

/** Two distinct random word positions (1-based) the user must type back. */
function positions(count) {
  const picks = new Set();
  while (picks.size < 2) picks.add(1 + (crypto.getRandomValues(new Uint32Array(1))[0] % count));
  return [...picks].sort((a, b) => a - b);
}

function createCard(ui, wallet) {
  const body = ui.el("div");
  const start = ui.el("button", { type: "button", "data-testid": "create-wallet", onclick: () => {
    const phrase = newPhrase();
    const words = phrase.split(" ");
    const asked = positions(words.length);
    const confirmFields = asked.map((n) => ({ name: `word${n}`, label: `Word ${n} of your phrase`, required: true, autocomplete: "off", testid: `confirm-word-${n}` }));
    ui.replace(body,
      ui.notice("Write these 24 words down in order, on paper, and keep them safe. They are shown only now; anyone who has them controls your account, and they are the only way to restore it.", "warning"),
      ui.el("ol", { class: "words", "data-testid": "phrase", "aria-label": "Your recovery phrase" }, words.map((w) => ui.el("li", { "data-testid": "phrase-word" }, w))),
      ui.form([
        ...confirmFields,
        { name: "written", label: "I have written the 24 words down, in order", type: "checkbox", required: true, testid: "confirm-written" },
        ...passwordFields(ui),
      ], async (values) => {
        for (const n of asked) {
          if (values[`word${n}`].toLowerCase() !== words[n - 1]) throw new Error(`Word ${n} does not match: check what you wrote down.`);
        }
        if (!values.written) throw new Error("Confirm that you have written the words down.");
        checkPasswords(values);
        await wallet.restore(phrase, values.password);
      }, { submitLabel: "Keep this wallet", testid: "create-form" }));
  } }, "Create a new wallet");
  body.append(ui.el("p", {}, "A new key from 24 recovery words (BIP-39), made in this browser."), start);
  return ui.section("Create a wallet", body);
}

function restoreCard(ui, wallet) {
  return ui.section("Restore from recovery words", ui.form([
    { name: "phrase", label: "Recovery words (12 to 24, separated by spaces)", type: "textarea", required: true, testid: "restore-phrase", help: "The same words give the same account as `tfeco wallet recover`." },
    { name: "passphrase", label: "BIP-39 passphrase (leave empty if you did not set one)", type: "password", autocomplete: "off", testid: "restore-passphrase" },
    ...passwordFields(ui),
  ], async (values) => {
    const phrase = parsePhrase(values.phrase);
    checkPasswords(values);
    await wallet.restore(phrase, values.password, values.passphrase);
  }, { submitLabel: "Restore", testid: "restore-form" }));
}

function unlockCard(ui, wallet) {
  return ui.section("Unlock your wallet",
    ui.el("p", {}, "Account ", ui.el("code", { class: "mono" }, wallet.storedAccount)),
    ui.form([{ name: "password", label: "Password", type: "password", required: true, autocomplete: "current-password", testid: "unlock-password" }],
      async (values) => { await wallet.unlock(values.password); }, { submitLabel: "Unlock", testid: "unlock-form" }),
    forgetControl(ui, wallet));
}

function forgetControl(ui, wallet) {
  const box = ui.el("div", { class: "stack" });
  const ask = ui.el("button", { type: "button", class: "secondary", "data-testid": "forget-wallet", onclick: () => {
    ui.replace(box, ui.notice("Forgetting deletes the encrypted key from this browser. Only your recovery words can bring the account back.", "warning"),
      ui.el("div", { class: "actions" },
        ui.el("button", { type: "button", class: "danger", "data-testid": "forget-confirm", onclick: () => wallet.forget() }, "Forget this wallet"),
        ui.el("button", { type: "button", class: "secondary", onclick: () => ui.replace(box, ask) }, "Keep it")));
  } }, "Forget this wallet…");
  box.append(ask);
  return ui.el("div", {}, ui.el("h3", {}, "Forget"), box);
}

function balancesTable(ui, view) {
  const rows = ASSETS.map((asset) => ({ asset, total: view?.balances[asset] ?? "0", free: view?.free?.[asset] ?? null, escrowed: view?.escrowed?.[asset] ?? null }));
  return ui.table([
    { label: "Asset", key: "asset" },
    { label: "Total", numeric: true, render: (r) => ui.fmt.amount(r.total), testid: (r) => `balance-total-${r.asset}` },
    { label: "Free", numeric: true, render: (r) => ui.fmt.amount(r.free), testid: (r) => `balance-free-${r.asset}` },
    { label: "In open orders", numeric: true, render: (r) => ui.fmt.amount(r.escrowed) },
  ], rows, { caption: "Balances" });
}

function entryPreview(ui, tft, market) {
  const { rate, prices } = market;
  if (!ui.dec.isDecimal(tft) || ui.dec.cmp(tft, "0") <= 0) return "Enter an amount of TFT.";
  if (!prices?.valid) return `No valid price now (${prices?.reason ?? "unknown"}): entry is refused until the oracle reports.`;
  const parity = ui.dec.div(prices.cc_usd, rate, 8);
  const below = ui.dec.cmp(prices.tft_usd, parity) < 0;
  const cc = below ? ui.dec.div(tft, rate, 7) : ui.dec.div(ui.dec.mul(tft, prices.tft_usd), prices.cc_usd, 7);
  return `You receive about ${ui.fmt.amount(cc, "CC")} (${below ? `below parity: ${ui.fmt.amount(rate)} TFT per CC` : "at or above parity: at the market price"}).`;
}

function entryCard(ui, ctx, market, refresh) {
  const { rate, prices } = market;
  const parity = prices?.valid ? ui.dec.div(prices.cc_usd, rate, 8) : null;
  const below = parity ? ui.dec.cmp(prices.tft_usd, parity) < 0 : null;
  const preview = ui.el("p", { class: "help", "aria-live": "polite", "data-testid": "enter-preview" }, "Enter an amount of TFT.");
  const form = ui.form([{ name: "tft", label: "TFT to bring in", inputmode: "decimal", required: true, pattern: "[0-9]+(\\.[0-9]{1,7})?", testid: "enter-tft" }],
    async (values) => {
      const accepted = await ctx.api.submit({ enter_with_tft: { tft: values.tft } });
      await refresh();
      return `Entered: ${describeEvents(ui, accepted.events)} (entry ${accepted.seq}).`;
    }, { submitLabel: "Enter CC", testid: "enter-form" });
  form.elements.namedItem("tft").addEventListener("input", (event) => ui.replace(preview, entryPreview(ui, event.target.value.trim(), market)));
  return ui.section("Enter Cloud Credits with TFT",
    ui.stats([
      { label: "Entry rate (below parity)", value: `${ui.fmt.amount(rate)} TFT per CC`, testid: "entry-rate" },
      { label: "TFT price", value: ui.fmt.price(prices?.tft_usd, "USD") },
      { label: "CC price", value: ui.fmt.price(prices?.cc_usd, "USD", 8) },
      { label: "Parity (CC price ÷ rate)", value: parity ? ui.fmt.price(parity, "USD per TFT", 8) : "—" },
      { label: "TFT now", value: below === null ? "no valid price" : below ? "below parity" : "at or above parity", testid: "parity-state" },
    ]),
    ui.el("p", { class: "help" }, `The parity rule: while TFT trades below parity (TFT price < CC price ÷ ${ui.fmt.amount(rate)}), 1 CC costs ${ui.fmt.amount(rate)} TFT; at or above parity you get CC at the market price (TFT × TFT price ÷ CC price). The TFT is locked in the vault and backs the same TFP.`),
    form, preview);
}

function unlockTfpCard(ui, ctx, market, refresh) {
  const { rate, prices } = market;
  const parity = prices?.valid ? ui.dec.div(prices.cc_usd, rate, 8) : null;
  const open = parity ? ui.dec.cmp(prices.tft_usd, parity) >= 0 : false;
  return ui.section("Unlock TFP",
    ui.el("p", { class: "help" }, "Returns TFP and releases the same TFT from the vault, only while TFT trades at or above parity."),
    open ? null : ui.notice("TFT trades below parity (or there is no valid price): unlocking is refused now.", "info"),
    ui.form([{ name: "tfp", label: "TFP to unlock", inputmode: "decimal", required: true, testid: "unlock-tfp" }], async (values) => {
      const accepted = await ctx.api.submit({ unlock_tfp: { tfp: values.tfp } });
      await refresh();
      return `Unlocked (entry ${accepted.seq}).`;
    }, { submitLabel: "Unlock TFP", testid: "unlock-tfp-form" }));
}

function sendCard(ui, ctx, refresh) {
  return ui.section("Send", ui.form([
    { name: "asset", label: "Asset", type: "select", options: ASSETS, value: "TFT", testid: "send-asset" },
    { name: "to", label: "To account (64 hex characters)", required: true, pattern: "[0-9a-fA-F]{64}", testid: "send-to" },
    { name: "amount", label: "Amount", inputmode: "decimal", required: true, testid: "send-amount" },
  ], async (values) => {
    if (!/^[0-9a-fA-F]{64}$/.test(values.to)) throw new Error("The account must be 64 hex characters.");
    const accepted = await ctx.api.submit({ transfer: { asset: values.asset, to: values.to.toLowerCase(), amount: values.amount } });
    await refresh();
    return `Sent ${ui.fmt.amount(values.amount, values.asset)} (entry ${accepted.seq}).`;
  }, { submitLabel: "Send", testid: "send-form" }));
}

function withdrawCard(ui, ctx, refresh) {
  return ui.section("Withdraw",
    ui.el("p", { class: "help" }, "A withdrawal moves the funds to escrow at once; they leave the system when the bridge's attestors confirm the external payment."),
    ui.form([
      { name: "asset", label: "Asset", type: "select", options: ["TFT", "USDC"], value: "TFT", testid: "withdraw-asset" },
      { name: "amount", label: "Amount", inputmode: "decimal", required: true, testid: "withdraw-amount" },
      { name: "destination", label: "External destination address", required: true, testid: "withdraw-destination" },
    ], async (values) => {
      const accepted = await ctx.api.submit({ request_withdrawal: { asset: values.asset, amount: values.amount, destination: values.destination } });
      await refresh();
      return `Withdrawal requested: ${describeEvents(ui, accepted.events)} (entry ${accepted.seq}).`;
    }, { submitLabel: "Request withdrawal", testid: "withdraw-form" }));
}

/** One event as short text: its kind and its fields. */
function describeEvent(ui, event) {
  const fields = Object.entries(event).filter(([key]) => key !== "event").map(([key, value]) => {
    const text = typeof value === "string" && /^[0-9a-f]{64}$/.test(value) ? ui.fmt.short(value)
      : value && typeof value === "object" && typeof value.asset === "string" && typeof value.amount === "string" ? ui.fmt.amount(value.amount, value.asset)
      : typeof value === "object" ? JSON.stringify(value) : String(value);
    return `${key.replaceAll("_", " ")} ${text}`;
  });
  return fields.length ? `${event.event.replaceAll("_", " ")}: ${fields.join(", ")}` : event.event.replaceAll("_", " ");
}

function describeEvents(ui, events) {
  return (events ?? []).map((e) => describeEvent(ui, e)).join("; ") || "done";
}

function historyTable(ui, entries) {
  return ui.table([
    { label: "Entry", numeric: true, render: (e) => ui.fmt.int(e.seq) },
    { label: "Time", render: (e) => ui.fmt.time(e.ts) },
    { label: "Events", render: (e) => ui.el("ul", { class: "plain" }, e.events.map((ev) => ui.el("li", { "data-testid": `history-event-${ev.event}` }, describeEvent(ui, ev)))) },
  ], entries, { caption: "Your account's events, newest first", empty: "No events yet.", rowTestid: (e) => `history-${e.seq}` });
}

async function historyCard(ui, ctx, account) {
  const box = ui.el("div", { "data-testid": "history" });
  const entries = [];
  let before = null;
  let available = true;
  const more = ui.el("button", { type: "button", class: "secondary", "data-testid": "history-more" }, "Older events");
  const show = () => ui.replace(box, available ? null : ui.notice("This node does not serve account histories (GET /v1/accounts/{key}/events); showing this session's live events.", "info"), historyTable(ui, entries), before !== null ? more : null);
  const page = async () => {
    const query = new URLSearchParams({ limit: String(HISTORY_PAGE) });
    if (before !== null) query.set("before", String(before));
    try {
      const answer = await ctx.api.get(`/v1/accounts/${account}/events?${query}`);
      const got = answer.entries ?? answer.events ?? [];
      entries.push(...got);
      before = answer.next_before ?? (got.length === HISTORY_PAGE ? got.at(-1).seq : null);
    } catch (error) {
      if (error.status !== 404 || error.code === "account_not_found") throw error;
      available = false;
      before = null;
    }
    show();
  };
  more.addEventListener("click", () => page().catch((error) => box.append(ui.notice(ui.errorText(error), "error"))));
  await page().catch((error) => { if (error.code !== "account_not_found") box.append(ui.notice(ui.errorText(error), "error")); });
  show();
  return {
    node: ui.section("History", box),
    add(entry) { if (!entries.some((e) => e.seq === entry.seq)) { entries.unshift(entry); show(); } },
  };
}

async function marketData(api) {
  const [params, prices] = await Promise.all([api.get("/v1/params"), api.get("/v1/prices")]);
  const p = params.params ?? params;
  const r = p.entry_tft_per_cc;
  return { rate: typeof r === "object" ? divRatio(r) : String(r), prices: prices.current };
}

function divRatio({ num, den }) {
  const n = BigInt(num), d = BigInt(den);
  const whole = n / d;
  const frac = ((n % d) * 10n ** 7n) / d;
  return frac === 0n ? whole.toString() : `${whole}.${frac.toString().padStart(7, "0").replace(/0+$/, "")}`;
}

async function unlockedView(root, ctx) {
  const { ui, wallet, api } = ctx;
  const account = wallet.account;
  const balances = ui.el("div", { "data-testid": "balances" });
  const registration = ui.el("div");
  const refresh = async () => {
    const view = await api.account(account, true);
    ui.replace(registration, view ? null : ui.el("div", {},
      ui.notice("This account is not registered on the node yet: register it before anyone can send to it.", "info"),
      ui.el("button", { type: "button", "data-testid": "register-account", onclick: async (event) => {
        event.target.disabled = true;
        try { await api.submit({ register_account: {} }); await refresh(); } catch (error) { registration.append(ui.notice(ui.errorText(error), "error")); event.target.disabled = false; }
      } }, "Register my account")));
    ui.replace(balances, balancesTable(ui, view));
  };
  const market = await marketData(api);
  const history = await historyCard(ui, ctx, account);
  root.append(
    ui.section("Account",
      ui.el("p", {}, ui.el("code", { class: "mono", "data-testid": "account" }, account)),
      registration, balances,
      ui.el("div", { class: "actions" },
        ui.el("button", { type: "button", class: "secondary", onclick: () => wallet.lock(), "data-testid": "lock-wallet-page" }, "Lock"))),
    ui.el("div", { class: "grid" }, sendCard(ui, ctx, refresh), entryCard(ui, ctx, market, refresh)),
    ui.el("div", { class: "grid" }, unlockTfpCard(ui, ctx, market, refresh), withdrawCard(ui, ctx, refresh)),
    history.node,
    forgetControl(ui, wallet));
  await refresh();
  ctx.events.subscribe({ account }, (entry) => { history.add(entry); refresh().catch(() => {}); });
}

export async function render(root, ctx) {
  const { ui, wallet } = ctx;
  ctx.wallet.onChange(() => ctx.rerender());
  if (wallet.state === "none") {
    root.append(ui.el("p", {}, "Your keys are made and kept in this browser, encrypted with your password, and never sent anywhere."),
      ui.el("div", { class: "grid" }, createCard(ui, wallet), restoreCard(ui, wallet)));
  } else if (wallet.state === "locked") {
    root.append(unlockCard(ui, wallet));
  } else {
    await unlockedView(root, ctx);
  }
}
