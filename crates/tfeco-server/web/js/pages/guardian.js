// Guardian: what waits for my signature — minting reports (verified here before signing: the total is the
// sum of the receipts and the hash is blake3 of the canonical JSON), parameter changes, and checkpoints
// (signed only over hashes my own replay computed: the browser cannot replay the journal, so the page asks
// for them and refuses when they differ from the node's). The guardian set and what is already done.

import {
  AMOUNT_DECIMALS, formatUnits, amountUnits, fmtAmount, fmtTime, fmtDuration, shortKey, h, fill, field,
  section, table, facts, errorBlock, needWallet, statusLine, onSubmit, acceptedText, liveRefresh,
} from "./common.js";

export const title = "Guardian";

const CHECKPOINT_TAG = new TextEncoder().encode("tfeco/v1/checkpoint\0");

function hexToBytes(hex) {
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error("not hex");
  return Uint8Array.from(hex.match(/../g) || [], (b) => parseInt(b, 16));
}

function bytesToHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/// The 92 bytes a guardian signs for a checkpoint: tag, seq (u64 little-endian), journal hash, state hash
/// (`tfeco_api::checkpoints::checkpoint_signing_bytes`).
export function checkpointSigningBytes(seq, journalHashHex, stateHashHex) {
  const journal = hexToBytes(journalHashHex);
  const stateHash = hexToBytes(stateHashHex);
  if (journal.length !== 32 || stateHash.length !== 32) throw new Error("a hash is 64 hex characters");
  const out = new Uint8Array(CHECKPOINT_TAG.length + 8 + 64);
  out.set(CHECKPOINT_TAG, 0);
  new DataView(out.buffer).setBigUint64(CHECKPOINT_TAG.length, BigInt(seq), true);
  out.set(journal, CHECKPOINT_TAG.length + 8);
  out.set(stateHash, CHECKPOINT_TAG.length + 40);
  return out;
}

/// blake3 of a text as hex: `ctx.crypto.blake3` or the vendor bundle's `blake3` (`@noble/hashes`), or
/// `null` when neither exists (then the page refuses to sign and names the CLI command).
async function blake3Hex(ctx, text) {
  let fn = ctx.crypto?.blake3;
  if (typeof fn !== "function") fn = (await import("../../vendor/vendor.js").catch(() => ({}))).blake3;
  if (typeof fn !== "function") return null;
  const digest = await fn(new TextEncoder().encode(text));
  return typeof digest === "string" ? digest : bytesToHex(digest);
}

/// Checks a minting report before signing: receipts sum to the total, the hash is blake3 of the canonical
/// JSON. Returns the hash computed here; throws naming the difference.
export async function verifyReport(ctx, report) {
  const sum = report.receipts.reduce((acc, r) => acc + amountUnits(r.reward), 0n);
  if (sum !== amountUnits(report.total)) {
    throw new Error(`The receipts sum to ${formatUnits(sum, AMOUNT_DECIMALS)} TFT, not the report's total ${report.total} TFT: not signed`);
  }
  const computed = await blake3Hex(ctx, report.canonical_json);
  if (computed == null) {
    throw new Error(`This browser cannot compute blake3 here: verify and sign with tfeco guardian sign-report --period ${report.period}`);
  }
  if (computed.toLowerCase() !== report.hash.toLowerCase()) {
    throw new Error(`blake3 of the canonical JSON is ${computed}, the node says ${report.hash}: not signed`);
  }
  return computed;
}

async function postJson(ctx, path, body) {
  if (typeof ctx.api.post === "function") return ctx.api.post(path, body);
  const response = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  const json = await response.json().catch(() => null);
  if (!response.ok) {
    const e = json?.error || json || {};
    const error = new Error(e.message || `HTTP ${response.status}`);
    Object.assign(error, { status: response.status, code: e.code || "http_error", detail: e.detail });
    throw error;
  }
  return json;
}

