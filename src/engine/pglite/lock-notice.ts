/** The one line a command prints (stderr) when it waits for, reaps or loses gbrain's lock. */
import type {LockEvent} from './data-dir-lock.js'
import {describeLock, holderLabel} from './open-errors.js'

export function lockNotice(e: LockEvent, dataDir: string): string | undefined {
  switch (e.type) {
    case 'acquired':
    case 'releasing':
      return undefined
    case 'waiting':
      return e.observed.state === 'held'
        ? `gbrain: the embedded brain is held by ${holderLabel(e.observed)}; waiting for it to finish…`
        : `gbrain: the embedded brain is being locked by another process; waiting…`
    case 'reaped':
      return `gbrain: removed a stale lock on ${dataDir}: ${describeLock(e.observed).text}${e.marker ? ' (reap recorded beside the brain as gbrain does)' : ''}`
    case 'removed-legacy':
      return `gbrain: removed ${e.file}, the lock of an earlier gbrain-doctor${e.pid > 0 ? ` (pid ${e.pid}, no longer running)` : ''}`
    case 'lost':
      return `gbrain: another process replaced this command’s lock on ${dataDir}; the brain was closed at once (${describeLock(e.observed).text})`
  }
}
