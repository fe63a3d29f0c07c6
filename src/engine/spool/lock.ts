/**
 * An exclusive lock file holding the owner's pid. A lock whose pid is dead is stale and taken
 * over; a live one refuses with LockedError, so two replays never land an entry twice.
 *
 * The file appears whole: its content is written to a private temporary file first, then
 * hard-linked to the lock's name (`link` fails if the name exists, as O_EXCL does). A second
 * replay started at the same moment reads the owner's pid, never an empty file being written.
 */
import {randomBytes} from 'node:crypto'
import {promises as fs} from 'node:fs'
import {ensurePrivateDir} from '../../shared/fs-atomic.js'
import {readSmallFileSync} from '../../shared/fs-read.js'
import path from 'node:path'
import {pidAlive} from '../../shared/pid.js'

export class LockedError extends Error {
  readonly code = 'LOCKED'
  /** pid -1: the lock file is being written or was left half-written (taken over once 5 s old). */
  constructor(
    readonly file: string,
    readonly pid: number,
  ) {
    super(
      pid === -1
        ? `${path.basename(file)} is being written or was left half-written; if no replay runs, it is taken over once 5 s old`
        : `${pid === process.pid ? 'this process' : `another process (pid ${pid})`} holds ${path.basename(file)}; wait for it to finish`,
    )
    this.name = 'LockedError'
  }
}

/** Lock files this process holds now: a second acquire from the same process is refused too. */
const held = new Set<string>()

export async function acquireLock(file: string): Promise<() => Promise<void>> {
  await ensurePrivateDir(path.dirname(file))
  const key = path.resolve(file)
  if (held.has(key)) throw new LockedError(file, process.pid)
  for (let tries = 0; tries < 3; tries++) {
    const token = `${process.pid}:${Date.now()}:${randomBytes(4).toString('hex')}`
    const draft = `${file}.${token.replace(/:/g, '-')}.tmp`
    try {
      await fs.writeFile(draft, JSON.stringify({pid: process.pid, started_at: new Date().toISOString(), token}), {flag: 'wx', mode: 0o600})
      try {
        await fs.link(draft, file)
      } finally {
        await fs.rm(draft, {force: true})
      }
      held.add(key)
      return async () => {
        held.delete(key)
        // Remove it only while it is still ours (a stale-lock takeover elsewhere replaced it).
        if (readOwner(file)?.token === token) await fs.rm(file, {force: true})
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
    const owner = readOwner(file)
    if (owner === undefined) {
      // Unreadable or half-written: treat as stale only if it is old enough not to be mid-write.
      const st = await fs.lstat(file).catch(() => undefined)
      if (st && Date.now() - st.mtimeMs < 5000) throw new LockedError(file, -1)
    } else if (pidAlive(owner.pid) && owner.pid !== process.pid) {
      throw new LockedError(file, owner.pid)
    }
    // Dead owner, or our own pid from an earlier process (this one holds nothing there): stale.
    await fs.rm(file, {force: true})
  }
  throw new LockedError(file, -1)
}

/** The lock's owner as written, read bounded and never through a symlink or a FIFO; undefined when unreadable. */
function readOwner(file: string): {pid: number; token?: string} | undefined {
  try {
    const o = JSON.parse(readSmallFileSync(file, 4096)) as {pid?: unknown; token?: unknown}
    return {pid: Number(o.pid), ...(typeof o.token === 'string' ? {token: o.token} : {})}
  } catch {
    return undefined
  }
}
