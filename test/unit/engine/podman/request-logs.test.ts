import { describe, expect, it } from 'vitest';
import { orderHops, requestLines, type AccessLogLine } from '../../../../src/engine/podman/request-logs.js';

const line = (time: string, requestId: string): AccessLogLine => ({
  time,
  method: 'GET',
  path: '/blog-api/x',
  status: 200,
  duration: 3,
  upstream: '127.0.0.1:8080',
  request_id: requestId,
});

describe('following a request in the logs', () => {
  it('keeps the JSON access log lines of this request id only', () => {
    const output = [
      '[2026-11-28 22:00:00.000][1][warning][config] a message of Envoy that names id-1',
      JSON.stringify(line('2026-11-28T22:00:00.100Z', 'id-1')),
      JSON.stringify(line('2026-11-28T22:00:00.200Z', 'id-2')),
      '{"not": "an access log line", "request_id": "id-1"}',
      '{broken json id-1',
      JSON.stringify(line('2026-11-28T22:00:00.300Z', 'id-10')),
      '',
    ].join('\n');
    expect(requestLines(output, 'id-1')).toEqual([line('2026-11-28T22:00:00.100Z', 'id-1')]);
  });

  it('orders the hops by time, to the millisecond', () => {
    const hop = (pod: string, time: string) => ({ service: pod, pod, container: 'envoy', line: line(time, 'id') });
    const hops = [hop('api', '2026-11-28T22:00:00.012Z'), hop('gateway', '2026-11-28T22:00:00.003Z'), hop('blog', '2026-11-28T22:00:00.007Z')];
    expect(orderHops(hops).map((h) => h.pod)).toEqual(['gateway', 'blog', 'api']);
  });

  it('within one millisecond, puts a sidecar before its app and other pods by the microsecond', () => {
    const hop = (pod: string, container: string, time: string) => ({ service: pod, pod, container, line: line(time, 'id') });
    const hops = [
      hop('api', 'nginx', '2026-11-28T22:00:00.012Z'),
      hop('api', 'envoy', '2026-11-28T22:00:00.012700Z'),
      hop('blog', 'envoy', '2026-11-28T22:00:00.012400Z'),
      hop('gateway', 'envoy', '2026-11-28T22:00:00.011900Z'),
    ];
    expect(orderHops(hops).map((h) => `${h.pod}/${h.container}`)).toEqual(['gateway/envoy', 'blog/envoy', 'api/envoy', 'api/nginx']);
  });
});
