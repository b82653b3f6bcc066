/**
 * The readers every section of the spec shares: one value of a known kind (string, port, path,
 * duration...) read from an {@link Entry}, its problem reported at the entry's position. Each
 * returns undefined after reporting a problem.
 */
import path from 'node:path';
import { isScalar, type Node } from 'yaml';
import { forbiddenCharacter } from './characters.js';
import { DEFAULTS, type Publish } from './model.js';
import type { SpecHost } from './host.js';
import { describe, shown, shownBare, shownPath, type Entry, type Fields, type Problems } from './positions.js';
import type { RawPublish } from './raw.js';

export const NAME = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
const NAME_MAX = 20;
const IMAGE_MAX = 255;
// A conservative subset of the distribution reference grammar: lowercase, no shell or YAML specials.
export const IMAGE_REF = (() => {
  const label = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
  const registry = `${label}(?:\\.${label})*(?::[0-9]+)?/`;
  const component = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
  return new RegExp(`^(?:${registry})?${component}(?:/${component})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$`);
})();
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IP_PORT = new RegExp(`^(${OCTET}(?:\\.${OCTET}){3}):([0-9]+)$`);

// Path prefixes and health paths reach nginx and Envoy configs; a small alphabet keeps them inert there.
const PATHS = {
  prefix: { what: 'path prefix', char: /[A-Za-z0-9._~/-]/, allowed: 'letters, digits and . _ ~ / -' },
  health: { what: 'health path', char: /[A-Za-z0-9._~/?=&-]/, allowed: 'letters, digits and . _ ~ / - ? = &' },
} as const;
export type UrlPathKind = keyof typeof PATHS;
const PATH_MAX = 200;

/** A key is missing unless present, or an unknown key was already reported as its likely misspelling. */
export function isMissing(fields: Fields, key: string): boolean {
  return !fields.get[key] && !fields.misspelt.has(key);
}

/** Whether `inner` is `outer` or lies below it (both absolute, normalized). */
export function isInside(inner: string, outer: string): boolean {
  const rel = path.relative(outer, inner);
  return !(rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel));
}

/** The problems of a spec being read, the host it is read on, and the readers of single values. */
export class FieldReader {
  constructor(
    readonly problems: Problems,
    readonly host: SpecHost,
  ) {}

  fail(at: Node, path: string, message: string): undefined {
    this.problems.add(at, path, message);
    return undefined;
  }

  string(e: Entry): string | undefined {
    if (isScalar(e.value) && typeof e.value.value === 'string') return e.value.value;
    return this.fail(e.at, e.path, `Must be a string, not ${describe(e.value)}.`);
  }

  boolean(e: Entry): boolean | undefined {
    if (isScalar(e.value) && typeof e.value.value === 'boolean') return e.value.value;
    return this.fail(e.at, e.path, `Must be true or false, not ${describe(e.value)}.`);
  }

  label(at: Node, path: string, text: string | undefined): string | undefined {
    if (text === undefined) return undefined;
    if (!NAME.test(text)) {
      return this.fail(at, path, `${shown(text)} is not a valid name. Use lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen.`);
    }
    if (text.length > NAME_MAX) {
      return this.fail(at, path, `${shown(text)} is ${text.length} characters long; names may have at most ${NAME_MAX}. Shorten it.`);
    }
    return text;
  }

  imageRef(e: Entry): string | undefined {
    const ref = this.string(e);
    if (ref === undefined) return undefined;
    if (ref.length > IMAGE_MAX) {
      return this.fail(e.at, e.path, `The image reference is ${ref.length} characters long; at most ${IMAGE_MAX} are allowed. Use a shorter one.`);
    }
    if (!IMAGE_REF.test(ref)) {
      return this.fail(e.at, e.path, `${shown(ref)} is not a valid image reference. Write it like docker.io/library/nginx:1.27 (lowercase name, optional :tag and @sha256:digest).`);
    }
    return ref;
  }

