import { esc } from '../view/layout';

/**
 * Server-rendered inline SVG charts: readable without JavaScript, no chart library to ship, every
 * label escaped. Each chart has a <title> and the numbers are also in the page as a table/list.
 */

export interface Bar {
  label: string;
  value: number;
}

const W = 640;
const H = 220;
const PAD = { l: 44, r: 12, t: 14, b: 34 };

/** A top for the axis with four round ticks (whole numbers for counts). */
function niceMax(v: number): number {
  if (v <= 0) return 4;
  const raw = v / 4;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = Math.max(1, [1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= raw) ?? 10 * p);
  return Math.ceil(step) * 4;
}

function axis(max: number): string {
  const lines: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const y = PAD.t + ((H - PAD.t - PAD.b) * (4 - i)) / 4;
    lines.push(`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${y}" y2="${y}" stroke="#e4e7ec"/><text x="${PAD.l - 6}" y="${y + 4}" text-anchor="end">${fmt((max * i) / 4)}</text>`);
  }
  return lines.join('');
}

const fmt = (n: number) => (n >= 10_000 ? `${Math.round(n / 1000)}k` : Number.isInteger(n) ? String(n) : n.toFixed(1));

/** Vertical bars. */
export function barChart(bars: Bar[], opts: { title: string; unit: string; color?: string }): string {
  const max = niceMax(Math.max(0, ...bars.map((b) => b.value)));
  const plotW = W - PAD.l - PAD.r;
  const plotH = H - PAD.t - PAD.b;
  const bw = bars.length ? plotW / bars.length : plotW;
  const every = Math.ceil(bars.length / 16);
  const rects = bars
    .map((b, i) => {
      const h = (b.value / max) * plotH;
      const x = PAD.l + i * bw;
      return `<rect x="${(x + bw * 0.15).toFixed(1)}" y="${(PAD.t + plotH - h).toFixed(1)}" width="${(bw * 0.7).toFixed(1)}" height="${h.toFixed(1)}" fill="${opts.color ?? '#3442b8'}"><title>${esc(b.label)}: ${b.value} ${esc(opts.unit)}</title></rect>${
        i % every === 0 ? `<text x="${(x + bw / 2).toFixed(1)}" y="${H - PAD.b + 14}" text-anchor="middle">${esc(b.label)}</text>` : ''
      }`;
    })
    .join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(opts.title)}"><title>${esc(opts.title)}</title>${axis(max)}${rects}</svg>`;
}

export const STATUS_COLORS: Record<string, string> = { sent: '#067647', failed: '#b42318', skipped: '#98a2b3', retry: '#dc6803', unknown: '#7a5af8', pending: '#3442b8', sending: '#2e90fa' };

/** Stacked vertical bars (e.g. emails per day by status), with a legend. */
export function stackedChart(days: string[], series: Record<string, number[]>, opts: { title: string }): string {
  const keys = Object.keys(series).filter((k) => series[k].some((v) => v > 0));
  const totals = days.map((_, i) => keys.reduce((a, k) => a + series[k][i], 0));
  const max = niceMax(Math.max(0, ...totals));
  const plotW = W - PAD.l - PAD.r;
  const plotH = H - PAD.t - PAD.b;
  const bw = days.length ? plotW / days.length : plotW;
  const every = Math.ceil(days.length / 10);
  const parts: string[] = [];
  days.forEach((d, i) => {
    let y = PAD.t + plotH;
    const x = PAD.l + i * bw + bw * 0.15;
    for (const k of keys) {
      const h = (series[k][i] / max) * plotH;
      if (h > 0) parts.push(`<rect x="${x.toFixed(1)}" y="${(y - h).toFixed(1)}" width="${(bw * 0.7).toFixed(1)}" height="${h.toFixed(1)}" fill="${STATUS_COLORS[k] ?? '#667085'}"><title>${esc(d)} ${esc(k)}: ${series[k][i]}</title></rect>`);
      y -= h;
    }
    if (i % every === 0) parts.push(`<text x="${(PAD.l + i * bw + bw / 2).toFixed(1)}" y="${H - PAD.b + 14}" text-anchor="middle">${esc(d.slice(5))}</text>`);
  });
  const legend = keys.map((k, i) => `<rect x="${PAD.l + i * 90}" y="${H - 12}" width="10" height="10" fill="${STATUS_COLORS[k] ?? '#667085'}"/><text x="${PAD.l + i * 90 + 14}" y="${H - 3}">${esc(k)}</text>`).join('');
  return `<svg viewBox="0 0 ${W} ${H + 4}" width="100%" role="img" aria-label="${esc(opts.title)}"><title>${esc(opts.title)}</title>${axis(max)}${parts.join('')}${legend}</svg>`;
}

/** A line over time (e.g. subscribers). */
export function lineChart(points: Bar[], opts: { title: string }): string {
  const max = niceMax(Math.max(0, ...points.map((p) => p.value)));
  const plotW = W - PAD.l - PAD.r;
  const plotH = H - PAD.t - PAD.b;
  const step = points.length > 1 ? plotW / (points.length - 1) : 0;
  const xy = points.map((p, i) => [PAD.l + i * step, PAD.t + plotH - (p.value / max) * plotH] as const);
  const path = xy.map(([x, y], i) => `${i ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`).join(' ');
  const every = Math.ceil(points.length / 10);
  const labels = points.map((p, i) => (i % every === 0 ? `<text x="${xy[i][0].toFixed(1)}" y="${H - PAD.b + 14}" text-anchor="middle">${esc(p.label.slice(5))}</text>` : '')).join('');
  const dots = points.map((p, i) => `<circle cx="${xy[i][0].toFixed(1)}" cy="${xy[i][1].toFixed(1)}" r="2.5" fill="#3442b8"><title>${esc(p.label)}: ${p.value}</title></circle>`).join('');
  return `<svg viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(opts.title)}"><title>${esc(opts.title)}</title>${axis(max)}<path d="${path}" fill="none" stroke="#3442b8" stroke-width="2"/>${dots}${labels}</svg>`;
}

/** Horizontal bars with labels (e.g. top topics). */
export function hbarChart(bars: Bar[], opts: { title: string; unit: string }): string {
  const rowH = 22;
  const labelW = 220;
  const h = bars.length * rowH + 8;
  const max = Math.max(1, ...bars.map((b) => b.value));
  const rows = bars
    .map((b, i) => {
      const w = ((W - labelW - 60) * b.value) / max;
      const label = b.label.length > 34 ? b.label.slice(0, 33) + '…' : b.label;
      return `<text x="${labelW - 6}" y="${i * rowH + 15}" text-anchor="end">${esc(label)}</text><rect x="${labelW}" y="${i * rowH + 4}" width="${w.toFixed(1)}" height="${rowH - 8}" fill="#3442b8"><title>${esc(b.label)}: ${b.value} ${esc(opts.unit)}</title></rect><text x="${(labelW + w + 6).toFixed(1)}" y="${i * rowH + 15}">${b.value}</text>`;
    })
    .join('');
  return `<svg viewBox="0 0 ${W} ${h}" width="100%" role="img" aria-label="${esc(opts.title)}"><title>${esc(opts.title)}</title>${rows}</svg>`;
}
