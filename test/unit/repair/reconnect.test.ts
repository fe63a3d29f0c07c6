/**
 * The live-process side of `repair --reconnect`: which state files need a reconnect, and the
 * owner check that decides whether a pid may be signalled (an injected /proc cmdline reader).
 */
import {describe, expect, it} from 'vitest'
import type {EngineProcessState, ReadProcessState} from '../../../src/engine/process-state.js'
import {redactForStorage as redact} from '../../../src/shared/redact.js'
import type {HealthSnapshot} from '../../../src/engine/types.js'
import {verifyOwner, type ProcReader} from '../../../src/repair/process-owner.js'
import {needsReconnect} from '../../../src/repair/reconnect.js'

const NODE = '/usr/local/bin/node'
const SCRIPT = '/opt/gbrain/bin/run.js'
const WATCH_ARGV = [NODE, SCRIPT, 'cycle', '--watch', '--interval', '5m']

function health(over: Partial<HealthSnapshot> = {}): HealthSnapshot {
  return {
    engine: 'postgres',
    style: 'instance',
    state: 'connected',
    connected_at: '2026-01-07T11:00:00.000Z',
    last_ok_at: '2026-01-07T11:59:58.000Z',
    last_error: null,
    failing_since: null,
    consecutive_failures: 0,
    reconnects: {ok: 0, failed: 0},
    generation: 1,
    pool_size: 10,
    prepare: true,
    ...over,
  }
}

function proc(over: {argv?: string[]; health?: Partial<HealthSnapshot>; state?: null} = {}, pid = 4242): ReadProcessState {
  const file = `/home/u/.gbrain/run/engine-${pid}.json`
  if (over.state === null) return {file, pid, alive: true, error: 'Unexpected token'}
  const state: EngineProcessState = {
    version: 1,
    pid,
    command: 'gbrain cycle --watch',
    argv: over.argv ?? WATCH_ARGV,
    started_at: '2026-01-07T11:00:00.000Z',
    heartbeat_at: '2026-01-07T11:59:59.000Z',
    health: health(over.health),
  }
  return {file, pid, alive: true, state}
}

/** What /proc/<pid>/cmdline holds: NUL-separated, NUL-terminated. */
const cmdline = (argv: string[]): string => argv.join('\0') + '\0'
const ME = process.getuid?.() ?? 1000

/** A /proc for one pid running `argv` as `uid`, its executable `exe` (default: the node binary). */
function fakeProc(argv: string[], over: {exe?: string; uid?: number; calls?: number[]} = {}): ProcReader {
  return {
    cmdline: (pid) => {
      over.calls?.push(pid)
      return cmdline(argv)
    },
    exe: () => over.exe ?? NODE,
    uid: () => over.uid ?? ME,
  }
}

describe('needsReconnect', () => {
  it('a connected pool with no failures does not', () => {
    expect(needsReconnect(proc())).toBe(false)
  })
  it('a broken or reconnecting pool does', () => {
    expect(needsReconnect(proc({health: {state: 'broken'}}))).toBe(true)
    expect(needsReconnect(proc({health: {state: 'reconnecting'}}))).toBe(true)
  })
  it('consecutive failures, or a failing_since, do even while the state says connected', () => {
    expect(needsReconnect(proc({health: {consecutive_failures: 1}}))).toBe(true)
    expect(needsReconnect(proc({health: {failing_since: '2026-01-07T11:59:00.000Z'}}))).toBe(true)
  })
  it('a closed pool that is not failing does not (nothing to heal)', () => {
    expect(needsReconnect(proc({health: {state: 'closed'}}))).toBe(false)
  })
  it('an unreadable state file (no state) does not', () => {
    expect(needsReconnect(proc({state: null}))).toBe(false)
  })
})

