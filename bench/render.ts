/**
 * Re-renders a results file's markdown and SVG (and recomputes its ratios and targets) after the
 * report or chart code changed, without running the bench again:
 *   npx tsx bench/render.ts bench/results/2026-01-31-0942.json [more.json …]
 * Writes <name>.md and <name>.svg beside each JSON (and updates the JSON's ratios and targets).
 */
import * as fs from "node:fs/promises";
import { renderChart } from "./chart.js";
import { computeRatios, computeTargets, renderMarkdown, type BenchResults } from "./report.js";

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write("usage: npx tsx bench/render.ts RESULTS.json [...]\n");
  process.exitCode = 2;
}
for (const file of files) {
  const r = JSON.parse(await fs.readFile(file, "utf8")) as BenchResults;
  r.ratios = computeRatios(r.throughput, r.ceiling);
  r.targets = computeTargets(r);
  const base = file.replace(/\.json$/, "");
  await fs.writeFile(file, JSON.stringify(r, null, 2) + "\n");
  await fs.writeFile(`${base}.md`, renderMarkdown(r));
  await fs.writeFile(`${base}.svg`, renderChart(r));
  process.stderr.write(`rendered ${base}.{md,svg}\n`);
}
