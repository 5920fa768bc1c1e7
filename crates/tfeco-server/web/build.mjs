// Builds vendor/vendor.js (one ES module: @noble/ed25519, @scure/bip39 with its English word list, uPlot) and
// copies uPlot's stylesheet to vendor/uplot.css. `node build.mjs [OUTDIR]` (default: ./vendor). The output is
// committed; a Rust test (crates/tfeco-server/tests/web_bundle.rs) rebuilds it from the lock file and compares.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(process.argv[2] ?? join(here, "vendor"));
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: [join(here, "vendor-entry.js")],
  outfile: join(outdir, "vendor.js"),
  absWorkingDir: here,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  legalComments: "inline",
  charset: "utf8",
  logLevel: "warning",
});
copyFileSync(join(here, "node_modules/uplot/dist/uPlot.min.css"), join(outdir, "uplot.css"));
