/**
 * Audit trail generator in the engine's real row format (audit-formats.md): `batch-retry` and
 * `pool-recovery` JSON lines with `ts` first (our writer's key order, see engine/audit/writer.ts
 * and base-engine.ts), in ISO-week files named `<feature>-<ISO-year>-W<NN>.jsonl` by the row's
 * own timestamp, directory 0700, files 0600. Rows are appended in time order with a little
 * disorder (≤ 2 s, as concurrent appenders produce), deterministic for a given seed.
 *
 * Outcome mix of `batch-retry`: 70 % `success` (a retry was scheduled), 29 % `recovered`,
 * 1 % `exhausted` with `spooled: true` and a `dead_letter_id`. About 190 bytes a row.
 */
import {closeSync, mkdirSync, openSync, writeSync} from 'node:fs'
import path from 'node:path'
import {auditFileName} from '../../src/engine/audit/iso-week.js'

const SITES = ['cycle.pages', 'cycle.timeline', 'cycle.links'] as const
const ERRORS: ReadonlyArray<readonly [string, string]> = [
  ['terminating connection due to administrator command', '57P01'],
  ['connect ECONNREFUSED <REDACTED:ipv4>:5432', 'ECONNREFUSED'],
  ['write CONNECTION_CLOSED <REDACTED:host>:5432', 'CONNECTION_CLOSED'],
  ['the database system is starting up', '57P03'],
  ['sorry, too many clients already', '53300'],
]
const POOL_KINDS = ['reconnect_other', 'reconnect_succeeded', 'reap_detected', 'reconnect_succeeded', 'reconnect_failed'] as const

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** One `batch-retry` line (with its trailing newline) and whether it is `exhausted`. */
export function batchRetryLine(tsMs: number, i: number, r: () => number): {line: string; exhausted: boolean} {
  const ts = new Date(tsMs).toISOString()
  const site = SITES[i % SITES.length]!
  const size = 250 + Math.floor(r() * 750)
  const pick = r()
  if (pick < 0.01) {
    const [msg, code] = ERRORS[i % ERRORS.length]!
    const id = `${ts.replace(/[-:.]/g, '')}-${site.replace(/[^A-Za-z0-9_-]+/g, '_')}-${Math.floor(r() * 0xffffffff)
      .toString(16)
      .padStart(8, '0')}`
    return {
      line: `{"ts":"${ts}","site":"${site}","batch_size":${size},"attempt":4,"outcome":"exhausted","delay_ms":0,"error_message_summary":"${msg}","error_code":"${code}","spooled":true,"dead_letter_id":"${id}"}\n`,
      exhausted: true,
    }
  }
  if (pick < 0.3) {
    return {
      line: `{"ts":"${ts}","site":"${site}","batch_size":${size},"attempt":${2 + (i % 3)},"outcome":"recovered","delay_ms":0,"error_message_summary":"landed after retry"}\n`,
      exhausted: false,
    }
  }
  const [msg, code] = ERRORS[i % ERRORS.length]!
  const attempt = 1 + (i % 3)
  const delay = attempt === 1 ? 0 : 1000 + Math.floor(r() * 2000)
  return {
    line: `{"ts":"${ts}","site":"${site}","batch_size":${size},"attempt":${attempt},"outcome":"success","delay_ms":${delay},"error_message_summary":"${msg}","error_code":"${code}"}\n`,
    exhausted: false,
  }
}

/** One `pool-recovery` line. */
export function poolRecoveryLine(tsMs: number, i: number, r: () => number): string {
  const ts = new Date(tsMs).toISOString()
  const kind = POOL_KINDS[i % POOL_KINDS.length]!
  const pid = 20_000 + Math.floor(r() * 50)
  if (kind === 'reconnect_succeeded') return `{"ts":"${ts}","kind":"${kind}","pid":${pid},"duration_ms":${10 + Math.floor(r() * 40)}}\n`
  if (kind === 'reconnect_failed')
    return `{"ts":"${ts}","kind":"${kind}","pid":${pid},"error_summary":"connect ECONNREFUSED <REDACTED:ipv4>:5432","duration_ms":${Math.floor(r() * 5)}}\n`
  return `{"ts":"${ts}","kind":"${kind}","pid":${pid},"error_summary":"terminating connection due to administrator command"}\n`
}

/** Appends lines to ISO-week files of one feature, buffered, one open descriptor per file. */
class WeekFiles {
  private fds = new Map<string, number>()
  private bufs = new Map<string, string[]>()
  private sizes = new Map<string, number>()
  bytes = 0

  constructor(
    private readonly dir: string,
    private readonly feature: string,
  ) {}

  add(tsMs: number, line: string): void {
    const file = path.join(this.dir, auditFileName(this.feature, new Date(tsMs)))
    let buf = this.bufs.get(file)
    if (!buf) {
      buf = []
      this.bufs.set(file, buf)
      this.sizes.set(file, 0)
    }
    buf.push(line)
    const size = this.sizes.get(file)! + line.length
    this.sizes.set(file, size)
    if (size >= 1 << 20) this.flushFile(file)
  }

  private flushFile(file: string): void {
    const buf = this.bufs.get(file)
    if (!buf || buf.length === 0) return
    let fd = this.fds.get(file)
    if (fd === undefined) {
      fd = openSync(file, 'a', 0o600)
      this.fds.set(file, fd)
    }
    const data = Buffer.from(buf.join(''), 'utf8')
    writeSync(fd, data)
    this.bytes += data.length
    this.bufs.set(file, [])
    this.sizes.set(file, 0)
  }

  close(): string[] {
    for (const file of this.bufs.keys()) this.flushFile(file)
    for (const fd of this.fds.values()) closeSync(fd)
    const files = [...this.fds.keys()]
    this.fds.clear()
    return files
  }
}

export interface GeneratedAudit {
  files: string[]
  bytes: number
  batchRetryRows: number
  poolRecoveryRows: number
  /** `ts` (ms) of every exhausted batch-retry row, for exact expected counts. */
  exhaustedTs: number[]
}

/**
 * `rows` audit rows spread evenly over [fromMs, toMs): every 20th is `pool-recovery` when
 * `poolRecovery` is set, the rest `batch-retry`.
 */
export function generateAudit(
  dir: string,
  options: {fromMs: number; toMs: number; rows: number; poolRecovery: boolean; seed?: number},
): GeneratedAudit {
  mkdirSync(dir, {recursive: true, mode: 0o700})
  const r = rng(options.seed ?? 42)
  const batch = new WeekFiles(dir, 'batch-retry')
  const pool = new WeekFiles(dir, 'pool-recovery')
  const step = (options.toMs - options.fromMs) / options.rows
  const out: GeneratedAudit = {files: [], bytes: 0, batchRetryRows: 0, poolRecoveryRows: 0, exhaustedTs: []}
  for (let i = 0; i < options.rows; i++) {
    // Up to 2 s of disorder, never past the range.
    const ts = Math.max(options.fromMs, Math.floor(options.fromMs + i * step - r() * 2000))
    if (options.poolRecovery && i % 20 === 19) {
      pool.add(ts, poolRecoveryLine(ts, i, r))
      out.poolRecoveryRows += 1
    } else {
      const {line, exhausted} = batchRetryLine(ts, i, r)
      batch.add(ts, line)
      out.batchRetryRows += 1
      if (exhausted) out.exhaustedTs.push(ts)
    }
  }
  out.files = [...batch.close(), ...pool.close()].sort()
  out.bytes = batch.bytes + pool.bytes
  return out
}
