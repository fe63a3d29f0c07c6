/**
 * Explicit ownership (engine.md "Lifecycle"): a component that borrowed the engine cannot close
 * it for others. Its handle delegates everything, except that disconnect() only releases the
 * handle (audited).
 */
import type {Engine} from './types.js'

/** The engine that lends: it records a borrower's release as a `db-disconnect` row. */
export interface Lender extends Engine {
  recordDisconnect(reason: string | undefined): Promise<void>
}

/** A borrower's view of `owner`. */
export function borrowEngine(owner: Lender): Engine {
  let released = false
  const handle: Engine = {
    kind: owner.kind,
    connect: () => owner.connect(),
    async disconnect(options) {
      if (released) return
      released = true
      await owner.recordDisconnect(options?.reason ?? 'borrower-release')
    },
    reconnect: (o) => owner.reconnect(o),
    query: (t, p, o) => owner.query(t, p, o),
    run: (l, f, o) => owner.run(l, f, o),
    batch: (s, r, w, o) => owner.batch(s, r, w, o),
    health: () => owner.health(),
    stats: () => owner.stats(),
    onChange: (l) => owner.onChange(l),
    borrow: () => owner.borrow(),
  }
  return handle
}
