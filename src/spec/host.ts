/** What parsing needs from the file system, so that parsing itself stays pure. */
export interface SpecHost {
  /** Absolute directory of the spec file. */
  readonly dir: string;
  /** Absolute path of the spec file. */
  readonly absFile: string;
  isDirectory(absPath: string): boolean;
  /** Whether a regular file (or a symlink to one) exists at the path. */
  isFile(absPath: string): boolean;
  /**
   * Resolves symlinks; only called for paths `isDirectory` or `isFile` accepted. Undefined when
   * the real path is not valid UTF-8 (no config podvoy writes could name it).
   */
  realpath(absPath: string): string | undefined;
  /** podvoy's own directories (state, sockets), as real paths: no static site may overlap one. */
  readonly privateDirs?: readonly string[];
}
