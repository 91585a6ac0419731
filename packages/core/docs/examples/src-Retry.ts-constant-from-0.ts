import { Retry } from '../../src'

Retry.from(undefined) // Right(Retry.DEFAULT)
Retry.from(5) // Right(total 5)
Retry.from(5, undefined, false) // Right(total 5, redirects not followed)
Retry.from({ total: "5" } as never) // Left(ValueError)
