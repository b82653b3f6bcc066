import Handlebars from 'handlebars';

/** The templates under `templates/`, by the name of the file they render. */
export const TEMPLATE_NAMES = ['pod.yaml', 'nginx.conf', 'sidecar-envoy.yaml'] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];
export type TemplateSources = Readonly<Record<TemplateName, string>>;

export type Templates = Readonly<Record<TemplateName, (context: object) => string>>;

/**
 * Compiles template sources in an isolated Handlebars instance. `strict` turns a missing value
 * into an error instead of an empty string; `noEscape` because the output is YAML and nginx
 * config, not HTML: every user value goes through `json`, which emits a quoted scalar that
 * YAML reads back verbatim, so no value can break out of its field.
 */
export function compileTemplates(sources: TemplateSources): Templates {
  const hbs = Handlebars.create();
  hbs.registerHelper('json', (value: unknown) => JSON.stringify(value));
  const compiled = {} as Record<TemplateName, (context: object) => string>;
  for (const name of TEMPLATE_NAMES) {
    compiled[name] = hbs.compile(sources[name], { strict: true, noEscape: true });
  }
  return compiled;
}
