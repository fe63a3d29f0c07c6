/**
 * Runs before anything else: oclif prints `config.userAgent` for `--version` before any command
 * runs, so this is where gbrain's version line goes (src/cli/version.ts).
 */
import type {Hook} from '@oclif/core'
import {useVersionLine} from '../cli/version.js'

const hook: Hook.Init = async function ({config}) {
  useVersionLine(config)
}

export default hook
