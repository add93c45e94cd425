// Headless Chromium for the console's end-to-end test (the SDK's tests' launcher,
// sdk/test/support/browser.ts), with a git-ignored folder for screenshots a person looks at.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { launchChromium as launch } from "../../../sdk/test/support/browser.js";

/** Where the tests write screenshots (git-ignored). */
export const SCREENSHOTS = join(import.meta.dirname, "..", "screenshots");

export async function launchChromium(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return launch();
}
