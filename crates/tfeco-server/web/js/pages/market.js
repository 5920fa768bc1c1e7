// Market: search capacity with the CLI's filter language (`mem_gb>=8 passmark>=2000 price<=2`, as
// `tfeco capacity search`), each node with what one slice holds, its price in CC and USD and the hourly
// premium, a lease in one step; and my leases with cost so far, time left and grace, updated live.

export const title = "Market";

const LEASE_EVENTS = ["lease_opened", "lease_charged", "lease_grace_started", "lease_resumed", "lease_cancel_requested", "lease_closed"];

/** The CLI's filter keys (crates/tfeco/src/filter.rs): key → [operator, query parameter, kind]. */
const FILTER_KEYS = {
  cores: [">=", "min_cores", "int"], passmark: [">=", "min_passmark", "int"], mem_gb: [">=", "min_mem_gb", "int"],
  ssd_gb: [">=", "min_ssd_gb", "int"], ai_mem_gb: [">=", "min_ai_mem_gb", "int"], ai_tps: [">=", "min_ai_tps", "int"],
  certified: ["=", "certified_only", "bool"], farm: ["=", "farm", "int"], price: ["<=", "max_price", "amount"],
  free: [">=", "min_free", "int"],
};
const FILTER_HELP = "Per slice: cores>=N passmark>=N mem_gb>=N ssd_gb>=N ai_mem_gb>=N ai_tps>=N; certified=true|false farm=ID; price<=CC (per slice-month); free>=N (free slices). Example: mem_gb>=8 passmark>=2000 price<=2";

/** Parses the filter language into query parameters; throws Error with a clear message. */
export function parseFilters(text) {
  const params = new URLSearchParams();
  const seen = new Set();
  const tokens = text.replace(/\s*(>=|<=|=)\s*/g, "$1").split(/[\s,]+/).filter(Boolean);
  for (const token of tokens) {
    const match = /^([a-z_]+)(>=|<=|=)(.+)$/.exec(token);
    if (!match) throw new Error(`"${token}" is not a filter: write key>=value (${FILTER_HELP})`);
    const [, key, op, value] = match;
    const spec = FILTER_KEYS[key];
    if (!spec) throw new Error(`unknown filter key "${key}"; the keys are ${Object.keys(FILTER_KEYS).join(", ")}`);
    if (op !== spec[0]) throw new Error(`${key} takes ${spec[0]} (e.g. ${key}${spec[0]}${spec[2] === "bool" ? "true" : "1"})`);
    if (seen.has(key)) throw new Error(`${key} is given twice`);
    seen.add(key);
    if (spec[2] === "int" && !/^\d{1,10}$/.test(value) || spec[2] === "int" && Number(value) > 4294967295) throw new Error(`${key}: "${value}" is not a whole number`);
    if (spec[2] === "bool" && !["true", "false"].includes(value)) throw new Error(`${key}: write true or false`);
    if (spec[2] === "amount" && !/^\d{1,31}(\.\d{1,7})?$/.test(value)) throw new Error(`${key}: "${value}" is not an amount of CC (at most 7 decimals)`);
    if (spec[2] === "bool" && value === "false") continue;
    params.set(spec[1], value);
  }
  return params;
}

/** What one slice holds: the node's resources divided by its slices (as the search's requirements read them). */
function perSlice(node) {
  if (!node || !node.slices) return null;
  const r = node.resources;
  const share = (v) => Number((v / node.slices).toFixed(2));
  return { cores: share(r.cpu_cores), mem: share(r.mem_gb), ssd: share(r.ssd_gb), passmark: Math.floor(r.passmark / node.slices), ai: share(r.ai_mem_gb) };
}

function sliceText(s) {
  return s ? `${s.cores} cores (PassMark ${s.passmark}), ${s.mem} GB memory, ${s.ssd} GB SSD${s.ai ? `, ${s.ai} GB AI memory` : ""}` : "—";
}

/** Hourly premium: the hourly charge × 720 compared with the monthly price, e.g. "+75%". */
function premium(ui, hit) {
  if (!hit.price_hour || !hit.price_month || ui.dec.cmp(hit.price_month, "0") === 0) return "—";
  const ratio = ui.dec.div(ui.dec.mul(hit.price_hour, "720"), hit.price_month, 4);
  return `+${ui.dec.round(ui.dec.mul(ui.dec.sub(ratio, "1"), "100"), 1)}%`;
}

