// Exit pool: the open round with its cap and lock window, my positions with their weight and earned margin,
// sealed exit bids (place, amend, cancel; my bids through a signed read), opening and closing positions,
// and past rounds' results. Updated live from `exit_round_closed` and my account's events.

import {
  AMOUNT_DECIMALS, PRICE_DECIMALS, parseDecimal, formatUnits, amountUnits, fmtAmount, fmtPrice, fmtTime,
  fmtDuration, fmtBps, shortKey, h, fill, field, section, table, facts, errorBlock, needWallet, statusLine,
  onSubmit, acceptedText, liveRefresh,
} from "./common.js";

export const title = "Exit pool";

const PRICE_SCALE = 10n ** BigInt(PRICE_DECIMALS);

/// TFP a bid reserves on its position: `ceil(usdc / min_price)` (the core's rule), in units.
export function reservedTfpUnits(usdcUnits, priceAtto) {
  return (usdcUnits * PRICE_SCALE + priceAtto - 1n) / priceAtto;
}

/// Checks a bid's USDC and min price; returns wire texts and the TFP it reserves, or throws naming the field.
export function checkBid({ usdc, minPrice }, freeTfp) {
  const u = parseDecimal(usdc, AMOUNT_DECIMALS, "USDC wanted");
  if (u === 0n) throw new Error("USDC wanted: must be greater than 0");
  const p = parseDecimal(minPrice, PRICE_DECIMALS, "Lowest price (USD per TFP)");
  if (p === 0n) throw new Error("Lowest price (USD per TFP): must be greater than 0");
  const reserved = reservedTfpUnits(u, p);
  if (freeTfp != null && reserved > amountUnits(freeTfp)) {
    throw new Error(`This bid reserves ${formatUnits(reserved, AMOUNT_DECIMALS)} TFP; the position has ${freeTfp} TFP free`);
  }
  return { usdc: formatUnits(u, AMOUNT_DECIMALS), min_price: formatUnits(p, PRICE_DECIMALS), reserved: formatUnits(reserved, AMOUNT_DECIMALS) };
}

function roundSection(ctx, round, now) {
  if (!round) return null;
  const inLock = now >= round.lock_window_starts_at;
  const left = round.closes_at - now;
  const cap = round.cap != null ? fmtAmount(ctx, round.cap, "USDC") : "—";
  const capWhy = [
    round.cap_a != null ? `cap A ${fmtAmount(ctx, round.cap_a, "USDC")}` : "cap A off",
    round.cap_b != null ? `cap B ${fmtAmount(ctx, round.cap_b, "USDC")}` : "cap B off",
    `pool ${fmtAmount(ctx, round.pool_usdc, "USDC")}`,
  ].join(" · ");
  return section(`Open round #${round.round_id}`, "exit-round", facts([
    ["Round", `#${round.round_id}`, "round-id"],
    ["Closes", `${fmtTime(round.closes_at)} (${left > 0 ? "in " + fmtDuration(left) : "due at the next tick"})`, "round-closes"],
    ["Lock window", `${fmtTime(round.lock_window_starts_at)} onwards${inLock ? " — on now: bids can only lower their min price, no cancel" : ""}`, "round-lock"],
    ["Cap if it closed now", [h("strong", {}, cap), ` (${capWhy})`], "round-cap"],
    ["Clearing price", `at least ${fmtBps(round.min_discount_bps ?? 0)} below the reference TFT price`],
    ["Pool", `${fmtAmount(ctx, round.pool_usdc, "USDC")} · ${fmtAmount(ctx, round.pool_tfp, "TFP")}`],
    ["Positions", String(round.positions)],
    ["Paid out so far", fmtAmount(ctx, round.total_usdc_paid, "USDC")],
  ]), round.awaiting_price ? h("p", { class: "notice notice-warning", testid: "round-awaiting-price" }, "The round is past its close and waits for a valid TFT price; the lock window stays in force.") : null);
}

