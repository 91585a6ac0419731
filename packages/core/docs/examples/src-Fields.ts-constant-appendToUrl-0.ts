import * as Fields from '../../src/Fields'

Fields.appendToUrl("http://example.com/search", { q: "a b" }) // "http://example.com/search?q=a+b"
Fields.appendToUrl("http://example.com/search?lang=en#top", { q: "a" }) // "http://example.com/search?lang=en&q=a#top"
