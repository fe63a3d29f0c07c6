/**
 * gbrain's data-dir lock protocol (gbrain-embedded.md "The data-dir lock"), on real temp
 * directories with real processes: a `sleep 30` child is a live holder, a child that has exited
 * is a dead one. Every wait is a bounded poll for a marker or an event, never a sleep-and-hope;
 * wall-clock bounds are asserted from below, with a generous, stated slack above.
 */
import {execFile, execFileSync, spawn} from 'node:child_process'
import {once} from 'node:events'
import {pidKit} from '../../../helpers/pids.js'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'
import ts from 'typescript'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {
  acquireDataDirLock,
  dataDirEntries,
  DataDirLockedError,
  inspectLock,
  lockDirOf,
  lockIdentity,
  parseLockBody,
  reapable,
  reapLock,
  reapMarkerOf,
  type LockEvent,
  type LockObservation,
} from '../../../../src/engine/pglite/data-dir-lock.js'
import {lockText} from '../../../../src/engine/pglite/lock-text.js'
import {AbortedError} from '../../../../src/shared/errors.js'
import {liveness} from '../../../../src/shared/pid.js'
import {inspectProcess, looksLike} from '../../../../src/engine/pglite/holder-process.js'
import {describeLock, findOpenFailure, formatAge, holderLabel, PGliteLockedError} from '../../../../src/engine/pglite/open-errors.js'

/** Slack above a wall-clock lower bound: a loaded 2-core CI machine, never the thing under test. */
const SLACK_MS = 2000

let root: string
beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'gbrain-lock-protocol-'))
})
afterAll(() => {
  rmSync(root, {recursive: true, force: true})
})

const pids = pidKit()
const liveChild = (): Promise<number> => pids.liveChild()
const deadPid = async (): Promise<number> => {
  const pid = await pids.deadPid()
  expect(liveness(pid)).toBe('dead')
  return pid
}
afterEach(() => {
  pids.killAll()
})

function dataDir(): string {
  const d = mkdtempSync(path.join(root, 'brain-'))
  writeFileSync(path.join(d, 'PG_VERSION'), '17\n')
  return d
}

const lockFileOf = (d: string): string => path.join(lockDirOf(d), 'lock')

interface Body {
  pid: unknown
  acquired_at?: unknown
  refreshed_at?: unknown
  command?: unknown
  subcommand?: unknown
}

function holderBody(pid: unknown, subcommand: string | null = 'sync', acquiredAt = Date.now() - 60_000): Body {
  return {
    pid,
    acquired_at: acquiredAt,
    refreshed_at: acquiredAt + 30_000,
    command: `bun /home/u/.bun/bin/gbrain ${subcommand ?? ''}`.trim(),
    subcommand,
  }
}

/** Put a lock in place as gbrain does (tmp file, then rename), creating the lock dir if needed. */
function writeLock(d: string, body: Body | string): string {
  mkdirSync(lockDirOf(d), {recursive: true})
  const text = typeof body === 'string' ? body : JSON.stringify(body)
  const tmp = path.join(lockDirOf(d), 'lock.tmp-test')
  writeFileSync(tmp, text)
  renameSync(tmp, lockFileOf(d))
  return text
}

const readBody = (d: string): Record<string, unknown> => JSON.parse(readFileSync(lockFileOf(d), 'utf8')) as Record<string, unknown>

/** An empty lock directory whose mtime is `ageMs` in the past. */
function emptyLockDir(d: string, ageMs: number): void {
  mkdirSync(lockDirOf(d))
  const t = (Date.now() - ageMs) / 1000
  utimesSync(lockDirOf(d), t, t)
}

/** Bounded poll: resolves when `pred` holds, fails naming `what` after `timeoutMs`. */
async function waitFor(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

async function refusal(p: Promise<unknown>): Promise<DataDirLockedError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(DataDirLockedError)
  return e as DataDirLockedError
}

const eventsOf = (events: LockEvent[], type: LockEvent['type']): LockEvent[] => events.filter((e) => e.type === type)

