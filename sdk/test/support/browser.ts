// Headless Chromium for the tests that run code in a real browser (the SDK's WebAssembly keccak,
// the gateway's console): Debian's `chromium` package (`.ci/run` installs it), driven by
// playwright-core through its executablePath; playwright's own browser download does not work
// here. The flags keep Chromium off the network it would otherwise call (updates, sync, QUIC
// probes) and run it as root in CI (no sandbox).
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = process.env.IOMT_CHROMIUM ?? "/usr/bin/chromium";

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set IOMT_CHROMIUM)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
  });
}
