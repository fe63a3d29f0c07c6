/**
 * Small file-system helpers the file gatherers share: an errno code, an abort point between
 * files, the permission bits of a path (null when it cannot be stat'ed).
 */
import {promises as fs} from 'node:fs'
import {AbortedError} from '../../shared/errors.js'

export function errnoCode(e: unknown): string | undefined {
  const code = (e as {code?: unknown} | null)?.code
  return typeof code === 'string' ? code : undefined
}

export function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(signal.reason)
}

export async function modeOf(p: string): Promise<number | null> {
  try {
    return (await fs.stat(p)).mode & 0o777
  } catch {
    return null
  }
}