describe('acquire on a free data dir', () => {
  it('creates <dataDir>/.gbrain-lock/lock holding exactly gbrain’s five keys, subcommand from argv', async () => {
    const d = dataDir()
    const before = Date.now()
    const lock = await acquireDataDirLock(d, {
      waitMs: 0,
      reap: false,
      argv: ['/usr/bin/node', '/x/bin/gbrain', '--verbose', 'sync', '--all'],
    })
    const body = readBody(d)
    expect(Object.keys(body).sort()).toEqual(['acquired_at', 'command', 'pid', 'refreshed_at', 'subcommand'])
    expect(body).toMatchObject({pid: process.pid, command: '/usr/bin/node /x/bin/gbrain --verbose sync --all', subcommand: 'sync'})
    expect(body.acquired_at).toBeGreaterThanOrEqual(before)
    expect(body.refreshed_at).toBe(body.acquired_at)
    expect(lock.token).toBe(`${process.pid}:${String(body.acquired_at)}`)
    expect(lock.lost).toBe(false)
    // Written by rename: no temp file is left beside it.
    expect(readdirSync(lockDirOf(d))).toEqual(['lock'])
    await lock.release()
  })

  it('subcommand is null when argv has no non-flag argument after argv[0..1]', async () => {
    const d = dataDir()
    const lock = await acquireDataDirLock(d, {waitMs: 0, reap: false, argv: ['node', 'gbrain', '--help']})
    expect(readBody(d).subcommand).toBeNull()
    await lock.release()
  })

  it('release removes the lock directory and is idempotent (a second release touches no later holder)', async () => {
    const d = dataDir()
    const events: LockEvent[] = []
    const lock = await acquireDataDirLock(d, {waitMs: 0, reap: false, argv: ['node', 'gbrain', 'sync'], onEvent: (e) => events.push(e)})
    expect(eventsOf(events, 'acquired')).toEqual([{type: 'acquired', token: lock.token}])
    await lock.release()
    expect(existsSync(lockDirOf(d))).toBe(false)
    // Someone else takes the brain; our second release must not touch their lock.
    const pid = await liveChild()
    const theirs = writeLock(d, holderBody(pid))
    await lock.release()
    expect(readFileSync(lockFileOf(d), 'utf8')).toBe(theirs)
    expect(eventsOf(events, 'releasing')).toHaveLength(1)
  })

  it('release does not remove a lock whose on-disk token is someone else’s', async () => {
    const d = dataDir()
    const lock = await acquireDataDirLock(d, {waitMs: 0, reap: false, argv: ['node', 'gbrain', 'sync']})
    const pid = await liveChild()
    const theirs = writeLock(d, holderBody(pid, 'embed'))
    await lock.release()
    expect(readFileSync(lockFileOf(d), 'utf8')).toBe(theirs)
    expect(readdirSync(lockDirOf(d))).toEqual(['lock'])
  })

  it('release removes a lock whose file no longer parses (gbrain’s release does too)', async () => {
    const d = dataDir()
    const lock = await acquireDataDirLock(d, {waitMs: 0, reap: false, argv: ['node', 'gbrain', 'sync']})
    writeLock(d, '{not json')
    await lock.release()
    expect(existsSync(lockDirOf(d))).toBe(false)
  })
})

describe('heartbeat', () => {
  it('advances refreshed_at and keeps acquired_at', async () => {
    const d = dataDir()
    const lock = await acquireDataDirLock(d, {waitMs: 0, reap: false, heartbeatMs: 50, argv: ['node', 'gbrain', 'sync']})
    const first = readBody(d)
    await waitFor(() => (readBody(d).refreshed_at as number) > (first.refreshed_at as number), 'a heartbeat with a later refreshed_at')
    const later = readBody(d)
    expect(later.acquired_at).toBe(first.acquired_at)
    expect(later.pid).toBe(process.pid)
    expect(lock.lost).toBe(false)
    await lock.release()
    expect(existsSync(lockDirOf(d))).toBe(false)
  })

  it('stops rewriting a lock replaced by another token, turns lost and emits one lost event', async () => {
    const d = dataDir()
    const events: LockEvent[] = []
    const lock = await acquireDataDirLock(d, {
      waitMs: 0,
      reap: false,
      heartbeatMs: 50,
      argv: ['node', 'gbrain', 'sync'],
      onEvent: (e) => events.push(e),
    })
    const pid = await liveChild()
    const theirs = JSON.stringify(holderBody(pid, 'embed', 42))
    // Replace the file; if a heartbeat already in flight wrote over our replacement, put it back.
    await waitFor(() => {
      if (readFileSync(lockFileOf(d), 'utf8') !== theirs) writeLock(d, theirs)
      return lock.lost
    }, 'lost')
    const lost = eventsOf(events, 'lost')
    expect(lost).toHaveLength(1)
    const observed = (lost[0] as Extract<LockEvent, {type: 'lost'}>).observed
    expect(observed.state).toBe('held')
    expect(observed.state === 'held' && observed.holder.pid).toBe(pid)
    // A negative claim needs a window: four heartbeat periods in which nothing may be rewritten.
    await new Promise((r) => setTimeout(r, 200))
    expect(readFileSync(lockFileOf(d), 'utf8')).toBe(theirs)
    expect(eventsOf(events, 'lost')).toHaveLength(1)
    await lock.release()
    expect(readFileSync(lockFileOf(d), 'utf8')).toBe(theirs)
  })
})

