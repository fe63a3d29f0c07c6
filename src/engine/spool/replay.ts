/**
 * Land the dead-letter spool through the engine's retried path, idempotently, one entry at a
 * time (memory is bounded by one entry, itself bounded by a batch). An entry is removed only
 * after the statement that wrote its rows was acknowledged. Corrupt entries and entries for an
 * unknown writer are reported and kept.
 */
import path from 'node:path'
import {classify} from '../classify.js'
import {findOpenFailure} from '../pglite/open-errors.js'
import type {BatchWriter, Engine} from '../types.js'
import {CorruptSpoolEntryError, type DeadLetterSpool} from './dead-letter.js'
import {acquireLock} from './lock.js'

export interface ReplayProgress {
  done: number
  total: number
  rows: number
}

export interface ReplayReport {
  entries: number
  replayed: {id: string; site: string; rows: number; inserted: number}[]
  corrupt: {id: string; reason: string}[]
  failed: {id: string; reason: string}[]
  /** Entries not attempted because the database became unreachable. */
  pending: number
  rows_sent: number
  rows_inserted: number
}

export interface ReplayOptions {
  spool: DeadLetterSpool
  engine: Engine
  writers: ReadonlyMap<string, BatchWriter<unknown>>
  signal?: AbortSignal
  onProgress?: (progress: ReplayProgress) => void
}

export async function replayDeadLetters(options: ReplayOptions): Promise<ReplayReport> {
  const {spool, engine, writers, signal} = options
  const release = await acquireLock(path.join(spool.dir, '.replay.lock'))
  const report: ReplayReport = {entries: 0, replayed: [], corrupt: [], failed: [], pending: 0, rows_sent: 0, rows_inserted: 0}
  try {
    const listing = await spool.list()
    report.entries = listing.length
    for (const [index, item] of listing.entries()) {
      if (signal?.aborted) {
        report.pending = listing.length - index
        break
      }
      let entry
      try {
        entry = await spool.read(item.id)
      } catch (e) {
        if (e instanceof CorruptSpoolEntryError) {
          report.corrupt.push({id: item.id, reason: e.message})
          continue
        }
        throw e
      }
      const writer = writers.get(entry.target)
      if (!writer) {
        report.failed.push({id: item.id, reason: `no writer for target ${JSON.stringify(entry.target)}`})
        continue
      }
      try {
        const inserted = await engine.run(`replay:${entry.site}`, (db) => writer.write(db, entry.rows), {signal})
        await spool.remove(item.id)
        report.replayed.push({id: item.id, site: entry.site, rows: entry.rows.length, inserted})
        report.rows_sent += entry.rows.length
        report.rows_inserted += inserted
      } catch (e) {
        const c = classify(e)
        report.failed.push({id: item.id, reason: c.message})
        if (c.connectionLevel || c.kind === 'aborted' || findOpenFailure(e)) {
          // The database is gone, cannot be opened, or we were stopped: keep the rest for the next replay.
          report.pending = listing.length - index - 1
          break
        }
      }
      options.onProgress?.({done: index + 1, total: listing.length, rows: report.rows_sent})
    }
  } finally {
    await release()
  }
  return report
}
