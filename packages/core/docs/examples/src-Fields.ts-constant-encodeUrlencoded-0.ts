import * as Fields from '../../src/Fields'

Fields.encodeUrlencoded({ q: "café au lait", page: "2" }) // "q=caf%C3%A9+au+lait&page=2"
