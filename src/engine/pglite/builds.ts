/**
 * Which PGlite opens which data directory. A PGlite build embeds one PostgreSQL major and opens
 * only that major's directories; when it cannot, it says only "PGlite failed to initialize
 * properly" — the same words as for a damaged directory. So the major is read from the data
 * dir's `PG_VERSION` before opening, and the matching build is loaded (lazily: each is a few MB
 * of WASM, and a run needs one).
 *
 * - 17: `@electric-sql/pglite` 0.4.3, the version gbrain pins (PostgreSQL 17.5). New brains are
 *   made with it, so gbrain can open what `gbrain init` makes. Opened with `vector` and
 *   `pg_trgm`, the extensions gbrain installs.
 * - 18: PGlite 0.5.16 (PostgreSQL 18), for brains earlier versions of this tool made. Opened with
 *   `pg_trgm`; 0.5.x ships no `vector` (it is a separate package pinned to another PGlite patch
 *   release), and those brains never installed it.
 */
import {readSmallFileSync} from '../../shared/fs-read.js'
import path from 'node:path'
import {importDriver} from './driver-import.js'

export const DEFAULT_MAJOR = 17
export const SUPPORTED_MAJORS: readonly number[] = [17, 18]

/** The slice of a PGlite instance the engine uses (both builds share it). */
export interface PGliteInstance {
  readonly waitReady: Promise<void>
  readonly closed: boolean
  query<T>(query: string, params?: unknown[]): Promise<{rows: T[]; fields?: {name: string}[]; affectedRows?: number; rowCount?: number}>
  close(): Promise<void>
}

export interface PGliteBuild {
  major: number
  /** e.g. "@electric-sql/pglite 0.4.3". */
  name: string
  /** Extensions loaded with every instance. */
  extensions: readonly string[]
  open(dataDir: string): PGliteInstance
}

const loading = new Map<number, Promise<PGliteBuild>>()

/** The build for `major` (loaded once per process); undefined for a major no build opens. */
export function loadBuild(major: number): Promise<PGliteBuild> | undefined {
  if (!SUPPORTED_MAJORS.includes(major)) return undefined
  let p = loading.get(major)
  if (!p) {
    p = major === 17 ? load17() : load18()
    p.catch(() => loading.delete(major))
    loading.set(major, p)
  }
  return p
}

async function load17(): Promise<PGliteBuild> {
  const [{PGlite}, {vector}, {pg_trgm}] = await Promise.all([
    importDriver<typeof import('@electric-sql/pglite')>('@electric-sql/pglite'),
    importDriver<typeof import('@electric-sql/pglite/vector')>('@electric-sql/pglite/vector'),
    importDriver<typeof import('@electric-sql/pglite/contrib/pg_trgm')>('@electric-sql/pglite/contrib/pg_trgm'),
  ])
  return {
    major: 17,
    name: '@electric-sql/pglite 0.4.3',
    extensions: ['vector', 'pg_trgm'],
    open: (dataDir) => new PGlite(dataDir, {extensions: {vector, pg_trgm}}),
  }
}

async function load18(): Promise<PGliteBuild> {
  const [{PGlite}, {pg_trgm}] = await Promise.all([
    importDriver<typeof import('pglite-pg18')>('pglite-pg18'),
    importDriver<typeof import('pglite-pg18/contrib/pg_trgm')>('pglite-pg18/contrib/pg_trgm'),
  ])
  return {
    major: 18,
    name: '@electric-sql/pglite 0.5.16',
    extensions: ['pg_trgm'],
    open: (dataDir) => new PGlite(dataDir, {extensions: {pg_trgm}}),
  }
}

export type MajorReading = {kind: 'none'} | {kind: 'major'; major: number} | {kind: 'unreadable'; detail: string}

/** The data dir's PostgreSQL major from `PG_VERSION` (`none` when there is no such file). */
export function readMajor(dataDir: string): MajorReading {
  let text: string
  try {
    text = readSmallFileSync(path.join(dataDir, 'PG_VERSION'), 64)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return {kind: 'none'}
    return {kind: 'unreadable', detail: `PG_VERSION cannot be read (${code ?? 'error'})`}
  }
  const m = /^\s*(\d{1,3})(?:\.\d+)?\s*$/.exec(text.slice(0, 64))
  if (!m) return {kind: 'unreadable', detail: `PG_VERSION holds ${JSON.stringify(text.slice(0, 16))}, not a major version`}
  return {kind: 'major', major: Number(m[1])}
}
