/**
 * Reading a source's directory: markdown files only, sorted, hidden entries and symlinks skipped
 * (a symlink loop cannot trap the walk), size and binary checks before parsing.
 */
import {createHash} from 'node:crypto'
import {closeSync, constants, fstatSync, openSync, promises as fs, readSync} from 'node:fs'
import path from 'node:path'
import {looksBinary, parseNote, slugify, type ParsedNote} from './markdown.js'

export const DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024

export interface MarkdownListing {
  files: string[]
  /** Subdirectories that could not be read (EACCES, ENAMETOOLONG…): skipped and counted, never fatal. */
  unreadableDirs: {dir: string; code: string}[]
}

/**
 * Every markdown file under `root`, sorted. Only an unreadable root fails (the source itself is
 * missing or forbidden); a subdirectory that cannot be read is skipped and reported. The walk
 * keeps its own stack, so a pathologically deep tree costs memory, not the call stack.
 */
export async function listMarkdownFiles(root: string): Promise<MarkdownListing> {
  const files: string[] = []
  const unreadableDirs: MarkdownListing['unreadableDirs'] = []
  const stack = [root]
  while (stack.length > 0) {
    const dir = stack.pop()!
    let entries
    try {
      entries = await fs.readdir(dir, {withFileTypes: true})
    } catch (e) {
      if (dir === root) throw e
      unreadableDirs.push({dir, code: (e as NodeJS.ErrnoException).code ?? 'error'})
      continue
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue
      const p = path.join(dir, e.name)
      if (e.isDirectory()) stack.push(p)
      else if (e.isFile() && /\.md$/i.test(e.name)) files.push(p)
    }
  }
  return {files: files.sort(), unreadableDirs}
}

export type FileOutcome =
  | {kind: 'note'; slug: string; hash: string; note: ParsedNote}
  | {kind: 'skipped'; reason: 'binary' | 'huge' | 'unreadable'; detail?: string}

/** Open flags for a note: never blocks on a FIFO swapped in after the listing (checked below). */
const READ_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK

/**
 * Read and parse one note. Synchronous on purpose: a note is a few KiB, and one `open`, `fstat`,
 * `read`, `close` in this thread costs ~10 µs where the promise API's thread-pool round trips
 * cost ~250 µs (a 5,000-note pass: 0.06 s against 1.3 s). The cycle reads while its batch is in
 * flight, so the database works meanwhile.
 */
export function readNote(root: string, file: string, maxBytes = DEFAULT_MAX_FILE_BYTES): FileOutcome {
  let buf: Buffer
  try {
    const fd = openSync(file, READ_FLAGS)
    try {
      const st = fstatSync(fd)
      if (!st.isFile()) return {kind: 'skipped', reason: 'unreadable', detail: 'not a regular file'}
      if (st.size > maxBytes) return {kind: 'skipped', reason: 'huge', detail: `${st.size} bytes`}
      buf = readAll(fd, st.size, maxBytes)
    } finally {
      closeSync(fd)
    }
  } catch (e) {
    if (e instanceof TooLargeError) return {kind: 'skipped', reason: 'huge', detail: `over ${maxBytes} bytes`}
    return {kind: 'skipped', reason: 'unreadable', detail: (e as NodeJS.ErrnoException).code}
  }
  if (looksBinary(buf)) return {kind: 'skipped', reason: 'binary'}
  const rel = path.relative(root, file)
  const slug = slugify(rel)
  const fallbackTitle = path.basename(file).replace(/\.md$/i, '')
  return {kind: 'note', slug, hash: createHash('sha1').update(buf).digest('hex'), note: parseNote(buf.toString('utf8'), fallbackTitle)}
}

class TooLargeError extends Error {}

/** The whole file (it may have grown since `fstat`: read to its end, never past `maxBytes`). */
function readAll(fd: number, size: number, maxBytes: number): Buffer {
  let buf = Buffer.allocUnsafe(Math.max(size, 1))
  let length = 0
  for (;;) {
    if (length === buf.length) {
      if (length >= maxBytes) {
        // One byte more than the limit tells a file that grew past it from one that ends there.
        if (readSync(fd, Buffer.allocUnsafe(1), 0, 1, null) > 0) throw new TooLargeError()
        break
      }
      const bigger = Buffer.allocUnsafe(Math.min(maxBytes, buf.length * 2))
      buf.copy(bigger, 0, 0, length)
      buf = bigger
    }
    const n = readSync(fd, buf, length, buf.length - length, null)
    if (n === 0) break
    length += n
  }
  return buf.subarray(0, length)
}
