import * as Url from '../../src/Url'

Url.encodeTarget("/a b/[x]?q=é#frag") // "/a%20b/%5Bx%5D?q=%C3%A9"
