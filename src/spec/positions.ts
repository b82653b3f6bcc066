import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node } from 'yaml';
import { SpecError, type SpecProblem } from '../errors.js';

/** One key of a YAML map, with its value resolved through aliases; `value` is null when empty. */
export interface Entry {
  readonly name: string;
  readonly key: Node;
  readonly value: Node | null;
  /** Dotted path of the key, e.g. `services.web.port`. */
  readonly path: string;
  /** Where a problem with the value points: the value, or the key when the value is empty. */
  readonly at: Node;
}

/** The keys of one map, by name. */
export interface Fields {
  readonly list: readonly Entry[];
  readonly get: Partial<Record<string, Entry>>;
  /** Known keys that an unknown key here was reported as a likely misspelling of. */
  readonly misspelt: ReadonlySet<string>;
}

/**
 * Collects spec problems, each with the 1-based position of the node it is about, and throws them
 * together as one SpecError.
 */
export class Problems {
  private readonly list: SpecProblem[] = [];

  constructor(
    private readonly file: string,
    private readonly lines: LineCounter,
    private readonly doc: Document,
  ) {}

  get count(): number {
    return this.list.length;
  }

  atOffset(offset: number, path: string, message: string): void {
    const { line, col } = this.lines.linePos(offset);
    this.list.push({ file: this.file, line, column: col, path, message });
  }

  add(node: Node, path: string, message: string): void {
    this.atOffset(node.range?.[0] ?? 0, path, message);
  }

  /** Line of a node, for messages that point at a second place. */
  lineOf(node: Node): number {
    return this.lines.linePos(node.range?.[0] ?? 0).line;
  }

  throwIfAny(): void {
    if (this.list.length === 0) return;
    const sorted = [...this.list].sort((a, b) => a.line - b.line || a.column - b.column);
    throw new SpecError(sorted);
  }

  /**
   * The entries of a map in source order. Reports a value that is not a map, duplicate keys,
   * non-scalar keys and (when `known` is given) unknown keys, leaving those out. An empty value
   * counts as an empty map.
   */
  entries(node: Node | null, path: string, known?: readonly string[]): Fields | undefined {
    const seen = new Map<string, Node>();
    const list: Entry[] = [];
    const misspelt = new Set<string>();
    const fields = (): Fields => ({ list, get: Object.fromEntries(list.map((e) => [e.name, e])), misspelt });
    if (node === null) return fields();
    if (!isMap(node)) {
      this.add(node, path, `Must be a map (key: value pairs), not ${describe(node)}.`);
      return undefined;
    }
    for (const pair of node.items) {
      const key = pair.key as Node;
      if (!isScalar(key)) {
        this.add(key, path, `Keys must be plain words, not ${describe(key)}. Rewrite this key.`);
        continue;
      }
      if (key.value === null) {
        this.add(key, path, 'A key is empty. Write a name before the colon.');
        continue;
      }
      const name = typeof key.value === 'string' ? key.value : (key.source ?? String(key.value));
      const keyPath = path ? `${path}.${pathPart(name)}` : pathPart(name);
      const first = seen.get(name);
      if (first) {
        this.add(key, keyPath, `Duplicate key ${shown(name)} (first at line ${this.lineOf(first)}). Remove or rename one of them.`);
        continue;
      }
      seen.set(name, key);
      if (known && !known.includes(name)) {
        const near = nearest(name, known);
        if (near) misspelt.add(near);
        this.add(
          key,
          keyPath,
          name === '<<'
          ? 'YAML merge keys (<<) are not supported. Write the keys out.'
          : near
            ? `Unknown key ${shown(name)}. Did you mean "${near}"?`
            : `Unknown key ${shown(name)}. Remove it; the keys allowed here are ${known.join(', ')}.`,
        );
        continue;
      }
      const value = this.resolve(pair.value as Node | null);
      list.push({ name, key, value, path: keyPath, at: value ?? key });
    }
    return fields();
  }

