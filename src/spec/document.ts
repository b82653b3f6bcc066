/** The spec as a YAML document: parsed with positions, and refused when it is not plain YAML data. */
import { Composer, Document, isCollection, isMap, isScalar, isSeq, Lexer, LineCounter, Parser, visit, YAMLParseError, type CST, type Node } from 'yaml';
import { escaped, Problems, shownBare } from './positions.js';

const ALIASES_MAX = 100;
/** A spec is at most 6 levels deep; a deeper document is not a spec, and would overflow yaml's stack. */
export const NESTING_MAX = 32;
const CORE = 'tag:yaml.org,2002:';
/** Tags that only say what plain YAML reads anyway, each with the check that its value is of its type. */
const PLAIN_TAGS: ReadonlyMap<string, (node: unknown) => boolean> = new Map([
  [`${CORE}str`, (n) => isScalar(n) && typeof n.value === 'string'],
  [`${CORE}int`, (n) => isScalar(n) && typeof n.value === 'bigint'],
  [`${CORE}bool`, (n) => isScalar(n) && typeof n.value === 'boolean'],
  [`${CORE}null`, (n) => isScalar(n) && n.value === null],
  [`${CORE}map`, (n) => isMap(n)],
  [`${CORE}seq`, (n) => isSeq(n)],
]);
/** What the tags YAML does resolve would turn a value into, named for the message. */
const TAG_MEANING: Readonly<Record<string, string>> = {
  binary: 'binary data',
  timestamp: 'a date',
  set: 'a set',
  omap: 'an ordered map',
  pairs: 'a list of pairs',
  float: 'a floating-point number',
};

/** The parsed document and the problem list its sections report into; throws on YAML problems. */
export function readDocument(text: string, file: string): { doc: Document; problems: Problems } {
  const lines = new LineCounter();
  // As yaml's parseDocument, in two steps: the tokens are checked for depth before the composer,
  // which recurses, sees them.
  // A flow collection nested too deep is found by the lexer, a few times quicker than the parser;
  // the first too deep (in source order, block levels counted) then lies before it, so only
  // the text up to it needs parsing.
  const flowDeep = flowTooDeep(text);
  const tokens = [...new Parser(lines.addNewLine).parse(flowDeep === undefined ? text : text.slice(0, flowDeep + 1))];
  const deep = tooDeep(tokens) ?? flowDeep;
  if (deep !== undefined) {
    const problems = new Problems(file, lines, new Document());
    problems.atOffset(deep, '', `The YAML is nested more than ${NESTING_MAX} levels deep here; a spec needs at most 6. Flatten it.`);
    problems.throwIfAny();
  }
  const docs = [...new Composer({ uniqueKeys: false, intAsBigInt: true }).compose(tokens, true, text.length)];
  const doc = docs[0]!;
  if (docs.length > 1) doc.errors.push(new YAMLParseError(docs[1]!.range.slice(0, 2) as [number, number], 'MULTIPLE_DOCS', 'Source contains multiple documents'));
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
        problems.add(alias, '', `YAML reads *${shownBare(alias.source)} as an alias. If you meant the text, quote it: "*${shownBare(alias.source)}".`);
      } else {
        problems.add(alias, '', `YAML alias *${shownBare(alias.source)} has no anchor before it. Define &${shownBare(alias.source)} first.`);
      }
    },
  });
  for (const error of doc.errors) {
    if (error.code === 'BAD_ALIAS' && quoteInstead.has(error.pos[0])) continue;
    const message =
      error.code === 'MULTIPLE_DOCS'
        ? 'The spec must be a single YAML document. Remove the extra --- line.'
        : `YAML syntax error: ${yamlSaid(error.message)}. Fix the YAML at this position.`;
    problems.atOffset(error.pos[0], '', message);
  }
  problems.throwIfAny();
  if (doc.directives?.yaml.explicit && doc.directives.yaml.version !== '1.2') {
    problems.atOffset(0, '', `The spec declares %YAML ${doc.directives.yaml.version}, which reads some words and dates as other values; podvoy reads YAML 1.2. Remove the %YAML line.`);
  }
  // Unresolved tags are reported at their node below; any other warning (an unknown directive,
  // an unsupported %YAML version, an ambiguous anchor or indentation) means the document may not
  // be read as written.
  for (const warning of doc.warnings) {
    if (warning.code === 'TAG_RESOLVE_FAILED') continue;
    const fix = warning.code === 'BAD_DIRECTIVE' ? 'Remove the directive; podvoy reads plain YAML 1.2' : 'Fix the YAML at this position';
    problems.atOffset(warning.pos[0], '', `YAML warns here: ${yamlSaid(warning.message)}. ${fix}.`);
  }
  visit(doc, {
    Node(_, node) {
      const problem = notPlain(node);
      if (problem) problems.atOffset(tagOffset(text, (node as Node).range?.[0] ?? 0), '', problem);
    },
  });
  problems.throwIfAny();
  return { doc, problems };
}

