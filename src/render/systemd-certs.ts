/**
 * The systemd units that keep a deployment's certificates fresh between plays: a timer that runs
 * `podvoy certs renew` every hour, which renews in place the mesh certificates past half their
 * life and, given the spec file, the gateway's ACME certificate once a third of its life is left.
 */

export interface CertsRenewUnits {
  readonly service: { readonly name: string; readonly text: string };
  readonly timer: { readonly name: string; readonly text: string };
}

export interface CertsRenewInput {
  readonly specName: string;
  /**
   * The spec file's absolute path, for a gateway with ACME: its order needs the spec's settings,
   * which a deployment name does not carry.
   */
  readonly specFile?: string;
  /** The command line that runs podvoy: node and the CLI's entry point. */
  readonly podvoy: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/** systemd takes an argument with spaces or quotes only quoted, with `\` and `"` escaped. */
function quoted(arg: string): string {
  return /^[A-Za-z0-9_./:=@+-]+$/.test(arg) ? arg : `"${arg.replace(/[\\"]/g, (c) => `\\${c}`).replace(/%/g, '%%')}"`;
}

export function renderCertsRenewUnits(input: CertsRenewInput): CertsRenewUnits {
  const base = `podvoy-certs-${input.specName}`;
  const env = Object.entries(input.env).map(([k, v]) => `Environment=${quoted(`${k}=${v}`)}`);
  const service = [
    `# Renews the certificates of ${input.specName} that are due; written by podvoy systemd.`,
    '[Unit]',
    `Description=Renew the certificates of podvoy deployment ${input.specName}`,
    '',
    '[Service]',
    'Type=oneshot',
    ...env,
    `ExecStart=${[...input.podvoy, 'certs', 'renew', input.specFile ?? input.specName].map(quoted).join(' ')}`,
    '',
  ].join('\n');
  const timer = [
    `# Runs ${base}.service every hour: a 24 h mesh certificate is renewed about 12 h before it expires.`,
    '[Unit]',
    `Description=Renew the certificates of podvoy deployment ${input.specName} hourly`,
    '',
    '[Timer]',
    'OnBootSec=5min',
    'OnUnitActiveSec=1h',
    'RandomizedDelaySec=5min',
    'Persistent=true',
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
  return { service: { name: `${base}.service`, text: service }, timer: { name: `${base}.timer`, text: timer } };
}