describe('a live holder', () => {
  it('waitMs 0: refused at once with reason live, no waiting event, lock untouched', async () => {
    const d = dataDir()
    const pid = await liveChild()
    const text = writeLock(d, holderBody(pid, 'sync'))
    const events: LockEvent[] = []
    const t0 = Date.now()
    const e = await refusal(acquireDataDirLock(d, {waitMs: 0, reap: true, onEvent: (ev) => events.push(ev)}))
    expect(Date.now() - t0).toBeLessThan(SLACK_MS)
    expect(e.reason).toBe('live')
    expect(e.code).toBe('DATA_DIR_LOCKED')
    expect(e.observed.state === 'held' && e.observed.holder.pid).toBe(pid)
    expect(events).toEqual([])
    expect(readFileSync(lockFileOf(d), 'utf8')).toBe(text)
    expect(readdirSync(lockDirOf(d))).toEqual(['lock'])
  })

  it('waitMs 300: one waiting event, refused after at least 300 ms, lock byte-identical', async () => {
    const d = dataDir()
    const pid = await liveChild()
    const text = writeLock(d, holderBody(pid, 'sync'))
    const events: LockEvent[] = []
    const t0 = Date.now()
    const e = await refusal(acquireDataDirLock(d, {waitMs: 300, reap: true, pollMs: 20, onEvent: (ev) => events.push(ev)}))
    const elapsed = Date.now() - t0
    expect(elapsed).toBeGreaterThanOrEqual(300)
    expect(elapsed).toBeLessThan(300 + SLACK_MS)
    expect(e.reason).toBe('live')
    expect(e.waitedMs).toBeGreaterThanOrEqual(300)
    expect(events.map((x) => x.type)).toEqual(['waiting'])
    expect(readFileSync(lockFileOf(d), 'utf8')).toBe(text)
    expect(readdirSync(lockDirOf(d))).toEqual(['lock'])
  })

  it('acquire succeeds when the holder releases while we wait', async () => {
    const d = dataDir()
    const pid = await liveChild()
    writeLock(d, holderBody(pid, 'sync'))
    const events: LockEvent[] = []
    const lock = await acquireDataDirLock(d, {
      waitMs: 5000,
      reap: false,
      pollMs: 20,
      argv: ['node', 'gbrain', 'embed'],
      onEvent: (ev) => {
        events.push(ev)
        if (ev.type === 'waiting') setTimeout(() => rmSync(lockDirOf(d), {recursive: true, force: true}), 100)
      },
    })
    expect(events.map((x) => x.type)).toEqual(['waiting', 'acquired'])
    expect(readBody(d)).toMatchObject({pid: process.pid, subcommand: 'embed'})
    await lock.release()
  })

  it('an abort while waiting rejects at once with AbortedError, the lock untouched', async () => {
    const d = dataDir()
    const text = writeLock(d, holderBody(await liveChild(), 'sync'))
    const ac = new AbortController()
    const t0 = Date.now()
    const e = await acquireDataDirLock(d, {
      waitMs: 5000,
      reap: true,
      signal: ac.signal,
      onEvent: (ev) => {
        if (ev.type === 'waiting') setTimeout(() => ac.abort('test'), 50)
      },
    }).then(
      () => undefined,
      (err: unknown) => err,
    )
    expect(e).toBeInstanceOf(AbortedError)
    expect(Date.now() - t0).toBeLessThan(SLACK_MS)
    expect(readFileSync(lockFileOf(d), 'utf8')).toBe(text)
  })

  it('a live serve holder is refused at once (reason serve) even with waitMs 5000', async () => {
    const d = dataDir()
    const pid = await liveChild()
    const text = writeLock(d, holderBody(pid, 'serve'))
    const events: LockEvent[] = []
    const t0 = Date.now()
    const e = await refusal(acquireDataDirLock(d, {waitMs: 5000, reap: true, onEvent: (ev) => events.push(ev)}))
    // Not waited for: no 'waiting' event (below), and well under the 5 s wait even with the
    // stated slack (SLACK_MS) for a loaded 2-core CI machine.
    expect(Date.now() - t0).toBeLessThan(SLACK_MS)
    expect(e.reason).toBe('serve')
    expect(events).toEqual([])
    expect(readFileSync(lockFileOf(d), 'utf8')).toBe(text)
  })
})

describe('a dead holder', () => {
  it('reap:false → reason stale, lock untouched', async () => {
    const d = dataDir()
    const text = writeLock(d, holderBody(await deadPid(), 'serve'))
    const e = await refusal(acquireDataDirLock(d, {waitMs: 1000, reap: false}))
    expect(e.reason).toBe('stale')
    expect(e.message).toContain('stale')
    expect(readFileSync(lockFileOf(d), 'utf8')).toBe(text)
  })

  it('reap:true → reaped (marker:false), no reap marker file, and we hold a fresh lock', async () => {
    const d = dataDir()
    const dead = await deadPid()
    writeLock(d, holderBody(dead, 'serve'))
    const events: LockEvent[] = []
    const lock = await acquireDataDirLock(d, {waitMs: 0, reap: true, argv: ['node', 'gbrain', 'sync'], onEvent: (ev) => events.push(ev)})
    expect(events.map((x) => x.type)).toEqual(['reaped', 'acquired'])
    const reaped = events[0] as Extract<LockEvent, {type: 'reaped'}>
    expect(reaped.marker).toBe(false)
    expect(reaped.observed.state === 'held' && reaped.observed.holder.pid).toBe(dead)
    expect(existsSync(reapMarkerOf(d))).toBe(false)
    expect(readBody(d)).toMatchObject({pid: process.pid, subcommand: 'sync'})
    // Nothing moved aside is left behind.
    expect(readdirSync(d).sort()).toEqual(['.gbrain-lock', 'PG_VERSION'])
    await lock.release()
  })
})

