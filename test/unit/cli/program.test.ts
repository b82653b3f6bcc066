import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { CommanderError, type Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../../src/cli/index.js';
import { PACKAGE_ROOT } from '../../../src/engine/files.js';

/**
 * The program with every command throwing instead of exiting, its output captured, and the
 * action of `verb` replaced so that a valid command line runs nothing.
 */
function testProgram(verb?: string) {
  const program = buildProgram();
  const output = { out: '', err: '' };
  let parsed: unknown[] | undefined;
  const configure = (command: Command): void => {
    command
      .exitOverride()
      .configureOutput({ writeOut: (s) => void (output.out += s), writeErr: (s) => void (output.err += s) });
    if (command.name() === verb) command.action((...args: unknown[]) => void (parsed = args.slice(0, -1)));
    command.commands.forEach(configure);
  };
  configure(program);
  const parse = async (...argv: string[]) => {
    await program.parseAsync(argv, { from: 'user' });
    return parsed;
  };
  return { program, output, parse };
}

async function commanderErrorOf(run: Promise<unknown>): Promise<CommanderError> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (error instanceof CommanderError) return error;
  throw new Error(`expected a CommanderError, got ${String(error)}`);
}

describe('podvoy command line', () => {
  it('declares every verb', () => {
    const { program } = testProgram();
    expect(program.commands.map((c) => c.name())).toEqual(['play', 'diff', 'ps', 'logs', 'render', 'down', 'status', 'top', 'graph', 'certs', 'systemd', 'images', 'kube', 'doctor']);
    expect(program.commands.find((c) => c.name() === 'kube')?.commands.map((c) => c.name())).toEqual(['apply', 'delete']);
    expect(program.commands.find((c) => c.name() === 'certs')?.commands.map((c) => c.name())).toEqual(['list', 'renew', 'rotate-ca']);
    expect(program.commands.find((c) => c.name() === 'images')?.commands.map((c) => c.name())).toEqual(['build']);
  });

  it.each<[string, string, string]>([
    ['play', 'abc', "option '--timeout <seconds>' argument 'abc' is invalid. Give a positive number of seconds."],
    ['play', '0', "option '--timeout <seconds>' argument '0' is invalid. Give a positive number of seconds."],
    ['play', '-5', "option '--timeout <seconds>' argument '-5' is invalid. Give a positive number of seconds."],
    ['play', '', "option '--timeout <seconds>' argument '' is invalid. Give a positive number of seconds."],
    ['play', 'Infinity', "option '--timeout <seconds>' argument 'Infinity' is invalid. Give a positive number of seconds."],
    ['logs', 'abc', "option '--tail <lines>' argument 'abc' is invalid. Give a positive whole number of lines."],
    ['logs', '0', "option '--tail <lines>' argument '0' is invalid. Give a positive whole number of lines."],
    ['logs', '2.5', "option '--tail <lines>' argument '2.5' is invalid. Give a positive whole number of lines."],
    ['top', '5', "option '--window <duration>' argument '5' is invalid. Give a duration of at least 1s, such as 30s or 1m."],
    ['top', '500ms', "option '--window <duration>' argument '500ms' is invalid. Give a duration of at least 1s, such as 30s or 1m."],
    ['top', '1h', "option '--window <duration>' argument '1h' is invalid. Give a duration of at least 1s, such as 30s or 1m."],
  ])('%s rejects %j', async (verb, value, message) => {
    const { output, parse } = testProgram(verb);
    const option = { play: '--timeout', logs: '--tail', top: '--window' }[verb];
    const error = await commanderErrorOf(parse(verb, 'blog', `${option}=${value}`));
    expect(error.code).toBe('commander.invalidArgument');
    expect(error.exitCode).toBe(1);
    expect(error.message).toBe(`error: ${message}`);
    expect(output.err.split('\n')[0]).toBe(`error: ${message}`);
  });

  it.each<[string, string[], unknown[]]>([
    ['play with the default timeout', ['play', 'spec.yaml'], ['spec.yaml', { timeout: 60 }]],
    ['play --timeout 1.5', ['play', 'spec.yaml', '--timeout', '1.5'], ['spec.yaml', { timeout: 1.5 }]],
    ['play --dry-run --json', ['play', 'spec.yaml', '--dry-run', '--json'], ['spec.yaml', { timeout: 60, dryRun: true, json: true }]],
    ['diff --json', ['diff', 'spec.yaml', '--json'], ['spec.yaml', { json: true }]],
    ['logs --tail 20 -f', ['logs', 'blog', 'nginx', '--tail', '20', '-f'], ['blog', 'nginx', { tail: 20, follow: true }]],
    ['logs without options', ['logs', 'blog'], ['blog', undefined, {}]],
    ['top with the default window', ['top', 'mesh'], ['mesh', { window: 60_000 }]],
    ['top --window 30s -o wide --json', ['top', 'mesh', '--window', '30s', '-o', 'wide', '--json'], ['mesh', { window: 30_000, output: 'wide', json: true }]],
    ['top --window 1.5m', ['top', 'mesh', '--window', '1.5m'], ['mesh', { window: 90_000 }]],
    ['graph with the defaults', ['graph', 'spec.yaml'], ['spec.yaml', { format: 'svg', window: 10_000, live: true }]],
    ['graph --format mermaid --out g.md --no-live', ['graph', 'spec.yaml', '--format', 'mermaid', '--out', 'g.md', '--no-live'], ['spec.yaml', { format: 'mermaid', out: 'g.md', window: 10_000, live: false }]],
    ['logs --request', ['logs', 'mesh', '--request', 'abc-123', '--json'], ['mesh', undefined, { request: 'abc-123', json: true }]],
  ])('parses %s', async (_name, argv, args) => {
    const { output, parse } = testProgram(argv[0]);
    expect(await parse(...argv)).toEqual(args);
    expect(output.err).toBe('');
  });
});

describe('podvoy --version', () => {
  it('prints the version from package.json and exits 0', async () => {
    const pkg = JSON.parse(await readFile(`${PACKAGE_ROOT}/package.json`, 'utf8')) as { version: string };
    const run = (flag: string) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', `import('${PACKAGE_ROOT}/src/cli/index.ts').then((m) => m.main(['node', 'podvoy', '${flag}']))`]);
    expect((await run('--version')).stdout).toBe(`${pkg.version}\n`);
    expect((await run('-V')).stdout).toBe(`${pkg.version}\n`);
  });
});
