// Exchange: the in-wallet frequent batch auctions. Markets with their schedule and a countdown to the next
// clear, order entry (sealed, prefunded limit orders) with checks before signing, my open orders (amend,
// cancel) and my fills (signed reads), the depth and price after each clear, updated live from the event
// stream (`batch_cleared` and my account's events).

import {
  AMOUNT_DECIMALS, PRICE_DECIMALS, parseDecimal, formatUnits, amountUnits, fmtAmount, fmtPrice, fmtTime,
  fmtDuration, fmtBps, h, fill, field, section, table, facts, errorBlock, needWallet, statusLine, onSubmit,
  acceptedText, liveRefresh,
} from "./common.js";

export const title = "Exchange";

const PRICE_SCALE = 10n ** BigInt(PRICE_DECIMALS);

/// Quote units a buy escrows: `ceil(quantity × limit)` plus `ceil(notional × fee / 10,000)` (the core's rule).
export function buyEscrowUnits(quantityUnits, limitAtto, feeBps) {
  const ceilDiv = (a, b) => (a + b - 1n) / b;
  const notional = ceilDiv(quantityUnits * limitAtto, PRICE_SCALE);
  return notional + ceilDiv(notional * BigInt(feeBps), 10000n);
}

/// Checks an order's inputs against the market's rules and the free balance; returns the command fields
/// and the escrow, or throws an `Error` naming the field.
export function checkOrder(market, { side, quantity, limit, expires }, free) {
  if (side !== "buy" && side !== "sell") throw new Error("Side: choose buy or sell");
  const qty = parseDecimal(quantity, AMOUNT_DECIMALS, `Quantity (${market.base})`);
  const min = amountUnits(market.min_order_base);
  if (qty < min) throw new Error(`Quantity (${market.base}): at least ${market.min_order_base} ${market.base} in this market`);
  const price = parseDecimal(limit, PRICE_DECIMALS, `Limit price (${market.quote} per ${market.base})`);
  if (price === 0n) throw new Error(`Limit price (${market.quote} per ${market.base}): must be greater than 0`);
  let batches = null;
  if (String(expires ?? "").trim() !== "") {
    if (!/^[0-9]+$/.test(String(expires).trim()) || Number(expires) < 1 || Number(expires) > 4294967295) {
      throw new Error("Lives for (batches): a whole number of batches, at least 1");
    }
    batches = Number(expires);
  }
  const escrowAsset = side === "buy" ? market.quote : market.base;
  const escrow = side === "buy" ? buyEscrowUnits(qty, price, market.fee_bps) : qty;
  if (free != null) {
    const have = amountUnits(free[escrowAsset]);
    if (escrow > have) {
      throw new Error(`This order escrows ${formatUnits(escrow, AMOUNT_DECIMALS)} ${escrowAsset}; you have ${formatUnits(have, AMOUNT_DECIMALS)} ${escrowAsset} free`);
    }
  }
  return {
    command: {
      place_order: {
        market_id: market.id, side, quantity: formatUnits(qty, AMOUNT_DECIMALS),
        limit_price: formatUnits(price, PRICE_DECIMALS), expires_after_batches: batches,
      },
    },
    escrow: formatUnits(escrow, AMOUNT_DECIMALS),
    escrowAsset,
  };
}

function marketName(m) {
  return `${m.base}/${m.quote} (market ${m.id})`;
}

/// The countdown element: seconds to `next_clear_at` by the node's clock, ticking locally.
function countdown(market, nodeNow) {
  const node = h("span", { testid: "batch-countdown" });
  if (market.next_clear_at == null) {
    node.textContent = "starts with the first order";
    return { node, tick() {} };
  }
  const offset = nodeNow - Math.floor(Date.now() / 1000);
  const tick = () => {
    const now = Math.floor(Date.now() / 1000) + offset;
    const left = market.next_clear_at - now;
    const lock = market.lock_window_starts_at != null && now >= market.lock_window_starts_at;
    node.textContent = left > 0
      ? `${fmtDuration(left)}${lock ? " (lock window: only improvements)" : ""}`
      : "due: clears at the node's next tick";
    node.dataset.seconds = String(Math.max(0, left));
  };
  tick();
  return { node, tick };
}

function marketFacts(ctx, market, clock) {
  return facts([
    ["Batch", `#${market.batch}`, "market-batch"],
    ["Next clear", [clock.node, " · ", fmtTime(market.next_clear_at)]],
    ["Last price", market.last_price ? fmtPrice(market.last_price, `${market.quote}/${market.base}`) : "no clear yet", "market-last-price"],
    ["Batch interval", `${market.batch_interval_s} s; lock window ${market.lock_window_s} s before the clear`],
    ["Smallest order", fmtAmount(ctx, market.min_order_base, market.base)],
    ["Fee", fmtBps(market.fee_bps)],
    ["Open orders at last clear", `${market.open_orders.buy} buy · ${market.open_orders.sell} sell`],
    ["Identity", market.identity_required ? "verified accounts only" : "open to every account"],
  ]);
}