describe('abandoned and in-flight lock directories', () => {
  it('no lock file, older than 10 s → reaped with marker:true and <dataDir>.lock-reap.json = {ts, by}', async () => {
    const d = dataDir()
    emptyLockDir(d, 60_000)
    expect(inspectLock(d)).toMatchObject({state: 'abandoned', reason: 'no-lock-file'})
    const events: LockEvent[] = []
    const t0 = Date.now()
    const lock = await acquireDataDirLock(d, {waitMs: 0, reap: true, argv: ['node', 'gbrain', 'sync'], onEvent: (ev) => events.push(ev)})
    expect(events.map((x) => x.type)).toEqual(['reaped', 'acquired'])
    const reaped = events[0] as Extract<LockEvent, {type: 'reaped'}>
    expect(reaped.marker).toBe(true)
    expect(reaped.observed).toMatchObject({state: 'abandoned', reason: 'no-lock-file'})
    const marker = JSON.parse(readFileSync(reapMarkerOf(d), 'utf8')) as Record<string, unknown>
    expect(Object.keys(marker).sort()).toEqual(['by', 'ts'])
    expect(marker.by).toBe(process.pid)
    expect(marker.ts).toBeGreaterThanOrEqual(t0)
    expect(marker.ts).toBeLessThanOrEqual(Date.now())
    expect(readBody(d).pid).toBe(process.pid)
    await lock.release()
  })

  it('no lock file, older than 10 s, reap:false → reason stale, directory kept, no marker', async () => {
    const d = dataDir()
    emptyLockDir(d, 60_000)
    const e = await refusal(acquireDataDirLock(d, {waitMs: 0, reap: false}))
    expect(e.reason).toBe('stale')
    expect(existsSync(lockDirOf(d))).toBe(true)
    expect(existsSync(reapMarkerOf(d))).toBe(false)
  })

  it('no lock file, younger than 10 s → acquiring: waited for, never reaped', async () => {
    const d = dataDir()
    emptyLockDir(d, 0)
    expect(inspectLock(d)).toMatchObject({state: 'acquiring'})
    const events: LockEvent[] = []
    const t0 = Date.now()
    const e = await refusal(acquireDataDirLock(d, {waitMs: 300, reap: true, pollMs: 20, onEvent: (ev) => events.push(ev)}))
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300)
    expect(e.reason).toBe('acquiring')
    expect(events.map((x) => x.type)).toEqual(['waiting'])
    expect(existsSync(lockDirOf(d))).toBe(true)
    expect(readdirSync(lockDirOf(d))).toEqual([])
    expect(existsSync(reapMarkerOf(d))).toBe(false)
  })

  it('an in-flight acquisition that completes with a live holder is then waited for as a live holder', async () => {
    const d = dataDir()
    emptyLockDir(d, 0)
    const pid = await liveChild()
    const events: LockEvent[] = []
    const e = await refusal(
      acquireDataDirLock(d, {
        waitMs: 400,
        reap: true,
        pollMs: 20,
        onEvent: (ev) => {
          events.push(ev)
          if (ev.type === 'waiting') writeLock(d, holderBody(pid, 'sync'))
        },
      }),
    )
    expect(e.reason).toBe('live')
    expect(readBody(d).pid).toBe(pid)
  })

  it('an unparseable lock file ({not json) is abandoned and reaped with the marker', async () => {
    const d = dataDir()
    writeLock(d, '{not json')
    expect(inspectLock(d)).toMatchObject({state: 'abandoned', reason: 'unparseable'})
    const events: LockEvent[] = []
    const lock = await acquireDataDirLock(d, {waitMs: 0, reap: true, argv: ['node', 'gbrain', 'sync'], onEvent: (ev) => events.push(ev)})
    expect(events[0]).toMatchObject({type: 'reaped', marker: true, observed: {state: 'abandoned', reason: 'unparseable'}})
    expect(JSON.parse(readFileSync(reapMarkerOf(d), 'utf8'))).toMatchObject({by: process.pid})
    expect(readBody(d).pid).toBe(process.pid)
    await lock.release()
  })
})

