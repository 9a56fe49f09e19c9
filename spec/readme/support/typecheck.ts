/**
 * Type-checks code held in memory (README blocks) against the project's own sources, with
 * the project's compiler options and `c9-batch-rx` resolved to src/ instead of dist/.
 */
import { join } from 'node:path';
import ts from 'typescript';

/** A piece of TypeScript to check, and where it came from (for messages). */
export interface Snippet {
  readonly code: string;
  /** e.g. `README.md:120`: the README line of the snippet's first line. */
  readonly origin: string;
  /** The README line of the snippet's first line, to turn diagnostic lines into README lines. */
  readonly firstLine: number;
}

/**
 * Type-checks every snippet as its own module and returns one line per diagnostic,
 * `README.md:<line>:<column> TS<code>: <message>`; empty when all is well.
 *
 * Only the snippets are checked (the sources are read for their types, and checked by
 * `tsc --noEmit` elsewhere), which keeps this to a couple of seconds.
 *
 * @param root the repository root (its tsconfig.json is used)
 * @param snippets the code to check
 */
export function typeCheckSnippets(root: string, snippets: readonly Snippet[]): string[] {
  const configPath = join(root, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  if (config.error) return [ts.flattenDiagnosticMessageText(config.error.messageText, '\n')];
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    // The names users import, pointed at the sources so the README is checked against this tree.
    paths: {
      'c9-batch-rx': [join(root, 'src', 'index.ts')],
      'c9-batch-rx/emulator': [join(root, 'src', 'emulator', 'index.ts')],
    },
  };

  // Virtual files beside the specs: module resolution (rxjs, @types) works as for a spec file.
  const files = new Map<string, Snippet>();
  snippets.forEach((snippet) => files.set(join(root, 'spec', 'readme', `__readme_line_${snippet.firstLine}.ts`), snippet));

  const host = ts.createCompilerHost(options, true);
  const { getSourceFile, fileExists, readFile } = host;
  // Type libraries (`types: ["node", "jest"]`) are looked up from here, whatever the process's cwd.
  host.getCurrentDirectory = () => root;
  host.fileExists = (name) => files.has(name) || fileExists.call(host, name);
  host.readFile = (name) => files.get(name)?.code ?? readFile.call(host, name);
  host.getSourceFile = (name, languageVersion, onError, shouldCreate) => {
    const snippet = files.get(name);
    // `export {}` makes every snippet a module, so two snippets' top-level names never clash.
    if (snippet) return ts.createSourceFile(name, `${snippet.code}\nexport {};\n`, languageVersion, true, ts.ScriptKind.TS);
    return getSourceFile.call(host, name, languageVersion, onError, shouldCreate);
  };

  const program = ts.createProgram({ rootNames: [...files.keys()], options, host });
  const problems: string[] = [];
  for (const [name, snippet] of files) {
    const source = program.getSourceFile(name);
    if (source === undefined) {
      problems.push(`${snippet.origin}: not compiled`);
      continue;
    }
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    for (const d of diagnostics) {
      const text = ts.flattenDiagnosticMessageText(d.messageText, ' ');
      if (d.file === undefined || d.start === undefined) {
        problems.push(`${snippet.origin}: TS${d.code}: ${text}`);
        continue;
      }
      const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
      problems.push(`README.md:${snippet.firstLine + line}:${character + 1} TS${d.code}: ${text}`);
    }
  }
  return problems;
}
