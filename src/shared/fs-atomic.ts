/**
 * Crash-safe file writes: temp file (0600) + fsync + rename + directory fsync. A reader sees the
 * old content or the new, never a torn file.
 */
import {randomBytes} from 'node:crypto'
import {promises as fs} from 'node:fs'
import path from 'node:path'
import {myUid} from './trust.js'

/**
 * Create `dir` (and its parents) mode 0700; when it exists already, is a real directory and
 * this user owns it, take away the group's and others' write bits (a 0777 home lets another
 * user swap the config file). Read bits are left: the doctor reports them, an operator may
 * want them. A directory another user owns is left alone (the doctor reports it).
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir, {recursive: true, mode: 0o700})
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
  }
  const st = await fs.lstat(dir)
  const me = myUid()
  if (st.isDirectory() && (me === undefined || st.uid === me) && (st.mode & 0o022) !== 0) await fs.chmod(dir, st.mode & 0o7755)
}

export async function writeFileAtomic(file: string, data: string | Uint8Array, options: {fsync?: boolean} = {}): Promise<void> {
  const fsync = options.fsync ?? true
  const dir = path.dirname(file)
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const handle = await fs.open(tmp, 'wx', 0o600)
  try {
    await handle.writeFile(data)
    if (fsync) await handle.sync()
  } catch (e) {
    await handle.close().catch(() => {})
    await fs.rm(tmp, {force: true}).catch(() => {})
    throw e
  }
  await handle.close()
  try {
    await fs.rename(tmp, file)
  } catch (e) {
    await fs.rm(tmp, {force: true}).catch(() => {})
    throw e
  }
  if (fsync) {
    // Make the rename itself durable.
    const dirHandle = await fs.open(dir, 'r').catch(() => undefined)
    if (dirHandle) {
      await dirHandle.sync().catch(() => {})
      await dirHandle.close().catch(() => {})
    }
  }
}
