import * as Fields from '../../src/Fields'

Fields.formatMultipartParam("filename", 'say "hi".txt') // 'filename="say %22hi%22.txt"'
