/**
 * Is the process a state file names really the gbrain engine process that wrote it? What /proc
 * says about a pid (injectable for tests), and the one comparison `repair --reconnect` makes
 * before it signals anything: same user, an engine executable, the same script and arguments.
 */
import {readFileSync, readlinkSync} from 'node:fs'
import path from 'node:path'
import type {ReadProcessState} from '../engine/index.js'
import {redactForStorage as redact} from '../shared/redact.js'
import {myUid} from '../shared/trust.js'

/** What /proc says about a pid; injectable for tests. */
export interface ProcReader {
  /** NUL-separated argv. */
  cmdline(pid: number): string
  /** The executable's path (readlink of /proc/<pid>/exe). */
  exe(pid: number): string
  /** The real uid (`Uid:` in /proc/<pid>/status). */
  uid(pid: number): number
}

export const procReader: ProcReader = {
  cmdline: (pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8'),
  exe: (pid) => readlinkSync(`/proc/${pid}/exe`),
  uid: (pid) => {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    if (!m) throw new Error(`no Uid in /proc/${pid}/status`)
    return Number(m[1])
  },
}

/** Executables a gbrain engine process runs under. */
const ENGINE_EXE = /^(node|nodejs|bun|gbrain)([0-9.-].*)?$/

/**
 * The process is ours and is the one that wrote the state file: the same uid as this process, a
 * node (or bun, or gbrain) executable — the very binary the state file's argv[0] names — and the
 * same script and arguments. The state file holds the redacted argv, so /proc's cmdline is
 * redacted the same way before comparing; cmdline[0] is how exec was called, so the binary is
 * compared through /proc/<pid>/exe instead. A forged state file naming `sleep 1000`, or a pid
 * reused by another program or another gbrain command, is refused.
 */
export function verifyOwner(p: ReadProcessState, proc: ProcReader = procReader, uid = myUid()): string | undefined {
  let cmdline: string[]
  let exe: string
  let owner: number
  try {
    cmdline = proc
      .cmdline(p.pid)
      .split('\0')
      .filter((s) => s !== '')
    exe = proc.exe(p.pid)
    owner = proc.uid(p.pid)
  } catch {
    return `cannot read /proc/${p.pid} (cmdline, exe, status)`
  }
  const shown = JSON.stringify(
    cmdline
      .slice(0, 4)
      .map((a) => redact(a))
      .join(' '),
  )
  if (uid !== undefined && owner !== uid) return `pid ${p.pid} runs as uid ${owner}, not as this user (uid ${uid})`
  const want = p.state?.argv ?? []
  const seen = cmdline.slice(1).map((a) => redact(a))
  const sameArgs = want.length >= 2 && seen.length === want.length - 1 && seen.every((a, i) => a === want[i + 1])
  const sameExe = ENGINE_EXE.test(path.basename(exe)) && (want[0] === exe || path.basename(want[0] ?? '') === path.basename(exe))
  if (!sameArgs || !sameExe) return `pid ${p.pid} runs ${shown} (${path.basename(exe)}), not the gbrain process that wrote ${p.file}`
  return undefined
}