describe('a zombie holder (exited, not yet reaped by its parent) is dead', () => {
  it('liveness says dead once /proc shows state Z, and its lock may be reaped', async () => {
    // `sleep 30` (after exec) is the parent of a short child it never waits for: a zombie.
    const parent = spawn('sh', ['-c', 'sleep 0.05 & echo $!; exec sleep 30'], {stdio: ['ignore', 'pipe', 'ignore']})
    try {
      const [line] = (await once(parent.stdout, 'data')) as [Buffer]
      const zombie = Number(line.toString().trim())
      const state = (): string => readFileSync(`/proc/${zombie}/stat`, 'utf8').replace(/^.*\) /s, '')[0]!
      const t0 = Date.now()
      while (state() !== 'Z') {
        if (Date.now() - t0 > 10_000) throw new Error('the child never became a zombie')
        await new Promise((r) => setTimeout(r, 20))
      }
      expect(() => process.kill(zombie, 0)).not.toThrow() // kill(pid, 0) alone would call it alive
      expect(liveness(zombie)).toBe('dead')
      const d = dataDir()
      writeLock(d, holderBody(zombie, 'serve'))
      const o = inspectLock(d)
      expect(reapable(o)).toBe(true)
    } finally {
      parent.kill('SIGKILL')
    }
  })
})

describe('a malformed pid counts as alive', () => {
  it.each([
    ['"abc"', 'abc'],
    ['-1', -1],
    ['0', 0],
    ['1.5', 1.5],
    ['missing', undefined],
  ])('pid %s: inspect says alive (malformed-pid), never reaped', async (_label, pid) => {
    const d = dataDir()
    const body = holderBody(pid, 'sync')
    if (pid === undefined) delete (body as {pid?: unknown}).pid
    const text = writeLock(d, body)
    const o = inspectLock(d)
    expect(o.state).toBe('held')
    if (o.state !== 'held') return
    // Kept only as a short label of what was written, never as a number to signal.
    expect(o.holder.pid).toBe(pid === undefined ? '(none)' : JSON.stringify(pid))
    expect(o.holder.process).toMatchObject({alive: true, liveness: 'malformed-pid'})
    expect(reapable(o)).toBe(false)
    expect(await reapLock(d, o)).toBe(false)
    const e = await refusal(acquireDataDirLock(d, {waitMs: 0, reap: true}))
    expect(e.reason).toBe('live')
    expect(readFileSync(lockFileOf(d), 'utf8')).toBe(text)
  })
})

describe('reapLock re-checks before removing', () => {
  it('a dead holder’s lock replaced by a live holder’s token after judging: false, the new lock intact', async () => {
    const d = dataDir()
    writeLock(d, holderBody(await deadPid(), 'sync'))
    const judged = inspectLock(d)
    expect(reapable(judged)).toBe(true)
    const live = writeLock(d, holderBody(await liveChild(), 'sync', Date.now()))
    expect(await reapLock(d, judged)).toBe(false)
    expect(readFileSync(lockFileOf(d), 'utf8')).toBe(live)
    expect(readdirSync(d).sort()).toEqual(['.gbrain-lock', 'PG_VERSION'])
  })

  it('an abandoned directory that a live holder has since filled: false, the new lock intact, no marker', async () => {
    const d = dataDir()
    emptyLockDir(d, 60_000)
    const judged = inspectLock(d)
    expect(judged.state).toBe('abandoned')
    const live = writeLock(d, holderBody(await liveChild(), 'sync', Date.now()))
    expect(await reapLock(d, judged)).toBe(false)
    expect(readFileSync(lockFileOf(d), 'utf8')).toBe(live)
    expect(existsSync(reapMarkerOf(d))).toBe(false)
  })

  it('unchanged since judging: true, the lock directory gone, nothing left aside', async () => {
    const d = dataDir()
    writeLock(d, holderBody(await deadPid(), 'sync'))
    expect(await reapLock(d, inspectLock(d))).toBe(true)
    expect(readdirSync(d)).toEqual(['PG_VERSION'])
  })

  it('refuses observations that are not reapable (free, acquiring, a live holder)', async () => {
    const d = dataDir()
    expect(await reapLock(d, {state: 'free'})).toBe(false)
    emptyLockDir(d, 0)
    expect(await reapLock(d, inspectLock(d))).toBe(false)
    expect(existsSync(lockDirOf(d))).toBe(true)
  })
})

describe('hostile lock content', () => {
  it('a 100 KB command with newlines, ESC and a postgres URL → one line, no control chars, ≤ 200 chars, no password', () => {
    const d = dataDir()
    const command = `bun gbrain sync\n\u001b[31m --url postgres://user:pw@db.example:5432/brain\r\n${'A\n\u001b'.repeat(34_000)}`
    expect(command.length).toBeGreaterThan(100_000)
    writeLock(d, {pid: process.pid, acquired_at: Date.now(), refreshed_at: Date.now(), command, subcommand: 'sync\u001b[2J\n'})
    const o = inspectLock(d)
    expect(o.state).toBe('held')
    if (o.state !== 'held') return
    const c = o.holder.command

    expect(c).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/)
    expect(c.length).toBeLessThanOrEqual(200)
    expect(c).not.toContain('pw')
    expect(c).not.toContain('user:')
    expect(c).toContain('bun gbrain sync')

    expect(o.holder.subcommand).not.toMatch(/[\u0000-\u001f]/)
    const text = describeLock(o).text
    expect(text).not.toContain('\n')
    expect(text).not.toContain('pw@')
  })

  it('lockText: non-strings are JSON, nothing is empty, credentials redacted', () => {
    expect(lockText(undefined)).toBe('')
    expect(lockText(null)).toBe('')
    expect(lockText(['a', 1])).toBe('["a",1]')
    expect(lockText('x password=hunter2 y')).not.toContain('hunter2')
  })
})

