/**
 * A CommonJS dependency loaded on first use. Its exports are taken from `default`, which holds
 * module.exports both under Node (which also guesses named exports) and in the CLI's esbuild
 * bundle (which gives a lazily imported CommonJS module no named exports at all).
 */
export async function importCommonJs<T>(load: () => Promise<T>): Promise<T> {
  const loaded = await load();
  return (loaded as { default?: T }).default ?? loaded;
}
