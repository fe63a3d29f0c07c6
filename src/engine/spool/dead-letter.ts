/**
 * The dead-letter spool: one file per exhausted batch under `<home>/dead-letter/` (dir 0700,
 * files 0600), written atomically before the batch call returns its error. It holds row data,
 * so nothing here ever prints rows. A corrupt entry is reported and kept, never deleted.
 */
import {randomBytes} from 'node:crypto'
import {promises as fs} from 'node:fs'
import path from 'node:path'
import {ensurePrivateDir, writeFileAtomic} from '../../shared/fs-atomic.js'

export const SPOOL_FORMAT_VERSION = 1

export interface DeadLetterEntry {
  version: number
  id: string
  site: string
  /** BatchWriter.target: which writer lands these rows on replay. */
  target: string
  created_at: string
  attempts: number
  /** The classified last error, redacted. */
  error: {kind: string; code?: string; message: string}
  row_count: number
  rows: unknown[]
}

export interface SpoolListing {
  id: string
  file: string
  size: number
  mtimeMs: number
}

export class CorruptSpoolEntryError extends Error {
  readonly code = 'SPOOL_ENTRY_CORRUPT'
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`dead-letter entry ${path.basename(file)} is corrupt: ${reason}`)
    this.name = 'CorruptSpoolEntryError'
  }
}

const ENTRY_SUFFIX = '.json'

/** A filesystem-safe id that sorts by creation time. */
export function newDeadLetterId(site: string, now: Date): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '').replace('T', 'T')
  const slug = site.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 40) || 'batch'
  return `${stamp}-${slug}-${randomBytes(4).toString('hex')}`
}

export class DeadLetterSpool {
  constructor(readonly dir: string) {}

  fileFor(id: string): string {
    return path.join(this.dir, `${id}${ENTRY_SUFFIX}`)
  }

  /** Durably store an entry; resolves only once it is on disk under its final name. */
  async write(entry: DeadLetterEntry): Promise<string> {
    await ensurePrivateDir(this.dir)
    const file = this.fileFor(entry.id)
    await writeFileAtomic(file, JSON.stringify(entry) + '\n')
    return file
  }

  /** Entries oldest first. Temp files of an interrupted write are ignored. A missing dir is empty. */
  async list(): Promise<SpoolListing[]> {
    let names: string[]
    try {
      names = await fs.readdir(this.dir)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw e
    }
    const out: SpoolListing[] = []
    for (const name of names.sort()) {
      if (!name.endsWith(ENTRY_SUFFIX) || name.startsWith('.')) continue
      const file = path.join(this.dir, name)
      try {
        const st = await fs.lstat(file)
        out.push({id: name.slice(0, -ENTRY_SUFFIX.length), file, size: st.size, mtimeMs: st.mtimeMs})
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') out.push({id: name.slice(0, -ENTRY_SUFFIX.length), file, size: -1, mtimeMs: 0})
      }
    }
    return out
  }

  /** Read and validate one entry; throws CorruptSpoolEntryError for anything unusable. */
  async read(id: string): Promise<DeadLetterEntry> {
    const file = this.fileFor(id)
    let text: string
    try {
      text = await fs.readFile(file, 'utf8')
    } catch (e) {
      throw new CorruptSpoolEntryError(file, `unreadable (${(e as NodeJS.ErrnoException).code ?? 'error'})`)
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw new CorruptSpoolEntryError(file, 'not valid JSON')
    }
    const problem = validateEntry(parsed)
    if (problem) throw new CorruptSpoolEntryError(file, problem)
    return parsed as DeadLetterEntry
  }

  async remove(id: string): Promise<void> {
    await fs.rm(this.fileFor(id), {force: true})
  }
}

function validateEntry(x: unknown): string | undefined {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return 'not a JSON object'
  const e = x as Record<string, unknown>
  if (e.version !== SPOOL_FORMAT_VERSION) return `unsupported version ${JSON.stringify(e.version)}`
  for (const key of ['id', 'site', 'target', 'created_at'] as const) {
    if (typeof e[key] !== 'string' || e[key] === '') return `field ${key} missing or not a string`
  }
  if (!Array.isArray(e.rows)) return 'field rows is not an array'
  if (typeof e.row_count !== 'number' || e.row_count !== e.rows.length) return 'row_count does not match rows (partial entry)'
  return undefined
}
