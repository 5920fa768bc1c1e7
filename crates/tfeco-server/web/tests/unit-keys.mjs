// The browser wallet's key derivation (js/lib/keys.js) against the vectors of the CLI
// (crates/tfeco-wallet/src/mnemonic.rs): SLIP-0010 ed25519 vectors, the pinned accounts of 23 × "abandon" +
// "art", and the refusals of bad phrases. Run with Node (no browser needed): `node tests/unit-keys.mjs`.

import assert from "node:assert/strict";
import * as keys from "../js/lib/keys.js";

const ABANDON_ART = `${"abandon ".repeat(23)}art`;

const vector1 = await keys.slip10(keys.fromHex("000102030405060708090a0b0c0d0e0f"), [0, 1, 2, 2, 1000000000]);
assert.equal(keys.toHex(vector1.privateKey), "8f94d394a8e8fd6b1bc2f3f49f5c47e385281d5c17e65324b0f62483e37e8793");
assert.equal(keys.toHex(vector1.chainCode), "68789923a0cac2cd5a29172a475fe9e0fb14cd6adb5ad98a3fa70333e7afa230");
assert.equal(await keys.publicKeyHex(vector1.privateKey), "3c24da049451555d51a7014a37337aa4e12d41e485abccfa46b47dfb2af54b7a");
const seed2 = keys.fromHex("fffcf9f6f3f0edeae7e4e1dedbd8d5d2cfccc9c6c3c0bdbab7b4b1aeaba8a5a29f9c999693908d8a87848"
  + "17e7b7875726f6c696663605d5a5754514e4b484542");
const vector2 = await keys.slip10(seed2, [0, 2147483647, 1, 2147483646, 2]);
assert.equal(keys.toHex(vector2.privateKey), "551d333177df541ad876a60ea71f00447931c0a9da16f227c11ea080d7391b8d");

assert.equal((await keys.accountFromPhrase(ABANDON_ART)).account, "863e37d0a4ab945f4f8787eabe8132cd80f51303f73fde035bc5deaf9056e23a");
assert.equal((await keys.accountFromPhrase(ABANDON_ART, "TREZOR")).account, "59c357b5645660103015df146a456e8b72c10d67d596ad76188d2950d0f2c192");
assert.equal((await keys.accountFromPhrase(`  ${ABANDON_ART.toUpperCase()}\n`)).account, "863e37d0a4ab945f4f8787eabe8132cd80f51303f73fde035bc5deaf9056e23a");
const seed = await keys.seedFromPhrase("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about", "TREZOR");
assert.equal(keys.toHex(seed), "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04");

assert.throws(() => keys.parsePhrase("abandon abandon"), (e) => e.kind === "word_count");
assert.throws(() => keys.parsePhrase(`${"abandon ".repeat(23)}zzzz`), (e) => e.kind === "unknown_word" && e.position === 24);
assert.throws(() => keys.parsePhrase(`${"abandon ".repeat(24)}`), (e) => e.kind === "checksum");
assert.equal(keys.parsePhrase(keys.newPhrase()).split(" ").length, 24);

const { secret } = await keys.accountFromPhrase(ABANDON_ART);
const message = new TextEncoder().encode("tfeco/v2/request\0{}");
const signature = await keys.sign(secret, message);
assert.equal(signature.length, 64);
console.log("all key vectors match");