function orderForm(ctx, state, onPlaced) {
  const m = state.market;
  const side = field({ label: "Side", name: "side", options: [["buy", `Buy ${m.base} with ${m.quote}`], ["sell", `Sell ${m.base} for ${m.quote}`]], testid: "order-side" });
  const quantity = field({ label: `Quantity (${m.base})`, name: "quantity", inputmode: "decimal", required: true, hint: `At least ${m.min_order_base} ${m.base}; up to 7 decimals.`, testid: "order-quantity" });
  const limit = field({ label: `Limit price (${m.quote} per ${m.base})`, name: "limit", inputmode: "decimal", required: true, hint: "A buy fills at this price or lower, a sell at this price or higher.", testid: "order-limit" });
  const expires = field({ label: "Lives for (batches, optional)", name: "expires", inputmode: "numeric", hint: `Default ${m.default_order_batches} batches.`, testid: "order-expires" });
  const preview = h("p", { class: "help", testid: "order-escrow", "aria-live": "polite" });
  const status = statusLine("order-status");
  const read = () => ({ side: side.input.value, quantity: quantity.input.value, limit: limit.input.value, expires: expires.input.value });
  const update = () => {
    try {
      const checked = checkOrder(m, read(), state.free);
      preview.textContent = `Escrowed now: ${fmtAmount(ctx, checked.escrow, checked.escrowAsset)} (returned for what does not fill).`;
    } catch {
      preview.textContent = "";
    }
  };
  const form = h("form", { class: "stack", "aria-label": "Place an order", testid: "order-form", oninput: update },
    side.wrap, quantity.wrap, limit.wrap, expires.wrap, preview,
    h("button", { type: "submit", class: "primary", testid: "order-submit" }, "Place order"), status.node);
  onSubmit(form, status, async () => {
    if (!ctx.wallet.account) throw new Error("Unlock a wallet first (Wallet page).");
    const checked = checkOrder(m, read(), state.free);
    const accepted = await ctx.api.submit(checked.command);
    const placed = (accepted.events || []).find((e) => e.event === "order_placed");
    status.ok(acceptedText(placed ? `Order ${placed.order_id} placed in batch ${placed.batch}` : "Order placed", accepted));
    quantity.input.value = "";
    limit.input.value = "";
    preview.textContent = "";
    onPlaced();
  });
  return form;
}

function amendForm(ctx, order, status, done) {
  const q = field({ label: `New quantity for order ${order.id}`, name: `q${order.id}`, value: order.quantity, inputmode: "decimal", testid: `amend-quantity-${order.id}` });
  const p = field({ label: `New limit price for order ${order.id}`, name: `p${order.id}`, value: order.limit_price, inputmode: "decimal", testid: `amend-limit-${order.id}` });
  const form = h("form", { class: "inline", "aria-label": `Amend order ${order.id}` }, q.wrap, p.wrap,
    h("button", { type: "submit", testid: `amend-submit-${order.id}` }, "Save"),
    h("button", { type: "button", onclick: () => done(false) }, "Close"));
  onSubmit(form, status, async () => {
    const quantity = formatUnits(parseDecimal(q.input.value, AMOUNT_DECIMALS, "Quantity"), AMOUNT_DECIMALS);
    const price = parseDecimal(p.input.value, PRICE_DECIMALS, "Limit price");
    if (price === 0n) throw new Error("Limit price: must be greater than 0");
    const accepted = await ctx.api.submit({ amend_order: { order_id: order.id, quantity, limit_price: formatUnits(price, PRICE_DECIMALS) } });
    status.ok(acceptedText(`Order ${order.id} amended`, accepted));
    done(true);
  });
  return form;
}

