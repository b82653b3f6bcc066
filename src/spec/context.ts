import type { Node } from 'yaml';
import { FieldReader } from './fields.js';
import type { Claim } from './host-ports.js';
import { MeshSecurityReader } from './mtls.js';
import { listed, shown } from './positions.js';
import type { Secret, Site } from './served.js';

/** What the sections of a spec share while it is read: the host ports claimed, the service names. */
export class SpecContext extends FieldReader {
  readonly claims: Claim[] = [];
  /** `mtls` and every service's `allow`, checked against each other once all are read. */
  readonly security = new MeshSecurityReader(this.problems, (e) => this.inSpecDir(e, 'file'));
  /** Files a static site may not contain; see served.ts. */
  readonly secrets: Secret[] = [];
  /** The static sites, checked against the secrets once every section is read. */
  readonly sites: Site[] = [];
  /** Names of the spec's services, once known; references to services are checked against them. */
  serviceNames: ReadonlySet<string> | undefined;
  private serviceList = '';

  setServiceNames(names: readonly string[] | undefined): void {
    this.serviceNames = names && new Set(names);
    this.serviceList = names ? listed(names) : '';
  }

  /** A name that must be one of the spec's services (unchecked while the services are unknown). */
  serviceRef(at: Node, path: string, name: string | undefined): string | undefined {
    if (name === undefined || !this.serviceNames || this.serviceNames.has(name)) return name;
    return this.fail(at, path, `No service ${shown(name)}. Services: ${this.serviceList}.`);
  }
}
