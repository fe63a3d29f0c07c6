/**
 * The audit writer: best-effort, append-only, one `write(2)` per row.
 *
 * - Each row is serialised to one line (`JSON.stringify(row) + "\n"`) and written with a single
 *   `write` on a descriptor opened with `O_APPEND` (flag `'a'`), so lines from concurrent
 *   processes never interleave.
 * - The file is chosen from the **row's** `ts` (ISO week, UTC), not from the wall clock.
 * - The directory is created 0700 (chmod when we created it, whatever the umask), files 0600.
 * - Every string field except `ts` and `dead_letter_id` (a key into the spool) goes through
 *   `redactForStorage` — labels such as `site` and `command` too: they are normally unchanged by it, and a
 *   label that embeds a URL must not leak it.
 * - A failed write reports one line on stderr (`gbrain: audit write failed (<feature>): <reason>`)
 *   through `onError` and never throws or rejects to the caller.
 * - Rows from one writer land in call order: async writes go through one promise chain.
 */
import * as fs from 'node:fs'
import * as path from 'node:path'
import {systemClock, type Clock} from '../../shared/clock.js'
import {redactForStorage, summarizeError} from '../../shared/redact.js'
import {auditFileName} from './iso-week.js'
import type {AuditRowMap, WritableAuditFeature} from './types.js'
import {safeLine} from '../../shared/safe-text.js'

export interface AuditWriterOptions {
  /** The audit directory (created 0700 on first write). */
  dir: string
  /**
   * The engine's clock (the one time seam, clock.ts); used only for a row whose `ts` is missing
   * or unparseable. Default: the system clock.
   */
  clock?: Pick<Clock, 'now'>
  /** Receives one line (no newline) per failed write. Default: stderr. */
  onError?: (line: string) => void
}

/** Fields never passed through `redactForStorage`: the timestamp and the dead-letter key. */
const VERBATIM_KEYS = new Set(['ts', 'dead_letter_id'])
const MAX_STACK_FRAMES = 20
const MAX_DEPTH = 6
const FEATURE_RE = /^[a-z0-9][a-z0-9-]*$/

