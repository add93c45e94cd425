// Reading a running gateway's admin listener in tests: /metrics (Prometheus' text format) and readiness with its details.
import type { RunningGateway } from "../../src/index.js";

/** The samples of a metric: each with its labels and value. */
export function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .map((line) => {
      const [, labelText = "", value] = line.match(/^[^{ ]+(?:\{(.*)\})? (\S+)$/) as RegExpMatchArray;
      const labels = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map(([, key, label]) => [key, label]));
      return { labels, value: Number(value) };
    });
}

/** The admin listener's /metrics as text. */
export const metricsOf = async (gateway: RunningGateway): Promise<string> => (await fetch(`${gateway.adminUrl}/metrics`)).text();

/** The admin listener's readiness: its HTTP status and the details (typed by each test for what it reads). */
export async function readinessOf<T = Record<string, unknown>>(gateway: RunningGateway): Promise<{ status: number; body: T }> {
  const response = await fetch(`${gateway.adminUrl}/health/ready`);
  return { status: response.status, body: (await response.json()) as T };
}
