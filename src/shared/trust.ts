/**
 * What the tool trusts before it acts on a file another process could have written (a state
 * file naming a pid to signal, a lock naming a pid to reap): a directory only this user can
 * write, a regular file (never a symlink) this user owns (the file half is fs-read.ts's
 * `ownerUid` check). Root trusts exactly what it owns, too: a file another user planted is never
 * a reason to signal or delete.
 */
import {lstatSync, type Stats} from 'node:fs'

/** This process's uid; undefined where there are no uids (then nothing is refused on ownership). */
export function myUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined
}

/**
 * Why `dir` is not a directory to act in, or undefined when it is: it must be a directory (not a
 * symlink to one), owned by this user, and writable by no one else (no group or other `w` bit).
 */
export function dirDistrust(dir: string, uid = myUid()): string | undefined {
  let st: Stats
  try {
    st = lstatSync(dir)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return code === 'ENOENT' ? undefined : `cannot inspect ${dir} (${code ?? 'error'})`
  }
  if (st.isSymbolicLink()) return `${dir} is a symlink, not a directory`
  if (!st.isDirectory()) return `${dir} is not a directory`
  if (uid !== undefined && st.uid !== uid) return `${dir} is owned by uid ${st.uid}, not by this user (uid ${uid})`
  if ((st.mode & 0o022) !== 0)
    return `${dir} is writable by ${(st.mode & 0o002) !== 0 ? 'every user' : 'its group'} (mode ${(st.mode & 0o777).toString(8).padStart(3, '0')})`
  return undefined
}