/** The first line of a yaml error, as it can stand in a message: escaped, and cut, since it may quote the source. */
function yamlSaid(message: string): string {
  const line = message.split('\n')[0]?.replace(/[.:]\s*$/, '') ?? '';
  const points = [...line];
  return escaped(points.length > YAML_SAID_MAX ? `${points.slice(0, YAML_SAID_MAX).join('')}…` : line);
}

const YAML_SAID_MAX = 160;

/** Why a node is not plain YAML data (a tag that changes or hides what it is), if it is not. */
function notPlain(node: unknown): string | undefined {
  if (!isScalar(node) && !isCollection(node)) return undefined;
  const { tag } = node;
  if (tag === undefined) return undefined;
  const core = tag.startsWith(CORE) ? tag.slice(CORE.length) : undefined;
  const named = core === undefined ? shownTag(tag) : `!!${shownTag(core)}`;
  const fits = PLAIN_TAGS.get(tag);
  if (fits?.(node)) return undefined;
  if (fits) {
    // yaml keeps the text of a value its tag cannot read (`!!int ./site`), and only warns.
    return `The YAML tag ${named} does not fit its value; podvoy does not guess which of the two you meant. Remove the tag, or write a value of its type.`;
  }
  const meaning = core === undefined ? undefined : TAG_MEANING[core];
  return `The YAML tag ${named}${meaning ? ` (${meaning})` : ''} is not supported: podvoy reads plain strings, numbers, true/false, lists and maps, and never resolves, runs or expands a tag. Remove the tag and write the value itself.`;
}

/** Where the tag of a node that starts at `start` begins: the last `!` before it, back to its first character. */
function tagOffset(text: string, start: number): number {
  let at = text.lastIndexOf('!', start);
  if (at === -1) return start;
  while (at > 0 && !/[\s,[\]{}]/.test(text[at - 1] ?? ' ')) at--;
  return at;
}

/** A tag as it can stand in a message: short, and only printable ASCII. */
function shownTag(tag: string): string {
  const printable = tag.replace(/[^\x21-\x7e]/g, '?');
  return printable.length > 40 ? `${printable.slice(0, 40)}…` : printable;
}

type CstNode = CST.Token | undefined;

/** yaml's lexer marks where its modes change with these; they stand for no character of the source. */
const LEXER_MARKS = new Set(['\x02', '\x18', '\x1f']);

/** Offset of the first flow collection (`[` or `{`) nested deeper than {@link NESTING_MAX}, from the lexer's tokens. */
function flowTooDeep(text: string): number | undefined {
  let offset = 0;
  let depth = 0;
  for (const token of new Lexer().lex(text)) {
    if (LEXER_MARKS.has(token)) continue;
    if (token === '[' || token === '{') {
      if (++depth > NESTING_MAX) return offset;
    } else if (token === ']' || token === '}') {
      depth = Math.max(0, depth - 1);
    }
    offset += token.length;
  }
  return undefined;
}

/**
 * Offset of the first collection (in source order) nested deeper than {@link NESTING_MAX}, found
 * by walking yaml's CST without recursion: yaml's own composer recurses and overflows the stack.
 */
function tooDeep(tokens: Iterable<CST.Token>): number | undefined {
  const stack: [CstNode, number][] = [];
  for (const token of tokens) {
    if (token.type === 'document') stack.push([token.value, 0]);
  }
  let first: number | undefined;
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (!node || !('items' in node) || !['block-map', 'block-seq', 'flow-collection'].includes(node.type)) continue;
    if (depth >= NESTING_MAX) {
      first = Math.min(first ?? node.offset, node.offset);
      continue;
    }
    for (const item of node.items as { key?: CstNode; value?: CstNode }[]) {
      stack.push([item.key ?? undefined, depth + 1], [item.value ?? undefined, depth + 1]);
    }
  }
  return first;
}
