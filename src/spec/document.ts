/** The spec as a YAML document: parsed with positions, and refused when it is not plain YAML data. */
import { LineCounter, parseDocument, visit, type Document } from 'yaml';
import { Problems } from './positions.js';

const ALIASES_MAX = 100;

/** The parsed document and the problem list its sections report into; throws on YAML problems. */
export function readDocument(text: string, file: string): { doc: Document; problems: Problems } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, intAsBigInt: true });
  const problems = new Problems(file, lines, doc);

  // An unquoted `*` or `*.example.com` (a route host) is read as an alias; say so instead of
  // reporting a syntax error or an anchor to define.
  const quoteInstead = new Set<number>();
  // Each alias is resolved by a walk of the document: many of them would take quadratic time.
  let aliases = 0;
  visit(doc, { Alias: () => void aliases++ });
  if (aliases > ALIASES_MAX) {
    problems.atOffset(0, '', `The spec has ${aliases} YAML aliases; podvoy reads at most ${ALIASES_MAX}. Write the values out instead.`);
    problems.throwIfAny();
  }
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc)) return;
      if (alias.source === '' || alias.source.startsWith('.')) {
        quoteInstead.add(alias.range?.[0] ?? 0);
        problems.add(alias, '', `YAML reads *${alias.source} as an alias. If you meant the text, quote it: "*${alias.source}".`);
      } else {
        problems.add(alias, '', `YAML alias *${alias.source} has no anchor before it. Define &${alias.source} first.`);
      }
    },
  });
  for (const error of doc.errors) {
    if (error.code === 'BAD_ALIAS' && quoteInstead.has(error.pos[0])) continue;
    const message =
      error.code === 'MULTIPLE_DOCS'
        ? 'The spec must be a single YAML document. Remove the extra --- line.'
        : `YAML syntax error: ${error.message.split('\n')[0]?.replace(/[.:]\s*$/, '')}. Fix the YAML at this position.`;
    problems.atOffset(error.pos[0], '', message);
  }
  problems.throwIfAny();
  return { doc, problems };
}
