import type { UsageBar } from './data';
import { escapeHtml } from './escape';

const PALETTE = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2', '#4d7c0f', '#be185d'];
const WIDTH = 720;
const HEIGHT = 220;
const PAD = { left: 48, right: 8, top: 10, bottom: 28 };

/** Stacked bars of units per hour and dimension, rendered server-side: no script, no external asset. */
export function usageChart(usage: readonly UsageBar[]): string {
  const dimensions = [...new Set(usage.flatMap((bar) => Object.keys(bar.dimensions)))].sort();
  const totals = usage.map((bar) => Object.values(bar.dimensions).reduce((sum, q) => sum + q, 0));
  const max = Math.max(1, ...totals);
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, usage.length);
  const parts: string[] = [];
  parts.push(`<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${WIDTH - PAD.right}" y2="${PAD.top + plotH}" stroke="#94a3b8"/>`);
  parts.push(`<text x="${PAD.left - 6}" y="${PAD.top + 8}" text-anchor="end" font-size="10" fill="#475569">${escapeHtml(max)}</text>`);
  parts.push(`<text x="${PAD.left - 6}" y="${PAD.top + plotH}" text-anchor="end" font-size="10" fill="#475569">0</text>`);
  usage.forEach((bar, i) => {
    const x = PAD.left + i * slot + slot * 0.15;
    let y = PAD.top + plotH;
    for (const [d, dimension] of dimensions.entries()) {
      const quantity = bar.dimensions[dimension] ?? 0;
      if (quantity === 0) continue;
      const h = (quantity / max) * plotH;
      y -= h;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${h.toFixed(1)}" fill="${PALETTE[d % PALETTE.length]}"` +
          ` data-hour="${escapeHtml(bar.hour)}" data-dimension="${escapeHtml(dimension)}" data-quantity="${quantity}"><title>${escapeHtml(`${bar.hour.slice(11, 16)} UTC · ${dimension}: ${quantity}`)}</title></rect>`,
      );
    }
    if (i % 3 === 0) {
      parts.push(`<text x="${(x + slot * 0.35).toFixed(1)}" y="${HEIGHT - 10}" text-anchor="middle" font-size="10" fill="#475569">${escapeHtml(bar.hour.slice(11, 16))}</text>`);
    }
  });
  const legend = dimensions
    .map((dimension, d) => `<span class="key"><span class="swatch s${d % PALETTE.length}"></span>${escapeHtml(dimension)}</span>`)
    .join(' ');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="Units per hour and dimension, last 24 hours (UTC)">${parts.join('')}</svg>` +
    `<div class="legend">${legend || 'No usage in the last 24 hours.'}</div>`
  );
}

/** CSS classes of the legend swatches, matching the bar colours. */
export const SWATCH_CSS = PALETTE.map((color, i) => `.s${i}{background:${color}}`).join('');
