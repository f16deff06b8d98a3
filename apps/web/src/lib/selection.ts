/** The items of `items` not in `picked` (the "Invert selection" of messages and files). */
export function invertSelection(items: readonly { id: number }[], picked: ReadonlySet<number>): Set<number> {
  return new Set(items.filter((item) => !picked.has(item.id)).map((item) => item.id));
}
