/**
 * The spool's replay lock (src/engine/spool/lock.ts): two replays in one process are kept apart
 * as two processes are, a release never removes a lock that is no longer ours, and a FIFO or a
 * huge file at the lock's path is read bounded (never hangs the reader).
 */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {Worker} from 'node:worker_threads'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {acquireLock, LockedError} from '../../../../src/engine/spool/lock.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'gbrain-lock-'))
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

/** Reads `file` in a tight loop on another thread until told to stop: how often it existed, and how often it did not parse. */
const POLLER = `
const {workerData, parentPort} = require('node:worker_threads')
const {readFileSync} = require('node:fs')
const stop = new Int32Array(workerData.stop)
let seen = 0, partial = 0
while (Atomics.load(stop, 0) === 0) {
  let text
  try { text = readFileSync(workerData.file, 'utf8') } catch { continue }
  seen++
  try { JSON.parse(text) } catch { partial++ }
}
parentPort.postMessage({seen, partial})
`

describe('acquireLock', () => {
  it('the lock file appears whole: a reader racing 300 acquires never finds it empty or half-written', async () => {
    const file = path.join(dir, '.replay.lock')
    const stop = new SharedArrayBuffer(4)
    const poller = new Worker(POLLER, {eval: true, workerData: {file, stop}})
    const counts = new Promise<{seen: number; partial: number}>((resolve) => poller.once('message', resolve))
    for (let i = 0; i < 300; i++) await (await acquireLock(file))()
    Atomics.store(new Int32Array(stop), 0, 1)
    const {seen, partial} = await counts
    await poller.terminate()
    expect(seen).toBeGreaterThan(0) // the reader did see locks: the race was run
    expect(partial).toBe(0)
  })

  it('a second acquire in the same process is refused while the first holds it, and allowed after release', async () => {
    const file = path.join(dir, '.replay.lock')
    const release = await acquireLock(file)
    const second = await acquireLock(file).then(
      () => 'acquired',
      (e: unknown) => e,
    )
    expect(second).toBeInstanceOf(LockedError)
    expect((second as LockedError).pid).toBe(process.pid)
    expect((JSON.parse(readFileSync(file, 'utf8')) as {pid: number}).pid).toBe(process.pid) // untouched
    await release()
    expect(existsSync(file)).toBe(false)
    const again = await acquireLock(file)
    await again()
  })

  it('a lock left by an earlier process with our pid (pid reuse after a crash) is stale and taken over', async () => {
    const file = path.join(dir, '.replay.lock')
    writeFileSync(file, JSON.stringify({pid: process.pid, started_at: '2026-01-01T00:00:00Z', token: 'old'}))
    const release = await acquireLock(file)
    expect((JSON.parse(readFileSync(file, 'utf8')) as {token: string}).token).not.toBe('old')
    await release()
  })

  it('release removes the lock only while it is still ours', async () => {
    const file = path.join(dir, '.replay.lock')
    const release = await acquireLock(file)
    writeFileSync(file, JSON.stringify({pid: 1, token: 'someone-else'})) // taken over meanwhile
    await release()
    expect((JSON.parse(readFileSync(file, 'utf8')) as {token: string}).token).toBe('someone-else')
  })

  it('a FIFO at the lock path is refused without hanging (treated as a lock held, then stale when old)', async () => {
    const file = path.join(dir, '.replay.lock')
    execFileSync('mkfifo', [file])
    const r = await acquireLock(file).then(
      () => 'acquired',
      (e: unknown) => e,
    )
    expect(r).toBeInstanceOf(LockedError) // young and unreadable: it may be mid-write
  })
})
