// Shared helpers of the browser tests (e2e-*.mjs), run by crates/tfeco/tests/it/browser.rs with:
//   TFECO_URL        the node's base URL (a demo month served with a manual clock)
//   TFECO_DATA_DIR   its data directory (for operator commands: `tfeco admin --data-dir ...`)
//   TFECO_ARTIFACTS  where screenshots go (target/browser-artifacts)
//   CHROMIUM         the browser binary (default /usr/bin/chromium)
// A script asks the harness to run the CLI by printing one line `@@cli ["arg", ...]` (or `@@cli {"args":
// [...], "env": {"NAME": "value"}}`) and reading one JSON line back: {"code": N, "stdout": "...", "stderr": "..."}. Any console error, page error, failed check
// or axe violation of impact serious/critical makes the script exit non-zero (the test fails).

import { chromium } from "playwright-core";
import { createInterface } from "node:readline";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

export const URL = process.env.TFECO_URL ?? "http://127.0.0.1:8080";
export const DATA_DIR = process.env.TFECO_DATA_DIR;
export const ARTIFACTS = process.env.TFECO_ARTIFACTS ?? "target/browser-artifacts";
export const PAGES = ["dashboard", "market", "wallet", "exit", "exchange", "farmer", "guardian"];
export const VIEWPORTS = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } };

const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"];

let lastPage = null;
const lines = createInterface({ input: process.stdin });
const replies = [];
const waiting = [];
lines.on("line", (line) => (waiting.length ? waiting.shift()(line) : replies.push(line)));

/** Runs `tfeco ...args` through the harness; returns {code, stdout, stderr}. */
export async function cli(...args) {
  return cliEnv({}, ...args);
}

/** Runs `tfeco ...args` with extra environment variables `env` through the harness. */
export async function cliEnv(env, ...args) {
  process.stdout.write(`@@cli ${JSON.stringify({ args, env })}\n`);
  const line = replies.length ? replies.shift() : await new Promise((resolve) => waiting.push(resolve));
  return JSON.parse(line);
}

/** Like cli, but the command must exit 0; returns its stdout parsed as JSON when it is JSON. */
export async function cliOk(...args) {
  const run = await cli(...args);
  if (run.code !== 0) throw new Error(`tfeco ${args.join(" ")} exited ${run.code}:\n${run.stdout}\n${run.stderr}`);
  try { return JSON.parse(run.stdout); } catch { return run.stdout; }
}

/** A fresh browser (fresh profile) and a page that records console errors and page errors. */
export async function open(viewport = VIEWPORTS.desktop) {
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true, args: FLAGS });
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  lastPage = page;
  const errors = [];
  page.on("console", (message) => {
    if (message.type() !== "error") return;
    // The browser logs every 4xx answer; the app reads them as typed refusals (e.g. an account not registered
    // yet is 404 account_not_found), so they are not JavaScript errors. 5xx answers still fail the test.
    if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(message.text())) return;
    errors.push(`console error: ${message.text()} (${message.location().url})`);
  });
  page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
  page.setDefaultTimeout(20000);
  return { browser, context, page, errors };
}

/** Throws when the page logged an error so far. */
export function assertNoErrors(errors, where) {
  if (errors.length) throw new Error(`JavaScript errors ${where}:\n${errors.join("\n")}`);
}

/** Goes to #/name and waits until the page has rendered (its <h1> and no pending page load). */
export async function go(page, name) {
  await page.goto(`${URL}/#/${name}`);
  await page.waitForSelector(`section.page[data-page="${name}"]`);
  await page.waitForLoadState("networkidle").catch(() => {});
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** axe-core scan of the page; throws on any violation of impact serious or critical. */
export async function axe(page, where) {
  const result = await page.evaluate(async (source) => {
    if (!window.axe) (0, eval)(source);
    const run = await window.axe.run(document, { resultTypes: ["violations"] });
    return run.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  }, axeSource);
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  if (bad.length) throw new Error(`accessibility violations on ${where}:\n${JSON.stringify(bad, null, 2)}`);
  return result;
}

/** Saves a full-page screenshot to ARTIFACTS/name.png and prints its path. */
export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot: ${path}`);
  return path;
}

/** Polls `check()` until it returns a truthy value (bounded; throws with `what` after about 20 s). */
export async function until(what, check, tries = 100) {
  for (let i = 0; i < tries; i += 1) {
    const value = await check();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Runs `body`, then exits 0; or prints the error, screenshots the last page (failure-NAME.png) and its text, exits 1. */
export async function main(body) {
  try {
    await body();
    lines.close();
    process.exit(0);
  } catch (error) {
    console.error(error?.stack ?? String(error));
    if (lastPage && !lastPage.isClosed()) {
      const name = `failure-${process.argv[1].split("/").pop().replace(/\.mjs$/, "")}`;
      await screenshot(lastPage, name).catch(() => {});
      const body = await lastPage.locator("main").innerText().catch(() => "");
      console.error(`the page at the failure:\n${body.slice(0, 3000)}`);
    }
    process.exit(1);
  }
}
