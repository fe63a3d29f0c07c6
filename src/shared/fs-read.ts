/**
 * Reading a small file another process (or another user) may have planted: never through a
 * symlink, never blocking on a FIFO or a device, never more than `maxBytes`. For lock files and
 * markers — a 1 GB file or a FIFO in their place must cost the reader nothing. Fails with code
 * `ENOTREG` for anything but a regular file and `EFBIG` past `maxBytes` (never a silent cut,
 * which would make a long but valid file look corrupt).
 */
import {closeSync, constants, fstatSync, openSync, readSync} from 'node:fs'

const FLAGS = constants.O_RDONLY | constants.O_NONBLOCK

export const SMALL_FILE_MAX_BYTES = 64 * 1024

export interface SmallFileOptions {
  /**
   * Follow a symlink to a regular file (a config file kept in a dotfiles repository). Off by
   * default: a lock or marker is never read through a link.
   */
  followSymlink?: boolean
  /** Refuse (code `EOWNER`) a file whose owner is not this uid. */
  ownerUid?: number
}

export function readSmallFileSync(file: string, maxBytes = SMALL_FILE_MAX_BYTES, options: SmallFileOptions = {}): string {
  const fd = openSync(file, options.followSymlink ? FLAGS : FLAGS | constants.O_NOFOLLOW)
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw Object.assign(new Error(`${file} is not a regular file`), {code: 'ENOTREG'})
    if (options.ownerUid !== undefined && st.uid !== options.ownerUid) {
      throw Object.assign(new Error(`${file} is owned by uid ${st.uid}, not by this user (uid ${options.ownerUid})`), {code: 'EOWNER'})
    }
    if (st.size > maxBytes) throw Object.assign(new Error(`${file} is larger than ${maxBytes} bytes`), {code: 'EFBIG'})
    // One byte more than allowed tells a file that grew since the stat.
    const buf = Buffer.alloc(Math.min(st.size, maxBytes) + 1)
    let n = 0
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, null)
      if (got === 0) break
      n += got
    }
    if (n > maxBytes) throw Object.assign(new Error(`${file} is larger than ${maxBytes} bytes`), {code: 'EFBIG'})
    return buf.subarray(0, n).toString('utf8')
  } finally {
    closeSync(fd)
  }
}
