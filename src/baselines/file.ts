/**
 * `<home>/doctor-baselines.json` on disk: read as a small file (never through a symlink, never
 * blocking on a FIFO, at most 256 KiB, owned by this user and writable by no one else — an
 * acknowledgement silences an alert, so a file another user could write is not trusted), and
 * written whole, atomically (temp file, fsync, rename), mode 0600. Reading never throws: what is
 * wrong is returned as a sentence, for the doctor's `doctor_baselines` warning.
 */
import {statSync} from 'node:fs'
import path from 'node:path'
import {writeFileAtomic} from '../shared/fs-atomic.js'
import {readSmallFileSync} from '../shared/fs-read.js'
import {myUid} from '../shared/trust.js'
import {parseBaselines, serializeBaselines, type Baselines} from './entry.js'

export const BASELINES_FILE = 'doctor-baselines.json'
export const BASELINES_MAX_BYTES = 256 * 1024

export function baselinesPath(home: string): string {
  return path.join(home, BASELINES_FILE)
}

export interface BaselinesRead {
  file: string
  exists: boolean
  baselines: Baselines
  /** Why the file, or some of its entries, is not used; empty when all is well. */
  problems: string[]
}

const errCode = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? String(e)

export function readBaselines(home: string): BaselinesRead {
  const file = baselinesPath(home)
  let text: string
  try {
    text = readSmallFileSync(file, BASELINES_MAX_BYTES, {ownerUid: myUid()})
  } catch (e) {
    const code = errCode(e)
    if (code === 'ENOENT' || code === 'ENOTDIR') return {file, exists: false, baselines: {}, problems: []}
    const why =
      code === 'ELOOP'
        ? 'it is a symbolic link'
        : code === 'EFBIG'
          ? `it is larger than ${BASELINES_MAX_BYTES / 1024} KiB`
          : code === 'ENOTREG' || code === 'EOWNER'
            ? (e as Error).message.replace(`${file} `, 'it ')
            : `it cannot be read (${code})`
    return {file, exists: true, baselines: {}, problems: [`ignored: ${why}`]}
  }
  try {
    if ((statSync(file).mode & 0o022) !== 0)
      return {file, exists: true, baselines: {}, problems: ['ignored: other users may write it (chmod 600 it)']}
  } catch {
    // Gone since the read: use what was read.
  }
  return {file, exists: true, ...parseBaselines(text)}
}

/** Replace the file with these entries (the directory must exist: the brain's home). */
export async function writeBaselines(home: string, baselines: Baselines): Promise<void> {
  await writeFileAtomic(baselinesPath(home), serializeBaselines(baselines), {fsync: true})
}
