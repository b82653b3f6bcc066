import { describe, expect, it } from 'vitest';
import { topRows } from '../../../../src/engine/envoy/top.js';
import { after, before } from '../../../support/top-samples.js';

describe('top rows', () => {
  it('a row per service and per place that sees it, replicas added up', () => {
    expect(topRows(before, after, false).map((r) => [r.service, r.view, r.from, r.rps, r.successRate])).toEqual([
      ['api', 'gateway', 'gateway', 10, 0.9],
      ['api', 'caller', 'blog', 5, 1],
      ['api', 'inbound', 'api', 15, 140 / 150],
      ['blog', 'gateway', 'gateway', 5, 1],
      ['blog', 'inbound', 'blog', 5, 1],
    ]);
  });

  it('with wide, a row per pod', () => {
    expect(topRows(before, after, true).map((r) => [r.service, r.view, r.pod, r.rps])).toEqual([
      ['api', 'gateway', 'm-gateway-1', 10],
      ['api', 'caller', 'm-blog-1-0', 2],
      ['api', 'caller', 'm-blog-1-1', 3],
      ['api', 'inbound', 'm-api-1', 15],
      ['blog', 'gateway', 'm-gateway-1', 5],
      ['blog', 'inbound', 'm-blog-1-0', 2.5],
      ['blog', 'inbound', 'm-blog-1-1', 2.5],
    ]);
  });

  it('leaves out an Envoy that did not answer', () => {
    const silent = after.map((p) => (p.service === 'gateway' ? { pod: p.pod, service: p.service } : p));
    expect(topRows(before, silent, false).some((r) => r.view === 'gateway')).toBe(false);
  });
});
