/**
 * Reading a source's directory: markdown files only, sorted, hidden entries and symlinks skipped
 * (a symlink loop cannot trap the walk), size and binary checks before parsing.
 */
import {createHash} from 'node:crypto'
import {promises as fs} from 'node:fs'
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

export async function readNote(root: string, file: string, maxBytes = DEFAULT_MAX_FILE_BYTES): Promise<FileOutcome> {
  let buf: Buffer
  try {
    const st = await fs.stat(file)
    if (st.size > maxBytes) return {kind: 'skipped', reason: 'huge', detail: `${st.size} bytes`}
    buf = await fs.readFile(file)
  } catch (e) {
    return {kind: 'skipped', reason: 'unreadable', detail: (e as NodeJS.ErrnoException).code}
  }
  if (looksBinary(buf)) return {kind: 'skipped', reason: 'binary'}
  const rel = path.relative(root, file)
  const slug = slugify(rel)
  const fallbackTitle = path.basename(file).replace(/\.md$/i, '')
  return {kind: 'note', slug, hash: createHash('sha1').update(buf).digest('hex'), note: parseNote(buf.toString('utf8'), fallbackTitle)}
}