function positionsTable(ctx, state, refresh) {
  const status = statusLine("positions-status");
  const close = async (p) => {
    status.info(`Closing position ${p.id}…`);
    try {
      status.ok(acceptedText(`Position ${p.id} closed`, await ctx.api.submit({ close_position: { position_id: p.id } })));
      refresh();
    } catch (error) {
      status.error(error);
    }
  };
  return h("div", {}, table([
    { label: "Position", cell: (p) => `#${p.id}` },
    { label: "Committed", cell: (p) => fmtAmount(ctx, p.amount, "TFP"), testid: (p) => `position-amount-${p.id}` },
    { label: "Earned margin", cell: (p) => fmtAmount(ctx, p.earned, "TFP"), testid: (p) => `position-earned-${p.id}` },
    { label: "Weight", cell: (p) => `×${formatUnits(BigInt(p.weight_bps), 4)}`, testid: (p) => `position-weight-${p.id}` },
    { label: "Reserved by bids", cell: (p) => (p.reserved != null ? fmtAmount(ctx, p.reserved, "TFP") : "—") },
    { label: "Free", cell: (p) => (p.free != null ? fmtAmount(ctx, p.free, "TFP") : "—"), testid: (p) => `position-free-${p.id}` },
    { label: "Opened", cell: (p) => `${fmtTime(p.opened_at)} (worth ${fmtAmount(ctx, p.value_usd_at_open, "USD")})` },
    { label: "Action", cell: (p) => h("button", { type: "button", class: "danger", "aria-label": `Close position ${p.id}`, testid: `close-position-${p.id}`, onclick: () => close(p) }, "Close") },
  ], state.positions, { empty: "You have no position. Open one below with TFP (lock TFT to get TFP).", testid: "my-positions" }), status.node);
}

/// The forms to lock TFT and open a position; built once, their hints follow the free balances.
function openPositionForms(ctx, state, refresh) {
  const lockField = field({ label: "TFT to lock (gives the same TFP)", name: "lock-tft", inputmode: "decimal", hint: " ", testid: "lock-tft-amount" });
  const lockStatus = statusLine("lock-status");
  const lockForm = h("form", { class: "inline", "aria-label": "Lock TFT for TFP" }, lockField.wrap,
    h("button", { type: "submit", testid: "lock-tft-submit" }, "Lock TFT"), lockStatus.node);
  onSubmit(lockForm, lockStatus, async () => {
    const tft = formatUnits(parseDecimal(lockField.input.value, AMOUNT_DECIMALS, "TFT to lock"), AMOUNT_DECIMALS);
    if (tft === "0") throw new Error("TFT to lock: must be greater than 0");
    lockStatus.ok(acceptedText(`Locked ${tft} TFT`, await ctx.api.submit({ lock_tft: { tft } })));
    lockField.input.value = "";
    refresh();
  });
  const openField = field({ label: "TFP to commit", name: "open-tfp", inputmode: "decimal", hint: " ", testid: "open-position-amount" });
  const openStatus = statusLine("open-position-status");
  const openForm = h("form", { class: "inline", "aria-label": "Open a position" }, openField.wrap,
    h("button", { type: "submit", class: "primary", testid: "open-position-submit" }, "Open position"), openStatus.node);
  onSubmit(openForm, openStatus, async () => {
    const tfp = parseDecimal(openField.input.value, AMOUNT_DECIMALS, "TFP to commit");
    if (tfp === 0n) throw new Error("TFP to commit: must be greater than 0");
    if (state.free && tfp > amountUnits(state.free.TFP)) throw new Error(`TFP to commit: you have ${state.free.TFP} TFP free`);
    openStatus.ok(acceptedText("Position opened", await ctx.api.submit({ open_position: { tfp: formatUnits(tfp, AMOUNT_DECIMALS) } })));
    openField.input.value = "";
    refresh();
  });
  const hint = (f) => f.wrap.querySelector(".help");
  return {
    node: h("div", {}, h("h3", {}, "Open a position"), openForm, lockForm),
    update(free) {
      hint(lockField).textContent = `Free: ${free?.TFT ?? "?"} TFT. Locked TFT backs TFP one to one; unlock TFP on the Wallet page.`;
      hint(openField).textContent = `Free: ${free?.TFP ?? "?"} TFP. The position's weight grows with its age; close it after the minimum lock.`;
    },
  };
}

