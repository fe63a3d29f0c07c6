// Out-of-process reaper for the test harness (spawned by cleanup.ts, one per test worker).
//
// Why: vitest stops fork workers with SIGTERM (then SIGKILL), so the worker's process.on('exit')
// hook never runs, and postmaster/pgbouncer daemons are reparented to init and would outlive the
// run. This process reads JSON lines on stdin:
//   {"op":"add","id":N,"pidFile":"...","signal":"SIGQUIT","dir":"..."}   {"op":"del","id":N}
// When stdin reaches EOF (the worker exited or died in any way, even SIGKILL), it signals each
// remaining resource's pid (first line of pidFile), waits briefly, removes its dir and exits.
import {readFileSync, rmSync} from 'node:fs'

const entries = new Map()
let buf = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => {
  buf += chunk
  let nl
  while ((nl = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, nl)
    buf = buf.slice(nl + 1)
    try {
      const msg = JSON.parse(line)
      if (msg.op === 'add') entries.set(msg.id, msg)
      else if (msg.op === 'del') entries.delete(msg.id)
    } catch {
      // ignore garbage
    }
  }
})
process.stdin.on('error', () => undefined)
process.stdin.on('close', () => void reapAll())
process.on('SIGTERM', () => undefined) // outlive a group-wide SIGTERM long enough to clean up
process.on('SIGINT', () => undefined)

function pidOf(file) {
  try {
    const pid = Number(readFileSync(file, 'utf8').split('\n')[0])
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0)
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

async function reapAll() {
  const pids = []
  for (const e of entries.values()) {
    const pid = e.pidFile ? pidOf(e.pidFile) : undefined
    if (pid && alive(pid)) {
      try {
        process.kill(pid, e.signal || 'SIGKILL')
        pids.push(pid)
      } catch {
        // already gone
      }
    }
  }
  for (let i = 0; i < 100 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 20))
  for (const pid of pids)
    if (alive(pid))
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        /* gone */
      }
  for (const e of entries.values()) if (e.dir) rmSync(e.dir, {recursive: true, force: true})
  process.exit(0)
}
