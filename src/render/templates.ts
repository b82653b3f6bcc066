import Handlebars from 'handlebars';

/** The templates under `templates/`, by the name of the file they render. */
export const TEMPLATE_NAMES = ['pod.yaml', 'nginx.conf', 'sidecar-envoy.yaml', 'gateway-pod.yaml', 'gateway-envoy.yaml'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];
/** What the templates share, under `envoy/partials/`: the Envoy container and Envoy's admin listeners and cluster. */
export const PARTIAL_NAMES = ['envoy-container.yaml', 'admin-listeners.yaml', 'admin-cluster.yaml'] as const;
export type PartialName = (typeof PARTIAL_NAMES)[number];
export type TemplateSources = Readonly<Record<TemplateName | PartialName, string>>;

/**
 * A quoted scalar for YAML. Strict mode does not check helper arguments, so a missing value is
 * refused here. JSON leaves U+0085, U+2028 and U+2029 raw, and YAML 1.1 parsers (podman's)
 * read them as line breaks: they are escaped too.
 */
function json(value: unknown): string {
  if (value === undefined) throw new Error('podvoy bug: a template asked for a value that is not there');
  return JSON.stringify(value).replace(/[\u0085\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export type Templates = Readonly<Record<TemplateName, (context: object) => string>>;

/**
 * Compiles template sources in an isolated Handlebars instance. `strict` turns a missing value
 * into an error instead of an empty string; `noEscape` because the output is YAML and nginx
 * config, not HTML: every user value goes through `json`, which emits a quoted scalar that
 * YAML reads back verbatim, so no value can break out of its field.
 */
export function compileTemplates(sources: TemplateSources): Templates {
  const hbs = Handlebars.create();
  hbs.registerHelper('json', json);
  // A partial is used as `{{> envoy-container}}`, by its file name without the extension; it
  // is compiled as strictly as the templates, and indented as the line that includes it.
  for (const name of PARTIAL_NAMES) {
    hbs.registerPartial(name.replace(/\.yaml$/, ''), hbs.compile(sources[name], { strict: true, noEscape: true }));
  }
  const compiled = {} as Record<TemplateName, (context: object) => string>;
  for (const name of TEMPLATE_NAMES) {
    compiled[name] = hbs.compile(sources[name], { strict: true, noEscape: true });
  }
  return compiled;
}
