/**
 * Long-lived records made per pool or per connection.
 *
 * @internal
 */

/** The class every `record` is an instance of. */
class Record {}

/**
 * `fields` as an object made by `new`, not by an object literal. V8 learns per object literal
 * (per allocation site) whether its objects tend to outlive young collections, and once they
 * do, allocates them in the old generation. A pool's records usually live as long as their
 * pool; but a manager that makes and evicts a pool per request (many origins, few pools) lets
 * them die young, and a dead record in the old generation keeps what it points to (the pool's
 * connection, leases, closures) alive through every young collection until a full one: the
 * pool's other objects then outlive young collections too, their own literals are moved to the
 * old generation, and the whole pool ends up there (in most processes: prof/core.mjs
 * `W=churn` took 24-31 us per request in those and 7-8 in the others). An object made by `new`
 * is always allocated young. Used where a pool or a connection is made, not per request.
 *
 * @internal
 */
export const record = <A extends object>(fields: A): A => Object.assign(new Record(), fields)
