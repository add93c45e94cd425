// The SDK's source modules that an entry point reaches through its relative imports, each with
// its code (comments stripped: they may name a binding a module does not load). The entry-point
// tests use it to show that the package's main entry never reaches an opt-in native loader, so a
// browser or device bundle carries none.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** sdk/src, where the entry points are. */
export const sdkSourceDir = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/** Every module `entry` (a file in sdk/src) reaches, itself included, mapped to its code without comments. */
export function modulesReachedFrom(entry: string): Map<string, string> {
  const reached = new Map<string, string>();
  const visit = (file: string): void => {
    if (reached.has(file)) return;
    const code = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
    reached.set(file, code);
    for (const [, target] of code.matchAll(/from\s+["'](\.{1,2}\/[^"']+)\.js["']/g)) visit(join(dirname(file), `${target}.ts`));
  };
  visit(join(sdkSourceDir, entry));
  return reached;
}