describe('verifyOwner', () => {
  it('accepts the process that wrote the state file (same script and arguments)', () => {
    const calls: number[] = []
    expect(verifyOwner(proc(), fakeProc(WATCH_ARGV, {calls}))).toBeUndefined()
    expect(calls).toEqual([4242])
  })

  it('accepts a different spelling of the node binary (argv[0] is how it was invoked)', () => {
    expect(verifyOwner(proc(), fakeProc(['node', ...WATCH_ARGV.slice(1)]))).toBeUndefined()
  })

  it('refuses a pid that now runs something else, naming the pid, what it runs, and the state file', () => {
    const refusal = verifyOwner(proc(), fakeProc(['sleep', '30']))
    expect(refusal).toBeDefined()
    expect(refusal).toContain('pid 4242')
    expect(refusal).toContain('"sleep 30"')
    expect(refusal).toContain('not the gbrain process that wrote /home/u/.gbrain/run/engine-4242.json')
  })

  it('refuses a node process running another script', () => {
    const refusal = verifyOwner(proc(), fakeProc([NODE, '/srv/app/server.js', 'cycle', '--watch']))
    expect(refusal).toMatch(/pid 4242 runs "\/usr\/local\/bin\/node \/srv\/app\/server\.js[^"]*" \(node\), not the gbrain process/)
  })

  it('refuses when /proc/<pid>/cmdline cannot be read', () => {
    const refusal = verifyOwner(proc(), {
      ...fakeProc(WATCH_ARGV),
      cmdline: () => {
        throw Object.assign(new Error('EACCES: permission denied'), {code: 'EACCES'})
      },
    })
    expect(refusal).toBe('cannot read /proc/4242 (cmdline, exe, status)')
  })

  it('refuses a state file that records no script (argv missing or too short)', () => {
    expect(verifyOwner(proc({argv: []}), fakeProc(WATCH_ARGV))).toMatch(/not the gbrain process/)
    expect(verifyOwner(proc({argv: [NODE]}), fakeProc(WATCH_ARGV))).toMatch(/not the gbrain process/)
  })

  it('refuses an empty cmdline (a zombie or kernel thread)', () => {
    expect(verifyOwner(proc(), {...fakeProc([]), cmdline: () => ''})).toMatch(/not the gbrain process/)
  })

  it('reads the real /proc by default: this very process is not a gbrain cycle', () => {
    const me = proc({}, process.pid)
    expect(verifyOwner(me)).toMatch(new RegExp(`pid ${process.pid} runs`))
  })

  // BUG (reported to the lead): verifyOwner compares only argv[1], so a pid reused by ANOTHER gbrain
  // command (same bin/run.js, e.g. `gbrain doctor` or `gbrain repair`) passes the check and gets
  // SIGUSR2 — which terminates a Node process that installed no handler (exit 140). Its own doc
  // says "same script path and arguments"; the state file records the redacted argv for this.
  it('refuses a pid reused by another gbrain command (same script, different arguments)', () => {
    const refusal = verifyOwner(proc(), fakeProc([NODE, SCRIPT, 'doctor', '--json']))
    expect(refusal).toBeDefined()
    expect(refusal).toContain('pid 4242')
  })

  // Issue 10, class 3: a forged state file whose argv matches `sleep 1000` made root's repair
  // SIGUSR2 (and so kill) that sleep. The argv match alone never suffices.
  it("refuses a forged state file that copies another program's argv (the binary is not node)", () => {
    const forged = proc({argv: ['/usr/bin/sleep', '1000']})
    expect(verifyOwner(forged, fakeProc(['sleep', '1000'], {exe: '/usr/bin/sleep'}))).toMatch(
      /pid 4242 runs "sleep 1000" \(sleep\), not the gbrain process/,
    )
  })

  it('refuses a process of another user even when everything else matches', () => {
    expect(verifyOwner(proc(), fakeProc(WATCH_ARGV, {uid: ME + 1}))).toBe(`pid 4242 runs as uid ${ME + 1}, not as this user (uid ${ME})`)
  })

  it('refuses a node process whose binary is not the one the state file names', () => {
    expect(verifyOwner(proc(), fakeProc(WATCH_ARGV, {exe: '/usr/bin/python3'}))).toMatch(/not the gbrain process/)
  })

  it('still accepts the owner when its argv held a credential (the state file stores it redacted)', () => {
    const url = 'postgres://u:s3cret@db.internal:5432/brain'
    const real = [NODE, SCRIPT, 'cycle', '--watch', '--database-url', url]
    const stored = real.map((a) => redact(a)) // what ProcessStatePublisher writes
    expect(stored.join(' ')).not.toContain('s3cret')
    expect(verifyOwner(proc({argv: stored}), fakeProc(real))).toBeUndefined()
  })
})
