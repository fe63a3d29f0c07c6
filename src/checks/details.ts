/**
 * The details each check reports, by check name, typed as the check writes them: what repair
 * plans from (structured details, never the prose). The one place a result's generic `details`
 * is read as a particular check's.
 */
import type {AuditLogDetails} from './audit-log.js'
import type {ConnectionDetails} from './connection.js'
import type {DeadLetterDetails} from './dead-letter.js'
import type {EngineProcessesDetails} from './engine-processes.js'
import type {PgliteLockDetails} from './pglite-lock.js'
import type {CheckResult} from './types.js'

export interface DetailsByCheck {
  pglite_lock: PgliteLockDetails
  connection: ConnectionDetails
  engine_processes: EngineProcessesDetails
  dead_letter: DeadLetterDetails
  audit_log: AuditLogDetails
}

/**
 * The details of check `name` among `checks`; empty when it did not run or reported none. A
 * report may come from another version or be hand-built, so every field may be missing.
 */
export function detailsOf<N extends keyof DetailsByCheck>(
  checks: readonly Pick<CheckResult, 'name' | 'details'>[],
  name: N,
): Partial<DetailsByCheck[N]> {
  return (checks.find((c) => c.name === name)?.details ?? {}) as Partial<DetailsByCheck[N]>
}
