// Builds dist/ from src/: ES modules with type declarations (tsc, dist/*.js), then the same
// modules as CommonJS for `require` (esbuild, dist/cjs/*.js, marked CommonJS by their own
// package.json, with a copy of the declarations so TypeScript types them as CommonJS). Source maps
// carry their sources, except for the generated ABI and bytecode, which are data (a map would
// double their size and help no one). Removes the old dist/ first, so no stale file is packed.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const sdkDir = dirname(fileURLToPath(import.meta.url));
const dist = join(sdkDir, "dist");
const cjs = join(dist, "cjs");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
const filesIn = (dir, suffix) => readdirSync(dir, { recursive: true, encoding: "utf8" }).filter((file) => file.endsWith(suffix));

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, "-p", join(sdkDir, "tsconfig.build.json")], { stdio: "inherit" });

await build({
  entryPoints: filesIn(join(sdkDir, "src"), ".ts").map((file) => join(sdkDir, "src", file)),
  outdir: cjs,
  outbase: join(sdkDir, "src"),
  format: "cjs",
  platform: "node",
  target: "es2022",
  sourcemap: true,
  sourcesContent: true,
  logLevel: "warning",
  // native-secp256k1.ts and native-keccak.ts read import.meta.url only where `require` is missing (their ES build).
  logOverride: { "empty-import-meta": "silent" },
});
for (const file of filesIn(dist, ".d.ts").filter((file) => !file.startsWith("cjs"))) {
  mkdirSync(dirname(join(cjs, file)), { recursive: true });
  copyFileSync(join(dist, file), join(cjs, file));
}
writeFileSync(join(cjs, "package.json"), `${JSON.stringify({ type: "commonjs" }, null, 2)}\n`);
for (const dir of [join(dist, "generated"), join(cjs, "generated")]) {
  for (const file of filesIn(dir, ".js")) {
    const path = join(dir, file);
    writeFileSync(path, readFileSync(path, "utf8").replace(/\n\/\/# sourceMappingURL=\S+\n?$/, "\n"));
    rmSync(`${path}.map`);
  }
}
