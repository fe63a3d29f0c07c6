/**
 * Is a process alive? Two rules, each named once. `pidAlive` is the plain signal-0 probe (EPERM
 * counts as alive: the process exists under another user). `liveness` is gbrain's lock rule, which
 * tells apart why, and also calls a zombie dead: it answers signal 0 but has exited and can never
 * release a lock.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'

export type Liveness = 'running' | 'other-user' | 'malformed-pid' | 'dead'

/** Signal 0 reaches the process (or it exists under another user). A non-positive pid is not alive. */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * gbrain's liveness rule: only ESRCH means dead — plus one certainty it does not use: a zombie
 * (state `Z` in /proc, a process that has exited and waits for its parent to reap it) answers
 * `kill(pid, 0)` but can never release its lock or touch the brain again, so it counts as dead.
 */
export function liveness(pid: unknown, procRoot = '/proc'): Liveness {
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return 'malformed-pid'
  try {
    process.kill(pid, 0)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ESRCH') return 'dead'
    return 'other-user' // EPERM (and anything unexpected): never call it dead
  }
  return processState(pid, procRoot) === 'Z' ? 'dead' : 'running'
}

/** The one-letter state from /proc/<pid>/stat (after the parenthesised name), or null. */
function processState(pid: number, procRoot: string): string | null {
  try {
    const stat = readFileSync(path.join(procRoot, String(pid), 'stat'), 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || null
  } catch {
    return null
  }
}
