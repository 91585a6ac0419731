import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"
import { describe, expect, it } from "vitest"

/**
 * V8 allocates a function literal stored straight into a property (`x.f = () => ...`,
 * `x[k] = function () {}`) in the old generation wherever the code is not optimised by
 * Turbofan (the interpreter, Sparkplug, and Maglev, Node 22 and 24's tier for the first
 * seconds): its parser takes such a function for a long-lived method. Made per request, the dead
 * function stays until a full collection and keeps its context, and everything the context
 * reaches, past every young collection (docs/performance.md, "Fifth pass"). Per-request code
 * stores an existing function instead (Effect's `resume` itself, a class field, a local first).
 * Per connection counts as per request too: a manager that makes and evicts a pool per request
 * (many origins, few pools) opens a connection for each.
 */
const allowed: Array<string> = []

const packages = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

const sources = (dir: string): Array<string> =>
  fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((file) => file.endsWith(".ts"))
    .map((file) => path.join(dir, file))

/** Every `target = <function literal>` whose target is a property, as "file: target". */
const functionLiteralsStoredInProperties = (file: string): Array<string> => {
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true)
  const found: Array<string> = []
  const visit = (node: ts.Node): void => {
    if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      (ts.isPropertyAccessExpression(node.left) || ts.isElementAccessExpression(node.left))
    ) {
      let value: ts.Expression = node.right
      while (ts.isParenthesizedExpression(value) || ts.isAsExpression(value) || ts.isSatisfiesExpression(value)) {
        value = value.expression
      }
      if (ts.isArrowFunction(value) || ts.isFunctionExpression(value)) {
        found.push(`${path.relative(packages, file)}: ${node.left.getText(source)}`)
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

describe("old generation", () => {
  it("no per-request code stores a function literal straight into a property", () => {
    const found = ["core/src", "node/src"].flatMap((dir) =>
      sources(path.join(packages, dir)).flatMap(functionLiteralsStoredInProperties)
    )
    expect(found.sort()).toEqual([...allowed].sort())
  })

  it("the scan finds the forms V8 pretenures, and not the ones it does not", () => {
    const file = path.join(fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? "/tmp"), "old-")), "x.ts")
    fs.writeFileSync(
      file,
      [
        "declare const o: { f: unknown; [k: string]: unknown }",
        "o.f = () => 1",
        'o["g"] = function () {}',
        "o.h = (() => 2) as unknown",
        "const local = () => 3",
        "o.f = local",
        "o.f = Math.random() > 0.5 ? local : () => 4",
        "class C { field = () => 5 }",
        "const literal = { f: () => 6 }"
      ].join("\n")
    )
    expect(functionLiteralsStoredInProperties(file).map((entry) => entry.split(": ")[1])).toEqual([
      "o.f",
      'o["g"]',
      "o.h"
    ])
  })
})
