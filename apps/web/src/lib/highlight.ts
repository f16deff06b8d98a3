/** highlight.js, loaded on demand: the core plus only the grammar a block needs. */
type Loader = () => Promise<{ default: import('highlight.js').LanguageFn }>;

const LOADERS: Record<string, Loader> = {
  bash: () => import('highlight.js/lib/languages/bash'),
  c: () => import('highlight.js/lib/languages/c'),
  cpp: () => import('highlight.js/lib/languages/cpp'),
  csharp: () => import('highlight.js/lib/languages/csharp'),
  css: () => import('highlight.js/lib/languages/css'),
  diff: () => import('highlight.js/lib/languages/diff'),
  dockerfile: () => import('highlight.js/lib/languages/dockerfile'),
  go: () => import('highlight.js/lib/languages/go'),
  graphql: () => import('highlight.js/lib/languages/graphql'),
  ini: () => import('highlight.js/lib/languages/ini'),
  java: () => import('highlight.js/lib/languages/java'),
  javascript: () => import('highlight.js/lib/languages/javascript'),
  json: () => import('highlight.js/lib/languages/json'),
  kotlin: () => import('highlight.js/lib/languages/kotlin'),
  makefile: () => import('highlight.js/lib/languages/makefile'),
  markdown: () => import('highlight.js/lib/languages/markdown'),
  php: () => import('highlight.js/lib/languages/php'),
  powershell: () => import('highlight.js/lib/languages/powershell'),
  protobuf: () => import('highlight.js/lib/languages/protobuf'),
  python: () => import('highlight.js/lib/languages/python'),
  ruby: () => import('highlight.js/lib/languages/ruby'),
  rust: () => import('highlight.js/lib/languages/rust'),
  scss: () => import('highlight.js/lib/languages/scss'),
  sql: () => import('highlight.js/lib/languages/sql'),
  swift: () => import('highlight.js/lib/languages/swift'),
  typescript: () => import('highlight.js/lib/languages/typescript'),
  xml: () => import('highlight.js/lib/languages/xml'),
  yaml: () => import('highlight.js/lib/languages/yaml'),
};

/** Names offered in the composer's code-block menu (value → label). */
export const CODE_LANGUAGES: [string, string][] = [
  ['text', 'Plain text'],
  ['javascript', 'JavaScript'],
  ['typescript', 'TypeScript'],
  ['python', 'Python'],
  ['rust', 'Rust'],
  ['go', 'Go'],
  ['java', 'Java'],
  ['kotlin', 'Kotlin'],
  ['c', 'C'],
  ['cpp', 'C++'],
  ['csharp', 'C#'],
  ['ruby', 'Ruby'],
  ['php', 'PHP'],
  ['swift', 'Swift'],
  ['bash', 'Bash'],
  ['powershell', 'PowerShell'],
  ['html', 'HTML'],
  ['css', 'CSS'],
  ['scss', 'SCSS'],
  ['json', 'JSON'],
  ['yaml', 'YAML'],
  ['toml', 'TOML'],
  ['sql', 'SQL'],
  ['graphql', 'GraphQL'],
  ['protobuf', 'Protobuf'],
  ['dockerfile', 'Dockerfile'],
  ['makefile', 'Makefile'],
  ['xml', 'XML'],
  ['markdown', 'Markdown'],
  ['diff', 'Diff'],
];

const ALIASES: Record<string, string> = {
  js: 'javascript',
  jsx: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  ts: 'typescript',
  tsx: 'typescript',
  py: 'python',
  rb: 'ruby',
  rs: 'rust',
  golang: 'go',
  kt: 'kotlin',
  kts: 'kotlin',
  'c++': 'cpp',
  cc: 'cpp',
  hpp: 'cpp',
  h: 'c',
  cs: 'csharp',
  'c#': 'csharp',
  sh: 'bash',
  shell: 'bash',
  zsh: 'bash',
  console: 'bash',
  ps1: 'powershell',
  pwsh: 'powershell',
  html: 'xml',
  htm: 'xml',
  svg: 'xml',
  vue: 'xml',
  yml: 'yaml',
  toml: 'ini',
  conf: 'ini',
  cfg: 'ini',
  env: 'ini',
  md: 'markdown',
  gql: 'graphql',
  proto: 'protobuf',
  docker: 'dockerfile',
  make: 'makefile',
  mk: 'makefile',
  patch: 'diff',
  jsonc: 'json',
  json5: 'json',
};

export function normalizeLanguage(lang: string | undefined): string | undefined {
  if (!lang) return undefined;
  const key = lang.toLowerCase();
  const name = ALIASES[key] ?? key;
  return name in LOADERS ? name : undefined;
}

/** Maps a file name to a grammar (by extension). */
export function languageForFile(name: string): string | undefined {
  const ext = /\.([a-z0-9+#]+)$/i.exec(name)?.[1];
  if (/^dockerfile$/i.test(name)) return 'dockerfile';
  if (/^makefile$/i.test(name)) return 'makefile';
  return normalizeLanguage(ext);
}

let core: Promise<typeof import('highlight.js/lib/core').default> | undefined;

/** Highlighted HTML (escaped by highlight.js), or undefined for unknown languages / huge inputs. */
export async function highlight(code: string, lang: string | undefined): Promise<string | undefined> {
  const name = normalizeLanguage(lang);
  if (!name || code.length > 200_000) return undefined;
  core ??= import('highlight.js/lib/core').then((m) => m.default);
  const hljs = await core;
  if (!hljs.getLanguage(name)) {
    const grammar = await LOADERS[name]!();
    hljs.registerLanguage(name, grammar.default);
  }
  return hljs.highlight(code, { language: name, ignoreIllegals: true }).value;
}