  /**
   * The items of a list in source order, each as an Entry named by its index, with the path
   * `path[index]`. Reports a value that is not a list. An empty value counts as an empty list.
   */
  items(node: Node | null, path: string): Entry[] | undefined {
    if (node === null) return [];
    if (!isSeq(node)) {
      this.add(node, path, `Must be a list (items starting with "- "), not ${describe(node)}.`);
      return undefined;
    }
    return node.items.map((item, index) => {
      const key = (item as Node | null) ?? node;
      const value = this.resolve(item as Node | null);
      return { name: String(index), key, value, path: `${path}[${index}]`, at: value ?? key };
    });
  }

  private resolve(node: Node | null): Node | null {
    // Unresolvable aliases were reported before validation started.
    const target = isAlias(node) ? (node.resolve(this.doc) ?? null) : node;
    return isScalar(target) && target.value === null ? null : target;
  }
}

/**
 * A name from the spec as it can stand in a message: quoted, with control characters escaped
 * (a key must not add lines to the output or reach the terminal as an escape sequence), and
 * cut short when it is long.
 */
export function shown(name: string, max = SHOWN_MAX): string {
  // Cut by code points, so that the cut never leaves half of a surrogate pair.
  const points = [...name];
  const cut = points.length > max ? `${points.slice(0, max).join('')}…` : name;
  return JSON.stringify(cut).replace(TERMINAL_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** {@link shown} without the quotes: for a value that stands in a sentence as it is (a path, an alias). */
export function shownBare(text: string, max = SHOWN_MAX): string {
  return shown(text, max).slice(1, -1);
}

/** A real path in a message: escaped as values are, but cut only when it is very long. */
export function shownPath(text: string): string {
  return shownBare(text, PATH_SHOWN_MAX);
}

const PATH_SHOWN_MAX = 120;

/** Text of podvoy's own (or yaml's) with any control character escaped as in {@link shown}, but not cut. */
export function escaped(text: string): string {
  return text.replace(/[\u0000-\u001f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).replace(TERMINAL_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Values longer than this many characters are cut in messages. */
const SHOWN_MAX = 60;
// JSON escapes C0 controls; these are the others that move the cursor, start an escape sequence
// (C1, e.g. U+009B CSI), break a line (U+2028, U+2029) or reorder what the terminal shows (bidi).
const TERMINAL_CONTROLS = /[\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** Names from the spec as a list in a message: the first ten, each escaped as {@link pathPart} does. */
export function listed(names: readonly string[]): string {
  const first = names.slice(0, LISTED_MAX).map(pathPart).join(', ');
  return names.length > LISTED_MAX ? `${first} and ${names.length - LISTED_MAX} more` : first;
}

const LISTED_MAX = 10;

/** A key as a part of a problem's path: plain when it is a plain word or URL path, else shown. */
function pathPart(name: string): string {
  return /^[A-Za-z0-9_./~-]{1,64}$/.test(name) ? name : shown(name);
}

/** How a value reads in a message: `the string "80"`, `the number 80.5`, `a list`. */
export function describe(node: Node | null): string {
  if (node === null) return 'an empty value';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (!isScalar(node)) return 'an alias';
  const v = node.value;
  if (typeof v === 'string') return `the string ${shown(v)}`;
  if (typeof v === 'number' || typeof v === 'bigint') return `the number ${node.source ?? String(v)}`;
  if (typeof v === 'boolean') return `the boolean ${node.source ?? String(v)}`;
  return 'an empty value';
}

/** The known key within edit distance 2 of `name`, if any. */
export function nearest(name: string, known: readonly string[]): string | undefined {
  return known
    .map((k) => ({ k, d: editDistance(name, k) }))
    .filter(({ d }) => d <= 2)
    .sort((a, b) => a.d - b.d)[0]?.k;
}

export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
