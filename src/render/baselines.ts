/**
 * `gbrain doctor --baselines`: the acknowledgements in `<home>/doctor-baselines.json`, one line
 * each — the check, what was acknowledged, until when (or that it expired), and why — then
 * what is wrong with the file, when something is. Text from the file is data: made safe here.
 */
import type {Baseline} from '../baselines/entry.js'
import {plural} from '../shared/plural.js'
import {shownText} from './text.js'

export interface ListedBaseline extends Baseline {
  check: string
  expired: boolean
  /** False for a name this doctor has no check for (gbrain's own, or a typo). */
  known: boolean
  /** What the count counts ("exhausted batches"), when the check counts. */
  noun?: readonly [string, string]
}

export interface BaselinesListing {
  schema_version: 2
  file: string
  exists: boolean
  acknowledgements: ListedBaseline[]
  problems: string[]
}

const day = (iso: string): string => iso.slice(0, 10)

export function renderBaselines(listing: BaselinesListing): string {
  const t = (v: unknown): string => shownText(v, {oneLine: true})
  const lines = [
    listing.acknowledgements.length === 0
      ? `No acknowledgements${listing.exists ? ` in ${t(listing.file)}` : ` (${t(listing.file)} does not exist)`}.`
      : `${plural(listing.acknowledgements.length, 'acknowledgement')} in ${t(listing.file)}:`,
  ]
  for (const a of listing.acknowledgements) {
    const what = a.count !== null && a.noun ? `${a.status}, ${plural(a.count, a.noun[0], a.noun[1])} known` : `${a.status}`
    const when = a.expired ? `EXPIRED ${day(a.expires_at)}` : `until ${day(a.expires_at)}`
    const why = a.reason === '' ? '' : `: ${t(a.reason)}`
    const unknown = a.known ? '' : ' (no such check in this doctor)'
    lines.push(`  ${t(a.check)}${unknown}  ${what}, acknowledged ${day(a.acknowledged_at)}, ${when}${why}`)
  }
  for (const p of listing.problems) lines.push(`  not used: ${t(p)}`)
  return `${lines.join('\n')}\n`
}
