// Charts for the benchmark report and the scenario summary: Vega-Lite specifications rendered to
// standalone SVG by Vega in Node (no browser, no canvas). Three shapes: lines of a measure against
// a size, with a reference series (the EVM floor, a single level) drawn dashed; horizontal bars
// sorted by value; and the distribution of one value over many items, binned, with its median
// marked.
//
// Vega lays text out by its width. Without a canvas it guesses 0.8 em per character, which leaves
// wide empty margins; here widths come from a table of the DejaVu Sans advance widths (the font the
// charts name first), so the layout fits the text and the same data gives the same bytes on every
// machine, which `./iomt gas:check` relies on.
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** Advance widths, per 1,000 em, of DejaVu Sans Book and Bold (from the fonts' hmtx tables) for ASCII 32–126, then EXTRA. */
const EXTRA = "→×–—…·≤≥µ±₂‖";
const BOOK = [
  318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531,
  1000, 684, 686, 698, 770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390, 337, 390, 838, 500,
  500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
  838, 838, 500, 1000, 1000, 318, 838, 838, 636, 838, 401, 500,
];
const BOLD = [
  348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580,
  1000, 774, 762, 734, 830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457, 365, 457, 838, 500,
  500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687, 716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838,
  838, 838, 500, 1000, 1000, 380, 838, 838, 736, 838, 438, 500,
];

/** The width in pixels of `text` set in DejaVu Sans at `size` px; characters outside the table count as 1 em. */
function textWidth(text: string, size: number, bold: boolean): number {
  const widths = bold ? BOLD : BOOK;
  let total = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    const index = code >= 32 && code < 127 ? code - 32 : EXTRA.includes(char) ? 95 + EXTRA.indexOf(char) : -1;
    total += index < 0 ? 1000 : widths[index];
  }
  return (total * size) / 1000;
}

type TextItem = { text?: unknown; fontSize?: number; fontWeight?: string | number };
const { textMetrics } = vega as unknown as { textMetrics: { width: (item: TextItem, text?: unknown) => number } };
textMetrics.width = (item, text) => {
  const value = String(text ?? item.text ?? "").trim();
  const weight = item.fontWeight;
  return textWidth(value, item.fontSize ?? 11, weight === "bold" || (typeof weight === "number" && weight >= 600));
};

const OURS = "#2f6db5";
const REFERENCE = "#c9822b";
const MEDIAN = "#c0392b";
const FONT = "DejaVu Sans, Verdana, sans-serif";
/** Axis labels: 0, 250, 40k, 1.2M, without the SI prefix of small numbers (e.g. "0k"). */
const COMPACT = "abs(datum.value) >= 1000 ? format(datum.value, '~s') : format(datum.value, ',')";

const config = {
  font: FONT,
  background: "white",
  padding: 12,
  title: { fontSize: 15, subtitleFontSize: 12, subtitleColor: "#444", anchor: "start", offset: 12 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal", grid: true, gridColor: "#e4e4e4" },
  legend: { labelFontSize: 12, titleFontSize: 12, orient: "top", symbolStrokeWidth: 2.5 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  view: { stroke: "#bbb" },
} as const;

/** Renders a Vega-Lite specification to an SVG document (with a trailing newline). */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  try {
    return `${await view.toSVG()}\n`;
  } finally {
    view.finalize();
  }
}

export type LinePoint = {
  /** The size on the x axis (members, batch size, nodes). */
  x: number;
  /** The measure (gas, entries, bytes). */
  y: number;
  /** `true` for the reference series (drawn dashed). */
  reference: boolean;
  /** The panel, when the chart has one per operation. */
  panel?: string;
};

export type LineChartParameters = {
  title: string;
  subtitle?: string;
  points: readonly LinePoint[];
  xTitle: string;
  yTitle: string;
  /** Legend names of the measured and the reference series. */
  series: readonly [string, string];
  /** `log` for sizes over several orders of magnitude (the axis title says so). Default `linear`. */
  xScale?: "linear" | "log";
  /** Panels in this order, side by side, `columns` per row. */
  panels?: readonly string[];
  columns?: number;
  /** Each panel with its own y axis (still from zero), for measures of different magnitudes. */
  independentY?: boolean;
  width?: number;
  height?: number;
};

/** Lines of a measure against a size, the measured series solid, the reference dashed; y from zero. */
export function lineChart({ title, subtitle, points, xTitle, yTitle, series, xScale = "linear", panels, columns, independentY = false, width = 260, height = 200 }: LineChartParameters): TopLevelSpec {
  const values = points.map((point) => ({ ...point, series: point.reference ? series[1] : series[0] }));
  const xs = [...new Set(points.map((point) => point.x))].sort((a, b) => a - b);
  const encoding = {
    x: { field: "x", type: "quantitative", title: xScale === "log" ? `${xTitle} (log scale)` : xTitle, scale: xScale === "log" ? { type: "log" } : { zero: false, nice: false, domain: [xs[0], xs[xs.length - 1]] }, axis: { values: xs, labelExpr: COMPACT, labelFlush: true, labelOverlap: "greedy" } },
    y: { field: "y", type: "quantitative", title: yTitle, scale: { zero: true }, axis: { labelExpr: COMPACT } },
    color: { field: "series", type: "nominal", title: null, scale: { domain: [...series], range: [OURS, REFERENCE] }, legend: { symbolType: "stroke", symbolSize: 300 } },
    strokeDash: { field: "series", type: "nominal", title: null, scale: { domain: [...series], range: [[1, 0], [6, 4]] } },
  } as const;
  const layer = [
    { mark: { type: "line", strokeWidth: 2.5 }, encoding },
    { mark: { type: "point", filled: true, size: 36 }, encoding: { x: encoding.x, y: encoding.y, color: encoding.color } },
  ];
  const titleBlock = subtitle === undefined ? { text: title } : { text: title, subtitle };
  if (panels === undefined) {
    return { $schema: "https://vega.github.io/schema/vega-lite/v6.json", title: titleBlock, config, data: { values }, width, height, layer } as TopLevelSpec;
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: titleBlock,
    config,
    data: { values },
    facet: { field: "panel", type: "nominal", title: null, sort: [...panels], header: { labelFontWeight: "bold", labelLimit: 0 } },
    columns: columns ?? panels.length,
    spec: { width, height, layer },
    resolve: { scale: { y: independentY ? "independent" : "shared" } },
  } as TopLevelSpec;
}

export type BarChartParameters = {
  title: string;
  subtitle?: string;
  bars: readonly { label: string; value: number }[];
  valueTitle: string;
  width?: number;
};

/** Horizontal bars on a linear axis from zero, largest first, each value printed at its end. */
export function barChart({ title, subtitle, bars, valueTitle, width = 420 }: BarChartParameters): TopLevelSpec {
  const values = [...bars].sort((a, b) => b.value - a.value || a.label.localeCompare(b.label));
  const y = { field: "label", type: "nominal", title: null, sort: null, axis: { labelLimit: 0 } } as const;
  const x = { field: "value", type: "quantitative", title: valueTitle, scale: { zero: true }, axis: { labelExpr: COMPACT } } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: subtitle === undefined ? { text: title } : { text: title, subtitle },
    config,
    data: { values },
    width,
    height: { step: 24 },
    layer: [
      { mark: { type: "bar", color: OURS, height: { band: 0.7 } }, encoding: { x, y } },
      { mark: { type: "text", align: "left", dx: 4, fontSize: 11 }, encoding: { x, y, text: { field: "value", type: "quantitative", format: "," } } },
    ],
  } as TopLevelSpec;
}

