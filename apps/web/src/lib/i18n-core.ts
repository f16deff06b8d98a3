export const LOCALES = ['en', 'zh'] as const;
export type Locale = (typeof LOCALES)[number];
export const LOCALE_STORAGE_KEY = 'elizabeth:locale';

export type MessageTree = { [key: string]: string | MessageTree };
export type Params = Record<string, string | number>;

/** `zh`, `zh-CN`, `zh-Hant-TW` → zh; anything else → en. */
export function localeFromLanguage(language: string | undefined | null): Locale {
  return language && language.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

export function isLocale(value: unknown): value is Locale {
  return typeof value === 'string' && (LOCALES as readonly string[]).includes(value);
}

/** The stored choice, else the first browser language. */
export function resolveLocale(stored: string | null | undefined, languages: readonly string[]): Locale {
  if (isLocale(stored)) return stored;
  return localeFromLanguage(languages[0]);
}

export function htmlLang(locale: Locale): string {
  return locale === 'zh' ? 'zh-CN' : 'en';
}

/** Flattens nested messages into dotted keys: {a:{b:'x'}} → {'a.b':'x'}. */
export function flatten(
  tree: MessageTree,
  prefix = '',
  out: Record<string, string> = {},
): Record<string, string> {
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') out[path] = value;
    else flatten(value, path, out);
  }
  return out;
}

/**
 * Formats a message: `{name}` placeholders and ICU plurals,
 * `{count, plural, =0 {none} one {# file} other {# files}}` (`#` is the number, formatted for
 * the locale). Unknown placeholders are left as they are.
 */
export function interpolate(template: string, params?: Params, locale: string = 'en'): string {
  if (!params) return template;
  let out = '';
  let index = 0;
  while (index < template.length) {
    const open = template.indexOf('{', index);
    if (open === -1) break;
    const close = matchingBrace(template, open);
    if (close === -1) break;
    out += template.slice(index, open);
    out += formatArgument(template.slice(open + 1, close), template.slice(open, close + 1), params, locale);
    index = close + 1;
  }
  return out + template.slice(index);
}

function matchingBrace(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i += 1) {
    if (text[i] === '{') depth += 1;
    else if (text[i] === '}') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
}

const pluralRules = new Map<string, Intl.PluralRules>();

function formatArgument(body: string, raw: string, params: Params, locale: string): string {
  const plural = /^\s*(\w+)\s*,\s*plural\s*,([\s\S]*)$/.exec(body);
  const name = plural ? plural[1]! : body.trim();
  if (!/^\w+$/.test(name) || !Object.prototype.hasOwnProperty.call(params, name)) return raw;
  const value = params[name]!;
  if (!plural) return String(value);
  const count = Number(value);
  const options = pluralOptions(plural[2]!);
  let rules = pluralRules.get(locale);
  if (!rules) pluralRules.set(locale, (rules = new Intl.PluralRules(locale)));
  const chosen = options.get(`=${count}`) ?? options.get(rules.select(count)) ?? options.get('other') ?? '';
  const shown = Number.isFinite(count) ? new Intl.NumberFormat(locale).format(count) : String(value);
  return interpolate(chosen.replace(/#/g, shown), params, locale);
}

/** `one {# file} other {# files}` → Map { one → "# file", other → "# files" }. */
function pluralOptions(text: string): Map<string, string> {
  const options = new Map<string, string>();
  let index = 0;
  while (index < text.length) {
    const open = text.indexOf('{', index);
    if (open === -1) break;
    const close = matchingBrace(text, open);
    if (close === -1) break;
    const selector = text.slice(index, open).trim();
    if (selector) options.set(selector, text.slice(open + 1, close));
    index = close + 1;
  }
  return options;
}

/** Arguments used by a message, sorted: "Hi {name}, {count, plural, …}" → ["count","name"]. */
export function placeholders(template: string): string[] {
  const names = new Set<string>();
  const visit = (text: string) => {
    let index = 0;
    while (index < text.length) {
      const open = text.indexOf('{', index);
      if (open === -1) return;
      const close = matchingBrace(text, open);
      if (close === -1) return;
      const body = text.slice(open + 1, close);
      const plural = /^\s*(\w+)\s*,\s*plural\s*,([\s\S]*)$/.exec(body);
      if (plural) {
        names.add(plural[1]!);
        for (const option of pluralOptions(plural[2]!).values()) visit(option);
      } else if (/^\s*\w+\s*$/.test(body)) names.add(body.trim());
      index = close + 1;
    }
  };
  visit(template);
  return [...names].sort();
}