function bidForm(ctx, state, refresh) {
  const positions = state.positions;
  if (!positions.length) return h("p", { class: "muted" }, "A sealed bid needs a position: open one first.");
  const pos = field({ label: "Position", name: "bid-position", options: positions.map((p) => [String(p.id), `#${p.id} — ${p.free ?? p.amount} TFP free`]), testid: "bid-position" });
  const usdc = field({ label: "USDC wanted", name: "bid-usdc", inputmode: "decimal", required: true, testid: "bid-usdc" });
  const price = field({ label: "Lowest price (USD per TFP)", name: "bid-price", inputmode: "decimal", required: true, hint: "You sell TFP only at this price or higher. The bid reserves USDC ÷ price TFP on the position.", testid: "bid-min-price" });
  const carry = h("input", { type: "checkbox", id: "bid-carry", name: "bid-carry", testid: "bid-carry" });
  const preview = h("p", { class: "help", "aria-live": "polite", testid: "bid-reserve" });
  state.bidStatus ||= statusLine("bid-status");
  const status = state.bidStatus;
  const selected = () => positions.find((p) => String(p.id) === pos.input.value);
  const read = () => checkBid({ usdc: usdc.input.value, minPrice: price.input.value }, selected()?.free);
  const form = h("form", { class: "stack", "aria-label": "Place a sealed bid", testid: "bid-form",
    oninput: () => { try { preview.textContent = `Reserves ${read().reserved} TFP on the position.`; } catch { preview.textContent = ""; } } },
    pos.wrap, usdc.wrap, price.wrap,
    h("div", { class: "field checkbox" }, carry, h("label", { for: "bid-carry" }, "Carry the unfilled part over to the next round")),
    preview, h("button", { type: "submit", class: "primary", testid: "bid-submit" }, "Place sealed bid"), status.node);
  onSubmit(form, status, async () => {
    const bid = read();
    const accepted = await ctx.api.submit({ submit_exit_bid: { position_id: Number(pos.input.value), usdc: bid.usdc, min_price: bid.min_price, carry_over: carry.checked } });
    const placed = (accepted.events || []).find((e) => e.event === "exit_bid_submitted");
    status.ok(acceptedText(placed ? `Bid ${placed.bid_id} placed in round ${placed.round_id}` : "Bid placed", accepted));
    usdc.input.value = "";
    price.input.value = "";
    preview.textContent = "";
    refresh();
  });
  return form;
}

function amendBidForm(ctx, bid, inLock, status, done) {
  const usdc = field({ label: `USDC wanted (bid ${bid.id})`, name: `amend-usdc-${bid.id}`, value: bid.usdc, inputmode: "decimal", testid: `amend-bid-usdc-${bid.id}`, readonly: inLock });
  const price = field({ label: `Lowest price (bid ${bid.id})`, name: `amend-price-${bid.id}`, value: bid.min_price, inputmode: "decimal", testid: `amend-bid-price-${bid.id}`, hint: inLock ? "Lock window: only a lower min price is accepted." : null });
  const form = h("form", { class: "inline", "aria-label": `Amend bid ${bid.id}` }, usdc.wrap, price.wrap,
    h("button", { type: "submit", testid: `amend-bid-submit-${bid.id}` }, "Save"),
    h("button", { type: "button", onclick: () => done(false) }, "Close"));
  onSubmit(form, status, async () => {
    const checked = checkBid({ usdc: usdc.input.value, minPrice: price.input.value }, null);
    if (inLock && parseDecimal(checked.min_price, PRICE_DECIMALS) > parseDecimal(bid.min_price, PRICE_DECIMALS)) {
      throw new Error("Inside the lock window the min price can only go down");
    }
    status.ok(acceptedText(`Bid ${bid.id} amended`, await ctx.api.submit({ amend_exit_bid: { bid_id: bid.id, usdc: checked.usdc, min_price: checked.min_price } })));
    done(true);
  });
  return form;
}

