/**
 * How the embedded drivers are imported. They are ES modules that find their WebAssembly and
 * data files next to themselves, so the bundled CLI leaves them in node_modules; and code the
 * bundle's loader runs from a V8 code cache (bin/load.js) cannot call `import()` on Node 20
 * without an experimental flag. So the loader hands in its own `import` (setDriverImporter);
 * unbundled (tests, the TypeScript build) this is plain `import()`.
 */
type Importer = (specifier: string) => Promise<unknown>

let importer: Importer = (specifier) => import(specifier)

/** Called once by bin/load.js, with an `import` of a real ES module. */
export function setDriverImporter(f: Importer): void {
  importer = f
}

/** `import(specifier)`, typed by the caller (`importDriver<typeof import('…')>('…')`). */
export function importDriver<T>(specifier: string): Promise<T> {
  return importer(specifier) as Promise<T>
}
