/**
 * The shared flags of a command that needs no brain (help, version, autocomplete): --debug only,
 * so `gbrain help --database-url …` is a usage error rather than a flag silently ignored. Typed
 * as BaseCommand's for the class to extend it; those commands never read the target flags.
 */
import {BaseCommand} from './base-command.js'

export const NO_TARGET_FLAGS = {debug: BaseCommand.baseFlags.debug} as unknown as typeof BaseCommand.baseFlags
