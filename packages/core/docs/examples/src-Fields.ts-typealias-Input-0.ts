import * as Fields from '../../src/Fields'

const fields: Fields.Input = [
  ["tag", "a"],
  ["tag", "b"],
  ["upload", ["report.csv", "x,y\n1,2\n"]]
]