describe('parseLockBody, lockIdentity, dataDirEntries', () => {
  it('parseLockBody accepts older gbrain bodies (no refreshed_at, no subcommand) and rejects non-objects', () => {
    expect(parseLockBody('{"pid": 12, "acquired_at": 1000, "command": "gbrain sync"}')).toEqual({
      pid: 12,
      acquired_at: 1000,
      refreshed_at: null,
      command: 'gbrain sync',
      subcommand: null,
    })
    expect(parseLockBody('{"pid": 12, "acquired_at": "soon", "subcommand": ""}')).toMatchObject({acquired_at: null, subcommand: null})
    for (const bad of ['{not json', 'null', '12', '"x"']) expect(parseLockBody(bad)).toBeUndefined()
    // A JSON object (or array) without a usable pid is a holder with a malformed pid, as gbrain counts it.
    for (const odd of ['[1]', '{"acquired_at": 1}', '{}']) expect(parseLockBody(odd)?.pid).toBe('(none)')
  })

  it('lockIdentity: argv joined by spaces; subcommand is the first non-flag argument after argv[0..1]', () => {
    expect(lockIdentity(['/usr/bin/bun', '/x/gbrain', '-v', '--json', 'serve', 'extra'])).toEqual({
      command: '/usr/bin/bun /x/gbrain -v --json serve extra',
      subcommand: 'serve',
    })
    expect(lockIdentity(['node', 'gbrain'])).toEqual({command: 'node gbrain', subcommand: null})
  })

  it('dataDirEntries ignores gbrain’s lock, pid file, socket, secret and our reap leftovers', () => {
    const d = dataDir()
    for (const f of ['postmaster.pid', '.gbrain-resolve.sock', '.gbrain-ipc-secret']) writeFileSync(path.join(d, f), '')
    mkdirSync(path.join(d, '.gbrain-lock'))
    mkdirSync(path.join(d, '.gbrain-lock.reap-1-abcd'))
    mkdirSync(path.join(d, 'base'))
    expect(dataDirEntries(d).sort()).toEqual(['PG_VERSION', 'base'])
  })
})

describe('holder-process', () => {
  it('liveness: us running, an exited child dead, non-positive / non-integer / non-number malformed', async () => {
    expect(liveness(process.pid)).toBe('running')
    expect(liveness(await deadPid())).toBe('dead')
    for (const bad of [0, -1, 'x', 1.5, '123', null, undefined, Number.NaN]) expect(liveness(bad)).toBe('malformed-pid')
  })

  it('looksLike: gbrain anywhere, node/bun by executable, anything else other, empty unknown', () => {
    expect(looksLike(['/usr/bin/node', 'x.js'])).toBe('node')
    expect(looksLike(['nodejs20', 'x.js'])).toBe('node')
    expect(looksLike(['bun', 'run', 'x'])).toBe('bun')
    expect(looksLike(['/usr/bin/sleep', '30'])).toBe('other')
    expect(looksLike(['/usr/bin/sleep', '/opt/GBrain/x'])).toBe('gbrain')
    expect(looksLike(['/usr/bin/node', '/home/u/.bun/bin/gbrain', 'serve'])).toBe('gbrain')
    expect(looksLike([])).toBe('unknown')
  })

  it('inspectProcess of a live sleep child: its cmdline, other, started within a few seconds of now', async () => {
    const pid = await liveChild()
    const p = inspectProcess(pid)
    expect(p).toMatchObject({alive: true, liveness: 'running', looks_like: 'other'})
    expect(p.cmdline).toContain('sleep')
    expect(p.started_at).not.toBeNull()
    expect(Math.abs(p.started_at! - Date.now())).toBeLessThan(5000)
  })

  it('inspectProcess of a dead pid: not alive, nothing else known', async () => {
    expect(inspectProcess(await deadPid())).toEqual({
      alive: false,
      liveness: 'dead',
      cmdline: null,
      looks_like: 'unknown',
      started_at: null,
    })
  })

  it('inspectProcess reads /proc/<pid>/stat past a command name holding ") " (field 22 = start ticks)', () => {
    const proc = mkdtempSync(path.join(root, 'proc-'))
    const pid = process.pid
    mkdirSync(path.join(proc, String(pid)))
    writeFileSync(path.join(proc, String(pid), 'cmdline'), '/usr/bin/node\0/x/gbrain\0serve\0')
    // fields 3..21 are filler; field 22 (start time) is 12345 ticks of 10 ms
    const filler = Array.from({length: 19}, (_, i) => String(i + 3)).join(' ')
    writeFileSync(path.join(proc, String(pid), 'stat'), `${pid} (we) ird) name) S ${filler.slice(2)} 12345 0 0\n`)
    writeFileSync(path.join(proc, 'stat'), 'cpu 1 2 3\nbtime 1700000000\nprocesses 9\n')
    const p = inspectProcess(pid, proc)
    expect(p).toMatchObject({alive: true, liveness: 'running', cmdline: '/usr/bin/node /x/gbrain serve', looks_like: 'gbrain'})
    expect(p.started_at).toBe(1_700_000_000_000 + 123_450)
  })
})

