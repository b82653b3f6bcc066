import { logs } from '../../index.js';

export async function run(spec: string, container: string | undefined, opts: { follow?: boolean; tail?: number }): Promise<void> {
  await logs(spec, {
    ...(container ? { container } : {}),
    follow: Boolean(opts.follow),
    ...(opts.tail === undefined ? {} : { tail: opts.tail }),
  });
}
