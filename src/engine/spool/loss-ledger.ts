/**
 * The loss ledger: a durable trace of rows lost when even the dead-letter spool could not take
 * them — typically because the disk is full, which also empties the audit trail of the event.
 *
 * `<spool>/loss.ledger` is a preallocated file of {@link LEDGER_SLOTS} fixed slots of
 * {@link SLOT_BYTES} bytes, made (by rename, while there is room) before the first batch of a
 * writing command and by `init`. Recording a loss overwrites one slot in place — no new blocks,
 * so it succeeds on a full disk (on filesystems that overwrite in place: ext4, xfs, tmpfs; not
 * on copy-on-write ones such as btrfs or ZFS, where the stderr line is the only trace). A slot
 * holds one process's cumulative record as JSON padded with spaces; blank slots are spaces.
 * A process takes the slot already holding its pid, else a blank one, else the oldest record.
 *
 * The doctor (`dead_letter`) reads it and fails while any slot holds a loss. The fix is to rerun
 * the cycle (it re-reads the sources; rows land idempotently), then remove the file; the next
 * writing command preallocates it again.
 */
import {constants, promises as fs} from 'node:fs'
import path from 'node:path'
import {ensurePrivateDir, writeFileAtomic} from '../../shared/fs-atomic.js'

export const LEDGER_NAME = 'loss.ledger'
export const LEDGER_SLOTS = 16
export const SLOT_BYTES = 512
export const LEDGER_BYTES = LEDGER_SLOTS * SLOT_BYTES

export interface LossRecord {
  version: 1
  pid: number
  lost_batches: number
  lost_rows: number
  first_at: string
  last_at: string
  last_site: string
  last_error: string
}

export interface LossEvent {
  pid: number
  site: string
  rows: number
  at: string
  error: string
}

const BLANK_SLOT = `${' '.repeat(SLOT_BYTES - 1)}\n`

export const ledgerFile = (spoolDir: string): string => path.join(spoolDir, LEDGER_NAME)

/** Make the ledger if it is missing (atomically, full size). False when it cannot be made now. */
export async function prepareLedger(spoolDir: string): Promise<boolean> {
  const file = ledgerFile(spoolDir)
  try {
    const st = await fs.lstat(file)
    return st.isFile() && st.size === LEDGER_BYTES
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return false
  }
  try {
    await ensurePrivateDir(spoolDir)
    await writeFileAtomic(file, BLANK_SLOT.repeat(LEDGER_SLOTS))
    return true
  } catch {
    return false
  }
}

function parseSlot(text: string): LossRecord | null | 'corrupt' {
  const t = text.trim()
  if (t === '') return null
  try {
    const r = JSON.parse(t) as LossRecord
    return typeof r === 'object' && r !== null && Number.isInteger(r.pid) && Number.isInteger(r.lost_rows) ? r : 'corrupt'
  } catch {
    return 'corrupt'
  }
}

/** A record as one slot: JSON padded to {@link SLOT_BYTES}, long text cut so it always fits. */
function slotText(r: LossRecord): string {
  let rec = r
  let json = JSON.stringify(rec)
  for (let cut = 200; Buffer.byteLength(json) > SLOT_BYTES - 1 && cut >= 0; cut -= 50) {
    rec = {...r, last_site: r.last_site.slice(0, Math.min(cut, 80)), last_error: r.last_error.slice(0, cut)}
    json = JSON.stringify(rec)
  }
  return json + ' '.repeat(SLOT_BYTES - 1 - Buffer.byteLength(json)) + '\n'
}

/**
 * Record a loss in place. Needs no free space: the file is opened without create or truncate
 * and one slot is overwritten, then fsync'd. False when there is no usable ledger.
 */
export async function noteLoss(spoolDir: string, event: LossEvent): Promise<boolean> {
  let handle: fs.FileHandle | undefined
  try {
    handle = await fs.open(ledgerFile(spoolDir), constants.O_RDWR | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    const st = await handle.stat()
    if (!st.isFile() || st.size !== LEDGER_BYTES) return false
    const buf = Buffer.alloc(LEDGER_BYTES)
    await handle.read(buf, 0, LEDGER_BYTES, 0)
    const slots = Array.from({length: LEDGER_SLOTS}, (_, i) =>
      parseSlot(buf.subarray(i * SLOT_BYTES, (i + 1) * SLOT_BYTES).toString('utf8')),
    )
    let index = slots.findIndex((s) => s !== null && s !== 'corrupt' && s.pid === event.pid)
    if (index === -1) index = slots.findIndex((s) => s === null)
    if (index === -1) index = slots.findIndex((s) => s === 'corrupt')
    if (index === -1) {
      const ages = slots.map((s) => Date.parse((s as LossRecord).last_at) || 0)
      index = ages.indexOf(Math.min(...ages))
    }
    const prev = slots[index]
    const mine = prev !== null && prev !== 'corrupt' && prev !== undefined && prev.pid === event.pid ? prev : null
    const record: LossRecord = {
      version: 1,
      pid: event.pid,
      lost_batches: (mine?.lost_batches ?? 0) + 1,
      lost_rows: (mine?.lost_rows ?? 0) + event.rows,
      first_at: mine?.first_at ?? event.at,
      last_at: event.at,
      last_site: event.site,
      last_error: event.error,
    }
    await handle.write(Buffer.from(slotText(record)), 0, SLOT_BYTES, index * SLOT_BYTES)
    await handle.sync()
    return true
  } catch {
    return false
  } finally {
    await handle?.close().catch(() => {})
  }
}

export interface LedgerFacts {
  file: string
  /** Whether the file exists at all. */
  exists: boolean
  records: LossRecord[]
  /** Slots that hold something but not a record (never ours). */
  corrupt_slots: number
  /** Why it could not be read (not a regular file, wrong size…), or null. */
  error: string | null
}

/** What the ledger holds, for the doctor. Bounded read, never through a symlink. */
export async function readLedger(spoolDir: string): Promise<LedgerFacts> {
  const file = ledgerFile(spoolDir)
  const facts: LedgerFacts = {file, exists: false, records: [], corrupt_slots: 0, error: null}
  let handle: fs.FileHandle | undefined
  try {
    handle = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    facts.exists = true
    const st = await handle.stat()
    if (!st.isFile()) return {...facts, error: 'not a regular file'}
    const buf = Buffer.alloc(Math.min(st.size, LEDGER_BYTES))
    await handle.read(buf, 0, buf.length, 0)
    for (let i = 0; i * SLOT_BYTES < buf.length; i++) {
      const s = parseSlot(buf.subarray(i * SLOT_BYTES, (i + 1) * SLOT_BYTES).toString('utf8'))
      if (s === 'corrupt') facts.corrupt_slots += 1
      else if (s !== null) facts.records.push(s)
    }
    if (st.size !== LEDGER_BYTES) facts.error = `${st.size} bytes, expected ${LEDGER_BYTES}`
    return facts
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return facts
    return {...facts, exists: true, error: code === 'ELOOP' ? 'a symlink' : (code ?? 'unreadable')}
  } finally {
    await handle?.close().catch(() => {})
  }
}
