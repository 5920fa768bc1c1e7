// Dashboard: the economy at a glance. Supply per asset, prices (TFT, gold, CC) with the CC price over the gold
// series, CC minted and burned, TFT locked, burned and owed, the treasury, the exit pool, the journal head,
// the invariants and the state hash; reloaded whenever the journal grows (live events).

export const title = "Dashboard";

const ASSETS = ["TFT", "TFP", "CC", "USDC"];
/** Grams per troy ounce: the CC is 0.001 g of gold (decisions §1). */
const TROY_OZ_G = 31.1034768;
const CHART_FROM = "2000-01";

async function goldSeries() {
  const response = await fetch("/assets/data/gold-monthly.csv", { cache: "no-cache" });
  if (!response.ok) throw new Error(`gold series: HTTP ${response.status}`);
  const rows = (await response.text()).trim().split("\n").slice(1).map((line) => line.split(","));
  const kept = rows.filter(([month]) => month >= CHART_FROM);
  return {
    x: kept.map(([month]) => Date.UTC(Number(month.slice(0, 4)), Number(month.slice(5, 7)) - 1, 1) / 1000),
    cc: kept.map(([, price]) => Number(price) / TROY_OZ_G / 1000),
    last: kept.at(-1),
  };
}

async function loadAll(api) {
  const [status, supply, prices, treasury, round] = await Promise.allSettled([
    api.get("/v1/status"), api.get("/v1/supply"), api.get("/v1/prices"), api.get("/v1/treasury"),
    api.get("/v1/exit-pool/round"),
  ]);
  const value = (r) => (r.status === "fulfilled" ? r.value : null);
  if (status.status === "rejected") throw status.reason;
  return { status: value(status), supply: value(supply), prices: value(prices), treasury: value(treasury), round: value(round), roundError: round.reason };
}

function nodeSection(ui, { status, supply }) {
  const ok = status.invariants_ok && (!supply || supply.invariants_ok);
  return ui.stats([
    { label: "Journal head (entry)", value: ui.fmt.int(status.seq), testid: "journal-head" },
    { label: "Node time", value: ui.fmt.time(status.now), testid: "node-time" },
    { label: "Commands applied", value: ui.fmt.int(status.commands_applied) },
    { label: "Invariants", value: ok ? "all hold" : `VIOLATED: ${supply?.invariant_error ?? "see /v1/status"}`, testid: "invariants" },
    { label: "Parameter set", value: status.parameter_set },
    { label: "State hash", value: ui.el("code", { class: "mono" }, status.state_hash), testid: "state-hash", wide: true },
  ]);
}

function pricesSection(ui, prices, gold) {
  const current = prices?.current;
  if (!current || !current.valid) {
    return [ui.notice(`No valid oracle price: ${current?.reason ?? "not reported"}.`, "warning"), goldNote(ui, gold)];
  }
  return [ui.stats([
    { label: "TFT", value: ui.fmt.price(current.tft_usd, "USD"), testid: "price-tft" },
    { label: "Gold", value: ui.fmt.price(current.gold_usd_per_oz, "USD/oz", 2), testid: "price-gold" },
    { label: "CC (0.001 g of gold)", value: ui.fmt.price(current.cc_usd, "USD", 8), testid: "price-cc" },
    { label: "Oracle submissions", value: ui.fmt.int(prices.submissions.length) },
  ]), goldNote(ui, gold)];
}

function goldNote(ui, gold) {
  if (!gold) return null;
  return ui.el("p", { class: "help" }, `The chart: CC in USD = gold USD per troy ounce ÷ ${TROY_OZ_G} ÷ 1,000, monthly since ${CHART_FROM}; last month ${gold.last[0]} at ${gold.last[1]} USD/oz (the node's compiled-in series).`);
}

function supplyTable(ui, supply) {
  const columns = [
    { label: "Asset", key: "asset" },
    ...["supply", "deposited", "minted", "withdrawn", "burned"].map((key) => ({
      label: key[0].toUpperCase() + key.slice(1), numeric: true,
      render: (row) => ui.fmt.amount(row[key]), testid: (row) => `${key}-${row.asset}`,
    })),
  ];
  return ui.table(columns, ASSETS.map((asset) => ({ asset, ...supply.assets[asset] })), { caption: "Supply and flows since genesis" });
}