/** The one-step lease panel of a chosen node: slices, billing, the charge per period, then one submit. */
function leasePanel(ui, ctx, hit, node, done) {
  const cost = ui.el("p", { class: "help", "aria-live": "polite", "data-testid": "lease-cost" });
  const form = ui.form([
    { name: "slices", label: `Slices (1 to ${hit.free_slices})`, type: "number", min: 1, max: hit.free_slices, value: 1, required: true, testid: "lease-slices" },
    { name: "billing", label: "Billing", type: "select", options: [{ value: "hourly", label: "Hourly (cancel any time)" }, { value: "monthly", label: "Monthly" }], value: "hourly", testid: "lease-billing" },
  ], async (values) => {
    if (!ctx.wallet.account) throw new Error("Unlock your wallet first (Wallet page).");
    const n = Number(values.slices);
    if (!Number.isInteger(n) || n < 1 || n > hit.free_slices) throw new Error(`Slices: a whole number from 1 to ${hit.free_slices}.`);
    const accepted = await ctx.api.submit({ open_lease: { node_id: hit.node_id, n_slices: n, billing: values.billing, periods: null } });
    const opened = accepted.events.find((e) => e.event === "lease_opened");
    await done();
    return opened ? `Lease ${opened.lease_id} opened: ${ui.fmt.amount(opened.period_charge, "CC")} per period.` : `Done (entry ${accepted.seq}).`;
  }, { submitLabel: `Lease on node ${hit.node_id}`, testid: "lease-form" });
  const update = () => {
    const n = Number(form.elements.namedItem("slices").value);
    const hourly = form.elements.namedItem("billing").value === "hourly";
    if (!Number.isInteger(n) || n < 1) { ui.replace(cost, "Choose a number of slices."); return; }
    const each = hourly ? hit.price_hour : hit.price_month;
    ui.replace(cost, `${ui.fmt.amount(ui.dec.mul(each, String(n)), "CC")} per ${hourly ? "hour" : "month"} for ${n} slice(s) of ${sliceText(perSlice(node))}.`);
  };
  form.addEventListener("input", update);
  update();
  return ui.section(`Lease on node ${hit.node_id} (${hit.model ?? "custom"})`, cost, form);
}

function resultsTable(ui, hits, nodes, ccUsd, choose) {
  return ui.table([
    { label: "Node", render: (h) => `#${h.node_id} (farm ${h.farm_id})` },
    { label: "Model", render: (h) => [h.model ?? "custom", h.certified ? [" ", ui.el("span", { class: "badge" }, "certified")] : null] },
    { label: "One slice", render: (h) => sliceText(perSlice(nodes.get(h.node_id))), testid: (h) => `slice-${h.node_id}` },
    { label: "Free slices", numeric: true, key: "free_slices" },
    { label: "CC / slice-month", numeric: true, render: (h) => ui.fmt.amount(h.price_month), testid: (h) => `price-cc-${h.node_id}` },
    { label: "USD / slice-month", numeric: true, render: (h) => (ccUsd ? ui.fmt.price(ui.dec.mul(h.price_month, ccUsd), null, 2) : "—"), testid: (h) => `price-usd-${h.node_id}` },
    { label: "CC / slice-hour", numeric: true, render: (h) => ui.fmt.amount(h.price_hour) },
    { label: "Hourly premium", numeric: true, render: (h) => premium(ui, h) },
    { label: "Lease", render: (h) => ui.el("button", { type: "button", class: "secondary", "data-testid": `lease-node-${h.node_id}`, "aria-label": `Lease slices of node ${h.node_id}`, onclick: () => choose(h) }, "Lease…") },
  ], hits, { caption: "Nodes with free slices, cheapest first", empty: "No node matches these filters.", rowTestid: (h) => `node-${h.node_id}` });
}

function leaseState(ui, lease, now, graceS) {
  const s = lease.status;
  if (s.status === "grace") return { text: `in grace since ${ui.fmt.time(s.since)}; closes ${ui.fmt.time(s.since + graceS)} unless funds arrive`, left: s.since + graceS - now, warn: true };
  if (s.status === "cancelling") return { text: `cancelling: closes at the end of the paid period`, left: lease.next_charge_at - now };
  if (s.status === "closed") return { text: `closed (${s.reason}) ${ui.fmt.time(s.at)}`, left: 0 };
  return { text: "active", left: lease.ends_at ? lease.ends_at - now : null };
}

