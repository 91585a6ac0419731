import * as Url from '../../src/Url'

Url.format(Url.make({ scheme: "HTTPS", host: "example.com", path: "mail" })) // "https://example.com/mail"
