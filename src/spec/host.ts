/** What parsing needs from the file system, so that parsing itself stays pure. */
export interface SpecHost {
  /** Absolute directory of the spec file. */
  readonly dir: string;
  /** Absolute path of the spec file. */
  readonly absFile: string;
  isDirectory(absPath: string): boolean;
  /** Whether a regular file (or a symlink to one) exists at the path. */
  isFile(absPath: string): boolean;
  /** Resolves symlinks; only called for paths `isDirectory` or `isFile` accepted. */
  realpath(absPath: string): string;
}
