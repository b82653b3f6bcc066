/** Base of every error a user can cause; the CLI prints its message and exits non-zero. */
export class PodvoyError extends Error {
  override get name(): string {
    return this.constructor.name;
  }
}

/** One problem found in a spec, with where it is. */
export interface SpecProblem {
  /** The spec file as the user named it. */
  readonly file: string;
  /** 1-based line and column of the offending node. */
  readonly line: number;
  readonly column: number;
  /** Dotted path of the offending key, e.g. `services.web.static`; empty for the document. */
  readonly path: string;
  /** What is wrong and what to do, as one sentence or two. */
  readonly message: string;
}

export function formatProblem(p: SpecProblem): string {
  const where = `${p.file}:${p.line}:${p.column}`;
  return p.path ? `${where}: ${p.path}: ${p.message}` : `${where}: ${p.message}`;
}

/** A message lists at most this many problems; `SpecError.problems` holds them all. */
export const SHOWN_PROBLEMS_MAX = 50;

/** A spec that cannot be played: every problem at once, each with its position. */
export class SpecError extends PodvoyError {
  constructor(readonly problems: readonly SpecProblem[]) {
    const count = problems.length === 1 ? 'a problem' : `${problems.length} problems`;
    const listed = problems.slice(0, SHOWN_PROBLEMS_MAX).map((p) => `  ${formatProblem(p)}`);
    const more = problems.length - listed.length;
    if (more > 0) listed.push(`  ...and ${more} more (${more === 1 ? 'it is' : 'they are'} not shown). Fix these first.`);
    super(`The spec has ${count}:\n${listed.join('\n')}`);
  }
}

/** The spec file itself cannot be read. */
export class SpecFileError extends PodvoyError {
  constructor(
    readonly file: string,
    readonly reason: string,
  ) {
    super(`Cannot read spec ${file}: ${reason}. Check the path and try again.`);
  }
}

/** A program podvoy drives is missing. */
export class EngineNotFoundError extends PodvoyError {
  constructor(
    readonly program: string,
    readonly fix: string,
  ) {
    super(`${program} not found on PATH. ${fix}`);
  }
}

/** A podman (or other engine) command failed; carries what was run and what it said. */
export class EngineCommandError extends PodvoyError {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
    readonly hint = '',
  ) {
    const said = stderr.trim().split('\n').slice(-5).join('\n    ');
    super(
      `\`${argv.join(' ')}\` failed` +
        (exitCode === undefined ? '' : ` (exit ${exitCode})`) +
        (said ? `:\n    ${said}` : '.') +
        (hint ? `\n${hint}` : ''),
    );
  }
}

/** An image the spec needs is neither present locally nor pullable. */
export class ImageMissingError extends PodvoyError {
  constructor(
    readonly image: string,
    readonly fix: string,
  ) {
    super(`Image ${image} is not available. ${fix}`);
  }
}

/** Envoy rejected a rendered configuration (`envoy --mode validate`). */
export class EnvoyConfigError extends PodvoyError {
  constructor(
    readonly file: string,
    readonly output: string,
  ) {
    super(
      `Envoy rejects the configuration rendered to ${file}:\n    ${output.trim().split('\n').slice(-5).join('\n    ')}\n` +
        'This is a podvoy bug if the spec validated; please report it with the spec.',
    );
  }
}

/** nginx rejected a rendered configuration (`nginx -t`). */
export class NginxConfigError extends PodvoyError {
  constructor(
    readonly file: string,
    readonly output: string,
  ) {
    super(
      `nginx rejects the configuration rendered to ${file}:\n    ${output.trim().split('\n').slice(-5).join('\n    ')}\n` +
        'This is a podvoy bug if the spec validated; please report it with the spec.',
    );
  }
}

/** A host port the spec publishes is taken by something else. */
export class PortInUseError extends PodvoyError {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly where: string,
  ) {
    super(
      `Host port ${host}:${port} (${where}) is already in use. ` +
        'Stop what listens there (ss -ltnp shows it) or publish another port.',
    );
  }
}

/** A pod started but never became ready; it was removed again. */
export class PodNotReadyError extends PodvoyError {
  constructor(
    readonly pod: string,
    readonly waitedMs: number,
    readonly reason: string,
    readonly logs: string,
  ) {
    super(
      `Pod ${pod} did not become ready within ${(waitedMs / 1000).toFixed(1)} s: ${reason}. ` +
        'It was removed and any earlier deployment restored.' +
        (logs.trim() ? `\nLast log lines:\n    ${logs.trim().split('\n').slice(-15).join('\n    ')}` : ''),
    );
  }
}

/** A command names a spec that has nothing deployed, or a container the pod does not have. */
export class NotDeployedError extends PodvoyError {}
