/**
 * A spec's bytes as text: UTF-8 only, refused (never repaired) when it is anything else, each
 * refusal with the position of the first byte that gives it away. Pure.
 */
import { SpecError } from '../errors.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const FIX = 'Save the spec as UTF-8 (iconv -f UTF-16 -t UTF-8 converts it).';

/** The text of a spec file read as `file` (the name as the user gave it, for messages). */
export function decodeSpec(bytes: Uint8Array, file: string): string {
  const refuse = (offset: number, message: string): never => {
    const { line, column } = positionOf(bytes, offset);
    throw new SpecError([{ file, line, column, path: '', message }]);
  };
  const [b0, b1, b2, b3] = bytes;
  if ((b0 === 0x00 && b1 === 0x00 && b2 === 0xfe && b3 === 0xff) || (b0 === 0xff && b1 === 0xfe && b2 === 0x00 && b3 === 0x00)) {
    refuse(0, `The spec is UTF-32 (it starts with a UTF-32 byte order mark); podvoy reads only UTF-8. ${FIX.replace('UTF-16', 'UTF-32')}`);
  }
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff)) {
    refuse(0, `The spec is UTF-16 (it starts with a UTF-16 byte order mark); podvoy reads only UTF-8. ${FIX}`);
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) {
    // ASCII text in UTF-16 has a NUL byte beside every character.
    const utf16 = bytes.length >= 2 && (bytes[0] === 0) !== (bytes[1] === 0);
    if (utf16) refuse(0, `The spec looks like UTF-16 without a byte order mark (a NUL byte beside every character); podvoy reads only UTF-8. ${FIX}`);
    refuse(nul, 'The spec contains a NUL byte here, which no YAML text may hold. Remove it; the file may be binary or damaged.');
  }
  try {
    return UTF8.decode(bytes);
  } catch {
    const bad = firstInvalidUtf8(bytes);
    return refuse(bad, `The spec is not valid UTF-8: byte 0x${(bytes[bad] ?? 0).toString(16).padStart(2, '0').toUpperCase()} here is not part of any UTF-8 character. Save the spec as UTF-8.`);
  }
}

/** Line and column (1-based; the column counts characters, as yaml's positions do) of a byte. */
function positionOf(bytes: Uint8Array, offset: number): { line: number; column: number } {
  const lineStart = bytes.lastIndexOf(0x0a, offset - 1) + 1;
  let line = 1;
  for (let i = bytes.indexOf(0x0a); i !== -1 && i < offset; i = bytes.indexOf(0x0a, i + 1)) line++;
  const before = new TextDecoder('utf-8').decode(bytes.subarray(lineStart, offset));
  return { line, column: before.length + 1 };
}

/** Offset of the first byte that does not belong to a well-formed UTF-8 sequence (RFC 3629). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    const [length, min, max] =
      b < 0x80 ? [1, 0, 0] : b >= 0xc2 && b <= 0xdf ? [2, 0x80, 0xbf] : b === 0xe0 ? [3, 0xa0, 0xbf] : b === 0xed ? [3, 0x80, 0x9f]
        : b >= 0xe1 && b <= 0xef ? [3, 0x80, 0xbf] : b === 0xf0 ? [4, 0x90, 0xbf] : b >= 0xf1 && b <= 0xf3 ? [4, 0x80, 0xbf]
          : b === 0xf4 ? [4, 0x80, 0x8f] : [0, 0, 0];
    if (length === 0) return i;
    // The second byte has the narrower range; the others are plain continuation bytes.
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      if (k === 1 ? c < min || c > max : c < 0x80 || c > 0xbf) return i;
    }
    i += length;
  }
  return bytes.length;
}
