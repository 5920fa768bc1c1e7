// End-to-end test of the trading and operations pages in a real browser (playwright-core + Chromium):
// two funded wallets trade on the exchange (a sell and a crossing buy; the seller sees its fill after the
// batch clears), one places an exit bid, amends and cancels it, and the farmer and guardian pages render.
// Console errors and page errors fail the test. Screenshots go to the artifacts directory.
//
// Inputs (environment):
//   TFECO_URL           the node serving the web app, e.g. http://127.0.0.1:8080 (required)
//   TFECO_WORDS_A       BIP-39 words of a registered wallet holding TFT (the seller and exit bidder; required)
//   TFECO_WORDS_B       BIP-39 words of a registered wallet holding USDC (the buyer; required)
//   TFECO_TICK          a shell command that advances the node's clock past the next batch (optional: without
//                       it the test waits for the node's own clock, at most TFECO_FILL_WAIT_S seconds, default 90)
//   TFECO_ARTIFACTS     where screenshots go (default target/browser-artifacts)
//   CHROMIUM            the browser binary (default: chromium, chromium-browser or google-chrome on PATH)
// Exit code 0 when every step passed; otherwise the failing step is printed and the code is 1.

import { execSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");

const URL_BASE = must("TFECO_URL").replace(/\/$/, "");
const WORDS_A = must("TFECO_WORDS_A");
const WORDS_B = must("TFECO_WORDS_B");
const ARTIFACTS = process.env.TFECO_ARTIFACTS || "target/browser-artifacts";
const FILL_WAIT_MS = Number(process.env.TFECO_FILL_WAIT_S || 90) * 1000;
const PASSWORD = "correct horse battery staple 12";

function must(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`missing environment variable ${name} (see the header of this file)`);
    process.exit(2);
  }
  return value;
}

function browserPath() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM;
  for (const name of ["chromium", "chromium-browser", "google-chrome"]) {
    try {
      return execSync(`command -v ${name}`, { encoding: "utf8" }).trim();
    } catch { /* next */ }
  }
  throw new Error("no Chromium found: install it (apt-get install -y chromium) or set CHROMIUM");
}

const failures = [];

/// A page whose console errors and page errors are recorded as failures.
async function watchedPage(context, who) {
  const page = await context.newPage();
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    const at = msg.location()?.url ? ` (${msg.location().url})` : "";
    failures.push(`${who}: console error: ${msg.text()}${at}`);
  });
  page.on("response", (answer) => { if (answer.status() >= 400) console.log(`${who}: ${answer.status()} ${answer.request().method()} ${answer.url()}`); });
  page.on("pageerror", (error) => failures.push(`${who}: page error: ${error.message}`));
  return page;
}

async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

async function step(name, fn) {
  process.stdout.write(`- ${name} … `);
  try {
    await fn();
    console.log("ok");
  } catch (error) {
    console.log("FAILED");
    throw new Error(`${name}: ${error.message}`);
  }
}

/// Restores a wallet from its words on the wallet page (webshell's restore form) and waits until it is unlocked.
async function restoreWallet(page, words) {
  await page.goto(`${URL_BASE}/#/wallet`);
  const form = page.getByTestId("restore-form");
  await form.getByTestId("restore-phrase").fill(words);
  await form.getByTestId("new-password").fill(PASSWORD);
  await form.getByTestId("confirm-password").fill(PASSWORD);
  await form.getByTestId("restore-form-submit").click();
  await page.getByTestId("header-account").waitFor({ timeout: 30000 });
}

async function goTo(page, name) {
  await page.goto(`${URL_BASE}/#/${name}`);
  await page.locator(`section.page[data-page="${name}"] section.card`).first().waitFor({ timeout: 15000 });
}

async function expectSuccess(locator, what) {
  await locator.waitFor({ timeout: 15000 });
  await page_wait(() => locator.evaluate((n) => /notice-(success|error)/.test(n.className)), 15000, `${what}: no outcome`);
  const cls = await locator.getAttribute("class");
  if (!/notice-success/.test(cls)) throw new Error(`${what}: ${await locator.textContent()}`);
}

async function page_wait(check, timeoutMs, message) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(message);
}

async function placeOrder(page, side, quantity, limit) {
  await goTo(page, "exchange");
  await page.getByTestId("order-form").waitFor();
  await page.getByLabel("Side").selectOption(side);
  await page.getByTestId("order-quantity").fill(quantity);
  await page.getByTestId("order-limit").fill(limit);
  await page.getByTestId("order-submit").click();
  await expectSuccess(page.getByTestId("order-status"), `${side} order`);
}