function ordersTable(ctx, state, refresh) {
  // The editor and the status line outlive a refresh, so that a live update does not wipe what one types.
  state.ordersStatus ||= statusLine("orders-status");
  state.editor ||= h("div", { testid: "amend-editor" });
  const { ordersStatus: status, editor } = state;
  const cancel = async (order) => {
    status.info(`Cancelling order ${order.id}…`);
    try {
      const accepted = await ctx.api.submit({ cancel_order: { order_id: order.id } });
      status.ok(acceptedText(`Order ${order.id} cancelled`, accepted));
      refresh();
    } catch (error) {
      status.error(error);
    }
  };
  const rows = state.orders.filter((o) => o.market_id === state.market.id);
  const m = state.market;
  return h("div", {},
    table([
      { label: "Order", cell: (o) => `#${o.id}` },
      { label: "Side", cell: (o) => o.side, testid: (o) => `order-side-${o.id}` },
      { label: `Quantity (${m.base})`, cell: (o) => fmtAmount(ctx, o.quantity, m.base) },
      { label: "Limit", cell: (o) => fmtPrice(o.limit_price, m.quote) },
      { label: "Escrow", cell: (o) => fmtAmount(ctx, o.escrow, o.side === "buy" ? m.quote : m.base) },
      { label: "Batches", cell: (o) => `${o.placed_in_batch}–${o.expires_after_batch}` },
      { label: "Actions", cell: (o) => h("div", { class: "actions" },
        h("button", { type: "button", testid: `amend-order-${o.id}`, "aria-label": `Amend order ${o.id}`, onclick: () => fill(editor, amendForm(ctx, o, status, (changed) => { fill(editor); if (changed) refresh(); })) }, "Amend"),
        h("button", { type: "button", class: "danger", testid: `cancel-order-${o.id}`, "aria-label": `Cancel order ${o.id}`, disabled: o.locked, title: o.locked ? "Inside the lock window: only improvements" : null, onclick: () => cancel(o) }, "Cancel")) },
    ], rows, { empty: "No open orders in this market.", testid: "my-orders" }),
    editor, status.node);
}

function fillsTable(ctx, state) {
  const m = state.market;
  const rows = state.fills.filter((f) => f.market_id === m.id);
  return table([
    { label: "Batch", cell: (f) => `#${f.batch}` },
    { label: "Cleared", cell: (f) => fmtTime(f.cleared_at) },
    { label: "Order", cell: (f) => `#${f.order_id}` },
    { label: "Side", cell: (f) => f.side },
    { label: `Filled (${m.base})`, cell: (f) => fmtAmount(ctx, f.filled, m.base), testid: (f) => `fill-filled-${f.order_id}` },
    { label: "Price", cell: (f) => fmtPrice(f.price, m.quote) },
    { label: `${m.quote} paid or received`, cell: (f) => fmtAmount(ctx, f.quote, m.quote) },
    { label: "Fee", cell: (f) => fmtAmount(ctx, f.fee, m.quote) },
  ], rows, { empty: "No fills yet: fills appear after the batch your order is in clears.", testid: "my-fills" });
}

function depthView(ctx, state) {
  const { depth, market: m } = state;
  if (!depth) return h("p", { class: "muted" }, "Depth unavailable.");
  const head = depth.batch == null
    ? h("p", { class: "muted", testid: "depth-empty" }, "No clear yet: depth appears after the first batch.")
    : h("p", {}, `After batch #${depth.batch} (${fmtTime(depth.cleared_at)}) at `,
      h("strong", { testid: "depth-price" }, depth.price ? fmtPrice(depth.price, `${m.quote}/${m.base}`) : "no cross"), ".");
  return h("div", {}, head, depth.batch == null ? null : table([
    { label: "Price", cell: (l) => fmtPrice(l.price, m.quote) },
    { label: `Buy (${m.base})`, cell: (l) => fmtAmount(ctx, l.buy, m.base) },
    { label: `Sell (${m.base})`, cell: (l) => fmtAmount(ctx, l.sell, m.base) },
  ], depth.levels, { empty: "No resting orders after the last clear.", testid: "depth" }));
}

function batchesView(ctx, state) {
  const m = state.market;
  const batches = state.batches || [];
  const chartBox = h("div", { class: "chart", testid: "price-chart" });
  const priced = batches.filter((b) => b.price).slice().reverse();
  if (priced.length >= 2 && ctx.ui?.chart) {
    queueMicrotask(() => {
      try {
        state.chart?.destroy();
        state.chart = ctx.ui.chart(chartBox, { x: priced.map((b) => b.cleared_at), series: [{ label: `Price (${m.quote}/${m.base})`, values: priced.map((b) => Number(b.price)) }], title: `Clearing price per batch, ${m.quote} per ${m.base}`, yLabel: `${m.quote} per ${m.base}` });
      } catch (error) {
        fill(chartBox, errorBlock(error));
      }
    });
  } else {
    state.chart?.destroy();
    state.chart = null;
    chartBox.append(h("p", { class: "muted" }, "The price chart needs two clears with a price."));
  }
  return h("div", {}, chartBox, table([
    { label: "Batch", cell: (b) => `#${b.batch}` },
    { label: "Cleared", cell: (b) => fmtTime(b.cleared_at) },
    { label: "Price", cell: (b) => (b.price ? fmtPrice(b.price, m.quote) : "no cross"), testid: (b) => `batch-price-${b.batch}` },
    { label: `Volume (${m.base})`, cell: (b) => fmtAmount(ctx, b.volume, m.base) },
    { label: "Imbalance", cell: (b) => fmtAmount(ctx, b.imbalance, m.base) },
    { label: "Orders (filled)", cell: (b) => `${b.orders} (${b.filled_orders})` },
  ], batches, { empty: "No batch cleared yet.", testid: "batches" }));
}

