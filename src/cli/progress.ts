/** Progress lines go to stderr so that stdout holds only results (URLs, JSON). */
export function progressPrinter(): (line: string) => void {
  const started = Date.now();
  return (line) => {
    const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
    process.stderr.write(process.stderr.isTTY ? `\x1b[2m${seconds}s\x1b[0m ${line}\n` : `${seconds}s ${line}\n`);
  };
}
