import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/**
 * Type-checks the ```ts code blocks of a README against the built packages, as a user's TypeScript would see them:
 * each block is its own ES module (top-level await allowed) beside the workspace's node_modules, so `@meterkit/*`
 * resolves to each package's `exports` (dist/esm/*.d.ts), with strict options. Names a block takes from the
 * application around it (a tenant service, `app`, the `metering` an earlier block made) are declared, with real
 * types, in shims/<readme>.d.ts. A block preceded by `<!-- fragment -->` is an excerpt that is not code on its
 * own (a type listing, decorators out of their class) and is not compiled.
 */
export const ROOT = join(__dirname, '..', '..', '..');
const FRAGMENT = /<!--\s*fragment\s*-->\s*$/;

export interface CodeBlock {
  /** 1-based line of the block's first code line in the README. */
  readonly line: number;
  readonly code: string;
  readonly fragment: boolean;
}

export function typescriptBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  for (const match of markdown.matchAll(/^```ts\n([\s\S]*?)^```/gm)) {
    const before = markdown.slice(0, match.index);
    blocks.push({ line: before.split('\n').length + 1, code: match[1]!, fragment: FRAGMENT.test(before.trimEnd()) });
  }
  return blocks;
}

/** Declaration files parsed once for every README's program. */
const parsed = new Map<string, ts.SourceFile>();

const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  lib: ['lib.es2023.d.ts'],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  strict: true,
  esModuleInterop: true,
  experimentalDecorators: true,
  skipLibCheck: true,
  noEmit: true,
  types: ['node', 'jest'],
};

/**
 * The compiler's errors for every ```ts block of `readme` (a path relative to the repository), with `shim` (a file
 * in shims/) declaring the application's names; each error as `README.md:line: message`.
 */
export function checkReadme(readme: string, shim: string | undefined): string[] {
  const blocks = typescriptBlocks(readFileSync(join(ROOT, readme), 'utf8')).filter((block) => !block.fragment);
  const name = readme.replace(/\/?README\.md$/, '').replace(/\W+/g, '-') || 'root';
  const files = new Map(blocks.map((block, i) => [join(__dirname, `${name}-${i}.mts`), block] as const));
  const host = ts.createCompilerHost(OPTIONS);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (file) => files.has(file) || fileExists(file);
  host.readFile = (file) => files.get(file)?.code ?? readFile(file);
  host.getSourceFile = (file, language) => {
    if (files.has(file)) return ts.createSourceFile(file, files.get(file)!.code, language, true);
    const cached = parsed.get(file);
    if (cached !== undefined) return cached;
    const text = readFile(file);
    const source = text === undefined ? undefined : ts.createSourceFile(file, text, language, true);
    if (source !== undefined) parsed.set(file, source);
    return source;
  };
  const shimFile = shim === undefined ? [] : [join(__dirname, 'shims', shim)];
  if (shimFile.some((file) => !existsSync(file))) throw new Error(`no shim ${shim}`);
  const program = ts.createProgram([...files.keys(), ...shimFile], OPTIONS, host);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    const block = diagnostic.file === undefined ? undefined : files.get(diagnostic.file.fileName);
    if (block === undefined || diagnostic.start === undefined) return `${readme} (${diagnostic.file?.fileName ?? 'options'}): ${message}`;
    const { line } = diagnostic.file!.getLineAndCharacterOfPosition(diagnostic.start);
    return `${readme}:${block.line + line}: ${message}`;
  });
}
