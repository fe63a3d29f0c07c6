/**
 * The one module the built CLI runs (`dist/gbrain.cjs`, made by scripts/bundle.mjs): oclif's
 * `execute`, the hooks, the help class and every command, so one copy of oclif serves the run
 * and Node resolves no module path at start-up.
 *
 * A command's module (and everything only it imports) is evaluated when oclif asks for that
 * command, not at start: each entry of COMMANDS is a getter over a `require` that the bundler
 * turns into a lazy initialiser. `gbrain doctor` evaluates no code of `cycle` or `repair`.
 * This file only works bundled (the TypeScript build of `src/` is for tests and fixtures).
 */
/* eslint-disable @typescript-eslint/no-require-imports -- each require is a lazy module the bundler resolves */
import {type Command, settings} from '@oclif/core'

// The bundle is compiled: oclif must never look for TypeScript sources to run instead. (It would
// when NODE_ENV is `development` or `test`, loading the TypeScript compiler to read tsconfig.json.)
settings.enableAutoTranspile = false

export {execute} from '@oclif/core'
export {default as initHook} from '../hooks/init.js'
export {default as commandNotFoundHook} from '../hooks/command-not-found.js'
export {default as Help} from '../cli/help.js'
export {setDriverImporter} from '../engine/open.js'

type CommandModule = {default: Command.Class}

/** oclif's explicit command discovery (package.json `oclif.commands`): id → class. */
export const COMMANDS = {
  get autocomplete() {
    return (require('../commands/autocomplete.js') as CommandModule).default
  },
  get cycle() {
    return (require('../commands/cycle.js') as CommandModule).default
  },
  get doctor() {
    return (require('../commands/doctor.js') as CommandModule).default
  },
  get help() {
    return (require('../commands/help.js') as CommandModule).default
  },
  get init() {
    return (require('../commands/init.js') as CommandModule).default
  },
  get repair() {
    return (require('../commands/repair.js') as CommandModule).default
  },
  get 'sources:add'() {
    return (require('../commands/sources/add.js') as CommandModule).default
  },
  get 'sources:list'() {
    return (require('../commands/sources/list.js') as CommandModule).default
  },
  get version() {
    return (require('../commands/version.js') as CommandModule).default
  },
}
