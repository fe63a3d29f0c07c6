/**
 * What can be known about the process a lock names, without trusting the lock: alive or not
 * (gbrain's rule: `kill(pid, 0)`; ESRCH is dead, EPERM and a malformed pid count as alive), what
 * it runs, and when it started. The last two only inform a human about PID reuse; liveness alone
 * decides whether a lock may be reaped.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'
import {liveness, type Liveness} from '../../shared/pid.js'
import {lockText} from './lock-text.js'

export interface HolderProcess {
  alive: boolean
  liveness: Liveness
  /** argv from /proc (NUL-split, joined by spaces; redacted, one line, bounded), when readable. */
  cmdline: string | null
  /** What the running process looks like: a gbrain/node/bun process, something else, or unknown. */
  looks_like: 'gbrain' | 'node' | 'bun' | 'other' | 'unknown'
  /** When the process started (ms since the epoch), from /proc, when readable. */
  started_at: number | null
}

export function inspectProcess(pid: unknown, procRoot = '/proc'): HolderProcess {
  const l = liveness(pid, procRoot)
  const alive = l !== 'dead'
  if (l === 'dead' || l === 'malformed-pid') return {alive, liveness: l, cmdline: null, looks_like: 'unknown', started_at: null}
  let argv: string[] | null
  try {
    argv = readFileSync(path.join(procRoot, String(pid), 'cmdline'), 'utf8')
      .split('\0')
      .filter((s) => s !== '')
  } catch {
    argv = null
  }
  // Another process's argv may hold anything (a password, escape sequences): shown only as safe text.
  return {
    alive,
    liveness: l,
    cmdline: argv ? lockText(argv.join(' ')) : null,
    looks_like: argv ? looksLike(argv) : 'unknown',
    started_at: startedAt(Number(pid), procRoot),
  }
}

/** gbrain runs under node or bun; its argv names `gbrain` somewhere (the bin or the package). */
export function looksLike(argv: readonly string[]): HolderProcess['looks_like'] {
  if (argv.length === 0) return 'unknown' // a zombie or kernel thread: nothing to go on
  if (argv.some((a) => /gbrain/i.test(a))) return 'gbrain'
  const exe = path.basename(argv[0]!)
  if (/^(node|nodejs)(\d+)?$/.test(exe)) return 'node'
  if (/^bunx?$/.test(exe)) return 'bun'
  return 'other'
}

/** Boot time + the process's start in clock ticks (`/proc/<pid>/stat` field 22); Linux's USER_HZ is 100. */
function startedAt(pid: number, procRoot: string): number | null {
  try {
    const stat = readFileSync(path.join(procRoot, String(pid), 'stat'), 'utf8')
    // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const ticks = Number(rest[19]) // field 22 overall; `rest` starts at field 3
    const btime = /^btime (\d+)$/m.exec(readFileSync(path.join(procRoot, 'stat'), 'utf8'))
    if (!Number.isFinite(ticks) || !btime) return null
    return Number(btime[1]) * 1000 + (ticks / 100) * 1000
  } catch {
    return null
  }
}