function reportsSection(ctx, state, refresh) {
  const me = ctx.wallet.account;
  state.reportStatus ||= statusLine("report-status");
  const status = state.reportStatus;
  const sign = async (r) => {
    status.info(`Verifying report ${r.period}…`);
    try {
      const detail = await ctx.api.get(`/v1/mint/reports/${r.period}`);
      const hash = await verifyReport(ctx, detail);
      status.info(`Report ${r.period} verified (${detail.receipts.length} receipts, hash ${hash.slice(0, 12)}…); signing…`);
      status.ok(acceptedText(`Report ${r.period} signed`, await ctx.api.submit({ sign_mint_report: { period: r.period, report_hash: hash } })));
      refresh();
    } catch (error) {
      status.error(error);
    }
  };
  const waiting = state.reports.filter((r) => r.status === "pending");
  return h("div", {}, table([
    { label: "Period", cell: (r) => `#${r.period}` },
    { label: "Span", cell: (r) => `${fmtTime(r.period_start)} – ${fmtTime(r.period_end)}` },
    { label: "Nodes", cell: (r) => String(r.nodes) },
    { label: "Total", cell: (r) => `${fmtAmount(ctx, r.total, "TFT")}${r.scaled_to_cap ? " (scaled to the cap)" : ""}` },
    { label: "Signatures", cell: (r) => `${r.signatures} of ${r.threshold}`, testid: (r) => `report-signatures-${r.period}` },
    { label: "Hash", cell: (r) => h("code", { title: r.hash }, `${r.hash.slice(0, 12)}…`) },
    { label: "Action", cell: (r) => (r.signers.includes(me) ? "signed by you" : h("button", { type: "button", class: "primary", "aria-label": `Verify and sign report ${r.period}`, testid: `sign-report-${r.period}`, disabled: !state.isGuardian, onclick: () => sign(r) }, "Verify and sign")) },
  ], waiting, { empty: "No minting report waits for signatures.", testid: "pending-reports" }), status.node);
}

function changesSection(ctx, state, refresh) {
  const me = ctx.wallet.account;
  state.changeStatus ||= statusLine("change-status");
  const status = state.changeStatus;
  const sign = async (c) => {
    status.info(`Signing change ${c.id}…`);
    try {
      status.ok(acceptedText(`Change ${c.id} signed`, await ctx.api.submit({ sign_param_change: { change_id: c.id } })));
      refresh();
    } catch (error) {
      status.error(error);
    }
  };
  const waiting = state.changes.changes.filter((c) => c.status === "pending");
  const later = state.changes.changes.filter((c) => c.status === "approved");
  return h("div", {}, table([
    { label: "Change", cell: (c) => `#${c.id}` },
    { label: "Kind", cell: (c) => c.kind },
    { label: "Update", cell: (c) => h("code", { class: "json" }, JSON.stringify(c.update)) },
    { label: "Proposed", cell: (c) => h("span", { title: c.proposed_by }, `${shortKey(c.proposed_by)}, ${fmtTime(c.proposed_at)}`) },
    { label: "Signatures", cell: (c) => `${c.signatures} of ${c.threshold}`, testid: (c) => `change-signatures-${c.id}` },
    { label: "Action", cell: (c) => (c.signers.includes(me) ? "signed by you" : h("button", { type: "button", class: "primary", "aria-label": `Sign parameter change ${c.id}`, testid: `sign-change-${c.id}`, disabled: !state.isGuardian, onclick: () => sign(c) }, "Sign")) },
  ], waiting, { empty: "No parameter change waits for signatures.", testid: "pending-changes" }),
  later.length ? h("p", {}, `Approved, taking effect: ${later.map((c) => `#${c.id} ${c.kind} at ${fmtTime(c.effective_at)}`).join("; ")} (${fmtDuration(state.changes.param_delay_s)} after approval).`) : null,
  status.node);
}

function checkpointForm(ctx, cp, status, refresh) {
  const journal = field({ label: `Journal hash at seq ${cp.seq} from your own replay`, name: `cp-journal-${cp.seq}`, spellcheck: "false", testid: `checkpoint-journal-${cp.seq}` });
  const stateHash = field({ label: `State hash at seq ${cp.seq} from your own replay`, name: `cp-state-${cp.seq}`, spellcheck: "false", testid: `checkpoint-state-${cp.seq}` });
  const form = h("form", { class: "stack", "aria-label": `Sign checkpoint ${cp.seq}` },
    h("p", { class: "help" }, "A checkpoint makes the node refuse any other history: sign only hashes you computed yourself. ",
      h("code", {}, `tfeco guardian sign-checkpoint --seq ${cp.seq}`), " downloads and replays the journal and signs in one step; here, paste the hashes your replay printed."),
    journal.wrap, stateHash.wrap,
    h("button", { type: "submit", class: "primary", testid: `checkpoint-submit-${cp.seq}` }, "Sign checkpoint"));
  onSubmit(form, status, async () => {
    const jh = journal.input.value.trim().toLowerCase();
    const sh = stateHash.input.value.trim().toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(jh) || !/^[0-9a-f]{64}$/.test(sh)) throw new Error("Each hash is 64 hex characters");
    if (jh !== cp.journal_hash.toLowerCase() || sh !== cp.state_hash.toLowerCase()) {
      throw new Error(`Your hashes differ from the node's (journal ${cp.journal_hash}, state ${cp.state_hash}): not signed. Report this to the other guardians.`);
    }
    if (typeof ctx.wallet.sign !== "function") throw new Error(`This wallet cannot sign raw bytes here: run tfeco guardian sign-checkpoint --seq ${cp.seq}`);
    const signature = await ctx.wallet.sign(checkpointSigningBytes(cp.seq, jh, sh));
    const view = await postJson(ctx, `/v1/checkpoints/${cp.seq}/signatures`, { guardian: ctx.wallet.account, signature: typeof signature === "string" ? signature : bytesToHex(signature) });
    status.ok(`Checkpoint ${cp.seq} signed: ${view.signatures} of ${view.threshold}${view.final ? ", final" : ""}.`);
    refresh();
  });
  return form;
}

