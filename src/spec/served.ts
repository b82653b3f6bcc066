/**
 * What a static site may not serve. nginx serves every file under a site's folder, so a folder
 * that holds the spec, a TLS key or certificate, a CA, or podvoy's own directories would hand
 * them to anyone who asks. A section that reads such a file registers it with
 * {@link SpecContext.secrets} (`gateway.tls` does; a CA for mutual TLS should too), and the
 * check runs once every section has been read.
 */
import type { SpecContext } from './context.js';
import { isInside } from './fields.js';
import { shownPath, type Entry } from './positions.js';

/** A file no site may contain. */
export interface Secret {
  /** Its real path. */
  readonly path: string;
  /** What it is, for messages: "the gateway's TLS key (gateway.tls.key)". */
  readonly what: string;
}

/** A static site's folder, as its real path, and the key that names it. */
export interface Site {
  readonly root: string;
  readonly entry: Entry;
}

const FIX = 'Serve a folder that holds only the site, e.g. static: ./site.';

export function checkServedPaths(ctx: SpecContext): void {
  const specFile = ctx.host.realpath(ctx.host.absFile) ?? ctx.host.absFile;
  const secrets: Secret[] = [{ path: specFile, what: 'the spec file itself' }, ...ctx.secrets];
  for (const { root, entry } of ctx.sites) {
    const at = (message: string) => ctx.fail(entry.at, entry.path, message);
    const shownRoot = shownPath(root);
    for (const secret of secrets) {
      if (isInside(secret.path, root)) {
        at(`The site ${shownRoot} contains ${secret.what}, ${shownPath(secret.path)}, and nginx would serve it to anyone. ${FIX}`);
      }
    }
    for (const dir of ctx.host.privateDirs ?? []) {
      if (isInside(dir, root)) {
        at(`The site ${shownRoot} contains podvoy's own directory ${shownPath(dir)} (TLS keys, mesh files, sockets), and nginx would serve it to anyone. ${FIX}`);
      } else if (isInside(root, dir)) {
        at(`The site ${shownRoot} lies inside podvoy's own directory ${shownPath(dir)} (TLS keys, mesh files, sockets), and nginx would serve what is there. Keep the site elsewhere.`);
      }
    }
  }
}