async function main() {
  mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: browserPath(), args: ["--no-sandbox"] });
  try {
    const a = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const b = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const seller = await watchedPage(a, "seller");
    const buyer = await watchedPage(b, "buyer");

    await step("restore the seller's and the buyer's wallets", async () => {
      await restoreWallet(seller, WORDS_A);
      await restoreWallet(buyer, WORDS_B);
    });

    await step("exchange: input checks refuse a bad order before signing", async () => {
      await goTo(seller, "exchange");
      await seller.getByTestId("order-quantity").fill("0.1");
      await seller.getByTestId("order-limit").fill("0.05");
      await seller.getByTestId("order-submit").click();
      const status = seller.getByTestId("order-status");
      await page_wait(() => status.evaluate((n) => n.className.includes("notice-error")), 5000, "no error shown");
      if (!/at least/.test(await status.textContent())) throw new Error(`unexpected text: ${await status.textContent()}`);
    });

    await step("exchange: the seller places a sell, the buyer a crossing buy", async () => {
      // The node may hold other orders (the demo's): the limits are wide so that both fill at any clearing price.
      await placeOrder(seller, "sell", "5", "0.001");
      await seller.getByTestId("my-orders-row").first().waitFor({ timeout: 15000 });
      await placeOrder(buyer, "buy", "5", "1");
      await buyer.getByTestId("my-orders-row").first().waitFor({ timeout: 15000 });
      await shot(seller, "exchange-order-placed");
    });

    await step("exchange: the batch clears and the seller sees its fill and the price", async () => {
      if (process.env.TFECO_TICK) execSync(process.env.TFECO_TICK, { stdio: "inherit" });
      const fill = seller.locator('[data-testid^="fill-filled-"]').first();
      await fill.waitFor({ timeout: FILL_WAIT_MS });
      const filled = (await fill.textContent()).trim();
      if (!filled.startsWith("5")) throw new Error(`filled ${filled}, expected 5 TFT`);
      await seller.getByTestId("depth-price").waitFor({ timeout: 15000 });
      await shot(seller, "exchange-filled");
    });

    await step("exit pool: lock TFT, open a position, place a sealed bid", async () => {
      await goTo(seller, "exit");
      await seller.getByTestId("round-cap").waitFor();
      await seller.getByTestId("lock-tft-amount").fill("100");
      await seller.getByTestId("lock-tft-submit").click();
      await expectSuccess(seller.getByTestId("lock-status"), "lock TFT");
      await seller.getByTestId("open-position-amount").fill("100");
      await seller.getByTestId("open-position-submit").click();
      await expectSuccess(seller.getByTestId("open-position-status"), "open position");
      await seller.getByTestId("my-positions-row").first().waitFor({ timeout: 15000 });
      await seller.getByTestId("bid-usdc").fill("1");
      await seller.getByTestId("bid-min-price").fill("0.05");
      await seller.getByTestId("bid-submit").click();
      await expectSuccess(seller.getByTestId("bid-status"), "exit bid");
      await seller.getByTestId("my-bids-row").first().waitFor({ timeout: 15000 });
      await shot(seller, "exit-bid-placed");
    });

    await step("exit pool: amend the bid, then cancel it", async () => {
      const amend = seller.locator('[data-testid^="amend-bid-"]').filter({ hasText: "Amend" }).first();
      const id = (await amend.getAttribute("data-testid")).replace("amend-bid-", "");
      await amend.click();
      await seller.getByTestId(`amend-bid-price-${id}`).fill("0.04");
      await seller.getByTestId(`amend-bid-submit-${id}`).click();
      await expectSuccess(seller.getByTestId("bids-status"), "amend bid");
      await page_wait(async () => (await seller.getByTestId(`bid-price-${id}`).textContent()).startsWith("0.04"), 15000, "the amended price is not shown");
      await seller.getByTestId(`cancel-bid-${id}`).click();
      await expectSuccess(seller.getByTestId("bids-status"), "cancel bid");
      await seller.getByTestId("my-bids-empty").waitFor({ timeout: 15000 });
      await shot(seller, "exit-bid-cancelled");
    });

    await step("farmer: the calculator answers and draws its chart", async () => {
      await goTo(seller, "farmer");
      await seller.getByTestId("calc-form").waitFor({ timeout: 15000 });
      await seller.getByTestId("calc-utilization").fill("40");
      await seller.getByTestId("calc-submit").click();
      await seller.getByTestId("calc-net").waitFor({ timeout: 15000 });
      await seller.locator('[data-testid="income-chart"] canvas').waitFor({ timeout: 15000 });
      await shot(seller, "farmer");
    });

    await step("guardian: the page shows the set and what waits for signatures", async () => {
      await goTo(seller, "guardian");
      await seller.getByTestId("guardian-count").waitFor({ timeout: 15000 });
      await seller.getByTestId("guardian-role").waitFor();
      await shot(seller, "guardian");
    });

    await step("phone width: the exchange and exit pages fit", async () => {
      const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
      const p = await watchedPage(phone, "phone");
      for (const name of ["exchange", "exit"]) {
        await goTo(p, name);
        const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        if (overflow > 1) throw new Error(`${name} is ${overflow}px wider than the phone`);
        await shot(p, `${name}-phone`);
      }
      await phone.close();
    });
  } finally {
    await browser.close();
  }
  if (failures.length) throw new Error(failures.join("\n"));
}

main().then(() => {
  console.log(`e2e-pages-trading: ok (screenshots in ${ARTIFACTS})`);
}, (error) => {
  console.error(`e2e-pages-trading: FAILED\n${error.message}`);
  process.exit(1);
});

