// The third-party modules of the web app, re-exported from one bundle (vendor/vendor.js, built by build.mjs).
export * as ed from "@noble/ed25519";
export * as bip39 from "@scure/bip39";
export { wordlist as english } from "@scure/bip39/wordlists/english.js";
export { default as uPlot } from "uplot";
export { blake3 } from "@noble/hashes/blake3.js";
