// Farmer: my farms and nodes with their slice prices (set inside the band), each node's uptime, the income
// calculator of `tfeco calc node` with a chart of the net income over utilization at the band's prices,
// my nodes' minting receipts, and the vesting of my rewards with the lock-up's early-release progress.

import {
  AMOUNT_DECIMALS, parseDecimal, formatUnits, amountUnits, fmtAmount, fmtPrice, fmtTime, fmtBps, shortKey,
  h, fill, field, section, table, facts, errorBlock, needWallet, statusLine, onSubmit, acceptedText,
  liveRefresh,
} from "./common.js";

export const title = "Farmer";

/// How many of the latest minting reports the receipts section reads.
const RECEIPT_REPORTS = 6;
/// Utilizations (percent) the income chart samples.
const CHART_UTILIZATIONS = [0, 20, 40, 60, 80, 100];

/// Checks a slice price against a node's band; returns the wire text or throws naming the band.
export function checkSlicePrice(text, node) {
  const units = parseDecimal(text, AMOUNT_DECIMALS, `Price of node ${node.id} (CC per slice-month)`);
  if (units < amountUnits(node.band_min) || units > amountUnits(node.band_max)) {
    throw new Error(`Price of node ${node.id}: must be inside the band ${node.band_min} to ${node.band_max} CC per slice-month`);
  }
  return formatUnits(units, AMOUNT_DECIMALS);
}

/// The seed rule's early-release progress of a record: trailing consecutive qualifying months.
export function earlyRelease(record, rule) {
  let run = 0;
  for (let i = record.utilization_bps.length - 1; i >= 0 && record.utilization_bps[i] >= rule.utilization_threshold_bps; i--) run++;
  return { run, needed: rule.consecutive_months };
}

function priceForm(ctx, state, node, refresh) {
  const price = field({ label: `New price for node ${node.id} (CC per slice-month)`, name: `price-${node.id}`, inputmode: "decimal", value: node.price_month ?? "", hint: `Band ${node.band_min} – ${node.band_max}`, testid: `price-input-${node.id}` });
  // The status line outlives the refresh its own success triggers.
  state.priceStatus ||= new Map();
  if (!state.priceStatus.has(node.id)) state.priceStatus.set(node.id, statusLine(`price-status-${node.id}`));
  const status = state.priceStatus.get(node.id);
  const form = h("form", { class: "inline", "aria-label": `Set the price of node ${node.id}` }, price.wrap,
    h("button", { type: "submit", testid: `price-submit-${node.id}` }, "Set price"), status.node);
  onSubmit(form, status, async () => {
    const value = checkSlicePrice(price.input.value, node);
    status.ok(acceptedText(`Node ${node.id} listed at ${value} CC`, await ctx.api.submit({ set_slice_price: { node_id: node.id, price: value } })));
    refresh();
  });
  return form;
}