export type DistributionChartParameters = {
  title: string;
  subtitle?: string;
  /** One value per item (device). */
  values: readonly number[];
  valueTitle: string;
  /** Unit printed after the median, e.g. "ms". */
  unit: string;
  /** Width of a bin in the value's unit; by default Vega picks one (at most 20 bins). */
  binStep?: number;
  /** The values take a few exact values (sizes in bytes): one bar at each, instead of bins. */
  discrete?: boolean;
  width?: number;
};

/** The median of `values` (the mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A histogram of one value over many items, with the median drawn as a labelled rule. */
export function distributionChart({ title, subtitle, values, valueTitle, unit, binStep, discrete = false, width = 480 }: DistributionChartParameters): TopLevelSpec {
  const middle = median(values);
  const bin = binStep === undefined ? { maxbins: 20 } : { step: binStep };
  const distinct = [...new Set(values)].sort((a, b) => a - b);
  const spread = distinct[distinct.length - 1] - distinct[0] || 1;
  const bars = discrete
    ? {
        mark: { type: "bar", color: OURS, size: Math.max(4, Math.min(28, (0.5 * width) / distinct.length)) },
        encoding: {
          x: { field: "value", type: "quantitative", title: valueTitle, scale: { domain: [distinct[0] - spread * 0.1, distinct[distinct.length - 1] + spread * 0.1], nice: false, zero: false }, axis: { values: distinct, labelExpr: COMPACT, labelOverlap: "greedy" } },
          y: { aggregate: "count", type: "quantitative", title: "count", axis: { tickMinStep: 1, format: "d" } },
        },
      }
    : {
        mark: { type: "bar", color: OURS, binSpacing: 1 },
        encoding: {
          x: { field: "value", type: "quantitative", bin, title: valueTitle },
          y: { aggregate: "count", type: "quantitative", title: "count", axis: { tickMinStep: 1, format: "d" } },
        },
      };
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, subtitle: subtitle ?? `${values.length} items` },
    config,
    width,
    height: 200,
    layer: [
      { data: { values: values.map((value) => ({ value })) }, ...bars },
      {
        data: { values: [{ median: middle, label: `median ${middle.toLocaleString("en-US", { maximumFractionDigits: Math.abs(middle) >= 100 ? 0 : 1 })} ${unit}` }] },
        layer: [
          { mark: { type: "rule", color: MEDIAN, strokeWidth: 2, strokeDash: [5, 3] }, encoding: { x: { field: "median", type: "quantitative" } } },
          { mark: { type: "text", color: MEDIAN, align: "center", baseline: "bottom", y: -4, fontSize: 12, fontWeight: "bold" }, encoding: { x: { field: "median", type: "quantitative" }, text: { field: "label" } } },
        ],
      },
    ],
  } as TopLevelSpec;
}
