/**
 * oclif calls this when the words typed name no command (`gbrain docter`, `gbrain sources lst`):
 * one usage line naming the likely command, exit 64 (src/cli/unknown-command.ts).
 */
import type {Hook} from '@oclif/core'
import {failUnknownCommand} from '../cli/unknown-command.js'

const hook: Hook.CommandNotFound = async function ({config, id, argv}) {
  failUnknownCommand(config, id.split(':'), argv ?? [])
}

export default hook
