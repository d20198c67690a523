/**
 * An error and the errors in its `cause` chain, outermost first, at most `depth` of them (a chain can
 * be cyclic, and a wrapped wrapper rarely says more after a few levels).
 */
export function* causesOf(err: unknown, depth = 6): Generator<Error> {
  for (let e = err, seen = 0; e instanceof Error && seen < depth; e = e.cause, seen++) yield e;
}
