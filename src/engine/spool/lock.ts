/**
 * An exclusive lock file (O_EXCL) holding the owner's pid. A lock whose pid is dead is stale
 * and taken over; a live one refuses with LockedError, so two replays never land an entry twice.
 */
import {promises as fs} from 'node:fs'
import {ensurePrivateDir} from '../fs-atomic.js'
import path from 'node:path'

export class LockedError extends Error {
  readonly code = 'LOCKED'
  constructor(readonly file: string, readonly pid: number) {
    super(`another process (pid ${pid}) holds ${path.basename(file)}; wait for it to finish`)
    this.name = 'LockedError'
  }
}

export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export async function acquireLock(file: string): Promise<() => Promise<void>> {
  await ensurePrivateDir(path.dirname(file))
  for (let tries = 0; tries < 3; tries++) {
    try {
      const handle = await fs.open(file, 'wx', 0o600)
      await handle.writeFile(JSON.stringify({pid: process.pid, started_at: new Date().toISOString()}))
      await handle.close()
      return async () => {
        await fs.rm(file, {force: true})
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
    let owner = -1
    try {
      owner = Number((JSON.parse(await fs.readFile(file, 'utf8')) as {pid?: unknown}).pid)
    } catch {
      // Unreadable or half-written: treat as stale only if it is old enough not to be mid-write.
      const st = await fs.stat(file).catch(() => undefined)
      if (st && Date.now() - st.mtimeMs < 5000) throw new LockedError(file, -1)
    }
    if (pidAlive(owner) && owner !== process.pid) throw new LockedError(file, owner)
    await fs.rm(file, {force: true})
  }
  throw new LockedError(file, -1)
}
