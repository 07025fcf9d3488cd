// The only importer of the shell grammar: tree-sitter-bash's wasm build through web-tree-sitter.
import { createRequire } from 'node:module';
import { Language, Parser, type Node } from 'web-tree-sitter';

export type SyntaxNode = Node;

export interface ShellParser {
  /** Parses a script; the caller must not keep the tree beyond the callback. */
  withTree<T>(script: string, use: (root: SyntaxNode) => T): T;
}

let loading: Promise<ShellParser> | undefined;

/** Loads the grammar once per process; parsing afterwards is synchronous. */
export function loadShellParser(): Promise<ShellParser> {
  loading ??= (async () => {
    const require = createRequire(import.meta.url);
    await Parser.init();
    const language = await Language.load(require.resolve('tree-sitter-bash/tree-sitter-bash.wasm'));
    const parser = new Parser();
    parser.setLanguage(language);
    return {
      withTree(script, use) {
        const tree = parser.parse(script);
        if (!tree) throw new Error('shell parser returned no tree');
        try {
          return use(tree.rootNode);
        } finally {
          tree.delete();
        }
      },
    };
  })();
  return loading;
}
