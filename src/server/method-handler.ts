/** The handler `methods` holds for `method`, with `HEAD` answered by the `GET` one (Node drops the body). */
export function methodHandler<H>(methods: Readonly<Record<string, H>>, method: string): H | undefined {
  return methods[method] ?? (method === 'HEAD' ? methods['GET'] : undefined);
}