function sanitize(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactForStorage(value)
  if (value === null || typeof value !== 'object') return value
  if (depth >= MAX_DEPTH) return undefined
  if (Array.isArray(value)) return value.map((v) => sanitize(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = sanitize(v, depth + 1)
  return out
}

/** The row as written: `ts` first (cheap for readers to find), free text redacted, stack capped. */
function sanitizeRow(row: Record<string, unknown>, fallbackTs: () => string): Record<string, unknown> {
  const out: Record<string, unknown> = {ts: row.ts === undefined ? fallbackTs() : row.ts}
  for (const [key, value] of Object.entries(row)) {
    if (key === 'ts') continue
    if (VERBATIM_KEYS.has(key)) out[key] = value
    else if (key === 'caller_stack' && Array.isArray(value)) out[key] = sanitize(value.slice(0, MAX_STACK_FRAMES), 1)
    else out[key] = sanitize(value, 1)
  }
  return out
}

function defaultOnError(line: string): void {
  try {
    process.stderr.write(`${safeLine(line)}\n`)
  } catch {
    // stderr itself is gone: nothing left to tell
  }
}

function errnoCode(e: unknown): string | undefined {
  const code = (e as {code?: unknown} | null)?.code
  return typeof code === 'string' ? code : undefined
}

interface Prepared {
  feature: string
  file: string
  line: string
}

export class AuditWriter {
  readonly dir: string
  private readonly clock: Pick<Clock, 'now'>
  private readonly onError: (line: string) => void
  private tail: Promise<void> = Promise.resolve()
  private dirReady = false
  /** Rows written and writes that failed, since construction. */
  readonly stats = {written: 0, failed: 0}

  constructor(options: AuditWriterOptions) {
    this.dir = options.dir
    this.clock = options.clock ?? systemClock
    this.onError = options.onError ?? defaultOnError
  }

  /**
   * Append one row. The row is captured (redacted and serialised) synchronously, then written in
   * call order. The returned promise resolves once the line is written or the failure reported;
   * it never rejects, so fire-and-forget callers cannot cause an unhandled rejection.
   */
  append<F extends WritableAuditFeature>(feature: F, row: AuditRowMap[F]): Promise<void> {
    const prepared = this.prepare(feature, row)
    if (prepared === null) return this.tail
    const next = this.tail.then(() => this.writeAsync(prepared))
    this.tail = next
    return next
  }

  /**
   * Append one row synchronously — for `process.on('exit')` and other places where nothing async
   * runs any more. Bypasses the async queue: order relative to still-pending `append` calls is
   * not guaranteed. Never throws.
   */
  appendSync<F extends WritableAuditFeature>(feature: F, row: AuditRowMap[F]): void {
    const prepared = this.prepare(feature, row)
    if (prepared === null) return
    try {
      this.ensureDirSync()
      appendLineSync(prepared.file, prepared.line)
      this.stats.written += 1
    } catch (e) {
      this.dirReady = false
      this.report(prepared.feature, e)
    }
  }

  /** Resolves when every row appended so far is written (or its failure reported). Never rejects. */
  flush(): Promise<void> {
    return this.tail
  }

  private prepare(feature: string, row: unknown): Prepared | null {
    try {
      if (typeof feature !== 'string' || !FEATURE_RE.test(feature)) {
        throw new Error(`invalid feature name (expected lower-case letters, digits and dashes)`)
      }
      if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new Error('row is not an object')
      const nowIso = (): string => new Date(this.clock.now()).toISOString()
      const clean = sanitizeRow(row as Record<string, unknown>, nowIso)
      const tsMs = typeof clean.ts === 'string' ? Date.parse(clean.ts) : Number.NaN
      const date = new Date(Number.isFinite(tsMs) ? tsMs : this.clock.now())
      const file = path.join(this.dir, auditFileName(feature, date))
      return {feature, file, line: `${JSON.stringify(clean)}\n`}
    } catch (e) {
      this.report(String(feature), e)
      return null
    }
  }

  private async writeAsync(p: Prepared): Promise<void> {
    try {
      await this.ensureDir()
      try {
        await appendLine(p.file, p.line)
      } catch (e) {
        // The directory vanished since we created it (pruned, tmp cleaner): recreate once.
        if (errnoCode(e) !== 'ENOENT') throw e
        this.dirReady = false
        await this.ensureDir()
        await appendLine(p.file, p.line)
      }
      this.stats.written += 1
    } catch (e) {
      this.dirReady = false
      this.report(p.feature, e)
    }
  }

  private async ensureDir(): Promise<void> {
    if (this.dirReady) return
    const created = await fs.promises.mkdir(this.dir, {recursive: true, mode: 0o700})
    if (created !== undefined) await fs.promises.chmod(this.dir, 0o700)
    this.dirReady = true
  }

  private ensureDirSync(): void {
    if (this.dirReady) return
    const created = fs.mkdirSync(this.dir, {recursive: true, mode: 0o700})
    if (created !== undefined) fs.chmodSync(this.dir, 0o700)
    this.dirReady = true
  }

  private report(feature: string, e: unknown): void {
    this.stats.failed += 1
    try {
      this.onError(`gbrain: audit write failed (${redactForStorage(feature)}): ${summarizeError(e)}`)
    } catch {
      // a throwing reporter must not break the caller either
    }
  }
}

/**
 * How an audit file is opened for append: never through a symlink (O_NOFOLLOW: in a shared audit
 * directory another user could point our rows at any file we can write), never blocking on a
 * FIFO (O_NONBLOCK), and only a regular file is written (checked on the open descriptor).
 */
const APPEND_FLAGS =
  fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK

class NotRegularFileError extends Error {
  readonly code = 'ENOTREG'
  constructor(file: string) {
    super(`${file} is not a regular file; refusing to append audit rows to it`)
  }
}

/** One `write` on an O_APPEND descriptor (a short write, which local files do not do, is completed). */
async function appendLine(file: string, line: string): Promise<void> {
  const buf = Buffer.from(line, 'utf8')
  const fh = await fs.promises.open(file, APPEND_FLAGS, 0o600)
  try {
    if (!(await fh.stat()).isFile()) throw new NotRegularFileError(file)
    let offset = 0
    while (offset < buf.length) {
      const {bytesWritten} = await fh.write(buf, offset, buf.length - offset)
      if (bytesWritten <= 0) throw new Error('short write to audit file')
      offset += bytesWritten
    }
  } finally {
    await fh.close()
  }
}

function appendLineSync(file: string, line: string): void {
  const buf = Buffer.from(line, 'utf8')
  const fd = fs.openSync(file, APPEND_FLAGS, 0o600)
  try {
    if (!fs.fstatSync(fd).isFile()) throw new NotRegularFileError(file)
    let offset = 0
    while (offset < buf.length) {
      const written = fs.writeSync(fd, buf, offset, buf.length - offset)
      if (written <= 0) throw new Error('short write to audit file')
      offset += written
    }
  } finally {
    fs.closeSync(fd)
  }
}
