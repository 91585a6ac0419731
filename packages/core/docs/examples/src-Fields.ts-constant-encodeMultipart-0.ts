import * as Fields from '../../src/Fields'

const { body, contentType } = Fields.encodeMultipart(
  { name: "report", file: ["report.txt", "hello"] },
  "boundary"
)
// contentType: "multipart/form-data; boundary=boundary"
// body: --boundary\r\n
//       Content-Disposition: form-data; name="name"\r\n\r\nreport\r\n
//       --boundary\r\n
//       Content-Disposition: form-data; name="file"; filename="report.txt"\r\n
//       Content-Type: text/plain\r\n\r\nhello\r\n
//       --boundary--\r\n
