import { parse } from "@babel/parser"
import MagicString from "magic-string"
import fs from "node:fs"
const files = process.argv.slice(2)
const table = []
for (const f of files) {
  if (!fs.existsSync(f)) {
    console.error("skip", f)
    continue
  }
  const src = fs.readFileSync(f, "utf8")
  const ast = parse(src, { sourceType: "module" })
  const ms = new MagicString(src)
  const visit = (n, parent) => {
    if (!n || typeof n.type !== "string") return
    if (
      (n.type === "ObjectExpression" || n.type === "ArrayExpression") &&
      !(parent && parent.type === "AssignmentPattern")
    ) {
      const id = table.length
      table.push(`${f.replace(/.*\/dist\//, "")}:${n.loc.start.line}`)
      ms.appendLeft(n.start, `__chk(${id}, `)
      ms.prependRight(n.end, `)`)
    }
    for (const k of Object.keys(n)) {
      if (k === "loc" || k === "start" || k === "end") continue
      const v = n[k]
      if (Array.isArray(v)) v.forEach((c) => visit(c, n))
      else if (v && typeof v.type === "string") visit(v, n)
    }
  }
  visit(ast.program, null)
  fs.writeFileSync(f, ms.toString())
}
fs.writeFileSync("/tmp/prof/sites.json", JSON.stringify(table))
console.log(table.length, "sites")
