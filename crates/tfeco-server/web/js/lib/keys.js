// Keys from BIP-39 words, exactly as the CLI derives them (crates/tfeco-wallet/src/mnemonic.rs):
// seed = PBKDF2-HMAC-SHA512(2048 rounds, password = NFKD phrase, salt = "mnemonic" + NFKD passphrase), then
// SLIP-0010 ed25519 (master = HMAC-SHA512 keyed "ed25519 seed"; hardened children) along
// m/44'/1952867683'/0'/0'/0'; the 32-byte leaf is the ed25519 secret seed. Hashing is WebCrypto's.

import { bip39, english, ed } from "../../vendor/vendor.js";

/** The account path's indices before hardening: m/44'/1952867683'/0'/0'/0' (coin type = ASCII "tfec"). */
export const ACCOUNT_PATH = [44, 0x74666563, 0, 0, 0];
const HARDENED = 0x80000000;
const WORD_COUNTS = [12, 15, 18, 21, 24];
const encoder = new TextEncoder();

/** A phrase that cannot be used: `kind` is "word_count", "unknown_word" (with `position`, from 1) or "checksum". */
export class PhraseError extends Error {
  constructor(kind, message, position) {
    super(message);
    this.name = "PhraseError";
    this.kind = kind;
    this.position = position;
  }
}

/** A new 24-word phrase (256 bits from the browser's cryptographic random source). */
export function newPhrase() {
  return bip39.generateMnemonic(english, 256);
}

/**
 * Reads a typed or pasted phrase (any case, any whitespace) and checks it: 12–24 words, every word in the
 * English list, the checksum. Returns the normalized phrase; throws PhraseError (the word itself is never in
 * the message).
 */
export function parsePhrase(text) {
  const words = String(text).normalize("NFKD").toLowerCase().split(/\s+/).filter(Boolean);
  if (!WORD_COUNTS.includes(words.length)) {
    throw new PhraseError("word_count", `The recovery phrase has ${words.length} words; a BIP-39 phrase has 12, 15, 18, 21 or 24.`);
  }
  const known = new Set(english);
  const unknown = words.findIndex((w) => !known.has(w));
  if (unknown >= 0) {
    throw new PhraseError("unknown_word", `Word ${unknown + 1} is not in the English BIP-39 word list.`, unknown + 1);
  }
  const phrase = words.join(" ");
  if (!bip39.validateMnemonic(phrase, english)) {
    throw new PhraseError("checksum", "The checksum does not match: a word is wrong, missing or out of order.");
  }
  return phrase;
}

/** The 64-byte BIP-39 seed of a (checked) phrase and an optional passphrase. */
export async function seedFromPhrase(phrase, passphrase = "") {
  const key = await crypto.subtle.importKey("raw", encoder.encode(phrase.normalize("NFKD")), "PBKDF2", false, ["deriveBits"]);
  const salt = encoder.encode(`mnemonic${passphrase.normalize("NFKD")}`);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-512", salt, iterations: 2048 }, key, 512);
  return new Uint8Array(bits);
}

async function hmacSha512(keyBytes, data) {
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-512" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
}

/** SLIP-0010 ed25519: the 32-byte private key and chain code at `path` (indices before hardening). */
export async function slip10(seed, path) {
  let node = await hmacSha512(encoder.encode("ed25519 seed"), seed);
  for (const index of path) {
    if (!Number.isInteger(index) || index < 0 || index >= HARDENED) throw new RangeError(`index ${index} out of range`);
    const data = new Uint8Array(37);
    data.set(node.subarray(0, 32), 1);
    new DataView(data.buffer).setUint32(33, index + HARDENED);
    node = await hmacSha512(node.subarray(32), data);
  }
  return { privateKey: node.slice(0, 32), chainCode: node.slice(32) };
}

/** The account of a phrase: {secret (32-byte ed25519 seed), account (64 hex public key)}. */
export async function accountFromPhrase(phrase, passphrase = "") {
  const { privateKey } = await slip10(await seedFromPhrase(parsePhrase(phrase), passphrase), ACCOUNT_PATH);
  return { secret: privateKey, account: toHex(await ed.getPublicKeyAsync(privateKey)) };
}

/** ed25519 signature (RFC 8032) of `message` with the 32-byte secret seed. */
export async function sign(secret, message) {
  return ed.signAsync(message, secret);
}

/** The public key (64 hex) of a 32-byte secret seed. */
export async function publicKeyHex(secret) {
  return toHex(await ed.getPublicKeyAsync(secret));
}

/** Lowercase hex of bytes. */
export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Bytes of a hex string; throws RangeError when it is not hex. */
export function fromHex(hex) {
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new RangeError("not hex");
  return Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
}
