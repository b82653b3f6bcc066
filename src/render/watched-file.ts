import { createHash } from 'node:crypto';

/**
 * JSON as a YAML scalar or collection. JSON leaves U+0085, U+2028 and U+2029 raw, and YAML 1.1
 * parsers (podman's) read them as line breaks: they are escaped too.
 */
export function yamlSafeJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A file Envoy watches (its mesh's xDS resources, an SDS secret): YAML whose `resources` are
 * written as JSON, YAML's flow style. JSON.stringify takes microseconds where a YAML emitter
 * took milliseconds (a 30-service gateway's clusters: about 16 ms on every mesh change). The
 * version is a hash of the resources, which Envoy's admin API reports once it runs them.
 */
export function watchedFile(resources: readonly object[]): { readonly version: string; readonly text: string } {
  // Flow content inside the top-level mapping is indented past the column of its key.
  const body = yamlSafeJson(resources, 2).replace(/\n/g, '\n  ');
  const version = createHash('sha256').update(body).digest('hex').slice(0, 12);
  return { version, text: `# Rendered by podvoy; Envoy watches this file. Do not edit.\nversion_info: "${version}"${RESOURCES}${body}\n` };
}

const RESOURCES = '\nresources: ';

/**
 * The resources of a watched file in the form `watchedFile` writes, read as the JSON they are
 * (microseconds, where a YAML parser takes about 0.6 ms a file); undefined for any other form,
 * such as a file an earlier release wrote, which takes a YAML parser.
 */
export function watchedFileResources(text: string): unknown[] | undefined {
  const at = text.indexOf(RESOURCES);
  if (at < 0) return undefined;
  try {
    const resources: unknown = JSON.parse(text.slice(at + RESOURCES.length));
    return Array.isArray(resources) ? resources : undefined;
  } catch {
    return undefined;
  }
}
