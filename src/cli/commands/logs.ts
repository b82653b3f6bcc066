import { logs } from '../../index.js';

export async function run(spec: string, container: string | undefined, opts: { follow?: boolean; tail?: string }): Promise<void> {
  await logs(spec, {
    ...(container ? { container } : {}),
    follow: Boolean(opts.follow),
    ...(opts.tail === undefined ? {} : { tail: Number(opts.tail) }),
  });
}
