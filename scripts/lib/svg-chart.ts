// Horizontal bar charts as standalone SVG files, for the scenario summary and the benchmark
// report: one bar per row, its value printed at the end, an optional second series drawn as a
// thinner bar beside the first (e.g. ours vs a reference). No dependencies, deterministic output.

export type Bar = { label: string; value: number; reference?: number };

export type BarChartParameters = {
  title: string;
  /** Unit printed after every value, e.g. "gas", "ms", "B". */
  unit: string;
  bars: readonly Bar[];
  /** Legend names of the two series when bars carry a `reference`. */
  series?: readonly [string, string];
  /** Plot values on a log10 axis (for figures spanning orders of magnitude). */
  logScale?: boolean;
};

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const format = (value: number) => (Number.isInteger(value) ? value.toLocaleString("en-US") : value.toLocaleString("en-US", { maximumFractionDigits: 2 }));

export function barChart({ title, unit, bars, series, logScale = false }: BarChartParameters): string {
  const labelWidth = Math.min(360, 12 + 7 * Math.max(...bars.map((bar) => bar.label.length), 8));
  const plotWidth = 480;
  const valueWidth = 150;
  const rowHeight = series === undefined ? 26 : 36;
  const top = series === undefined ? 44 : 64;
  const width = labelWidth + plotWidth + valueWidth;
  const height = top + rowHeight * bars.length + 16;
  const max = Math.max(...bars.flatMap((bar) => [bar.value, bar.reference ?? 0]), 1);
  const scale = (value: number) =>
    value <= 0 ? 0 : logScale ? (plotWidth * Math.log10(1 + value)) / Math.log10(1 + max) : (plotWidth * value) / max;

  const rows = bars.map((bar, i) => {
    const y = top + i * rowHeight;
    const main = `<rect x="${labelWidth}" y="${y}" width="${scale(bar.value).toFixed(1)}" height="14" fill="#2f6db5"/>`;
    const reference =
      bar.reference === undefined ? "" : `<rect x="${labelWidth}" y="${y + 16}" width="${scale(bar.reference).toFixed(1)}" height="8" fill="#c9822b"/>`;
    const text = `${format(bar.value)} ${unit}${bar.reference === undefined ? "" : ` (${format(bar.reference)})`}`;
    return [
      `<text x="${labelWidth - 8}" y="${y + 12}" text-anchor="end">${escape(bar.label)}</text>`,
      main,
      reference,
      `<text x="${labelWidth + scale(Math.max(bar.value, bar.reference ?? 0)) + 6}" y="${y + 12}">${escape(text)}</text>`,
    ].join("");
  });
  const legend =
    series === undefined
      ? ""
      : `<rect x="${labelWidth}" y="34" width="12" height="12" fill="#2f6db5"/><text x="${labelWidth + 18}" y="45">${escape(series[0])}</text>` +
        `<rect x="${labelWidth + 200}" y="36" width="12" height="8" fill="#c9822b"/><text x="${labelWidth + 218}" y="45">${escape(series[1])}</text>`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">${escape(title)}${logScale ? " (log scale)" : ""}</text>`,
    legend,
    ...rows,
    `</svg>`,
    "",
  ].join("\n");
}
