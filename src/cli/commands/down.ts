import { down } from '../../index.js';

export async function run(spec: string, service: string | undefined): Promise<void> {
  const result = await down(spec, service === undefined ? {} : { service });
  if (!result.pods.length && !result.network) {
    process.stdout.write(`Nothing of ${result.spec} was running.\n`);
    return;
  }
  for (const pod of result.pods) process.stdout.write(`removed pod ${pod}\n`);
  if (result.network) process.stdout.write(`removed network ${result.network}\n`);
}
