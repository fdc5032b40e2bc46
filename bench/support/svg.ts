/** Line charts as standalone SVG: no dependencies, no external services. */

export interface Series {
  name: string;
  points: Array<[number, number]>;
  dashed?: boolean;
  color?: string;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
}

export const COLORS: Record<string, string> = {
  'easy-chat': '#1f77b4',
  'easy-chat (SQLite)': '#1f77b4',
  'easy-chat (PostgreSQL)': '#17becf',
  ejabberd: '#d62728',
  'Socket.IO + Redis adapter': '#2ca02c',
  'bare ws': '#7f7f7f',
};
const FALLBACK = ['#9467bd', '#8c564b', '#e377c2', '#bcbd22', '#ff7f0e'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function ticks(min: number, max: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e += 1)
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** e;
        if (v >= min * 0.999 && v <= max * 1.001) out.push(v);
      }
    return out;
  }
  const span = max - min || 1;
  const raw = span / 6;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(v);
  return out;
}

const fmt = (v: number) =>
  v >= 10_000
    ? `${(v / 1000).toFixed(0)}k`
    : v >= 1000
      ? `${(v / 1000).toFixed(1)}k`
      : `${+v.toPrecision(3)}`;

export function lineChart(o: ChartOptions): string {
  const width = o.width ?? 720;
  // Legend below the plot: 3 columns, or 2 when names are long.
  const columns = Math.max(...o.series.map((s) => s.name.length)) > 30 ? 2 : 3;
  const legendRows = Math.ceil(o.series.length / columns);
  const height = (o.height ?? 360) + 16 * legendRows;
  const m = { left: 70, right: 20, top: 40, bottom: 58 + 16 * legendRows };
  const pts = o.series
    .flatMap((s) => s.points)
    .filter(
      ([x, y]) =>
        Number.isFinite(x) && Number.isFinite(y) && (!o.logX || x > 0) && (!o.logY || y > 0),
    );
  const xs = pts.map(([x]) => x);
  const ys = pts.map(([, y]) => y);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (!o.logY) y0 = Math.min(0, y0);
  if (!o.logX && x0 > 0 && x0 < (x1 - x0) * 0.5) x0 = 0;
  if (o.logY) [y0, y1] = [10 ** Math.floor(Math.log10(y0)), 10 ** Math.ceil(Math.log10(y1))];
  if (o.logX) [x0, x1] = [10 ** Math.floor(Math.log10(x0)), 10 ** Math.ceil(Math.log10(x1))];
  if (x0 === x1) x1 = x0 + 1;
  if (y0 === y1) y1 = y0 + 1;
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const sx = (x: number) =>
    m.left +
    (o.logX
      ? (Math.log10(x) - Math.log10(x0)) / (Math.log10(x1) - Math.log10(x0))
      : (x - x0) / (x1 - x0)) *
      w;
  const sy = (y: number) =>
    m.top +
    h -
    (o.logY
      ? (Math.log10(y) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0))
      : (y - y0) / (y1 - y0)) *
      h;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(o.title)}</text>`,
  );
  for (const t of ticks(x0, x1, !!o.logX)) {
    const x = sx(t).toFixed(1);
    parts.push(
      `<line x1="${x}" y1="${m.top}" x2="${x}" y2="${m.top + h}" stroke="#eee"/>`,
      `<text x="${x}" y="${m.top + h + 16}" text-anchor="middle">${fmt(t)}</text>`,
    );
  }
  for (const t of ticks(y0, y1, !!o.logY)) {
    const y = sy(t).toFixed(1);
    parts.push(
      `<line x1="${m.left}" y1="${y}" x2="${m.left + w}" y2="${y}" stroke="#eee"/>`,
      `<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(t)}</text>`,
    );
  }
  parts.push(
    `<rect x="${m.left}" y="${m.top}" width="${w}" height="${h}" fill="none" stroke="#333"/>`,
    `<text x="${m.left + w / 2}" y="${m.top + h + 36}" text-anchor="middle">${esc(o.xLabel)}</text>`,
    `<text transform="translate(16 ${m.top + h / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`,
  );
  let fallback = 0;
  const legendY = m.top + h + 56;
  o.series.forEach((s, i) => {
    const color =
      s.color ??
      COLORS[s.name.replace(/ (p\d+|x\d+)$/, '')] ??
      FALLBACK[fallback++ % FALLBACK.length]!;
    const points = s.points.filter(
      ([x, y]) =>
        Number.isFinite(x) && Number.isFinite(y) && (!o.logX || x > 0) && (!o.logY || y > 0),
    );
    if (points.length) {
      const d = points
        .map(([x, y], k) => `${k ? 'L' : 'M'}${sx(x).toFixed(1)} ${sy(y).toFixed(1)}`)
        .join(' ');
      parts.push(
        `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
      if (points.length < 30)
        for (const [x, y] of points)
          parts.push(
            `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${color}"/>`,
          );
    }
    const col = i % columns;
    const row = Math.floor(i / columns);
    const lx = m.left + col * (w / columns);
    const ly = legendY + row * 16;
    parts.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 22}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${lx + 28}" y="${ly}" dominant-baseline="middle">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
