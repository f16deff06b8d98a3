import { type ConfigSource, describeSource } from './source.js';

/** One problem with one key; `key` is the dotted path (`app.server.port`). */
export interface ConfigIssue {
  key: string;
  source: ConfigSource;
  message: string;
}

/** `app.server.port (env PORT): must be an integer between 1 and 65535, got "abc"` */
export function formatIssue(issue: ConfigIssue): string {
  return `${issue.key} (${describeSource(issue.source)}): ${issue.message}`;
}

/** Every configuration problem found, one per line, so an operator can fix them in one pass. */
export class ConfigError extends Error {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}
