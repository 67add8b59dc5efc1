/**
 * A dependency-free SVG bar chart of one run: a group of bars per cipher and direction, one bar
 * per client (MB/s), the noble one-core ceiling as a dashed line over each group, a y axis with
 * grid lines, and a legend. Failed measurements show as a red "×" on the baseline.
 */
import { ceilingFor } from "./ceiling.js";
import { CIPHER_CASES, CLIENTS, CLIENT_LABELS, DIRECTIONS, MiB, type ClientId } from "./common.js";
import { findThroughput, type BenchResults } from "./report.js";

const COLORS: Record<ClientId, string> = {
  "ours-auto": "#2563eb",
  "ours-heap": "#1e3a8a",
  "ours-pure": "#93c5fd",
  ssh2: "#f59e0b",
  "ssh2-nodelay": "#b45309",
  openssh: "#16a34a",
};

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** A round axis maximum and tick step for values up to `max`. */
function niceScale(max: number): { top: number; step: number } {
  const raw = Math.max(max, 1) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  return { top: Math.ceil(max / step) * step || step, step };
}

export function renderChart(r: BenchResults): string {
  const W = 980;
  const H = 480;
  const m = { left: 64, right: 20, top: 56, bottom: 110 };
  const plotW = W - m.left - m.right;
  const plotH = H - m.top - m.bottom;

  const groups = CIPHER_CASES.flatMap((cc) => DIRECTIONS.map((d) => ({ cc, d })));
  const values = r.throughput.flatMap((x) => (x.mbps === undefined ? [] : [x.mbps]));
  const ceilings = groups.flatMap((g) => {
    const c = ceilingFor(r.ceiling, g.cc.id, g.d);
    return c === undefined ? [] : [c];
  });
  const { top, step } = niceScale(Math.max(0, ...values, ...ceilings));
  const y = (v: number) => m.top + plotH - (v / top) * plotH;

  const groupW = plotW / groups.length;
  const pad = groupW * 0.12;
  const barW = (groupW - 2 * pad) / CLIENTS.length;

  const s: string[] = [];
  s.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="12">`);
  s.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  const title = `SFTP throughput on loopback, ${(r.config.transferBytes / MiB).toFixed(0)} MiB per transfer${r.quick ? " (quick run)" : ""}`;
  s.push(`<text x="${m.left}" y="24" font-size="16" font-weight="600" fill="#111827">${esc(title)}</text>`);
  s.push(`<text x="${m.left}" y="42" fill="#4b5563">${esc(`${r.stamp} · ${r.machine.cpuModel}, ${r.machine.cpus} cores, load ${(r.machine.loadavgStart[0] ?? 0).toFixed(1)} · Node ${r.machine.node} · ${(r.software.openssh ?? "").split(",")[0] ?? ""} · ssh2 ${r.software.ssh2}`)}</text>`);

  // y axis, grid and labels
  for (let v = 0; v <= top + 1e-9; v += step) {
    const yy = y(v).toFixed(1);
    s.push(`<line x1="${m.left}" y1="${yy}" x2="${W - m.right}" y2="${yy}" stroke="${v === 0 ? "#374151" : "#e5e7eb"}" stroke-width="1"/>`);
    s.push(`<text x="${m.left - 8}" y="${yy}" text-anchor="end" dominant-baseline="middle" fill="#374151">${Number(v.toFixed(2))}</text>`);
  }
  s.push(`<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${m.top + plotH}" stroke="#374151"/>`);
  s.push(`<text transform="translate(18 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="#374151">MB/s (10⁶ B/s)</text>`);

  groups.forEach((g, gi) => {
    const x0 = m.left + gi * groupW;
    if (gi % 2 === 1 && gi < groups.length - 1) {
      s.push(`<line x1="${(x0 + groupW).toFixed(1)}" y1="${m.top}" x2="${(x0 + groupW).toFixed(1)}" y2="${m.top + plotH + 44}" stroke="#d1d5db" stroke-dasharray="2 3"/>`);
    }
    CLIENTS.forEach((c, ci) => {
      const row = findThroughput(r.throughput, g.cc.id, g.d, c);
      const bx = x0 + pad + ci * barW;
      const cx = (bx + barW / 2).toFixed(1);
      if (!row || row.mbps === undefined) {
        const why = row?.error ? `${CLIENT_LABELS[c]}: failed: ${row.error}` : `${CLIENT_LABELS[c]}: not measured`;
        s.push(`<text x="${cx}" y="${(y(0) - 4).toFixed(1)}" text-anchor="middle" font-size="14" font-weight="700" fill="#dc2626"><title>${esc(why)}</title>×</text>`);
        return;
      }
      const by = y(row.mbps);
      s.push(`<rect x="${(bx + 1).toFixed(1)}" y="${by.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(y(0) - by).toFixed(1)}" fill="${COLORS[c]}"><title>${esc(`${CLIENT_LABELS[c]}, ${g.cc.id} ${g.d}: ${row.mbps.toFixed(1)} MB/s`)}</title></rect>`);
      s.push(`<text x="${cx}" y="${(by - 3).toFixed(1)}" text-anchor="middle" font-size="9" fill="#374151" stroke="#ffffff" stroke-width="2.5" paint-order="stroke">${row.mbps >= 100 ? row.mbps.toFixed(0) : row.mbps.toFixed(1)}</text>`);
    });
    const ceil = ceilingFor(r.ceiling, g.cc.id, g.d);
    if (ceil !== undefined) {
      const cy = y(ceil).toFixed(1);
      s.push(`<line x1="${(x0 + pad / 2).toFixed(1)}" y1="${cy}" x2="${(x0 + groupW - pad / 2).toFixed(1)}" y2="${cy}" stroke="#6b21a8" stroke-width="1.5" stroke-dasharray="5 3"><title>${esc(`noble ${g.d === "download" ? "open" : "seal"} ceiling, one core: ${ceil.toFixed(1)} MB/s`)}</title></line>`);
    }
    s.push(`<text x="${(x0 + groupW / 2).toFixed(1)}" y="${m.top + plotH + 18}" text-anchor="middle" fill="#111827">${g.d}</text>`);
    if (gi % 2 === 0) {
      s.push(`<text x="${(x0 + groupW).toFixed(1)}" y="${m.top + plotH + 38}" text-anchor="middle" font-weight="600" fill="#111827">${esc(g.cc.id)}</text>`);
    }
  });

  // legend
  const items: { label: string; draw: (x: number, y: number) => string }[] = [
    ...CLIENTS.map((c) => ({ label: CLIENT_LABELS[c], draw: (x: number, yy: number) => `<rect x="${x}" y="${yy - 9}" width="12" height="12" fill="${COLORS[c]}"/>` })),
    { label: "noble ceiling (1 core)", draw: (x: number, yy: number) => `<line x1="${x}" y1="${yy - 3}" x2="${x + 14}" y2="${yy - 3}" stroke="#6b21a8" stroke-width="1.5" stroke-dasharray="5 3"/>` },
    { label: "failed", draw: (x: number, yy: number) => `<text x="${x + 6}" y="${yy + 2}" text-anchor="middle" font-size="14" font-weight="700" fill="#dc2626">×</text>` },
  ];
  const ly = H - 24;
  let lx = m.left;
  for (const it of items) {
    s.push(it.draw(lx, ly));
    s.push(`<text x="${lx + 18}" y="${ly + 1}" fill="#111827">${esc(it.label)}</text>`);
    lx += 18 + it.label.length * 6.6 + 18;
  }
  s.push("</svg>");
  return s.join("\n") + "\n";
}
