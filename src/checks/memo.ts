/** Gather at most once: the first call starts it, every later call shares its promise. */
export function memo<T>(gather: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined
  return () => (p ??= gather())
}
