import { top, watchTop, type TopReport, type TopRow } from '../../index.js';

export interface TopCliOptions {
  readonly window: number;
  readonly json?: boolean;
  readonly output?: string;
}

const percent = (rate: number | null) => (rate === null ? '-' : `${(rate * 100).toFixed(2)}%`);
const ms = (value: number | undefined) => (value === undefined ? '-' : `${value < 10 ? value.toFixed(1) : Math.round(value)}ms`);
const FROM: Record<TopRow['view'], (row: TopRow) => string> = {
  gateway: () => 'gateway',
  caller: (row) => `${row.from} (sidecar)`,
  inbound: () => '(own sidecar)',
};

/** The rows as a table, columns as Linkerd's `viz stat`, one line per row. */
export function formatTop(report: TopReport, wide: boolean): string {
  const header = ['SERVICE', 'FROM', ...(wide ? ['POD'] : []), 'SUCCESS', 'RPS', 'P50', 'P95', 'P99', 'CONN'];
  const rows = report.rows.map((r) => [
    r.service,
    FROM[r.view](r),
    ...(wide ? [r.pod ?? ''] : []),
    percent(r.successRate),
    r.rps.toFixed(1),
    ms(r.latencyMs?.p50),
    ms(r.latencyMs?.p95),
    ms(r.latencyMs?.p99),
    String(r.connections),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const title = `${report.spec}: the last ${report.windowSeconds.toFixed(1)} s`;
  return [title, line(header), ...rows.map(line), ...(rows.length ? [] : ['(no Envoy of this spec answers)'])].join('\n') + '\n';
}

export async function run(spec: string, opts: TopCliOptions): Promise<void> {
  const wide = opts.output === 'wide';
  if (opts.json || !process.stdout.isTTY) {
    const report = await top(spec, { windowMs: opts.window, wide });
    process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatTop(report, wide));
    return;
  }
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  await watchTop(spec, {
    windowMs: opts.window,
    wide,
    refreshMs: Math.min(2000, opts.window),
    signal: stop.signal,
    // Home, clear to the end of the screen: redrawn in place, like top.
    onReport: (report) => process.stdout.write(`\x1b[H\x1b[J${formatTop(report, wide)}`),
  });
}