function bidsTable(ctx, state, refresh) {
  state.bidsStatus ||= statusLine("bids-status");
  state.bidEditor ||= h("div", { testid: "bid-editor" });
  const { bidsStatus: status, bidEditor: editor } = state;
  const inLock = state.round && state.now >= state.round.lock_window_starts_at;
  const cancel = async (bid) => {
    status.info(`Cancelling bid ${bid.id}…`);
    try {
      status.ok(acceptedText(`Bid ${bid.id} cancelled`, await ctx.api.submit({ cancel_exit_bid: { bid_id: bid.id } })));
      refresh();
    } catch (error) {
      status.error(error);
    }
  };
  return h("div", {}, table([
    { label: "Bid", cell: (b) => `#${b.id}` },
    { label: "Position", cell: (b) => `#${b.position_id}` },
    { label: "USDC wanted", cell: (b) => fmtAmount(ctx, b.usdc, "USDC"), testid: (b) => `bid-usdc-${b.id}` },
    { label: "Lowest price", cell: (b) => fmtPrice(b.min_price, "USD/TFP"), testid: (b) => `bid-price-${b.id}` },
    { label: "Reserved", cell: (b) => fmtAmount(ctx, b.reserved, "TFP") },
    { label: "Carry over", cell: (b) => (b.carry_over ? "yes" : "no") },
    { label: "Actions", cell: (b) => h("div", { class: "actions" },
      h("button", { type: "button", "aria-label": `Amend bid ${b.id}`, testid: `amend-bid-${b.id}`, onclick: () => fill(editor, amendBidForm(ctx, b, inLock, status, (changed) => { fill(editor); if (changed) refresh(); })) }, "Amend"),
      h("button", { type: "button", class: "danger", "aria-label": `Cancel bid ${b.id}`, testid: `cancel-bid-${b.id}`, disabled: inLock, title: inLock ? "No cancel inside the lock window" : null, onclick: () => cancel(b) }, "Cancel")) },
  ], state.bids, { empty: "No bid in the open round.", testid: "my-bids" }), editor, status.node);
}

function roundDetail(ctx, result, me) {
  return h("div", { class: "round-detail", testid: `round-detail-${result.round_id}` },
    facts([
      ["Opened – closed", `${fmtTime(result.opened_at)} – ${fmtTime(result.closed_at)}`],
      ["Reference / ceiling / clearing", `${fmtPrice(result.ref_price)} / ${fmtPrice(result.ceiling)} / ${fmtPrice(result.clearing_price)} USD per TFP`],
      ["Caps (A / B / applied)", `${fmtAmount(ctx, result.cap_a, "USDC")} / ${fmtAmount(ctx, result.cap_b, "USDC")} / ${fmtAmount(ctx, result.cap, "USDC")}`],
      ["Paid", fmtAmount(ctx, result.total_paid, "USDC")],
      ["TFP surrendered / to treasury / margin / dust", [result.tfp_surrendered, result.treasury_tfp, result.margin_tfp, result.dust_tfp].map((x) => fmtAmount(ctx, x, "TFP")).join(" / ")],
      ["Note", result.note || "—"],
    ]),
    table([
      { label: "Bid", cell: (b) => `#${b.bid_id}${b.owner === me ? " (mine)" : ""}` },
      { label: "Owner", cell: (b) => h("span", { title: b.owner }, shortKey(b.owner)) },
      { label: "Asked", cell: (b) => fmtAmount(ctx, b.requested, "USDC") },
      { label: "Lowest price", cell: (b) => fmtPrice(b.min_price) },
      { label: "Filled", cell: (b) => fmtAmount(ctx, b.filled, "USDC") },
      { label: "Surrendered", cell: (b) => fmtAmount(ctx, b.surrendered, "TFP") },
      { label: "Outcome", cell: (b) => (b.excluded ? "excluded (min price above clearing)" : b.carried_over ? "carried over" : b.released !== "0" ? `released ${b.released} TFP` : "filled") },
    ], result.bids, { empty: "No bids in this round." }));
}

