/**
 * The history file, `<home>/doctor-history.jsonl`: appended with one `write(2)` on an O_APPEND
 * descriptor (concurrent runs never tear a line), read from its tail only (a run's cost does not
 * grow with the history), opened as the audit writer opens its files — never through a symlink,
 * never blocking on a FIFO, and only a regular file this user owns is used. Any failure is
 * returned as a reason, never thrown: the history is best-effort and costs only itself.
 */
import {constants, promises as fs} from 'node:fs'
import path from 'node:path'
import {myUid} from '../shared/trust.js'
import {MAX_LINE_BYTES, parseLine, serializeLine, type HistoryLine} from './line.js'

export const HISTORY_FILE = 'doctor-history.jsonl'

const APPEND_FLAGS = constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK
const CHUNK = 64 * 1024

export function historyPath(home: string): string {
  return path.join(home, HISTORY_FILE)
}

const errCode = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String(e)

/** Why a descriptor's file is not one to use, or undefined. */
async function refuse(handle: fs.FileHandle, file: string): Promise<string | undefined> {
  const st = await handle.stat()
  if (!st.isFile()) return `${file} is not a regular file`
  const me = myUid()
  if (me !== undefined && st.uid !== me) return `${file} is owned by uid ${st.uid}, not by this user (uid ${me})`
  return undefined
}

export type AppendResult = {written: true; size: number; headTs?: string} | {written: false; reason: string}

/** The first line's `ts`, read from at most its first 256 bytes (ts is the first key). */
async function headTs(handle: fs.FileHandle): Promise<string | undefined> {
  const buf = Buffer.alloc(256)
  const {bytesRead} = await handle.read(buf, 0, buf.length, 0)
  return /^\{"ts":"([^"]{1,40})"/.exec(buf.subarray(0, bytesRead).toString('utf8'))?.[1]
}

/**
 * Append one line. The home must exist already (no brain, no history: the doctor creates no
 * brain). A file whose last byte is not a newline (a torn line) gets one first, so the new line
 * stays whole. Returns the file's size after the write and its first line's date, for the
 * compaction trigger (a few hundred bytes read: the cost does not grow with the file).
 */
export async function appendLine(home: string, line: HistoryLine): Promise<AppendResult> {
  const file = historyPath(home)
  try {
    const home_ = await fs.lstat(home)
    if (!home_.isDirectory()) return {written: false, reason: `${home} is not a directory`}
  } catch (e) {
    return {
      written: false,
      reason: errCode(e) === 'ENOENT' ? `${home} does not exist (no brain yet)` : `cannot inspect ${home} (${errCode(e)})`,
    }
  }
  const text = serializeLine(line)
  if (Buffer.byteLength(text) > MAX_LINE_BYTES) return {written: false, reason: 'the line is too long to keep'}
  let handle: fs.FileHandle | undefined
  try {
    handle = await fs.open(file, APPEND_FLAGS, 0o600)
    const why = await refuse(handle, file)
    if (why) return {written: false, reason: why}
    const {size} = await handle.stat()
    let prefix = ''
    if (size > 0) {
      const last = Buffer.alloc(1)
      await handle.read(last, 0, 1, size - 1)
      if (last[0] !== 0x0a) prefix = '\n'
    }
    const buf = Buffer.from(prefix + text)
    const {bytesWritten} = await handle.write(buf, 0, buf.length)
    if (bytesWritten !== buf.length) return {written: false, reason: `short write to ${file}`}
    return {written: true, size: size + buf.length, headTs: await headTs(handle)}
  } catch (e) {
    return {written: false, reason: `cannot append to ${file} (${errCode(e)})`}
  } finally {
    await handle?.close().catch(() => {})
  }
}

export interface Tail {
  /** The newest lines that parsed, oldest first, at most the number asked for. */
  lines: HistoryLine[]
  /** Lines in the part read that were not history lines. */
  skipped: number
  /** Bytes read: bounded by the lines asked for, not by the file. */
  bytesRead: number
  /** Why nothing could be read (a missing file is not a reason: it is an empty history). */
  reason?: string
}

/**
 * The last `n` lines, read backwards in 64 KiB chunks from the end until `n` whole lines parsed
 * or `n + 1` maximum-length lines' worth of bytes were read — whichever comes first.
 */
export async function readTail(file: string, n: number): Promise<Tail> {
  const out: Tail = {lines: [], skipped: 0, bytesRead: 0}
  let handle: fs.FileHandle | undefined
  try {
    handle = await fs.open(file, READ_FLAGS)
  } catch (e) {
    if (errCode(e) !== 'ENOENT') out.reason = `cannot read ${file} (${errCode(e)})`
    return out
  }
  try {
    const why = await refuse(handle, file)
    if (why) return {...out, reason: why}
    const {size} = await handle.stat()
    const budget = (n + 1) * (MAX_LINE_BYTES + 1)
    let pos = size
    let rest = Buffer.alloc(0)
    // The bytes kept in `rest` were dropped: more than a line can hold, without a newline. The
    // piece they start ends at the next newline found and is skipped whole. Dropping them keeps
    // each read linear: a huge line is never concatenated chunk by chunk.
    let overlong = false
    const found: HistoryLine[] = []
    const piece = (bytes: Buffer): void => {
      if (overlong) {
        out.skipped += 1
        overlong = false
      } else take(bytes, found, out)
    }
    while (pos > 0 && found.length < n && out.bytesRead < budget) {
      const len = Math.min(CHUNK, pos)
      pos -= len
      const chunk = Buffer.alloc(len)
      const {bytesRead} = await handle.read(chunk, 0, len, pos)
      out.bytesRead += bytesRead
      rest = Buffer.concat([chunk.subarray(0, bytesRead), rest])
      // Every newline-terminated piece after the first newline is a whole line; the head may be cut.
      let end = rest.length
      for (let i = rest.length - 1; i >= 0 && found.length < n; i--) {
        if (rest[i] !== 0x0a) continue
        piece(rest.subarray(i + 1, end))
        end = i
      }
      rest = rest.subarray(0, end)
      if (rest.length > MAX_LINE_BYTES) {
        overlong = true
        rest = Buffer.alloc(0)
      }
    }
    if (pos === 0 && found.length < n && (rest.length > 0 || overlong)) piece(rest)
    out.lines = found.reverse()
    return out
  } catch (e) {
    return {...out, reason: `cannot read ${file} (${errCode(e)})`}
  } finally {
    await handle.close().catch(() => {})
  }
}

function take(bytes: Buffer, found: HistoryLine[], out: Tail): void {
  if (bytes.length === 0) return
  const line = bytes.length > MAX_LINE_BYTES ? undefined : parseLine(bytes.toString('utf8'))
  if (line) found.push(line)
  else out.skipped += 1
}
