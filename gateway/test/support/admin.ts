// Reading a running gateway's admin listener in tests: /metrics (Prometheus' text format) and readiness with its details.
import type { RunningGateway } from "../../src/index.js";

/** What these helpers need of a gateway: where its admin listener is. */
type AdminListener = Pick<RunningGateway, "adminUrl">;

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
export const metricsOf = async (gateway: AdminListener): Promise<string> => (await fetch(`${gateway.adminUrl}/metrics`)).text();

/**
 * The value of the sample of `name` whose labels include `labels`, read from the admin listener's
 * /metrics now. With none, `absent` when given (a labelled counter is exported from its first
 * increment: pass 0), else an error, so that a metric that disappeared fails the test.
 */
export async function metricValue(gateway: AdminListener, name: string, labels: Record<string, string> = {}, absent?: number): Promise<number> {
  const matching = samples(await metricsOf(gateway), name).find((sample) => Object.entries(labels).every(([key, value]) => sample.labels[key] === value));
  if (matching !== undefined) return matching.value;
  if (absent !== undefined) return absent;
  throw new Error(`no sample of ${name} ${JSON.stringify(labels)} on /metrics`);
}

/** The admin listener's readiness: its HTTP status and the details (typed by each test for what it reads). */
export async function readinessOf<T = Record<string, unknown>>(gateway: AdminListener): Promise<{ status: number; body: T }> {
  const response = await fetch(`${gateway.adminUrl}/health/ready`);
  return { status: response.status, body: (await response.json()) as T };
}
