import { createRequire } from 'node:module';

/**
 * The trend chart of the continual-improvement report: deployments per period as
 * bars, change failure rate as a line, drawn as SVG and rasterised to PNG (Slack
 * shows PNG previews inline, not SVG).
 */

export interface TrendPoint {
  label: string;
  deployments: number;
  /** Failed share of the period's production deployments; null without deployments. */
  failureRate: number | null;
}

const width = 720;
const height = 360;
const margin = { top: 48, right: 64, bottom: 48, left: 56 };
const colors = { bars: '#4a90d9', line: '#d0021b', axis: '#555', grid: '#e5e5e5', text: '#222' };

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A rounded-up axis maximum (1, 2, 5, 10, 20, 50 …) so ticks land on whole numbers. */
function niceMaximum(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].map((step) => step * magnitude).find((candidate) => candidate >= value) ?? 10 * magnitude);
}

export function trendChartSvg(title: string, points: TrendPoint[]): string {
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const maxDeployments = niceMaximum(Math.max(0, ...points.map((point) => point.deployments)));
  const slot = plotWidth / Math.max(1, points.length);
  const x = (index: number) => margin.left + slot * index + slot / 2;
  const yDeployments = (value: number) => margin.top + plotHeight - (value / maxDeployments) * plotHeight;
  const yRate = (rate: number) => margin.top + plotHeight - rate * plotHeight;

  const parts: string[] = [
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="28" text-anchor="middle" font-size="17" font-weight="bold" fill="${colors.text}">${escapeXml(title)}</text>`,
  ];
  for (const fraction of [0, 0.25, 0.5, 0.75, 1]) {
    const y = margin.top + plotHeight - fraction * plotHeight;
    parts.push(
      `<line x1="${margin.left}" x2="${width - margin.right}" y1="${y}" y2="${y}" stroke="${colors.grid}"/>`,
      `<text x="${margin.left - 8}" y="${y + 4}" text-anchor="end" font-size="11" fill="${colors.bars}">${Math.round(fraction * maxDeployments)}</text>`,
      `<text x="${width - margin.right + 8}" y="${y + 4}" font-size="11" fill="${colors.line}">${Math.round(fraction * 100)}%</text>`,
    );
  }
  points.forEach((point, index) => {
    const barWidth = slot * 0.6;
    const top = yDeployments(point.deployments);
    parts.push(
      `<rect x="${x(index) - barWidth / 2}" y="${top}" width="${barWidth}" height="${margin.top + plotHeight - top}" fill="${colors.bars}" rx="2"/>`,
      `<text x="${x(index)}" y="${height - margin.bottom + 18}" text-anchor="middle" font-size="11" fill="${colors.axis}">${escapeXml(point.label)}</text>`,
    );
  });
  const rated = points.map((point, index) => ({ point, index })).filter(({ point }) => point.failureRate !== null);
  if (rated.length > 1) {
    const path = rated.map(({ point, index }, order) => `${order === 0 ? 'M' : 'L'}${x(index)},${yRate(point.failureRate!)}`).join(' ');
    parts.push(`<path d="${path}" fill="none" stroke="${colors.line}" stroke-width="2.5"/>`);
  }
  for (const { point, index } of rated) parts.push(`<circle cx="${x(index)}" cy="${yRate(point.failureRate!)}" r="4" fill="${colors.line}"/>`);
  parts.push(
    `<line x1="${margin.left}" x2="${width - margin.right}" y1="${margin.top + plotHeight}" y2="${margin.top + plotHeight}" stroke="${colors.axis}"/>`,
    `<text x="${margin.left}" y="${height - 10}" font-size="12" fill="${colors.bars}">■ production deployments</text>`,
    `<text x="${width - margin.right}" y="${height - 10}" text-anchor="end" font-size="12" fill="${colors.line}">● change failure rate</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">${parts.join('')}</svg>`;
}

// The native renderer is loaded on the first chart, not at start-up: most processes never draw one.
const require = createRequire(import.meta.url);

export function renderPng(svg: string): Buffer {
  const { Resvg } = require('@resvg/resvg-js') as typeof import('@resvg/resvg-js');
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng();
}
