import { buildImages } from '../../index.js';
import { progressPrinter } from '../progress.js';

export async function run(): Promise<void> {
  for (const image of await buildImages({ onProgress: progressPrinter() })) process.stdout.write(`${image.image}\n`);
}
