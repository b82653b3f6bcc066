/**
 * Characters a value may not carry into the files podvoy writes: podman's YAML reader refuses
 * DEL, C1 controls and noncharacters, no process environment can hold NUL, and a lone surrogate
 * is not text at all. Values are refused, never silently changed.
 */

/** Which characters a kind of value may not hold. */
export interface CharacterRule {
  /** Tab and line feed are text in an environment value, but never in a path. */
  readonly allowTabAndNewline: boolean;
}

/** The first character of `text` the rule refuses, named for a message, with its 1-based position. */
export function forbiddenCharacter(text: string, rule: CharacterRule): { readonly what: string; readonly position: number } | undefined {
  let position = 0;
  for (let i = 0; i < text.length; i++) {
    position++;
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        const cp = text.codePointAt(i)!;
        i++;
        if ((cp & 0xfffe) === 0xfffe) return { what: `${codePoint(cp)} (a noncharacter)`, position };
        continue;
      }
      return { what: `${codePoint(code)} (a lone surrogate, not a character)`, position };
    }
    const what = forbiddenUnit(code, rule);
    if (what) return { what, position };
  }
  return undefined;
}

function forbiddenUnit(code: number, rule: CharacterRule): string | undefined {
  if (code === 0) return 'U+0000 (NUL)';
  if (code === 0x09 || code === 0x0a) return rule.allowTabAndNewline ? undefined : `${codePoint(code)} (a control character)`;
  if (code < 0x20) return `${codePoint(code)} (a control character)`;
  if (code === 0x7f) return 'U+007F (DEL)';
  if (code >= 0x80 && code <= 0x9f) return `${codePoint(code)} (a C1 control character)`;
  if (code >= 0xdc00 && code <= 0xdfff) return `${codePoint(code)} (a lone surrogate, not a character)`;
  if ((code >= 0xfdd0 && code <= 0xfdef) || code === 0xfffe || code === 0xffff) return `${codePoint(code)} (a noncharacter)`;
  return undefined;
}

function codePoint(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}
