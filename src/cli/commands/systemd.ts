import path from 'node:path';
import { systemdUnits } from '../../index.js';

export async function run(spec: string, opts: { out: string }): Promise<void> {
  const units = await systemdUnits(spec, { outDir: path.resolve(opts.out) });
  for (const file of units.files) process.stdout.write(`wrote ${file}\n`);
  process.stdout.write(
    [
      'To start these pods at boot:',
      `  cp ${units.dir}/*.service /etc/systemd/system/ && cp ${units.dir}/podvoy-*.conf /etc/tmpfiles.d/`,
      `  systemctl daemon-reload && systemctl enable ${units.podUnits.join(' ')}`,
      ...(units.timer
        ? [`  cp ${units.dir}/podvoy-certs-*.timer /etc/systemd/system/ && systemctl enable --now ${units.timer}   # renews the mesh certificates hourly`]
        : []),
      'The units name pods by revision: run `podvoy systemd` again after a play that replaces pods.',
      '',
    ].join('\n'),
  );
}
