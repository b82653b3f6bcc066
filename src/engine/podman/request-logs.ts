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
 * the request (and when nginx answered it, so an app comes after the sidecar that passed it).
 */
export function orderHops(hops: readonly RequestHop[]): RequestHop[] {
  return [...hops].sort((a, b) => Date.parse(a.line.time) - Date.parse(b.line.time));
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