function leasesTable(ui, ctx, leases, now, graceS, reload) {
  return ui.table([
    { label: "Lease", render: (l) => `#${l.id}` },
    { label: "Node", render: (l) => `#${l.node_id}` },
    { label: "Slices", numeric: true, key: "n_slices" },
    { label: "Billing", render: (l) => `${l.billing}, ${ui.fmt.amount(l.period_charge, "CC")} per period` },
    { label: "Cost so far", numeric: true, render: (l) => ui.fmt.amount(l.total_paid, "CC"), testid: (l) => `lease-paid-${l.id}` },
    { label: "Periods paid", numeric: true, render: (l) => ui.fmt.int(l.periods_paid), testid: (l) => `lease-periods-${l.id}` },
    { label: "Status", render: (l) => { const st = leaseState(ui, l, now, graceS); return ui.el("span", { class: st.warn ? "badge warn" : null }, st.text); }, testid: (l) => `lease-status-${l.id}` },
    { label: "Time left", render: (l) => { const st = leaseState(ui, l, now, graceS); return st.left === null ? `until cancelled (next charge ${ui.fmt.time(l.next_charge_at)})` : ui.fmt.duration(st.left); } },
    { label: "", render: (l) => (l.status.status === "active" || l.status.status === "grace") ? ui.el("button", { type: "button", class: "secondary", "aria-label": `Cancel lease ${l.id}`, onclick: async (event) => {
      event.target.disabled = true;
      try { await ctx.api.submit({ cancel_lease: { lease_id: l.id } }); await reload(); } catch (error) { event.target.after(ui.notice(ui.errorText(error), "error")); event.target.disabled = false; }
    } }, "Cancel") : null },
  ], leases, { caption: "My leases", empty: "You have no leases.", rowTestid: (l) => `lease-${l.id}` });
}

export async function render(root, ctx) {
  const { ui, api } = ctx;
  const resultsBox = ui.el("div", { "data-testid": "search-results" });
  const leaseBox = ui.el("div");
  const leasesBox = ui.el("div", { "data-testid": "my-leases" });
  let lastQuery = new URLSearchParams();
  let myLeaseIds = new Set();

  const search = async (params) => {
    lastQuery = params;
    const [found, nodes, prices] = await Promise.all([api.get(`/v1/capacity/search?${params}`), api.get("/v1/nodes"), api.get("/v1/prices")]);
    const byId = new Map(nodes.nodes.map((n) => [n.id, n]));
    const choose = (hit) => {
      ui.replace(leaseBox, leasePanel(ui, ctx, hit, byId.get(hit.node_id), () => Promise.all([loadLeases(), search(lastQuery)])));
      leaseBox.querySelector("input")?.focus();
    };
    ui.replace(resultsBox, ui.el("p", { class: "help" }, `${found.count} node(s).`), resultsTable(ui, found.results, byId, prices.current.valid ? prices.current.cc_usd : null, choose));
  };
  const loadLeases = async () => {
    const account = ctx.wallet.account;
    if (!account) {
      ui.replace(leasesBox, ui.notice("Unlock your wallet (Wallet page) to see and open leases.", "info"));
      return;
    }
    const [leases, status, params] = await Promise.all([api.get(`/v1/leases?tenant=${account}`), api.get("/v1/status"), api.get("/v1/params")]);
    const graceS = (params.params ?? params).lease_grace_s;
    myLeaseIds = new Set(leases.leases.map((l) => l.id));
    const open = leases.leases.filter((l) => l.status.status !== "closed");
    const closed = leases.leases.filter((l) => l.status.status === "closed");
    ui.replace(leasesBox, leasesTable(ui, ctx, open, status.now, graceS, loadLeases),
      closed.length ? ui.el("details", {}, ui.el("summary", {}, `Closed leases (${closed.length})`), leasesTable(ui, ctx, closed, status.now, graceS, loadLeases)) : null);
  };

  const filterForm = ui.form([
    { name: "filters", label: "Filters (as `tfeco capacity search`)", placeholder: "mem_gb>=8 passmark>=2000 price<=2", help: FILTER_HELP, testid: "search-filters" },
    { name: "billing", label: "Billing the price ceiling applies to", type: "select", options: [{ value: "monthly", label: "Monthly" }, { value: "hourly", label: "Hourly (hourly price × 720)" }], value: "monthly", testid: "search-billing" },
    { name: "limit", label: "Most results", type: "number", min: 1, max: 10000, value: 50, testid: "search-limit" },
  ], async (values) => {
    const params = parseFilters(values.filters);
    params.set("billing", values.billing);
    if (values.limit) params.set("limit", values.limit);
    await search(params);
  }, { submitLabel: "Search", testid: "search-form" });

  root.append(ui.section("Search capacity", filterForm, resultsBox), leaseBox, ui.section("My leases", leasesBox));
  await Promise.all([search(new URLSearchParams({ limit: "50" })), loadLeases()]);

  let pending = null;
  const later = () => { clearTimeout(pending); pending = setTimeout(() => Promise.all([loadLeases(), search(lastQuery)]).catch(() => {}), 200); };
  ctx.events.subscribe({ kind: LEASE_EVENTS }, (entry) => {
    if (entry.events.some((e) => e.lease_id !== undefined && myLeaseIds.has(e.lease_id)) || entry.events.some((e) => e.event === "lease_opened")) later();
  });
  ctx.wallet.onChange(() => loadLeases().catch(() => {}));
  return () => clearTimeout(pending);
}
