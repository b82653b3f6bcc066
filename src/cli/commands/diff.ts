import { diff, type RolloutDiff } from '../../index.js';
import { colorsFor, type Colors } from '../style.js';

export async function run(spec: string, opts: { json?: boolean }): Promise<void> {
  const result = await diff(spec);
  process.stdout.write(opts.json ? `${JSON.stringify(result, null, 2)}\n` : formatDiff(result, colorsFor(process.stdout)));
}

const MARK = { create: '+', replace: '~', restart: '>', retire: '-', unchanged: ' ' } as const;

/** The plan as a reader scans it: one line per pod, then each mesh file as a unified diff. */
export function formatDiff(result: RolloutDiff, c: Colors): string {
  if (!result.changes) return `${result.spec}: up to date; play would change nothing.\n`;
  const count = (action: string) => result.pods.filter((p) => p.action === action).length;
  const summary = [
    ['create', 'to create'],
    ['replace', 'to replace'],
    ['restart', 'to restart'],
    ['retire', 'to retire'],
  ]
    .map(([action, words]) => (count(action!) ? `${count(action!)} ${words}` : ''))
    .filter(Boolean);
  const lines = [c.bold(`${result.spec}: ${[...summary, `${result.meshFiles.length} mesh file(s) to change`].join(', ')}`)];
  const paint = { create: c.green, replace: c.yellow, restart: c.cyan, retire: c.red, unchanged: c.dim } as const;
  for (const pod of result.pods) {
    const detail = pod.replaces ? ` (replaces ${pod.replaces.join(', ')})` : '';
    lines.push(paint[pod.action](`${MARK[pod.action]} ${pod.service.padEnd(12)} ${pod.pod}  ${pod.action}${detail}`));
  }
  const { starting, stopping } = result.envoys;
  lines.push(
    starting.length || stopping.length
      ? `Envoys that start: ${starting.join(', ') || 'none'}; that stop: ${stopping.join(', ') || 'none'}. Every other Envoy applies the mesh files as it runs.`
      : 'No Envoy starts or stops: the running Envoys apply the mesh files without a restart.',
  );
  for (const file of result.meshFiles) {
    lines.push('');
    for (const line of file.patch.split('\n').filter((l) => !l.startsWith('====='))) {
      lines.push(line.startsWith('+') && !line.startsWith('+++') ? c.green(line) : line.startsWith('-') && !line.startsWith('---') ? c.red(line) : line.startsWith('@@') ? c.cyan(line) : line);
    }
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
