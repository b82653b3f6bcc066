import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { watchedFile, watchedFileResources } from '../../../src/render/watched-file.js';

describe('watched files', () => {
  const resources = [{ '@type': 'x', name: 'routes', text: 'line\u2028separator "quoted"' }];

  it('are YAML whose resources are JSON, and read back without a YAML parser', () => {
    const { text, version } = watchedFile(resources);
    expect(parse(text)).toEqual({ version_info: version, resources });
    expect(watchedFileResources(text)).toEqual(resources);
  });

  it('leave any other form to a YAML parser', () => {
    expect(watchedFileResources('version_info: "1"\nresources:\n- name: routes\n')).toBeUndefined();
    expect(watchedFileResources('')).toBeUndefined();
  });
});