function uptimeView(ctx, up) {
  const period = up.periods.find((p) => p.period === up.open_period) || up.periods[up.periods.length - 1];
  return h("div", { testid: `uptime-${up.node_id}` }, facts([
    ["Report key", up.report_key ? h("span", { title: up.report_key }, shortKey(up.report_key)) : "none set (tfeco node set-key)"],
    ["Reporting", up.reporting ? `yes, since ${fmtTime(up.first_report_at)}` : "no report yet"],
    ["Open period", period ? `#${period.period} (${fmtTime(period.period_start)} – ${fmtTime(period.period_end)})` : "—"],
    ["Uptime so far", period ? `${formatUnits(BigInt(period.uptime_permill), 1)}% (${period.credited_s} s credited, ${period.reports} reports)` : "—", `uptime-permill-${up.node_id}`],
    ["Violations", period ? `${period.violations}${period.violation ? ` — ${period.violation} zeroes this period's reward` : ""}` : "—"],
    ["Vesting", up.vesting ? `${fmtAmount(ctx, up.vesting.total, "TFT")} total, ${fmtAmount(ctx, up.vesting.released, "TFT")} released` : "none"],
  ]));
}

function nodesSection(ctx, state, refresh) {
  const detail = h("div", { "aria-live": "polite" });
  const showUptime = async (node) => {
    fill(detail, h("p", {}, `Loading uptime of node ${node.id}…`));
    try {
      fill(detail, h("h3", {}, `Uptime of node ${node.id}`), uptimeView(ctx, await ctx.api.get(`/v1/nodes/${node.id}/uptime`)));
    } catch (error) {
      fill(detail, errorBlock(error));
    }
  };
  const farmName = (id) => state.farms.find((f) => f.id === id)?.name ?? `#${id}`;
  return h("div", {},
    table([
      { label: "Farm", cell: (f) => `${f.name} (#${f.id})` },
      { label: "Nodes", cell: (f) => (f.nodes.length ? f.nodes.map((n) => `#${n}`).join(", ") : "none") },
    ], state.farms, { empty: "You own no farm yet (tfeco wallet farm create).", testid: "my-farms" }),
    table([
      { label: "Node", cell: (n) => `#${n.id} · ${farmName(n.farm_id)}` },
      { label: "Model", cell: (n) => `${n.model ?? "custom"}${n.certified ? " (certified)" : ""}` },
      { label: "Slices (offered / leased / free)", cell: (n) => `${n.offered_slices} / ${n.leased_slices} / ${n.free_slices}`, testid: (n) => `node-slices-${n.id}` },
      { label: "Band (CC per slice-month)", cell: (n) => `${n.band_min} – ${n.band_max}`, testid: (n) => `node-band-${n.id}` },
      { label: "Listed price", cell: (n) => (n.price_month ? `${fmtAmount(ctx, n.price_month, "CC")}/month · ${fmtAmount(ctx, n.price_hour, "CC")}/hour` : "not listed"), testid: (n) => `node-price-${n.id}` },
      { label: "Set price", cell: (n) => priceForm(ctx, state, n, refresh) },
      { label: "Uptime", cell: (n) => h("button", { type: "button", "aria-label": `Show uptime of node ${n.id}`, testid: `uptime-button-${n.id}`, onclick: () => showUptime(n) }, "Uptime") },
    ], state.nodes, { empty: "Your farms have no node yet (tfeco wallet farm add-node).", testid: "my-nodes" }),
    detail);
}

function calcQuery(values, utilization, price) {
  const q = new URLSearchParams({ model: values.model, utilization: `${utilization}%`, price });
  for (const key of ["share_bps", "offered_slices", "hw_cost", "cc_usd", "amortization_months"]) {
    if (String(values[key] ?? "").trim() !== "") q.set(key, String(values[key]).trim());
  }
  return `/v1/calc/node?${q}`;
}

function incomeFacts(ctx, r) {
  return facts([
    ["Price", `${fmtAmount(ctx, r.price, "CC")} per slice-month (${r.price_basis}; band ${r.band_min} – ${r.band_max})`],
    ["Active slices", `${r.active_slices} of ${r.offered_slices} at ${formatUnits(parseDecimal(r.utilization, 6) * 100n, 6)}% utilization`],
    ["Gross", `${fmtAmount(ctx, r.gross, "CC")} · ${fmtAmount(ctx, r.gross_usd, "USD")} per month`],
    [`Your share (${fmtBps(r.farmer_share_bps)})`, `${fmtAmount(ctx, r.farmer_share, "CC")} · ${fmtAmount(ctx, r.farmer_share_usd, "USD")} per month`, "calc-farmer-share"],
    ["Hardware", `${fmtAmount(ctx, r.capex, "USD")} over ${r.amortization_months} months: ${fmtAmount(ctx, r.hw_cost, "USD")} per month (${r.hw_cost_basis})`],
    ["Net", `${fmtAmount(ctx, r.net, "USD")} per month`, "calc-net"],
    ["Break-even", r.break_even_months != null ? `${r.break_even_months} months` : "never (no income)", "calc-break-even"],
    ["CC price used", fmtPrice(r.cc_usd, "USD per CC", 8)],
  ]);
}

async function drawIncomeChart(ctx, box, values, charts) {
  const prices = ["min", ...(values.price !== "min" && values.price !== "max" ? [values.price] : []), "max"];
  const grid = await Promise.all(prices.map((price) =>
    Promise.all(CHART_UTILIZATIONS.map((u) => ctx.api.get(calcQuery(values, u, price))))));
  const series = grid.map((rows, i) => ({
    label: `Net USD/month at ${prices[i] === "min" || prices[i] === "max" ? `band ${prices[i]} (${rows[0].price} CC)` : `${prices[i]} CC`}`,
    values: rows.map((r) => Number(r.net)),
  }));
  charts.current?.destroy();
  fill(box);
  charts.current = ctx.ui.chart(box, { x: CHART_UTILIZATIONS, series, time: false, xLabel: "Utilization (%)", yLabel: "Net USD per month", title: "Net income per month over utilization at the band's minimum, your price and the band's maximum" });
  box.dataset.points = String(grid.length * CHART_UTILIZATIONS.length);
}

function calculator(ctx, models, charts) {
  const model = field({ label: "Model", name: "calc-model", options: models.map((m) => [m.model, `${m.model} — ${m.category}${m.certified && m.category !== "certified" ? ", certified" : ""}`]), testid: "calc-model" });
  const util = field({ label: "Utilization (%)", name: "calc-utilization", type: "number", min: "0", max: "100", step: "any", value: "50", required: true, testid: "calc-utilization" });
  const price = field({ label: "Slice price: min, max or CC per slice-month", name: "calc-price", value: "min", required: true, hint: "Inside the model's band.", testid: "calc-price" });
  const share = field({ label: "Farmer share (bps, optional)", name: "calc-share", inputmode: "numeric", hint: "Default 8,000 (80%).", testid: "calc-share" });
  const offered = field({ label: "Slices offered (optional)", name: "calc-offered", inputmode: "numeric", hint: "Default: the model's typical slices.", testid: "calc-offered" });
  const hw = field({ label: "Hardware cost basis", name: "calc-hw", options: [["whole", "whole USD per month"], ["exact", "exact"]], testid: "calc-hw" });
  const cc = field({ label: "USD per CC (optional)", name: "calc-cc-usd", inputmode: "decimal", hint: "Default: the real CC price from the gold series; 1 reproduces the published tables.", testid: "calc-cc-usd" });
  const months = field({ label: "Amortization months (optional)", name: "calc-months", inputmode: "numeric", hint: "Default 60.", testid: "calc-months" });
  const status = statusLine("calc-status");
  const out = h("div", { testid: "calc-result", "aria-live": "polite" });
  const chartBox = h("div", { class: "chart", testid: "income-chart" });
  const form = h("form", { class: "stack", "aria-label": "Income calculator", testid: "calc-form" },
    model.wrap, util.wrap, price.wrap, share.wrap, offered.wrap, hw.wrap, cc.wrap, months.wrap,
    h("button", { type: "submit", class: "primary", testid: "calc-submit" }, "Calculate"), status.node);
  onSubmit(form, status, async () => {
    const u = String(util.input.value).trim();
    if (!/^[0-9]{1,3}(\.[0-9]{1,4})?$/.test(u) || Number(u) > 100) throw new Error("Utilization: a percentage from 0 to 100 (up to 4 decimals)");
    const p = price.input.value.trim();
    if (!/^(min|max|[0-9]{1,31}(\.[0-9]{1,7})?)$/.test(p)) throw new Error("Slice price: min, max, or a CC amount with up to 7 decimals");
    const values = { model: model.input.value, price: p, share_bps: share.input.value, offered_slices: offered.input.value, hw_cost: hw.input.value, cc_usd: cc.input.value, amortization_months: months.input.value };
    const result = await ctx.api.get(calcQuery(values, u, p));
    fill(out, incomeFacts(ctx, result));
    status.ok(`${result.model} at ${u}% utilization.`);
    fill(chartBox, h("p", {}, "Drawing the chart…"));
    try {
      await drawIncomeChart(ctx, chartBox, values, charts);
    } catch (error) {
      fill(chartBox, errorBlock(error));
    }
  });
  return h("div", {}, form, out, chartBox);
}

function catalogueTable(ctx, table_) {
  return table([
    { label: "Model", cell: (r) => r.model },
    { label: "Band (CC per slice-month)", cell: (r) => `${r.band_min} – ${r.band_max}` },
    { label: "Income at full use (CC)", cell: (r) => `${r.min_income} – ${r.max_income}` },
    { label: "USD per month", cell: (r) => `${fmtPrice(r.min_income_usd, "", 2)} – ${fmtPrice(r.max_income_usd, "", 2)}` },
    { label: "Hardware (USD/month)", cell: (r) => fmtPrice(r.hw_cost_month_rounded, "", 2) },
    { label: "Break-even (months)", cell: (r) => `${r.break_even_months_max_income ?? "—"} – ${r.break_even_months_min_income ?? "—"}` },
  ], table_.rows, { empty: "The catalogue is empty.", testid: "calc-table", caption: `At ${fmtPrice(table_.params.cc_usd, "USD per CC", 8)}, ${fmtBps(table_.params.farmer_share_bps)} farmer share, ${table_.params.amortization_months} months amortization` });
}

function receiptsSection(ctx, state) {
  return table([
    { label: "Period", cell: (r) => `#${r.period}` },
    { label: "Node", cell: (r) => `#${r.node_id}` },
    { label: "Uptime", cell: (r) => `${formatUnits(BigInt(r.uptime_permill), 1)}%` },
    { label: "Violations", cell: (r) => (r.violation ? `${r.violations} (${r.violation})` : String(r.violations)) },
    { label: "Reward", cell: (r) => fmtAmount(ctx, r.reward, "TFT"), testid: (r) => `receipt-reward-${r.period}-${r.node_id}` },
    { label: "Report", cell: (r) => `${r.status}${r.scaled ? ", scaled to the cap" : ""}` },
  ], state.receipts, { empty: "No minting receipt for your nodes yet: a receipt appears when a minting period closes.", testid: "receipts" });
}

function vestingSection(ctx, vesting) {
  const rule = vesting.rule_params;
  const seed = rule.seed;
  const t = vesting.totals;
  const describe = seed
    ? `Seed lock-up: everything unlocks ${seed.lock_months} months after the first report, or early after ${seed.consecutive_months} consecutive months at ${fmtBps(seed.utilization_threshold_bps)} utilization or more.`
    : `Release over 36 months: ${rule.release_36m?.locked_months} months locked, then equal steps over ${rule.release_36m?.release_months} months.`;
  const amount = (v) => (typeof v === "string" ? fmtAmount(ctx, v, "TFT") : `— (${v?.error})`);
  return h("div", {}, h("p", {}, describe),
    facts([
      ["Total", fmtAmount(ctx, t.total, "TFT"), "vesting-total"],
      ["Released", fmtAmount(ctx, t.released, "TFT")],
      ["Locked", fmtAmount(ctx, t.locked, "TFT"), "vesting-locked"],
      ["Vested now", fmtAmount(ctx, t.vested, "TFT")],
      ["Releasable now", fmtAmount(ctx, t.releasable, "TFT"), "vesting-releasable"],
    ]),
    table([
      { label: "Node", cell: (r) => `#${r.node_id}` },
      { label: "Total / released", cell: (r) => `${fmtAmount(ctx, r.total, "TFT")} / ${fmtAmount(ctx, r.released, "TFT")}` },
      { label: "Vested", cell: (r) => amount(r.vested) },
      { label: "Releasable", cell: (r) => amount(r.releasable) },
      { label: "Unlocks by time", cell: (r) => fmtTime(r.unlocks_by_time_at) },
      { label: "Early release", cell: (r) => {
        if (!seed) return "—";
        const { run, needed } = earlyRelease(r, seed);
        return h("span", {}, h("progress", { max: String(needed), value: String(Math.min(run, needed)), "aria-label": `Node ${r.node_id}: ${run} of ${needed} qualifying months` }), ` ${Math.min(run, needed)} of ${needed} months`);
      }, testid: (r) => `early-release-${r.node_id}` },
      { label: "Monthly utilization", cell: (r) => (r.utilization_bps.length ? r.utilization_bps.map((b) => fmtBps(b)).join(" · ") : "no month completed") },
    ], vesting.records, { empty: "No vesting record: rewards vest here once a minting report is minted.", testid: "vesting" }));
}

async function loadReceipts(ctx, nodeIds) {
  const reports = await ctx.api.get("/v1/mint/reports");
  const latest = reports.reports.slice(-RECEIPT_REPORTS).reverse();
  const details = await Promise.all(latest.map((r) => ctx.api.get(`/v1/mint/reports/${r.period}`)));
  return details.flatMap((d) => d.receipts.filter((x) => nodeIds.has(x.node_id))
    .map((x) => ({ ...x, status: d.status, scaled: d.scaled_to_cap })));
}

async function load(ctx, state) {
  const me = ctx.wallet.account;
  const [farms, nodes] = await Promise.all([ctx.api.get("/v1/farms"), ctx.api.get("/v1/nodes")]);
  state.farms = farms.farms.filter((f) => f.owner === me);
  const farmIds = new Set(state.farms.map((f) => f.id));
  state.nodes = nodes.nodes.filter((n) => farmIds.has(n.farm_id));
  const nodeIds = new Set(state.nodes.map((n) => n.id));
  const [receipts, vesting] = await Promise.all([
    nodeIds.size ? loadReceipts(ctx, nodeIds).catch((e) => ({ error: e })) : [],
    ctx.api.get(`/v1/vesting?owner=${me}`).catch((e) => ({ error: e })),
  ]);
  state.receipts = receipts;
  state.vesting = vesting;
}

export async function render(root, ctx) {
  const state = {};
  const charts = { current: null };
  const own = h("div", {});
  const calcBox = h("div", {});
  fill(root, h("p", { class: "muted" }, "Your farms and nodes, their prices inside the band, uptime, minting receipts and vesting, and what a node can earn."),
    own, section("Income calculator", "calculator", calcBox));
  Promise.all([ctx.api.get("/v1/catalogue"), ctx.api.get("/v1/calc/table")]).then(([catalogue, calcTable]) => {
    fill(calcBox, calculator(ctx, catalogue.models, charts), h("h3", {}, "The catalogue's income table"), catalogueTable(ctx, calcTable));
  }).catch((error) => fill(calcBox, errorBlock(error, "calc-error")));
  const live = liveRefresh(ctx, async () => {
    if (!ctx.wallet.account) {
      fill(own, section("My farms and nodes", "farms", needWallet("your farms and nodes")));
      return;
    }
    try {
      await load(ctx, state);
    } catch (error) {
      fill(own, errorBlock(error, "farmer-error"));
      return;
    }
    const refresh = () => live.run();
    if (own.contains(document.activeElement) && document.activeElement.tagName === "INPUT") return;
    fill(own,
      section("My farms and nodes", "farms", nodesSection(ctx, state, refresh)),
      section("Minting receipts", "receipts-section", state.receipts.error ? errorBlock(state.receipts.error) : receiptsSection(ctx, state)),
      section("Vesting", "vesting-section", state.vesting.error ? errorBlock(state.vesting.error) : vestingSection(ctx, state.vesting)));
  }, { filters: () => (ctx.wallet.account ? [{ account: ctx.wallet.account }, { kind: "rewards_minted" }] : []), everyMs: 60000 });
  return () => {
    live.stop();
    charts.current?.destroy();
  };
}
