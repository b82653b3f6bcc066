import { describe, expect, it } from 'vitest';
import { formatTop } from '../../../src/cli/commands/top.js';
import { topRows } from '../../../src/engine/envoy/top.js';
import { after, before } from '../../support/top-samples.js';

describe('podvoy top output', () => {
  it('prints a table like linkerd viz stat', () => {
    const rows = topRows(before, after, false);
    expect(formatTop({ spec: 'm', windowSeconds: 10, from: '', to: '', rows }, false)).toBe(
      [
        'm: the last 10.0 s',
        'SERVICE  FROM            SUCCESS  RPS   P50  P95  P99  CONN',
        'api      gateway         90.00%   10.0  -    -    -    0',
        'api      blog (sidecar)  100.00%  5.0   -    -    -    0',
        'api      (own sidecar)   93.33%   15.0  -    -    -    0',
        'blog     gateway         100.00%  5.0   -    -    -    0',
        'blog     (own sidecar)   100.00%  5.0   -    -    -    0',
        '',
      ].join('\n'),
    );
  });
});
