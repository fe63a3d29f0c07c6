/**
 * What every command shares: the target flags, --json and --debug, turning any error into one
 * redacted line with its fix and the documented exit code, and cleanup that always runs (pools
 * ended with a bound) before the exit code is decided.
 */
import {existsSync} from 'node:fs'
import path from 'node:path'
import {format} from 'node:util'
import {Command, Flags, type Interfaces} from '@oclif/core'
import {resolveTarget, type ResolvedTarget} from '../config/resolve.js'
import {openEngine, type OpenOptions} from '../engine/open.js'
import {lockNotice, PGliteDataDirError, type Engine} from '../engine/index.js'
import {humanText, workflowSafe} from '../render/text.js'
import {debugStack, describeError, UsageError} from './errors.js'
import {parseErrorLine} from './parse-error.js'
import {errorJson, errorLine} from './error-output.js'
import type {Where} from '../checks/connection-advice.js'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

export abstract class BaseCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  static override baseFlags = {
    'database-url': Flags.string({
      description: 'Postgres URL (overrides GBRAIN_DATABASE_URL, DATABASE_URL and the config file)',
      helpGroup: 'TARGET',
    }),
    'audit-dir': Flags.string({description: 'audit directory (overrides GBRAIN_AUDIT_DIR)', helpGroup: 'TARGET'}),
    debug: Flags.boolean({description: 'print stack traces (redacted) on stderr', helpGroup: 'GLOBAL'}),
  }

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>
  private cleanups: (() => Promise<void>)[] = []
  private resultExit: number | undefined

  public override async init(): Promise<void> {
    await super.init()
    try {
      const {args, flags} = await this.parse({
        flags: this.ctor.flags,
        baseFlags: (super.ctor as typeof BaseCommand).baseFlags,
        enableJsonFlag: this.ctor.enableJsonFlag,
        args: this.ctor.args,
        strict: this.ctor.strict,
      })
      this.flags = flags as BaseFlags<T>
      this.args = args as BaseArgs<T>
    } catch (e) {
      throw new UsageError(parseErrorLine(e), `see: ${this.commandLine()} --help`)
    }
  }

  /** The command as typed: `gbrain sources add`, never oclif's internal id `sources:add`. */
  protected commandLine(): string {
    return ['gbrain', ...(this.id ?? '').split(':').filter(Boolean)].join(' ')
  }

  /** The resolved target for this run (flags, env, config file, embedded default). */
  protected target(): ResolvedTarget {
    return resolveTarget({databaseUrl: this.flags['database-url'], auditDir: this.flags['audit-dir'], env: process.env})
  }

  /**
   * Open an engine that is disconnected (bounded) when the command ends, however it ends. Only
   * `init` may create the embedded brain (`create`); every other command stops before building
   * an engine when there is none, so nothing is left half-made (no empty data dir, no audit row).
   */
  protected async engine(target: ResolvedTarget, options: OpenOptions & {create?: boolean} = {}): Promise<Engine> {
    if (target.engine === 'pglite' && !options.create && !existsSync(path.join(target.dataDir, 'PG_VERSION'))) {
      throw new PGliteDataDirError(target.dataDir, 'missing')
    }
    const engine = await openEngine(target, {
      createIfMissing: options.create === true,
      applicationName: `gbrain-${this.id ?? 'cli'}-${process.pid}`,
      ...options,
      // Waiting for, or reaping, another process's lock is always said (stderr), as gbrain does.
      lock: {
        onEvent: (e) => {
          const line = lockNotice(e, target.engine === 'pglite' ? target.dataDir : '')
          if (line) this.progress(`${line}\n`, true)
        },
        ...options.lock,
      },
    })
    this.onCleanup(() => engine.disconnect({reason: 'exit'}))
    return engine
  }

  /** Run cleanups (bounded), then exit with `code`: the code reflects the result, not cleanup. */
  protected async exitAfterCleanup(code: number): Promise<never> {
    await this.runCleanups()
    this.exit(code)
  }

  protected onCleanup(fn: () => Promise<void>): void {
    this.cleanups.push(fn)
  }

  /**
   * Every line a command prints leaves through {@link humanText} (stdout) or the JSON variant of
   * {@link workflowSafe}: data from the database or a file cannot move the cursor, recolour the
   * terminal, leak a credential or become a CI workflow command, whatever command prints it.
   */
  public override log(message = '', ...args: unknown[]): void {
    super.log(humanText(format(message, ...args)))
  }

  public override logToStderr(message = '', ...args: unknown[]): void {
    super.logToStderr(humanText(format(message, ...args)))
  }

  public override logJson(json: unknown): void {
    process.stdout.write(`${workflowSafe(JSON.stringify(json, null, 2), 'json')}\n`)
  }

  /** Progress and notices: stderr, and only when it is a TTY (unless forced). */
  protected progress(line: string, force = false): void {
    const text = humanText(line)
    if (force || process.stderr.isTTY) process.stderr.write(process.stderr.isTTY ? `\r\u001b[2K${text}` : `${text}\n`)
  }

  protected endProgress(): void {
    if (process.stderr.isTTY) process.stderr.write('\r\u001b[2K')
  }

  protected override async catch(err: Error & {exitCode?: number}): Promise<unknown> {
    // oclif's own exit (this.exit) passes through untouched.
    if ((err as {oclif?: {exit?: number}}).oclif?.exit !== undefined && (err as {code?: string}).code === 'EEXIT') throw err
    const d = describeError(err, this.whereForErrors())
    if (this.jsonEnabled()) process.stdout.write(`${errorJson(d)}\n`)
    else process.stderr.write(`${errorLine(d)}\n`)
    if (this.debugEnabled()) this.logToStderr(debugStack(err))
    await this.runCleanups()
    this.exit(d.exit)
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    await this.runCleanups()
    // Cleanup (closing an embedded brain) may touch process.exitCode; the result's code wins.
    if (this.resultExit !== undefined) process.exitCode = this.resultExit
    return super.finally(err)
  }

  /**
   * The exit code of a command that still returns its result (printed by --json): applied after
   * cleanup, so nothing run at close can overwrite it.
   */
  protected setExitCode(code: number): void {
    this.resultExit = code
    process.exitCode = code
  }

  /** The Postgres target's host, port, database and URL source, if one resolves (never throws). */
  private whereForErrors(): Where | undefined {
    try {
      if (!this.flags) return undefined
      const t = this.target()
      return t.engine === 'postgres' ? {host: t.url.host, port: t.url.port, database: t.url.database, source: t.source} : undefined
    } catch {
      return undefined
    }
  }

  private debugEnabled(): boolean {
    return this.flags?.debug === true || this.argv.includes('--debug')
  }

  private async runCleanups(): Promise<void> {
    const fns = this.cleanups.splice(0).reverse()
    for (const fn of fns) await fn().catch(() => {})
  }
}
