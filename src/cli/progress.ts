import { colorsFor } from './style.js';

/**
 * Progress lines go to stderr so that stdout holds only results (URLs, JSON). Each line carries
 * the time since the command started; on a terminal, it is dimmed.
 */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr): (line: string) => void {
  const started = Date.now();
  const { dim } = colorsFor(stream);
  return (line) => {
    const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
    stream.write(`${dim(`${seconds}s`)} ${line}\n`);
  };
}