  /** A directory or file inside the spec's folder, as its real path. */
  inSpecDir(e: Entry, kind: 'directory' | 'file'): string | undefined {
    const given = this.string(e);
    if (given === undefined) return undefined;
    const abs = path.resolve(this.host.dir, given);
    if (!(kind === 'directory' ? this.host.isDirectory(abs) : this.host.isFile(abs))) {
      return this.fail(e.at, e.path, `${shownBare(given)} does not exist or is not a ${kind}. Create it or fix the path.`);
    }
    const real = this.host.realpath(abs);
    if (real === undefined) {
      return this.fail(e.at, e.path, `${shownBare(given)} resolves to a path that is not valid UTF-8, which no file podvoy writes for podman could name. Rename it with UTF-8 characters only.`);
    }
    const base = this.host.realpath(this.host.dir) ?? this.host.dir;
    if (!isInside(real, base)) {
      return this.fail(e.at, e.path, `${shownBare(given)} resolves to ${shownPath(real)}, outside the spec's folder ${shownPath(base)}. Move the ${kind} inside that folder; symlinks out of it are refused.`);
    }
    const bad = forbiddenCharacter(real, { allowTabAndNewline: false });
    if (bad) {
      return this.fail(e.at, e.path, `${shownBare(given)} resolves to ${shownPath(real)}, whose name contains ${bad.what}; podman's YAML reader refuses it. Rename it.`);
    }
    return real;
  }

  /** A route or proxy prefix, or a health path. */
  urlPath(at: Node, path: string, text: string | undefined, kind: UrlPathKind): string | undefined {
    if (text === undefined) return undefined;
    const { what, char, allowed } = PATHS[kind];
    if (!text.startsWith('/')) {
      return this.fail(at, path, `The ${what} ${shown(text)} does not start with "/". Write it as ${shown(`/${text}`)}.`);
    }
    if (text.length > PATH_MAX) {
      return this.fail(at, path, `The ${what} is ${text.length} characters long; at most ${PATH_MAX} are allowed. Shorten it.`);
    }
    const bad = [...text].find((c) => !char.test(c));
    if (bad !== undefined) {
      return this.fail(at, path, `The ${what} ${shown(text)} contains ${shown(bad)}, which is not allowed. Use only ${allowed}.`);
    }
    if (kind === 'prefix' && /\/\.\.?(\/|$)/.test(text)) {
      return this.fail(at, path, `The ${what} ${shown(text)} has a "." or ".." segment; paths are normalized before they are matched, so it could never match. Write it without.`);
    }
    return text;
  }

  integer(e: Entry, what: string): number | undefined {
    const v = e.value;
    if (isScalar(v) && typeof v.value === 'bigint') return Number(v.value);
    const quoted = isScalar(v) && typeof v.value === 'string' && /^[0-9]+$/.test(v.value);
    return this.fail(e.at, e.path, `Must be ${what}, not ${describe(v)}.${quoted ? ' Remove the quotes.' : ''}`);
  }

  /** An integer from min to max; `what` names it in messages, e.g. "a weight". */
  bounded(e: Entry, what: string, min: number, max: number): number | undefined {
    const n = this.integer(e, 'an integer');
    if (n === undefined || (n >= min && n <= max)) return n;
    return this.fail(e.at, e.path, `${n} is out of range. Use ${what} from ${min} to ${max}.`);
  }

  containerPort(e: Entry): number | undefined {
    const port = this.integer(e, 'an integer port number');
    if (port === undefined || (port >= 1024 && port <= 65535)) return port;
    if (port >= 1 && port < 1024) {
      return this.fail(e.at, e.path, `Port ${port} is below 1024; ports below 1024 need root inside the container. Use a port from 1024 to 65535, e.g. 8080.`);
    }
    return this.fail(e.at, e.path, `Port ${port} is out of range. Use a port from 1024 to 65535.`);
  }

  private hostPort(e: Entry, port: number | undefined): number | undefined {
    if (port === undefined || (port >= 1 && port <= 65535)) return port;
    return this.fail(e.at, e.path, `Port ${port} is out of range. Use a host port from 1 to 65535.`);
  }

  /** A host port, or "IP:PORT"; the address is left out when the spec gives none. */
  publish(e: Entry): RawPublish | undefined {
    const v = e.value;
    if (isScalar(v) && typeof v.value === 'string') {
      const [, hostIP, port] = IP_PORT.exec(v.value) ?? [];
      if (hostIP === undefined || port === undefined) {
        return this.fail(e.at, e.path, `${shown(v.value)} is not an IPv4 address and port. Write it as "IP:PORT", e.g. "0.0.0.0:8080", or give just a port number.`);
      }
      const hostPort = this.hostPort(e, Number(port));
      return hostPort === undefined ? undefined : { hostIP, hostPort };
    }
    const hostPort = this.hostPort(e, this.integer(e, 'a host port number or an "IP:PORT" string'));
    return hostPort === undefined ? undefined : { hostPort };
  }
}

/** The address a published port ends up on; for checks that must see the default. */
export function effectiveHostIP(p: RawPublish): Publish['hostIP'] {
  return p.hostIP ?? DEFAULTS.publishHost;
}
