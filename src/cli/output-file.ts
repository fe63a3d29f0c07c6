/**
 * A file a command writes at the end of its run (`doctor --output-file`), checked before the run
 * starts: its directory must exist and be writable, and the path must not be a directory. Each
 * failure is a usage error with the fix, not a raw ENOENT after all the work is done.
 */
import {constants, promises as fs} from 'node:fs'
import path from 'node:path'
import {shellQuote} from '../shared/shell-quote.js'
import {UsageError} from './errors.js'

export async function checkOutputFile(file: string, flag = '--output-file'): Promise<void> {
  const target = path.resolve(file)
  const dir = path.dirname(target)
  const st = await fs.stat(dir).catch((e: NodeJS.ErrnoException) => e)
  if (st instanceof Error) {
    if (st.code === 'ENOENT') throw new UsageError(`${flag} ${file}: the directory ${dir} does not exist`, `mkdir -p ${shellQuote(dir)}`)
    if (st.code === 'ENOTDIR')
      throw new UsageError(`${flag} ${file}: ${dir} is not a directory (part of it is a file)`, 'choose a path in an existing directory')
    throw new UsageError(
      `${flag} ${file}: the directory ${dir} cannot be read (${st.code ?? st.message})`,
      `choose a directory you can write to (ls -ld ${shellQuote(dir)})`,
    )
  }
  if (!st.isDirectory()) throw new UsageError(`${flag} ${file}: ${dir} is not a directory`, 'choose a path in an existing directory')
  if ((await fs.stat(target).catch(() => undefined))?.isDirectory()) {
    throw new UsageError(`${flag} ${file} is a directory`, `name a file in it: ${flag} ${shellQuote(path.join(target, 'gbrain.out'))}`)
  }
  const writable = await fs.access(dir, constants.W_OK | constants.X_OK).then(
    () => true,
    () => false,
  )
  if (!writable)
    throw new UsageError(
      `${flag} ${file}: the directory ${dir} is not writable`,
      `choose a directory you can write to, or fix its permissions (ls -ld ${shellQuote(dir)})`,
    )
}
