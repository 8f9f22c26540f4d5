/**
 * A small SVG chart written from the data, no library, no browser: throughput over time (lines) on the left and
 * latency percentiles (grouped bars) on the right.
 */

export interface Series {
  name: string;
  color: string;
  /** [seconds since start, value] */
  points: Array<[number, number]>;
}

export interface BarGroup {
  label: string;
  bars: Array<{ name: string; color: string; value: number }>;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (n: number) => (Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));

function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function lineChart(x0: number, y0: number, w: number, h: number, title: string, yLabel: string, series: Series[]) {
  const maxX = niceMax(Math.max(1, ...series.flatMap((s) => s.points.map(([x]) => x))));
  const maxY = niceMax(Math.max(1, ...series.flatMap((s) => s.points.map(([, y]) => y))));
  const px = (x: number) => x0 + (x / maxX) * w;
  const py = (y: number) => y0 + h - (y / maxY) * h;
  const out: string[] = [
    `<text x="${x0}" y="${y0 - 12}" class="title">${esc(title)}</text>`,
    `<rect x="${x0}" y="${y0}" width="${w}" height="${h}" class="frame"/>`,
  ];
  for (let i = 0; i <= 5; i += 1) {
    const y = (maxY * i) / 5;
    const x = (maxX * i) / 5;
    out.push(`<line x1="${x0}" x2="${x0 + w}" y1="${py(y)}" y2="${py(y)}" class="grid"/>`);
    out.push(`<text x="${x0 - 6}" y="${py(y) + 4}" class="tick" text-anchor="end">${fmt(y)}</text>`);
    out.push(`<text x="${px(x)}" y="${y0 + h + 16}" class="tick" text-anchor="middle">${fmt(x)}</text>`);
  }
  out.push(`<text x="${x0 + w / 2}" y="${y0 + h + 34}" class="axis" text-anchor="middle">seconds since start</text>`);
  out.push(
    `<text transform="translate(${x0 - 44},${y0 + h / 2}) rotate(-90)" class="axis" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    if (s.points.length > 0) {
      const d = s.points.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join('');
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    }
    out.push(`<rect x="${x0 + 10}" y="${y0 + 10 + i * 18}" width="12" height="12" fill="${s.color}"/>`);
    out.push(`<text x="${x0 + 28}" y="${y0 + 21 + i * 18}" class="legend">${esc(s.name)}</text>`);
  });
  return out.join('\n');
}

function barChart(x0: number, y0: number, w: number, h: number, title: string, yLabel: string, groups: BarGroup[]) {
  const maxY = niceMax(Math.max(0.001, ...groups.flatMap((g) => g.bars.map((b) => b.value))));
  const py = (y: number) => y0 + h - (y / maxY) * h;
  const out: string[] = [
    `<text x="${x0}" y="${y0 - 12}" class="title">${esc(title)}</text>`,
    `<rect x="${x0}" y="${y0}" width="${w}" height="${h}" class="frame"/>`,
  ];
  for (let i = 0; i <= 5; i += 1) {
    const y = (maxY * i) / 5;
    out.push(`<line x1="${x0}" x2="${x0 + w}" y1="${py(y)}" y2="${py(y)}" class="grid"/>`);
    out.push(`<text x="${x0 - 6}" y="${py(y) + 4}" class="tick" text-anchor="end">${fmt(y)}</text>`);
  }
  out.push(
    `<text transform="translate(${x0 - 44},${y0 + h / 2}) rotate(-90)" class="axis" text-anchor="middle">${esc(yLabel)}</text>`,
  );
  const groupWidth = w / Math.max(1, groups.length);
  groups.forEach((g, gi) => {
    const barWidth = (groupWidth * 0.7) / Math.max(1, g.bars.length);
    g.bars.forEach((b, bi) => {
      const x = x0 + gi * groupWidth + groupWidth * 0.15 + bi * barWidth;
      const top = py(b.value);
      out.push(
        `<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(y0 + h - top).toFixed(1)}" fill="${b.color}"/>`,
      );
      out.push(
        `<text x="${(x + barWidth / 2).toFixed(1)}" y="${(top - 4).toFixed(1)}" class="tick" text-anchor="middle">${fmt(b.value)}</text>`,
      );
    });
    out.push(
      `<text x="${x0 + gi * groupWidth + groupWidth / 2}" y="${y0 + h + 16}" class="tick" text-anchor="middle">${esc(g.label)}</text>`,
    );
  });
  const names = [...new Map(groups.flatMap((g) => g.bars.map((b) => [b.name, b.color] as const))).entries()];
  names.forEach(([name, color], i) => {
    out.push(`<rect x="${x0 + 10}" y="${y0 + 10 + i * 18}" width="12" height="12" fill="${color}"/>`);
    out.push(`<text x="${x0 + 28}" y="${y0 + 21 + i * 18}" class="legend">${esc(name)}</text>`);
  });
  return out.join('\n');
}

export function benchChart(options: { title: string; throughput: Series[]; latency: BarGroup[] }): string {
  const width = 1100;
  const height = 420;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    '<style>',
    'text{font-family:Helvetica,Arial,sans-serif;fill:#222}.title{font-size:14px;font-weight:bold}',
    '.tick{font-size:11px}.axis{font-size:12px}.legend{font-size:12px}',
    '.frame{fill:none;stroke:#888}.grid{stroke:#ddd;stroke-width:1}',
    '</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="20" y="24" class="title">${esc(options.title)}</text>`,
    lineChart(80, 70, 540, 280, 'Throughput over time (completed per second)', 'completed / s', options.throughput),
    barChart(720, 70, 350, 280, 'Request → done latency (seconds)', 'seconds', options.latency),
    '</svg>',
    '',
  ].join('\n');
}