describe('open-errors: what a lock observation tells a person', () => {
  const held = (alive: boolean, subcommand: string | null, pid: number | string = 4242): Extract<LockObservation, {state: 'held'}> => ({
    state: 'held',
    holder: {
      pid,
      acquired_at: Date.parse('2026-01-07T12:00:00.000Z'),
      refreshed_at: null,
      command: `bun /x/gbrain ${subcommand ?? ''}`.trim(),
      subcommand,
      token: '4242:1',
      heartbeat_age_ms: 90_000,
      process: {alive, liveness: alive ? 'running' : 'dead', cmdline: null, looks_like: 'unknown', started_at: null},
    },
  })

  it('formatAge: s under 2 min, min under 2 h, h under 2 d, then d', () => {
    expect(formatAge(0)).toBe('0 s')
    expect(formatAge(119_000)).toBe('119 s')
    expect(formatAge(120_000)).toBe('2 min')
    expect(formatAge(7_200_000)).toBe('2.0 h')
    expect(formatAge(172_800_000)).toBe('2.0 d')
  })

  it('holderLabel names the pid, the subcommand and the command (cut at 80)', () => {
    expect(holderLabel(held(true, 'serve'))).toBe('pid 4242 (gbrain serve: bun /x/gbrain serve)')
    expect(holderLabel(held(true, null, '"abc"'))).toBe('malformed pid "abc" (command unknown: bun /x/gbrain)')
    const long = {...held(true, 'sync'), holder: {...held(true, 'sync').holder, command: 'x'.repeat(200)}}
    expect(holderLabel(long)).toBe(`pid 4242 (gbrain sync: ${'x'.repeat(79)}…)`)
  })

  it('describeLock: dead and abandoned suggest gbrain repair --unlock; live holders, free and acquiring never do', () => {
    expect(describeLock(held(false, 'serve')).fix.commands).toEqual(['gbrain repair --unlock'])
    expect(describeLock(held(false, 'serve')).text).toContain('no longer running')
    expect(describeLock({state: 'abandoned', reason: 'unparseable', age_ms: 5000}).fix.commands).toEqual(['gbrain repair --unlock'])
    expect(describeLock({state: 'abandoned', reason: 'no-lock-file', age_ms: 60_000}).fix.commands).toEqual(['gbrain repair --unlock'])
    const serve = describeLock(held(true, 'serve'))
    expect(serve.fix.commands).toEqual(['ps -o pid,lstart,args -p 4242'])
    expect(serve.fix.text).toContain('agent session')
    expect(describeLock(held(true, 'sync')).text).toContain('heartbeat 90 s ago')
    expect(describeLock(held(true, 'sync', 'abc')).fix.commands).toEqual([])
    for (const o of [{state: 'free'}, {state: 'acquiring', age_ms: 1}, {state: 'unreadable', error: 'EACCES'}] as LockObservation[]) {
      expect(describeLock(o).fix.commands).not.toContain('gbrain repair --unlock')
    }
  })

  it('PGliteLockedError names the holder and the wait; findOpenFailure finds it through cause/lastError', () => {
    const e = new PGliteLockedError('/b/brain.pglite', held(true, 'sync'), 30_000)
    expect(e.message).toBe(
      'the embedded brain /b/brain.pglite was not opened: it is held by pid 4242 (gbrain sync: bun /x/gbrain sync), locked since 2026-01-07T12:00:00Z, heartbeat 90 s ago (waited 30 s)',
    )
    expect(e.pid).toBe(4242)
    expect(new PGliteLockedError('/b', null).pid).toBe(process.pid)
    const wrapped = {lastError: new Error('outer', {cause: e})}
    expect(findOpenFailure(wrapped)).toBe(e)
    expect(findOpenFailure(new Error('plain'))).toBeUndefined()
  })
})

// ------------------------------------------------------------------------------------------
// Defects: states in which acquireDataDirLock never returns. They spin without a pause, so the
// acquire runs in a child process (the TypeScript sources transpiled to a temp dir) that is
// killed after a bound; a correct acquire settles within waitMs + slack.