function flows(ui, { supply, treasury }) {
  const cc = supply.assets.CC;
  return [
    ui.el("h3", {}, "Cloud Credits"),
    ui.stats([
      { label: "CC minted", value: ui.fmt.amount(cc.minted, "CC"), testid: "cc-minted" },
      { label: "CC burned", value: ui.fmt.amount(cc.burned, "CC"), testid: "cc-burned" },
      { label: "CC burned, TFT counterpart pending", value: ui.fmt.amount(supply.burn_pending_cc, "CC") },
    ]),
    ui.el("h3", {}, "TFT"),
    ui.stats([
      { label: "TFT locked (vault, backs TFP)", value: ui.fmt.amount(supply.vault_tft, "TFT"), testid: "tft-locked" },
      { label: "TFT burned", value: ui.fmt.amount(treasury ? treasury.burn.tft_burned : supply.assets.TFT.burned, "TFT"), testid: "tft-burned" },
      { label: "TFT owed to the burn", value: ui.fmt.amount(supply.burn_owed_tft, "TFT"), testid: "tft-owed" },
      { label: "TFT global supply / cap", value: `${ui.fmt.amount(supply.tft_global_supply)} / ${ui.fmt.amount(supply.tft_supply_cap, "TFT")}` },
    ]),
  ];
}

function treasurySection(ui, treasury) {
  if (!treasury) return ui.notice("The treasury report is not available.", "warning");
  const b = treasury.balances;
  return ui.stats([
    { label: "CC", value: ui.fmt.amount(b.cc, "CC"), testid: "treasury-cc" },
    { label: "USDC", value: ui.fmt.amount(b.usdc, "USDC"), testid: "treasury-usdc" },
    { label: "TFT", value: ui.fmt.amount(b.tft, "TFT") },
    { label: "TFP", value: ui.fmt.amount(b.tfp, "TFP") },
    { label: "Revenue CC received", value: ui.fmt.amount(treasury.revenue_cc_received, "CC") },
    { label: "Fiat USDC received", value: ui.fmt.amount(treasury.fiat_usdc_received, "USDC") },
    { label: "Bought back (TFP) / paid (USDC)", value: `${ui.fmt.amount(treasury.buyback.tfp_received, "TFP")} / ${ui.fmt.amount(treasury.buyback.usdc_paid, "USDC")}` },
  ]);
}

function exitSection(ui, { round, roundError, treasury }) {
  const funding = treasury?.exit_pool_funding;
  const items = [
    { label: "Pool USDC", value: ui.fmt.amount(round ? round.pool_usdc : funding?.pool_usdc, "USDC"), testid: "exit-pool-usdc" },
    { label: "USDC funded, all time", value: ui.fmt.amount(funding?.total_usdc, "USDC") },
  ];
  if (round) {
    items.push(
      { label: "Pool TFP", value: ui.fmt.amount(round.pool_tfp, "TFP") },
      { label: "Open round", value: `#${round.round_id}, closes ${ui.fmt.time(round.closes_at)}`, testid: "exit-round" },
      { label: "Positions", value: ui.fmt.int(round.positions) },
      { label: "USDC paid so far", value: ui.fmt.amount(round.total_usdc_paid, "USDC") },
    );
  }
  return [ui.stats(items), round ? null : ui.el("p", { class: "help" }, `No open round (${roundError?.message ?? "none"}).`)];
}

export async function render(root, ctx) {
  const { ui } = ctx;
  const chartBox = ui.el("div", { class: "chart", "data-testid": "cc-price-chart" });
  const parts = {
    node: ui.el("div"), prices: ui.el("div"), supply: ui.el("div"), flows: ui.el("div"),
    treasury: ui.el("div"), exit: ui.el("div"), error: ui.el("div"),
  };
  root.append(parts.error,
    ui.section("Node", parts.node),
    ui.section("Prices", parts.prices, chartBox),
    ui.section("Supply per asset", parts.supply),
    ui.el("div", { class: "grid" }, ui.section("Minted, locked and burned", parts.flows), ui.section("Treasury", parts.treasury)),
    ui.section("Exit pool", parts.exit));

  let gold = null;
  let chart = null;
  const draw = async () => {
    const data = await loadAll(ctx.api);
    ui.replace(parts.error);
    ui.replace(parts.node, nodeSection(ui, data));
    ui.replace(parts.prices, pricesSection(ui, data.prices, gold));
    if (data.supply) {
      ui.replace(parts.supply, supplyTable(ui, data.supply));
      ui.replace(parts.flows, flows(ui, data));
    }
    ui.replace(parts.treasury, treasurySection(ui, data.treasury));
    ui.replace(parts.exit, exitSection(ui, data));
  };
  try {
    gold = await goldSeries();
    chart = ui.chart(chartBox, { x: gold.x, series: [{ label: "CC price (USD)", values: gold.cc }], title: "CC price in USD from the monthly gold series", yLabel: "USD per CC" });
  } catch (error) {
    chartBox.append(ui.notice(`The gold series could not be loaded: ${ui.errorText(error)}`, "warning"));
  }
  await draw();

  let pending = null;
  ctx.events.subscribe({}, () => {
    clearTimeout(pending);
    pending = setTimeout(() => draw().catch((error) => ui.replace(parts.error, ui.notice(ui.errorText(error), "error"))), 250);
  });
  return () => { clearTimeout(pending); chart?.destroy(); };
}
