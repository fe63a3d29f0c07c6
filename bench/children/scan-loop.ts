/**
 * The line loop of the what-if reader prototypes (doctor-window.ts, audit-scan.ts `prefilter`):
 * the same week-file selection and head-skipping seek as the app's reader (its own
 * `weeksTouching` / `seekStart`), 1 MiB positional reads, one UTF-8 check per chunk, and every
 * complete line handed to `onLine(buf, start, end, utf8Known)`. Not the product: a harness for
 * measuring proposed fast paths against it.
 */
import {isUtf8} from 'node:buffer'
import {promises as fs} from 'node:fs'
import path from 'node:path'

type IsoModule = typeof import('../../src/engine/audit/iso-week.js')
type ScanModule = typeof import('../../src/engine/audit/line-scan.js')

export interface ScanLoopOptions {
  dir: string
  feature: string
  from: number
  now: number
  iso: IsoModule
  scan: ScanModule
  onLine: (buf: Buffer, s: number, e: number, utf8: boolean) => void
}

const SLACK_MS = 3_600_000
const SEEK_MIN_BYTES = 8 << 20

export async function scanLines(o: ScanLoopOptions): Promise<{bytes_read: number}> {
  const stats = {bytes_read: 0}
  for (const key of o.iso.weeksTouching(o.from, o.now)) {
    const file = path.join(o.dir, `${o.feature}-${key}.jsonl`)
    let fh
    try {
      fh = await fs.open(file, 'r')
    } catch {
      continue
    }
    try {
      const size = (await fh.stat()).size
      const parsed = o.iso.parseAuditFileName(path.basename(file))
      const weekStart = parsed ? o.iso.isoWeekStart(parsed.isoYear, parsed.week).getTime() : 0
      let pos = size >= SEEK_MIN_BYTES && o.from - SLACK_MS > weekStart ? await o.scan.seekStart(fh, size, o.from - SLACK_MS, stats) : 0
      const buf = Buffer.allocUnsafe(1 << 20)
      let carry = Buffer.alloc(0)
      while (pos < size) {
        const {bytesRead} = await fh.read(buf, 0, Math.min(buf.length, size - pos), pos)
        if (bytesRead === 0) break
        pos += bytesRead
        stats.bytes_read += bytesRead
        const chunk = carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead)
        const lastNl = chunk.lastIndexOf(0x0a)
        if (lastNl < 0) {
          carry = Buffer.from(chunk)
          continue
        }
        const utf8 = isUtf8(chunk.subarray(0, lastNl))
        let start = 0
        for (;;) {
          const nl = chunk.indexOf(0x0a, start)
          if (nl < 0 || nl > lastNl) break
          if (nl > start) o.onLine(chunk, start, nl, utf8)
          start = nl + 1
        }
        carry = Buffer.from(chunk.subarray(lastNl + 1))
      }
      if (carry.length > 0) o.onLine(carry, 0, carry.length, false)
    } finally {
      await fh.close()
    }
  }
  return stats
}
