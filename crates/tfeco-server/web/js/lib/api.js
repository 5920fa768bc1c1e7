// The API client (ctx.api): public reads, signed reads of one's own data and signed commands, both in the
// signing format v2 (ed25519 over a domain prefix and the exact bytes sent; see docs/api.md).

import { toHex } from "./keys.js";

const TX_DOMAIN = "tfeco/v2/request\0";
const READ_DOMAIN = "tfeco/v2/read\0";
/** Seconds a command stays valid (the node accepts at most its max_expiry_s, 3,600 s by default). */
export const EXPIRY_S = 600;
const encoder = new TextEncoder();

/** An answer that is not 2xx: {status, code, message, body}; status 0 and code "network" when unreachable. */
export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

async function answer(response) {
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = text; }
  if (!response.ok) {
    // The node answers {"code", "message", ...} (also accepted: the same object under "error").
    const error = body && typeof body === "object" ? (body.error ?? body) : {};
    throw new ApiError(response.status, error.code ?? `http_${response.status}`, error.message ?? (response.statusText || "request failed"), body);
  }
  return body;
}

async function send(path, init) {
  let response;
  try {
    response = await fetch(path, { ...init, cache: "no-store", credentials: "omit" });
  } catch (error) {
    throw new ApiError(0, "network", `The node did not answer (${error.message}).`, null);
  }
  return answer(response);
}

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function readNonce() {
  return toHex(crypto.getRandomValues(new Uint8Array(16)));
}

/** The client over `wallet` (see wallet.js). */
export function createApi(wallet) {
  let queue = Promise.resolve();
  const lastNonce = new Map();

  const api = {
    /** GET `path` (with its query) → parsed JSON; throws ApiError. */
    get(path) {
      return send(path, { headers: { accept: "application/json" } });
    },
    /** GET `path` as a signed read by the unlocked account; throws WalletError "locked" without one. */
    async signedGet(path) {
      const account = wallet.account;
      const url = new URL(path, location.origin);
      const query = url.search.startsWith("?") ? url.search.slice(1) : "";
      const timestamp = String(Math.floor(Date.now() / 1000));
      const nonce = readNonce();
      const message = `${READ_DOMAIN}GET\0${url.pathname}\0${query}\0${timestamp}\0${nonce}\0`;
      const signature = toHex(await wallet.sign(encoder.encode(message)));
      return send(url.pathname + url.search, {
        headers: {
          accept: "application/json", "x-tfeco-account": account ?? "", "x-tfeco-timestamp": timestamp,
          "x-tfeco-nonce": nonce, "x-tfeco-signature": signature,
        },
      });
    },
    /**
     * Signs and submits `command` (e.g. {"transfer": {...}}) → TxAccepted. The nonce is the account's
     * next_nonce (1 for an unregistered key), never below one this page already used; submissions are
     * serialized so two never share a nonce.
     */
    submit(command) {
      const run = queue.then(() => submitNow(command));
      queue = run.catch(() => {});
      return run;
    },
    /** The account's view (a signed read by its owner gives free and escrowed), or null when unregistered. */
    async account(key, signed = false) {
      try {
        return signed ? await api.signedGet(`/v1/accounts/${key}`) : await api.get(`/v1/accounts/${key}`);
      } catch (error) {
        if (error instanceof ApiError && error.code === "account_not_found") return null;
        throw error;
      }
    },
  };

  async function submitNow(command) {
    const signer = wallet.account;
    if (!signer) await wallet.sign(new Uint8Array()); // throws the "locked" WalletError
    const view = await api.account(signer);
    const nonce = Math.max(view ? view.next_nonce : 1, (lastNonce.get(signer) ?? 0) + 1);
    const expiry = Math.floor(Date.now() / 1000) + EXPIRY_S;
    const body = JSON.stringify({ signer, nonce, expiry, command });
    const signature = toHex(await wallet.sign(concat(encoder.encode(TX_DOMAIN), encoder.encode(body))));
    const accepted = await send("/v1/tx", {
      method: "POST", headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ body, signature }),
    });
    lastNonce.set(signer, nonce);
    return accepted;
  }

  return api;
}
