// Size of what a device carries: the SDK packed and installed into a fresh project as its README
// says (`npm install @iomt-auth/sdk viem`), then an entry importing only what a device uses
// (token parsing, typed data, the gateway client, a nonce counter, a viem key) bundled and
// minified by esbuild. Prints the bytes, minified and gzipped, and the largest packages in it.
//
//   node scripts/device-bundle-size.mjs     (./iomt sdk:size)
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const DEVICE_ENTRY = `import { parseToken, registryDomain, signAssociation, createDataMessage, signDataMessage, createGatewayClient, createNonceCounter } from "@iomt-auth/sdk";
import { privateKeyToAccount } from "viem/accounts";
export { parseToken, registryDomain, signAssociation, createDataMessage, signDataMessage, createGatewayClient, createNonceCounter, privateKeyToAccount };
`;

const work = mkdtempSync(join(tmpdir(), "iomt-device-size-"));
try {
  const npm = (args, cwd) => execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const [{ filename }] = JSON.parse(npm(["pack", "--json", "--pack-destination", work], "sdk").replace(/^[^[]*/, ""));
  const project = join(work, "project");
  execFileSync("mkdir", [project]);
  writeFileSync(join(project, "package.json"), `${JSON.stringify({ type: "module", private: true })}\n`);
  npm(["install", join(work, filename), "viem", "--no-audit", "--no-fund"], project);
  const viem = JSON.parse(npm(["ls", "viem", "--all", "--json"], project));
  const result = await build({
    stdin: { contents: DEVICE_ENTRY, resolveDir: project, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "node",
    write: false,
    metafile: true,
    logLevel: "error",
  });
  const code = result.outputFiles[0].contents;
  const byPackage = new Map();
  for (const [file, { bytesInOutput }] of Object.entries(Object.values(result.metafile.outputs)[0].inputs)) {
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? file;
    byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
  }
  console.log(`device entry (SDK + viem ${viem.dependencies.viem.version}): ${code.length.toLocaleString("en-US")} B minified, ${gzipSync(code).length.toLocaleString("en-US")} B gzipped`);
  for (const [name, bytes] of [...byPackage].sort((a, b) => b[1] - a[1])) console.log(`  ${bytes.toLocaleString("en-US").padStart(8)} B  ${name}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
