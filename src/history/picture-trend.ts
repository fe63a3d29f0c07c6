/**
 * The history as a picture format (`--format html`) draws it: the last {@link PICTURE_RUNS} lines
 * as a trend, or an empty trend and the reason (history off, file unreadable). Never throws.
 */
import {historyPath, readTail} from './file.js'
import {buildTrend, type Trend} from './trend.js'

/** How many of the history's runs a picture draws. */
export const PICTURE_RUNS = 30

export async function pictureTrend(home: string, enabled: boolean): Promise<{trend: Trend; history_note?: string}> {
  if (!enabled) return {trend: buildTrend([], PICTURE_RUNS), history_note: '--no-history: the history was neither read nor written'}
  const tail = await readTail(historyPath(home), PICTURE_RUNS)
  const note = tail.reason === undefined ? {} : {history_note: `the history could not be read: ${tail.reason}`}
  return {trend: buildTrend(tail.lines, PICTURE_RUNS, tail.skipped), ...note}
}
