/**
 * The words of a progress line: what is being done, how far, at what rate and until when, or
 * what it is waiting for. Pure: the caller passes the time, the width and the charset; the writer
 * (src/cli/progress.ts) decides when and where a line is printed.
 */
import {countOf, formatCount, type ProgressCounts} from '../shared/counts.js'
import type {EngineEvent} from '../engine/index.js'
import {fitLine} from './grid.js'
import {oneLine, workflowSafe} from './text.js'

/** A task as the writer keeps it: its counts, when it began, and what matters more than its rate. */
export interface ProgressFrame extends ProgressCounts {
  startedAt: number
  /** The database went away, a wait…: shown instead of the rate and the ETA. */
  note?: string
}

/** No rate (and so no ETA) before this much of a task has run: the first items say little. */
const RATE_AFTER_MS = 500

/** Items per second, or undefined when it cannot be told yet (too early, or no time passed). */
export function ratePerSecond(done: number, elapsedMs: number): number | undefined {
  if (!(elapsedMs >= RATE_AFTER_MS) || !Number.isFinite(done) || done < 0) return undefined
  return done / (elapsedMs / 1000)
}

/** `2.5/s` below ten, `85/s`, `1,234/s`. */
function formatRate(perSecond: number, unit: string): string {
  const n = perSecond < 10 ? (Math.round(perSecond * 10) / 10).toFixed(1).replace(/\.0$/, '') : formatCount(perSecond)
  return `${n} ${unit}/s`
}

/** Milliseconds left at the current rate; undefined when there is no total or no rate. */
export function etaMs(done: number, total: number | undefined, elapsedMs: number): number | undefined {
  const rate = ratePerSecond(done, elapsedMs)
  if (total === undefined || rate === undefined || rate <= 0 || done >= total) return undefined
  return ((total - done) / rate) * 1000
}

/** `45s`, `3m05s`, `2h07m` (rounded up: an ETA of 0 s while work remains says nothing). */
export function formatEta(ms: number): string {
  const s = Math.max(1, Math.ceil(ms / 1000))
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`
  const h = Math.floor(m / 60)
  return `${h}h${String(m % 60).padStart(2, '0')}m`
}

/** `3.2s` (one decimal under a minute), else as {@link formatEta}. */
function formatElapsed(ms: number): string {
  return ms < 60_000 ? `${(Math.max(0, ms) / 1000).toFixed(1)}s` : formatEta(ms)
}

/** `120/300 files` or `120 files` when the total is not known. */
function countsText(c: ProgressCounts): string {
  return c.total === undefined ? countOf(c.done, c.unit) : `${formatCount(c.done)}/${countOf(c.total, c.unit)}`
}

/**
 * The line a terminal redraws in place:
 * `notes: pass 1/2 (pages) 120/300 files, 240 rows, 85 files/s, ETA 3s`, or with a note
 * `notes: pass 2/2 (entries and links) 40/300 files, 80 rows — database down — spooling, 500 rows so far`.
 * Fitted to `width` columns.
 */
export function formatProgress(frame: ProgressFrame, now: number, options: {width: number; unicode: boolean}): string {
  const elapsed = now - frame.startedAt
  const parts = [`${frame.label} ${countsText(frame)}`]
  if (frame.extra) parts.push(frame.extra)
  let line: string
  if (frame.note) {
    line = `${parts.join(', ')} — ${frame.note}`
  } else {
    const rate = ratePerSecond(frame.done, elapsed)
    if (rate !== undefined) parts.push(formatRate(rate, frame.unit))
    const eta = etaMs(frame.done, frame.total, elapsed)
    if (eta !== undefined) parts.push(`ETA ${formatEta(eta)}`)
    line = parts.join(', ')
  }
  return fitWidth(line, options.width, options.unicode)
}

/**
 * The stable line a log gets when a task ends:
 * `notes: 300/300 files, 700 rows in 1.8s (166 files/s)`.
 */
export function formatFinished(frame: ProgressFrame, now: number): string {
  const elapsed = now - frame.startedAt
  const rate = ratePerSecond(frame.done, elapsed)
  return `${frame.label} ${countsText(frame)}${frame.extra ? `, ${frame.extra}` : ''} in ${formatElapsed(elapsed)}${rate !== undefined ? ` (${formatRate(rate, frame.unit)})` : ''}`
}

/**
 * Text made safe and fitted to `width` display columns: control characters out, credentials
 * redacted, one line, folded to ASCII when the terminal is not UTF-8, and cut with `…` (`...`)
 * when too wide — by display width, so wide characters never overflow the line.
 */
export function fitWidth(text: string, width: number, unicode: boolean): string {
  return fitLine(workflowSafe(oneLine(text, !unicode)), Math.max(1, Math.floor(width)), unicode ? '…' : '...')
}

/**
 * What an engine event means to the person watching: `database unreachable — retrying (attempt
 * 3 in 4s)`, `database down — spooling, 1,500 rows so far`; undefined when the trouble is over.
 */
export function engineNote(event: EngineEvent): string | undefined {
  switch (event.type) {
    case 'retrying': {
      // Another process holding the embedded brain is not an outage: say who is in the way.
      const what =
        event.kind === 'locked'
          ? 'the embedded brain is held by another process'
          : event.connectionLevel
            ? 'database unreachable'
            : `database ${event.kind.replace(/_/g, ' ')}`
      const wait = event.delayMs >= 1000 ? ` in ${formatEta(event.delayMs)}` : ''
      return `${what} — retrying (attempt ${event.attempt}${wait})`
    }
    case 'spooled':
      return event.connectionLevel
        ? `database down — spooling, ${formatCount(event.spooledRows)} rows so far`
        : `batches failing (${event.kind.replace(/_/g, ' ')}) — spooling, ${formatCount(event.spooledRows)} rows so far`
    case 'recovered':
      return undefined
  }
}
