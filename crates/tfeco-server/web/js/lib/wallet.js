// The browser wallet (ctx.wallet): one account key, kept in localStorage encrypted with a key derived from a
// password (PBKDF2-SHA256, 600,000 iterations, 16-byte random salt → AES-256-GCM, 12-byte random IV, the
// account as additional data). Unlocked, the 32-byte secret lives only in this module's memory; it is wiped
// on lock, on forget and after 15 minutes without signing. Nothing of it is ever sent anywhere.

import { accountFromPhrase, publicKeyHex, sign as edSign, toHex, fromHex } from "./keys.js";

const STORAGE_KEY = "tfeco.wallet.v1";
const ITERATIONS = 600000;
const AUTO_LOCK_MS = 15 * 60 * 1000;
/** Shortest accepted password, characters. */
export const MIN_PASSWORD = 10;
const encoder = new TextEncoder();

/** A refused wallet operation: `kind` is "no_wallet", "locked", "wrong_password", "weak_password" or "unavailable". */
export class WalletError extends Error {
  constructor(kind, message) {
    super(message);
    this.name = "WalletError";
    this.kind = kind;
    this.code = kind;
  }
}

const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

async function passwordKey(password, salt, iterations) {
  const base = await crypto.subtle.importKey("raw", encoder.encode(password.normalize("NFKC")), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, base,
    { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
}

function readStored() {
  try {
    const record = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null");
    return record && record.version === 1 && /^[0-9a-f]{64}$/.test(record.account) ? record : null;
  } catch {
    return null;
  }
}

/** Creates the wallet object; one per page load (the shell's). */
export function createWallet() {
  let stored = readStored();
  let secret = null;
  let timer = null;
  const listeners = new Set();
  // A copy: a listener may subscribe others (a page re-rendering), which must not run in this round.
  const emit = () => [...listeners].forEach((cb) => { try { cb(wallet.account); } catch (e) { console.warn(e); } });
  const armAutoLock = () => { clearTimeout(timer); timer = setTimeout(() => wallet.lock(), AUTO_LOCK_MS); };

  async function keep(phraseSecret, account, password, label) {
    if (typeof password !== "string" || password.length < MIN_PASSWORD) {
      throw new WalletError("weak_password", `Choose a password of at least ${MIN_PASSWORD} characters.`);
    }
    const salt = crypto.getRandomValues(new Uint8Array(16));
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const key = await passwordKey(password, salt, ITERATIONS);
    const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv, additionalData: fromHex(account) }, key, phraseSecret));
    const record = {
      version: 1, account, label: label || null, created_at: Math.floor(Date.now() / 1000),
      kdf: { name: "PBKDF2", hash: "SHA-256", iterations: ITERATIONS, salt: b64(salt) },
      cipher: { name: "AES-GCM", iv: b64(iv) }, ciphertext: b64(ciphertext),
    };
    localStorage.setItem(STORAGE_KEY, JSON.stringify(record));
    stored = record;
    secret = phraseSecret;
    armAutoLock();
    emit();
    return account;
  }

  const wallet = {
    /** The unlocked account (64 hex), or null when there is no wallet or it is locked. */
    get account() { return secret ? stored.account : null; },
    /** "none" (no wallet kept), "locked" or "unlocked". */
    get state() { return !stored ? "none" : secret ? "unlocked" : "locked"; },
    /** The kept wallet's public account (even when locked), or null. */
    get storedAccount() { return stored?.account ?? null; },
    /** cb(account|null) after every create, restore, unlock, lock and forget; returns the unsubscribe fn. */
    onChange(cb) { listeners.add(cb); return () => listeners.delete(cb); },
    /** Keeps the key of a (checked) phrase under `password` and unlocks it; replaces any kept wallet. */
    async restore(phrase, password, passphrase = "") {
      const { secret: key, account } = await accountFromPhrase(phrase, passphrase);
      return keep(key, account, password);
    },
    /** Unlocks the kept wallet; WalletError "wrong_password" when the password does not decrypt it. */
    async unlock(password) {
      if (!stored) throw new WalletError("no_wallet", "There is no wallet in this browser: create or restore one.");
      let plain;
      try {
        const key = await passwordKey(password, unb64(stored.kdf.salt), stored.kdf.iterations);
        plain = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: unb64(stored.cipher.iv), additionalData: fromHex(stored.account) }, key, unb64(stored.ciphertext)));
      } catch {
        throw new WalletError("wrong_password", "Wrong password: the wallet could not be decrypted.");
      }
      if ((await publicKeyHex(plain)) !== stored.account) {
        throw new WalletError("wrong_password", "The kept key does not match its account; restore the wallet from its words.");
      }
      secret = plain;
      armAutoLock();
      emit();
      return stored.account;
    },
    /** Wipes the secret from memory (the encrypted copy stays). */
    lock() {
      if (secret) secret.fill(0);
      secret = null;
      clearTimeout(timer);
      emit();
    },
    /** Locks and deletes the encrypted copy from this browser (only the words can bring it back). */
    forget() {
      localStorage.removeItem(STORAGE_KEY);
      stored = null;
      wallet.lock();
    },
    /** ed25519 signature of `bytes` (Uint8Array) by the unlocked key; WalletError "locked" otherwise. */
    async sign(bytes) {
      if (!secret) throw new WalletError("locked", "Unlock your wallet first (Wallet page).");
      armAutoLock();
      return edSign(secret, bytes);
    },
  };
  addEventListener("storage", (event) => {
    if (event.key === STORAGE_KEY) { stored = readStored(); if (!stored || stored.account !== wallet.account) wallet.lock(); }
  });
  return wallet;
}

export { toHex };