async function loadMarket(ctx, state) {
  const id = state.market.id;
  const [depth, batches] = await Promise.all([
    ctx.api.get(`/v1/exchange/markets/${id}/depth`).catch((e) => ({ error: e })),
    ctx.api.get(`/v1/exchange/markets/${id}/batches?limit=20`).catch((e) => ({ error: e })),
  ]);
  state.depth = depth.error ? null : depth;
  state.batches = batches.error ? [] : batches.batches;
  state.marketErrors = [depth.error, batches.error].filter(Boolean);
}

async function loadOwn(ctx, state) {
  state.orders = [];
  state.fills = [];
  state.free = null;
  state.ownError = null;
  const me = ctx.wallet.account;
  if (!me) return;
  try {
    const [orders, fills, account] = await Promise.all([
      ctx.api.signedGet("/v1/exchange/orders"),
      ctx.api.signedGet("/v1/exchange/fills"),
      ctx.api.signedGet(`/v1/accounts/${me}`).catch((e) => (e.code === "account_not_found" ? null : Promise.reject(e))),
    ]);
    state.orders = orders.orders;
    state.fills = fills.fills;
    state.free = account ? account.free || account.balances : { TFT: "0", TFP: "0", CC: "0", USDC: "0" };
  } catch (error) {
    state.ownError = error;
  }
}

function balancesLine(ctx, state) {
  if (!state.free) return null;
  const m = state.market;
  return h("p", { class: "help", testid: "exchange-free" }, "Free: ",
    fmtAmount(ctx, state.free[m.base], m.base), " · ", fmtAmount(ctx, state.free[m.quote], m.quote));
}

export async function render(root, ctx) {
  const state = { marketId: null, market: null, orders: [], fills: [], free: null };
  const picker = h("div", {});
  const body = h("div", {});
  fill(root, h("p", { class: "muted" }, "Sealed limit orders, cleared together at one price every batch. Nobody sees your order before its batch clears."),
    picker, body);
  let clock = { tick() {} };
  const ticker = setInterval(() => clock.tick(), 1000);
  const live = liveRefresh(ctx, async () => {
    let view;
    try {
      view = await ctx.api.get("/v1/exchange/markets");
    } catch (error) {
      fill(body, errorBlock(error, "exchange-error"));
      return;
    }
    if (!view.markets.length) {
      fill(picker);
      fill(body, h("p", { class: "muted", testid: "markets-empty" }, "This node has no exchange market."));
      return;
    }
    state.market = view.markets.find((m) => m.id === state.marketId) || view.markets[0];
    state.marketId = state.market.id;
    if (view.markets.length > 1 && !picker.firstChild) {
      const sel = field({ label: "Market", name: "market", options: view.markets.map((m) => [String(m.id), marketName(m)]), value: String(state.marketId), testid: "market-select" });
      sel.input.addEventListener("change", () => { state.marketId = Number(sel.input.value); live.run(); });
      fill(picker, sel.wrap);
    }
    await Promise.all([loadMarket(ctx, state), loadOwn(ctx, state)]);
    clock = countdown(state.market, view.now);
    const refresh = () => live.run();
    const keep = root.querySelector("[data-testid=order-form]");
    fill(body,
      section(marketName(state.market), "market", marketFacts(ctx, state.market, clock)),
      state.marketErrors.map((e) => errorBlock(e)),
      section("Place an order", "order-entry", ctx.wallet.account ? [balancesLine(ctx, state), keep && keep.dataset.market === String(state.marketId) ? keep : orderForm(ctx, state, refresh)] : needWallet("order entry")),
      section("My open orders", "orders", ctx.wallet.account ? (state.ownError ? errorBlock(state.ownError, "orders-error") : ordersTable(ctx, state, refresh)) : needWallet("your orders")),
      section("My fills", "fills", ctx.wallet.account ? (state.ownError ? null : fillsTable(ctx, state)) : needWallet("your fills")),
      section("Depth after the last clear", "depth-section", depthView(ctx, state)),
      section("Recent batches", "batches-section", batchesView(ctx, state)));
    const form = body.querySelector("[data-testid=order-form]");
    if (form) form.dataset.market = String(state.marketId);
  }, { filters: () => [{ kind: "batch_cleared" }, ctx.wallet.account ? { account: ctx.wallet.account } : null], everyMs: 15000 });
  return () => {
    clearInterval(ticker);
    live.stop();
    state.chart?.destroy();
  };
}