function checkpointsSection(ctx, state, refresh) {
  const me = ctx.wallet.account;
  const view = state.checkpoints;
  state.checkpointStatus ||= statusLine("checkpoint-status");
  state.checkpointEditor ||= h("div", {});
  const { checkpointStatus: status, checkpointEditor: editor } = state;
  const waiting = view.checkpoints.filter((c) => !c.final && !c.signers.some((s) => s.guardian === me));
  return h("div", {},
    h("p", {}, `Journal head: seq ${view.head_seq}; newest final checkpoint: ${view.latest_final ?? "none"}; threshold ${view.threshold}.`),
    table([
      { label: "Seq", cell: (c) => String(c.seq) },
      { label: "Proposed", cell: (c) => `${c.proposed_by === "operator" ? "by the operator" : "at a period close"}, ${fmtTime(Math.floor(c.timestamp_ms / 1000))}` },
      { label: "Journal hash", cell: (c) => h("code", { title: c.journal_hash }, `${c.journal_hash.slice(0, 12)}…`) },
      { label: "State hash", cell: (c) => h("code", { title: c.state_hash }, `${c.state_hash.slice(0, 12)}…`) },
      { label: "Signatures", cell: (c) => `${c.signatures} of ${c.threshold}${c.final ? " (final)" : ""}`, testid: (c) => `checkpoint-signatures-${c.seq}` },
      { label: "Action", cell: (c) => h("button", { type: "button", "aria-label": `Sign checkpoint ${c.seq}`, testid: `sign-checkpoint-${c.seq}`, disabled: !state.isGuardian, onclick: () => fill(editor, checkpointForm(ctx, c, status, () => { fill(editor); refresh(); })) }, "Sign…") },
    ], waiting, { empty: "No checkpoint waits for your signature.", testid: "pending-checkpoints" }),
    editor, status.node);
}

async function load(ctx, state) {
  const [guardians, reports, changes, checkpoints] = await Promise.all([
    ctx.api.get("/v1/guardians"), ctx.api.get("/v1/mint/reports"), ctx.api.get("/v1/param-changes"),
    ctx.api.get("/v1/checkpoints"),
  ]);
  Object.assign(state, { guardians, reports: reports.reports, changes, checkpoints, isGuardian: guardians.guardians.includes(ctx.wallet.account) });
}

export async function render(root, ctx) {
  const state = {};
  const body = h("div", {});
  fill(root, h("p", { class: "muted" }, "Minting reports, parameter changes and checkpoints waiting for your signature. Verify before you sign: a signature is your word on the numbers."),
    body);
  const live = liveRefresh(ctx, async () => {
    try {
      await load(ctx, state);
    } catch (error) {
      fill(body, errorBlock(error, "guardian-error"));
      return;
    }
    if (body.contains(document.activeElement) && document.activeElement.tagName === "INPUT") return;
    const refresh = () => live.run();
    const g = state.guardians;
    const who = !ctx.wallet.account ? needWallet("what waits for your signature")
      : state.isGuardian ? h("p", { class: "notice notice-success", testid: "guardian-role" }, `You are a guardian (one of ${g.count}; ${g.threshold} signatures decide).`)
        : h("p", { class: "notice notice-info", testid: "guardian-role" }, "This account is not a guardian: it can read everything here but sign nothing.");
    fill(body, who,
      section("Guardian set", "guardian-set", facts([
        ["Guardians", String(g.count), "guardian-count"],
        ["Threshold", `${g.threshold}${g.threshold_configured != null ? " (configured)" : " (⌈2n/3⌉)"}`],
        ["Oracle quorum", `${g.oracle_quorum}; submissions at most ${fmtDuration(g.oracle_max_age_s)} old`],
        ["Parameter delay", fmtDuration(g.param_delay_s)],
        ["Operator", h("span", { title: g.operator }, `${shortKey(g.operator)}${g.operator_is_guardian ? " (a guardian)" : ""}`)],
      ])),
      section("Minting reports", "reports", reportsSection(ctx, state, refresh)),
      section("Parameter changes", "changes", changesSection(ctx, state, refresh)),
      section("Checkpoints", "checkpoints", checkpointsSection(ctx, state, refresh)));
  }, { filters: [{ kind: ["mint_report_closed", "mint_report_signed", "rewards_minted", "param_change_proposed", "param_change_signed", "param_change_approved", "param_change_applied"] }], everyMs: 30000 });
  return () => live.stop();
}
