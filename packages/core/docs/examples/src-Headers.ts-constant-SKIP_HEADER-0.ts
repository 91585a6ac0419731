import * as Headers from '../../src/Headers'

Headers.unsafeFromInput({ "User-Agent": Headers.SKIP_HEADER }) // no User-Agent line at all