let built: string | undefined
/** Transpile data-dir-lock.ts and its relative imports to plain ESM under a world-readable dir. */
function buildLockModule(): string {
  if (built) return built
  const out = mkdtempSync(path.join(root, 'js-'))
  const srcRoot = fileURLToPath(new URL('../../../../src', import.meta.url))
  const seen = new Set<string>()
  const visit = (file: string): void => {
    if (seen.has(file)) return
    seen.add(file)
    const text = readFileSync(file, 'utf8')
    const js = ts.transpileModule(text, {compilerOptions: {module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022}}).outputText
    const dest = path.join(out, path.relative(srcRoot, file).replace(/\.ts$/, '.js'))
    mkdirSync(path.dirname(dest), {recursive: true})
    writeFileSync(dest, js)
    for (const m of text.matchAll(/from '(\.[^']+)\.js'/g)) visit(path.resolve(path.dirname(file), `${m[1]}.ts`))
  }
  visit(path.join(srcRoot, 'engine/pglite/data-dir-lock.ts'))
  const script = path.join(out, 'acquire.mjs')
  writeFileSync(
    script,
    `import {acquireDataDirLock} from './engine/pglite/data-dir-lock.js'
const t0 = Date.now()
try {
  await acquireDataDirLock(process.argv[2], {waitMs: Number(process.argv[3]), reap: true, argv: ['node', 'gbrain', 'sync']})
  console.log('acquired ' + (Date.now() - t0))
} catch (e) {
  console.log('threw ' + e.name + ' ' + e.reason + ' ' + (Date.now() - t0))
}
`,
  )
  chmodSync(root, 0o755)
  for (const dir of [out, ...[...seen].map((f) => path.dirname(path.join(out, path.relative(srcRoot, f))))]) chmodSync(dir, 0o755)
  built = script
  return script
}

/** Run the acquire in a child; `killed` when it had not settled after `boundMs`. */
function acquireInChild(
  d: string,
  waitMs: number,
  boundMs: number,
  ids?: {uid: number; gid: number},
): Promise<{killed: boolean; stdout: string}> {
  const script = buildLockModule()
  return new Promise((resolve) => {
    execFile(process.execPath, [script, d, String(waitMs)], {timeout: boundMs, killSignal: 'SIGKILL', ...ids}, (err, stdout) => {
      resolve({killed: err !== null && (err as {killed?: boolean}).killed === true, stdout: String(stdout).trim()})
    })
  })
}

describe('defects: acquire must settle within waitMs', () => {
  const asRoot = process.getuid?.() === 0
  /** root ignores permissions: the acquirer then runs as nobody. */
  const nobody = asRoot ? {uid: 65534, gid: 65534} : undefined

  it('control: the child harness (as the user the next test uses) settles for a live holder', async () => {
    const d = dataDir()
    chmodSync(d, 0o755)
    writeLock(d, holderBody(await liveChild(), 'sync'))
    chmodSync(lockDirOf(d), 0o755)
    chmodSync(lockFileOf(d), 0o644)
    const r = await acquireInChild(d, 200, 200 + SLACK_MS + 2000, nobody)
    expect(r.killed).toBe(false)
    expect(r.stdout).toMatch(/^threw DataDirLockedError live \d+$/)
  })

  it('a dangling symlink at .gbrain-lock: acquire gives up within waitMs (it spins synchronously forever)', async () => {
    const d = dataDir()
    symlinkSync(path.join(root, 'no-such-target'), lockDirOf(d))
    const r = await acquireInChild(d, 200, 200 + SLACK_MS + 2000)
    expect(r.killed, `acquire never settled (stdout: ${JSON.stringify(r.stdout)})`).toBe(false)
    expect(r.stdout).toMatch(/^threw DataDirLockedError /)
  })

  it('a FIFO planted as the lock file: acquire reports it unreadable within waitMs (a plain read blocks forever)', async () => {
    const d = dataDir()
    mkdirSync(lockDirOf(d))
    execFileSync('mkfifo', [lockFileOf(d)])
    const r = await acquireInChild(d, 200, 200 + SLACK_MS + 2000)
    expect(r.killed, `acquire never settled (stdout: ${JSON.stringify(r.stdout)})`).toBe(false)
    expect(r.stdout).toMatch(/^threw DataDirLockedError unreadable /)
  })

  it('a dead holder whose lock cannot be moved aside (no write permission on the data dir): acquire gives up within waitMs instead of retrying the reap forever', async () => {
    const d = dataDir()
    writeLock(d, holderBody(await deadPid(), 'sync'))
    chmodSync(d, 0o755)
    chmodSync(lockDirOf(d), 0o755)
    chmodSync(lockFileOf(d), 0o644)
    // As root the acquirer runs as nobody; anyone else loses the write bit on the data dir.
    if (!asRoot) chmodSync(d, 0o555)
    try {
      const r = await acquireInChild(d, 200, 200 + SLACK_MS + 2000, nobody)
      expect(r.killed, `acquire never settled (stdout: ${JSON.stringify(r.stdout)})`).toBe(false)
      expect(r.stdout).toMatch(/^threw DataDirLockedError /)
      expect(existsSync(lockFileOf(d))).toBe(true)
    } finally {
      chmodSync(d, 0o755)
    }
  })
})
