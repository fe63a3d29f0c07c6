/**
 * Issue 10, class 3: `repair --reconnect` acts only on what this user wrote, in a directory only
 * this user can write, and signals only its own gbrain process. Real files, a real `sleep`
 * child; `process.kill` is watched so a SIGUSR2 sent by mistake fails the test at once.
 */
import {chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {execFileSync} from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'
import {readProcessStates} from '../../../src/engine/process-state.js'
import {dirDistrust} from '../../../src/shared/trust.js'
import {reconnect} from '../../../src/repair/reconnect.js'
import {pidKit} from '../../helpers/pids.js'

const kit = pidKit()
let root: string
let runDir: string
const ctx = {dryRun: false, progress: () => {}}

/** A state file as the engine writes it, with a broken pool (so repair wants to signal it). */
function stateFor(pid: number, argv: string[]): string {
  const health = {
    engine: 'postgres',
    style: 'instance',
    state: 'broken',
    connected_at: null,
    last_ok_at: null,
    last_error: null,
    failing_since: '2026-11-30T00:00:00.000Z',
    consecutive_failures: 3,
    reconnects: {ok: 0, failed: 0},
    generation: 1,
    pool_size: 10,
    prepare: true,
  }
  return JSON.stringify({
    version: 1,
    pid,
    command: 'gbrain cycle --watch',
    argv,
    started_at: '2026-11-30T00:00:00.000Z',
    heartbeat_at: '2026-11-30T00:00:00.000Z',
    health,
  })
}

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'gbrain-trust-'))
  runDir = path.join(root, 'run')
  mkdirSync(runDir, {mode: 0o700})
  chmodSync(runDir, 0o700)
})
afterEach(() => {
  vi.restoreAllMocks()
  kit.killAll()
  rmSync(root, {recursive: true, force: true})
})

function watchKill(): string[] {
  const sent: string[] = []
  const real = process.kill.bind(process)
  vi.spyOn(process, 'kill').mockImplementation((pid: number, signal?: string | number) => {
    if (signal !== 0 && signal !== undefined) sent.push(`${pid}:${String(signal)}`)
    return real(pid, signal)
  })
  return sent
}

describe('repair --reconnect trusts only its own processes and files', () => {
  it('refuses a forged state file whose argv matches `sleep 30`: nothing is signalled, the sleep lives', async () => {
    const pid = await kit.liveChild()
    writeFileSync(path.join(runDir, `engine-${pid}.json`), stateFor(pid, ['/usr/bin/sleep', '30']), {mode: 0o600})
    const sent = watchKill()
    const r = await reconnect({runDir, timeoutMs: 5000, engine: undefined, wasFailing: false}, ctx)
    expect(r.status).toBe('failed')
    expect(r.detail).toContain(`not signalled: pid ${pid} runs "sleep 30" (sleep), not the gbrain process`)
    expect(sent).toEqual([])
    expect(() => process.kill(pid, 0)).not.toThrow()
  })

  it('does not act at all in a run directory another user could write (0777): no signal, no removal', async () => {
    const dead = await kit.deadPid()
    const stale = path.join(runDir, `engine-${dead}.json`)
    writeFileSync(stale, stateFor(dead, [process.execPath, 'x']), {mode: 0o600})
    chmodSync(runDir, 0o777)
    const sent = watchKill()
    const r = await reconnect({runDir, timeoutMs: 5000, engine: undefined, wasFailing: false}, ctx)
    expect(r.status).toBe('failed')
    expect(r.detail).toContain(`processes: not acted on, the run directory is not trusted: ${runDir} is writable by every user (mode 777)`)
    expect(r.detail).toContain(`chmod 700 ${runDir}`)
    expect(existsSync(stale)).toBe(true)
    expect(sent).toEqual([])
  })

  it('refuses a run directory that is a symlink, or is writable by its group', () => {
    const link = path.join(root, 'run-link')
    symlinkSync(runDir, link)
    expect(dirDistrust(link)).toBe(`${link} is a symlink, not a directory`)
    chmodSync(runDir, 0o770)
    expect(dirDistrust(runDir)).toBe(`${runDir} is writable by its group (mode 770)`)
    chmodSync(runDir, 0o700)
    expect(dirDistrust(runDir)).toBeUndefined()
    expect(dirDistrust(runDir, (process.getuid?.() ?? 0) + 1)).toMatch(/is owned by uid \d+, not by this user/)
  })

  it("reads a state file only if it is a regular file this user owns: a symlink, a FIFO, another user's file are untrusted", async () => {
    const pid = await kit.liveChild()
    const target = path.join(root, 'elsewhere.json')
    writeFileSync(target, stateFor(pid, [process.execPath, 'x']))
    symlinkSync(target, path.join(runDir, `engine-${pid}.json`))
    const fifoPid = await kit.liveChild()
    execFileSync('mkfifo', [path.join(runDir, `engine-${fifoPid}.json`)])
    const states = await readProcessStates(runDir)
    expect(states.map((s) => [s.pid, s.untrusted, s.state === undefined]).sort()).toEqual(
      [
        [pid, true, true],
        [fifoPid, true, true],
      ].sort(),
    )
    expect(states.find((s) => s.pid === pid)?.error).toContain('is a symlink')
    expect(states.find((s) => s.pid === fifoPid)?.error).toContain('is not a regular file')

    rmSync(path.join(runDir, `engine-${fifoPid}.json`))
    rmSync(path.join(runDir, `engine-${pid}.json`))
    writeFileSync(path.join(runDir, `engine-${pid}.json`), stateFor(pid, [process.execPath, 'x']), {mode: 0o600})
    const me = process.getuid?.() ?? 0
    const [other] = await readProcessStates(runDir, me + 1)
    expect(other?.untrusted).toBe(true)
    expect(other?.error).toContain(`is owned by uid ${me}, not by this user (uid ${me + 1})`)
    const [mine] = await readProcessStates(runDir)
    expect(mine?.state?.pid).toBe(pid)
    expect(readFileSync(target, 'utf8')).toContain('"pid"')
  })

  it('with the database still unreachable, live processes are not signalled (their reconnect would fail too): said, not a 0 s wait', async () => {
    const pid = await kit.liveChild()
    writeFileSync(path.join(runDir, `engine-${pid}.json`), stateFor(pid, [process.execPath, 'x']), {mode: 0o600})
    const sent = watchKill()
    const down = {
      reconnect: async () => Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {code: 'ECONNREFUSED'})),
    }
    const r = await reconnect({runDir, timeoutMs: 1000, engine: async () => down as never, wasFailing: true}, ctx)
    expect(r.status).toBe('failed')
    expect(r.detail).toMatch(/^database: still unreachable after \d s \(refused: /)
    expect(r.detail).toContain(`pid ${pid} (gbrain cycle --watch) not signalled: the database is still unreachable`)
    expect(sent).toEqual([])
  })
})
