/**
 * The lifecycle both real engines share, written once: one published client (a postgres.js pool,
 * a PGlite instance), ensure-connected access, the single-flight disconnect and the close. A
 * driver supplies small hooks: build and publish a client (`replaceClient`), the executor over a
 * client, how to end one, and what to wait for once the engine is closed. Every state change
 * goes through the base engine's `transition`.
 */
import {BaseEngine, type RebuildContext} from './base-engine.js'
import {NoConnectionError} from './errors.js'
import {disconnectRow, reconnectEndRow} from './lifecycle-rows.js'
import {summarizeError} from '../shared/redact.js'
import type {DisconnectOptions, Executor} from './types.js'

/** Why the engine went `closed`: a `disconnect()`, or a first open that failed with nothing to heal. */
export type ClosedBy = 'disconnect' | 'failed-open'

export abstract class ClientEngine<Client> extends BaseEngine {
  /** The published client; only a validated one is ever published. */
  protected client: Client | null = null
  private disconnecting: Promise<void> | null = null

  /** The shared Executor over a published client. */
  protected abstract executorFor(client: Client): Executor
  /** End a client in the background, bounded. `healthy` false: nothing in flight is worth waiting for. */
  protected abstract endClient(client: Client, healthy: boolean): void
  /** Once the engine is `closed`: wait for ended clients, give back what the engine holds. */
  protected abstract afterClosed(by: ClosedBy): Promise<void>

  /** Tidy up after a failed rebuild, before the state changes (default: nothing). */
  protected discardAfterFailedRebuild(_ctx: RebuildContext): void {}

  /** Errors of a failed ensure-connect that are final answers, passed through as they are (default: none). */
  protected isFinalOpenError(_error: unknown): boolean {
    return false
  }

  protected hasClient(): boolean {
    return this.client !== null
  }

  /** Take the published client away and end it at once (a wedged pool, a lost lock). */
  protected unpublish(): void {
    const client = this.client
    this.client = null
    if (client !== null) this.endClient(client, false)
  }

  /** Publish a proven client in place of the old one (no await between), and end the old one. */
  protected publish(client: Client): void {
    const old = this.client
    this.client = client
    if (old !== null) this.endClient(old, true)
  }

  /**
   * After a failed rebuild the engine is `broken` (the next call rebuilds: self-healing access),
   * or `closed` when nothing was ever published and nothing is to heal.
   */
  protected async afterFailedRebuild(error: unknown, ctx: RebuildContext): Promise<void> {
    this.discardAfterFailedRebuild(ctx)
    const heal = this.client !== null || ctx.hadClient || ctx.previousState !== 'closed'
    const written = this.transition(
      heal ? {state: 'broken', since: this.clock.now()} : {state: 'closed'},
      ctx.initial ? undefined : reconnectEndRow(this.clock, ctx.started, error),
    )
    if (!heal) await this.afterClosed('failed-open')
    await written
  }

  /**
   * A live executor for one attempt. Self-healing access: a missing client is re-established
   * from the saved config, and a client whose last rebuild failed is rebuilt before use rather
   * than left to the old one's slow recovery (postgres.js: its reconnect backoff grows to 20 s
   * and ends in a stale 57P01).
   */
  protected async acquire(signal?: AbortSignal): Promise<{db: Executor; generation: number}> {
    if (!this.client || this.state === 'broken') {
      try {
        await this.reconnect({
          error: this.generation === 0 && !this.client ? undefined : new NoConnectionError(),
          force: this.client !== null,
          signal,
        })
      } catch (e) {
        if (this.isFinalOpenError(e)) throw e
        throw new NoConnectionError(`No database connection: ${summarizeError(e)}`, {cause: e})
      }
    }
    const client = this.client
    if (!client) throw new NoConnectionError()
    return {db: this.executorFor(client), generation: this.generation}
  }

  /** Single flight: concurrent calls share one close (and write one db-disconnect row). */
  async disconnect(options: DisconnectOptions = {}): Promise<void> {
    if (options.final) this.closedForGood = true
    this.disconnecting ??= this.close(options).finally(() => {
      this.disconnecting = null
    })
    return this.disconnecting
  }

  private async close(options: {reason?: string}): Promise<void> {
    const client = this.client
    this.client = null
    // A rebuild in flight may still publish a client: wait for it, then end that one too.
    if (this.rebuilding) await this.rebuilding.catch(() => {})
    const late = this.client as Client | null
    this.client = null
    const had = client !== null || late !== null || this.state !== 'closed'
    // The db-disconnect row is written before the engine closes and its clients end. Without a
    // row the engine closes in this tick (no await), so the driver's bounded wait below starts at
    // once, as a disconnect after a failed open expects.
    const row = had ? disconnectRow(this.clock, this.kind, options.reason) : undefined
    const leaving = this.state
    const entered = this.transition({state: 'closed'}, row, {rowFirst: true})
    const left = row ? await entered : leaving
    // A client that is not healthy has nothing in flight worth waiting for: ended at once.
    const healthy = left === 'connected'
    if (client !== null) this.endClient(client, healthy)
    if (late !== null) this.endClient(late, healthy)
    await this.afterClosed('disconnect')
    await this.audit?.flush()
  }
}