function roundsTable(ctx, rounds, me) {
  const detail = h("div", { "aria-live": "polite" });
  const show = async (id) => {
    fill(detail, h("p", {}, `Loading round ${id}…`));
    try {
      fill(detail, roundDetail(ctx, await ctx.api.get(`/v1/exit-pool/rounds/${id}`), me));
    } catch (error) {
      fill(detail, errorBlock(error));
    }
  };
  const newest = rounds.slice().reverse();
  return h("div", {}, table([
    { label: "Round", cell: (r) => `#${r.round_id}` },
    { label: "Closed", cell: (r) => fmtTime(r.closed_at) },
    { label: "Clearing price", cell: (r) => (r.clearing_price ? fmtPrice(r.clearing_price, "USD/TFP") : "none"), testid: (r) => `round-price-${r.round_id}` },
    { label: "Cap", cell: (r) => fmtAmount(ctx, r.cap, "USDC") },
    { label: "Paid", cell: (r) => fmtAmount(ctx, r.total_paid, "USDC") },
    { label: "Margin", cell: (r) => fmtAmount(ctx, r.margin_tfp, "TFP") },
    { label: "Bids", cell: (r) => String(r.bids) },
    { label: "Note", cell: (r) => r.note || "" },
    { label: "Result", cell: (r) => h("button", { type: "button", "aria-label": `Details of round ${r.round_id}`, onclick: () => show(r.round_id) }, "Details") },
  ], newest, { empty: "No round has closed yet.", testid: "past-rounds" }), detail);
}

async function load(ctx, state) {
  const me = ctx.wallet.account;
  const [round, rounds, status] = await Promise.all([
    ctx.api.get("/v1/exit-pool/round"), ctx.api.get("/v1/exit-pool/rounds"), ctx.api.get("/v1/status"),
  ]);
  Object.assign(state, { round, rounds: rounds.rounds, now: status.now, positions: [], bids: [], free: null, ownError: null });
  if (!me) return;
  try {
    const [own, account] = await Promise.all([
      ctx.api.signedGet("/v1/exit-pool/bids"),
      ctx.api.signedGet(`/v1/accounts/${me}`).catch((e) => (e.code === "account_not_found" ? null : Promise.reject(e))),
    ]);
    state.bids = own.bids;
    state.positions = own.positions;
    state.free = account ? account.free || account.balances : null;
  } catch (error) {
    state.ownError = error;
    const pub = await ctx.api.get(`/v1/exit-pool/positions?owner=${me}`).catch(() => ({ positions: [] }));
    state.positions = pub.positions;
  }
}

/// Copies what was typed in a form being rebuilt into its replacement (by field name; a choice only if it still
/// exists), so a live update that changes the choices does not wipe a half-typed bid.
export function carryTyped(from, to) {
  for (const old of from.querySelectorAll("input[name], select[name]")) {
    const now = to.querySelector(`[name="${old.name}"]`);
    if (!now) continue;
    if (old.type === "checkbox") now.checked = old.checked;
    else if (now.tagName !== "SELECT" || [...now.options].some((o) => o.value === old.value)) now.value = old.value;
  }
}

export async function render(root, ctx) {
  const state = {};
  const body = h("div", {});
  fill(root, h("p", { class: "muted" }, "Commit TFP as a position, earn margin from every round, and sell TFP for USDC through sealed bids cleared once per round at one price."),
    body);
  const live = liveRefresh(ctx, async () => {
    try {
      await load(ctx, state);
    } catch (error) {
      fill(body, errorBlock(error, "exit-error"));
      return;
    }
    const refresh = () => live.run();
    const mine = !!ctx.wallet.account;
    // Forms outlive a refresh (a live update must not wipe what one types) unless their choices changed.
    const bidKey = state.positions.map((p) => `${p.id}:${p.free}`).join(",");
    if (state.bidKey !== bidKey || !state.bidForm) {
      state.bidKey = bidKey;
      const typed = state.bidForm;
      state.bidForm = bidForm(ctx, state, refresh);
      if (typed?.tagName === "FORM") carryTyped(typed, state.bidForm);
    }
    state.openForms ||= openPositionForms(ctx, state, refresh);
    state.openForms.update(state.free);
    fill(body,
      roundSection(ctx, state.round, state.now),
      state.ownError ? errorBlock(state.ownError, "exit-own-error") : null,
      section("My positions", "positions", mine ? [positionsTable(ctx, state, refresh), state.openForms.node] : needWallet("your positions")),
      section("Place a sealed bid", "bid-entry", mine ? state.bidForm : needWallet("bidding")),
      section("My bids in this round", "bids", mine ? bidsTable(ctx, state, refresh) : needWallet("your bids")),
      section("Past rounds", "rounds", roundsTable(ctx, state.rounds, ctx.wallet.account)));
  }, { filters: () => [{ kind: "exit_round_closed" }, ctx.wallet.account ? { account: ctx.wallet.account } : null], everyMs: 30000 });
  return () => live.stop();
}
