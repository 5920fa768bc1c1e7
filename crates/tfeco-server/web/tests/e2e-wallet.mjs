// The wallet journey in a real browser: create a wallet (24 words, confirmed), register, get TFT from the
// operator, enter CC, lease a slice and watch its charges arrive live; restore known words and compare the
// account with the CLI's; an axe-core scan and screenshots (desktop and phone) of every page.

import { URL, DATA_DIR, PAGES, VIEWPORTS, open, go, axe, screenshot, until, main, cliOk, cliEnv, assertNoErrors } from "./lib.mjs";

const PASSWORD = "umber-kestrel-quarry-1987";
/** The Rust test vector (crates/tfeco-wallet/src/mnemonic.rs): 23 × "abandon" + "art", no passphrase. */
const ABANDON_ART = `${"abandon ".repeat(23)}art`;
const ABANDON_ART_ACCOUNT = "863e37d0a4ab945f4f8787eabe8132cd80f51303f73fde035bc5deaf9056e23a";

const text = async (page, testid) => (await page.getByTestId(testid).first().textContent()).trim();

async function createWallet(page) {
  await go(page, "wallet");
  await page.getByTestId("create-wallet").click();
  const words = await page.getByTestId("phrase-word").allTextContents();
  if (words.length !== 24) throw new Error(`expected 24 words, saw ${words.length}`);
  for (const input of await page.locator('[data-testid^="confirm-word-"]').all()) {
    const n = Number((await input.getAttribute("data-testid")).slice("confirm-word-".length));
    await input.fill(words[n - 1]);
  }
  await page.getByTestId("confirm-written").check();
  const form = page.getByTestId("create-form");
  await form.getByTestId("new-password").fill(PASSWORD);
  await form.getByTestId("confirm-password").fill(PASSWORD);
  await page.getByTestId("create-form-submit").click();
  const account = await text(page, "account");
  if (!/^[0-9a-f]{64}$/.test(account)) throw new Error(`not an account: ${account}`);
  // The CLI derives the same account from the same words.
  const recovered = await cliEnv({ TFECO_MNEMONIC: words.join(" "), TFECO_PASSWORD: PASSWORD }, "wallet", "--keystore", `${DATA_DIR}/../e2e-created-${account.slice(0, 12)}.json`, "recover", "--insecure-fast-kdf", "--json");
  if (recovered.code !== 0 || !recovered.stdout.includes(account)) throw new Error(`the CLI recovered another account:\n${recovered.stdout}${recovered.stderr}`);
  console.log(`created ${account} (the CLI recovers the same account from the words)`);
  return account;
}

async function fundAndEnter(page, account) {
  await page.getByTestId("register-account").click();
  await until("registration", async () => (await page.getByTestId("register-account").count()) === 0);
  await cliOk("admin", "--url", URL, "--data-dir", DATA_DIR, "deposit", "--to", account, "--asset", "TFT", "--amount", "5000", "--tx-id", `e2e-wallet-${account.slice(0, 12)}`, "--json");
  // No reload: the balance and the history follow the account's live events.
  await until("the deposit to show", async () => (await text(page, "balance-total-TFT")) === "5,000");
  await until("the deposit in the history", async () => (await page.locator('[data-testid="history"] li').count()) > 0);
  await page.getByTestId("enter-tft").fill("4000");
  const preview = await text(page, "enter-preview");
  if (!/You receive about [\d,.]+ CC/.test(preview)) throw new Error(`no entry preview: ${preview}`);
  await page.getByTestId("enter-form-submit").click();
  await until("CC after entry", async () => !["0", "—"].includes(await text(page, "balance-free-CC")));
  console.log(`entered: ${preview}; TFT ${await text(page, "balance-free-TFT")}, CC ${await text(page, "balance-free-CC")}`);
}

async function leaseAndWatch(page) {
  await go(page, "market");
  const row = page.locator('[data-testid^="node-"]').first();
  const nodeId = (await row.getAttribute("data-testid")).slice("node-".length);
  await page.getByTestId(`lease-node-${nodeId}`).click();
  const cost = await text(page, "lease-cost");
  if (!/CC per hour for 1 slice/.test(cost)) throw new Error(`no lease cost shown: ${cost}`);
  await page.getByTestId("lease-form-submit").click();
  const lease = page.locator('[data-testid="my-leases"] tr[data-testid^="lease-"]').first();
  await lease.waitFor();
  const leaseId = (await lease.getAttribute("data-testid")).slice("lease-".length);
  const before = await text(page, `lease-periods-${leaseId}`);
  const paidBefore = await text(page, `lease-paid-${leaseId}`);
  // The operator moves the node's time; the hourly charge arrives as an event and the table follows.
  await cliOk("admin", "--url", URL, "--data-dir", DATA_DIR, "tick", "--advance", "2h", "--json");
  await until("a live lease charge", async () => (await text(page, `lease-periods-${leaseId}`)) !== before);
  console.log(`lease ${leaseId} on node ${nodeId}: periods ${before} → ${await text(page, `lease-periods-${leaseId}`)}, paid ${paidBefore} → ${await text(page, `lease-paid-${leaseId}`)}`);
}

async function restoreKnownWords() {
  const { browser, page, errors } = await open();
  await go(page, "wallet");
  await page.getByTestId("restore-phrase").fill(`  ${ABANDON_ART.toUpperCase()} `);
  await page.getByTestId("restore-form").getByTestId("new-password").fill(PASSWORD);
  await page.getByTestId("restore-form").getByTestId("confirm-password").fill(PASSWORD);
  await page.getByTestId("restore-form-submit").click();
  const account = await text(page, "account");
  if (account !== ABANDON_ART_ACCOUNT) throw new Error(`restored ${account}, the CLI's test vector is ${ABANDON_ART_ACCOUNT}`);
  await page.getByTestId("lock-wallet").click();
  await page.getByTestId("unlock-password").fill("wrong password!");
  await page.getByTestId("unlock-form-submit").click();
  await page.getByText("Wrong password").waitFor();
  await page.getByTestId("unlock-password").fill(PASSWORD);
  await page.getByTestId("unlock-form-submit").click();
  await page.getByTestId("account").waitFor();
  await page.getByTestId("forget-wallet").last().click();
  await page.getByTestId("forget-confirm").click();
  await page.getByTestId("restore-phrase").fill(`${"abandon ".repeat(23)}zoo`);
  await page.getByTestId("restore-form").getByTestId("new-password").fill(PASSWORD);
  await page.getByTestId("restore-form").getByTestId("confirm-password").fill(PASSWORD);
  await page.getByTestId("restore-form-submit").click();
  await page.getByText("The checksum does not match").waitFor();
  assertNoErrors(errors, "in the restore flow");
  await browser.close();
  console.log("restore: the known words give the CLI's account; wrong password and bad checksum are refused");
}

async function scanEveryPage(page) {
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    await page.setViewportSize(viewport);
    for (const name of PAGES) {
      await go(page, name);
      await axe(page, `#/${name} (${size})`);
      await screenshot(page, `${name}-${size}`);
    }
  }
}

main(async () => {
  const { browser, page, errors } = await open();
  await go(page, "dashboard");
  const hash = await text(page, "state-hash");
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new Error(`state hash: ${hash}`);
  const account = await createWallet(page);
  await fundAndEnter(page, account);
  await leaseAndWatch(page);
  await scanEveryPage(page);
  assertNoErrors(errors, "in the wallet journey");
  await browser.close();
  await restoreKnownWords();
});
