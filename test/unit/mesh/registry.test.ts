import { describe, expect, it } from 'vitest';
import { withPods, withoutPods } from '../../../src/mesh/registry.js';

describe('the registry', () => {
  it('adds pods to their services, once, in a stable order', () => {
    const registry = withPods({ blog: ['b-2'] }, [
      { service: 'blog', pod: 'b-1' },
      { service: 'api', pod: 'a-1' },
      { service: 'blog', pod: 'b-2' },
    ]);
    expect(registry).toEqual({ api: ['a-1'], blog: ['b-1', 'b-2'] });
    expect(Object.keys(registry)).toEqual(['api', 'blog']);
  });

  it('takes pods out and keeps services with none', () => {
    expect(withoutPods({ api: ['a-1'], blog: ['b-1', 'b-2'] }, ['b-1', 'a-1'])).toEqual({ api: [], blog: ['b-2'] });
  });

  it('never changes the registry it was given', () => {
    const before = { blog: ['b-1'] };
    withPods(before, [{ service: 'blog', pod: 'b-2' }]);
    withoutPods(before, ['b-1']);
    expect(before).toEqual({ blog: ['b-1'] });
  });
});
