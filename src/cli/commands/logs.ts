import { logs, requestLogs } from '../../index.js';

export async function run(spec: string, container: string | undefined, opts: { follow?: boolean; tail?: number }): Promise<void> {
  await logs(spec, {
    ...(container ? { container } : {}),
    follow: Boolean(opts.follow),
    ...(opts.tail === undefined ? {} : { tail: opts.tail }),
  });
}

/** One request's line from every hop, in order: when, where, and what each hop saw. */
export async function request(spec: string, id: string, opts: { json?: boolean }): Promise<void> {
  const hops = await requestLogs(spec, id);
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(hops, null, 2)}\n`);
    return;
  }
  if (!hops.length) {
    process.stdout.write(`No access log line of ${spec} has request id ${id} (JSON access logs need accessLog: json in the spec).\n`);
    return;
  }
  for (const { pod, container, line } of hops) {
    process.stdout.write(`${line.time}  ${pod}/${container}  ${line.method} ${line.path}  ${line.status}  ${line.duration}ms${line.upstream ? `  -> ${line.upstream}` : ''}\n`);
  }
}
