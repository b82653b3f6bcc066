import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { PARTIAL_NAMES, TEMPLATE_NAMES, compileTemplates, templateKey, type TemplateName, type TemplateSources } from '../../../src/render/templates.js';

const sourcesOf = (source: (name: TemplateName) => string): TemplateSources => ({
  ...(Object.fromEntries(TEMPLATE_NAMES.map((name) => [name, source(name)])) as Record<TemplateName, string>),
  ...(Object.fromEntries(PARTIAL_NAMES.map((name) => [name, ''])) as Record<(typeof PARTIAL_NAMES)[number], string>),
});

/** Compiles `source` as one template; the others are never rendered. */
function compile(source: string, name: TemplateName = 'pod.yaml'): (context: object) => string {
  return compileTemplates(sourcesOf((n) => (n === name ? source : '')))[name];
}

/** Every place a value sits in podvoy's YAML templates: a comment, a block value, a flow map, a list. */
const FIELDS = compile(
  [
    '# Pod {{json value}}, rendered by podvoy',
    'value: {{json value}}',
    'flow: { name: {{json value}}, value: {{json value}} }',
    'list:',
    '  - {{json value}}',
    'after: fixed',
    '',
  ].join('\n'),
);

describe('compileTemplates', () => {
  it('takes a template precompiled for its very source, and compiles one whose source changed since', () => {
    const sources = sourcesOf((name) => `${name} {{x}}`);
    const stale = { [templateKey('pod.yaml was {{x}}')]: { compiler: [8, '>= 4.3.0'], main: () => 'stale', useData: true } };
    const marker = { [templateKey(sources['nginx.conf'])]: { compiler: [8, '>= 4.3.0'], main: () => 'precompiled', useData: true } };
    const templates = compileTemplates(sources, { ...stale, ...marker });
    expect(templates['nginx.conf']({ x: 1 })).toBe('precompiled');
    expect(templates['pod.yaml']({ x: 1 })).toBe('pod.yaml 1');
  });

  it('renders each template from its own source', () => {
    const templates = compileTemplates(sourcesOf((name) => `${name} {{x}}`));
    expect(TEMPLATE_NAMES.map((name, x) => templates[name]({ x }))).toEqual(TEMPLATE_NAMES.map((name, x) => `${name} ${x}`));
  });

  it('does not HTML-escape values', () => {
    expect(compile('{{x}}', 'nginx.conf')({ x: `<a href="x">&'` })).toBe(`<a href="x">&'`);
  });

  it.each<[string, string, object, string]>([
    ['a missing value', 'name: {{missing}}', {}, '"missing" not defined in [object Object] - 1:8'],
    ['a missing nested value', 'root {{paths.root}};', { paths: {} }, '"root" not defined in [object Object] - 1:7'],
    ['a missing parent', 'root {{paths.root}};', {}, '"root" not defined in undefined - 1:7'],
  ])('strict mode throws on %s', (_name, source, context, message) => {
    expect(() => compile(source, 'nginx.conf')(context)).toThrow(expect.objectContaining({ message }));
  });

  // Handlebars' strict mode does not check helper arguments: the json helper refuses them itself.
  it('throws on a missing value passed to json', () => {
    expect(() => compile('name: {{json missing}}')({})).toThrow('podvoy bug: a template asked for a value that is not there');
  });

  it.each<[string, string]>([
    ['double quotes', 'He said "hi"'],
    ['single quotes', "it's"],
    ['a backslash', 'C:\\path\\"'],
    ['a newline that starts a key', 'a\nevil: true'],
    ['a CRLF', 'a\r\nevil: true'],
    ['a tab', 'a\tb'],
    ['key and value', 'key: value'],
    ['a comment marker', 'a #not a comment'],
    ['a leading comment marker', '# not a comment'],
    ['Handlebars braces', '{{pod}} {{{x}}}'],
    ['a shell variable', '${x} $HOME'],
    ['unicode', 'Grüße, 日本語, ✓ 🚀'],
    ['unicode line and paragraph separators', 'a\u2028b\u2029c\u0085d'],
    ['a document separator', '---'],
    ['a document separator on its own line', 'a\n---\nevil: true'],
    ['a document end marker', '...'],
    ['a flow collection', '{ evil: true }, [1, 2]'],
    ['a list item', '- evil'],
    ['an anchor and an alias', '&a *a'],
    ['a tag', '!!binary aGk='],
    ['a directive', '%YAML 1.1'],
    ['a scalar that would be null', 'null'],
    ['a scalar that would be a boolean', 'yes'],
    ['a scalar that would be a number', '0x1F'],
    ['an empty string', ''],
    ['surrounding spaces', '  padded  '],
    ['control characters', '\u0000\u0001\u001b[31m\u007f'],
  ])('json keeps %s inside its field', (_name, value) => {
    const text = FIELDS({ value });
    const docs = parseAllDocuments(text);
    expect(docs).toHaveLength(1);
    const [doc] = docs as [(typeof docs)[number]];
    expect(doc.errors).toEqual([]);
    expect(doc.toJS()).toStrictEqual({ value, flow: { name: value, value }, list: [value], after: 'fixed' });
  });
});
