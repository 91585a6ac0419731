import * as Fields from '../../src/Fields'

Fields.guessContentType("photo.JPG") // "image/jpeg"
Fields.guessContentType("notes") // "application/octet-stream"
