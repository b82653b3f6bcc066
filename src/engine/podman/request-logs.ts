import { NotDeployedError } from '../../errors.js';
import { ACCESS_LOG_FIELDS } from '../../mesh/contract.js';
import { podman } from './podman.js';
import { containerLogsArgs } from './args.js';
import { listPods } from './pods.js';

/** One line of the JSON access log (`accessLog: json`), as every hop writes it. */
export interface AccessLogLine {
  readonly time: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** Milliseconds. */
  readonly duration: number;
  readonly upstream: string;
  readonly request_id: string;
}

/** Where a request was seen: one container of one pod, and its log line. */
export interface RequestHop {
  readonly service: string;
  readonly pod: string;
  /** envoy, nginx or app. */
  readonly container: string;
  readonly line: AccessLogLine;
}

function isAccessLogLine(value: unknown): value is AccessLogLine {
  return typeof value === 'object' && value !== null && ACCESS_LOG_FIELDS.every((f) => f in value);
}

/** The access log lines of one container's output that carry this request id (pure). */
export function requestLines(output: string, requestId: string): AccessLogLine[] {
  const lines: AccessLogLine[] = [];
  for (const text of output.split('\n')) {
    // Cheap test first: most lines are other requests', or Envoy's own messages.
    if (!text.startsWith('{') || !text.includes(requestId)) continue;
    try {
      const parsed: unknown = JSON.parse(text);
      if (isAccessLogLine(parsed) && parsed.request_id === requestId) lines.push(parsed);
    } catch {
      // Not a JSON line (an app's own output): not an access log line.
    }
  }
  return lines;
}

/**
 * The hops in the order the request reached them: by time, which is when an Envoy received
 * the request (to the microsecond) and when nginx answered it (to the millisecond, so an app
 * comes after the sidecar that passed it). Within one millisecond, a pod's sidecar comes before
 * its app, whose time is of its answer; hops of different pods go by the finer time.
 */
export function orderHops(hops: readonly RequestHop[]): RequestHop[] {
  const micros = (h: RequestHop) => {
    const [, seconds = '', fraction = ''] = /^(.*?)(?:\.(\d+))?Z$/.exec(h.line.time) ?? [];
    return Date.parse(`${seconds}Z`) * 1000 + Number(fraction.padEnd(6, '0').slice(0, 6));
  };
  return [...hops].sort((a, b) => {
    const byMs = Math.floor(micros(a) / 1000) - Math.floor(micros(b) / 1000);
    if (byMs) return byMs;
    if (a.pod === b.pod && a.container !== b.container) return Number(b.container === 'envoy') - Number(a.container === 'envoy');
    return micros(a) - micros(b);
  });
}

/** Every line of one request, by its x-request-id, from every container of a deployment. */
export async function followRequest(specName: string, requestId: string): Promise<RequestHop[]> {
  const pods = await listPods(specName);
  if (!pods.length) throw new NotDeployedError(`Nothing of spec "${specName}" is deployed. Run \`podvoy play\` first.`);
  const hops = await Promise.all(
    pods.flatMap((pod) =>
      pod.containers.map(async (c) => {
        const { stdout, stderr } = await podman(containerLogsArgs(c.name));
        const container = c.name.slice(pod.name.length + 1);
        return requestLines(`${stdout}\n${stderr}`, requestId).map((line) => ({ service: pod.service, pod: pod.name, container, line }));
      }),
    ),
  );
  return orderHops(hops.flat());
}
