// Builds the operator console's page into gateway/dist/console-ui/: app.ts (Preact and htm)
// bundled by esbuild into one minified ES module, with the stylesheet and the HTML copied beside it.
// The gateway serves these three files itself (src/console/routes.ts): nothing comes from a CDN.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const uiDir = dirname(fileURLToPath(import.meta.url));
const out = join(uiDir, "..", "dist", "console-ui");
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(uiDir, "app.ts")],
  outfile: join(out, "app.js"),
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "es2022",
  minify: true,
  legalComments: "eof",
  logLevel: "warning",
});
for (const file of ["index.html", "app.css"]) copyFileSync(join(uiDir, file), join(out, file));
