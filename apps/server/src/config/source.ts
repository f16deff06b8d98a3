/** Where the effective value of one configuration key came from. */
export type ConfigSource =
  | { kind: 'default' }
  | { kind: 'file'; file: string }
  | { kind: 'env'; name: string }
  | { kind: 'flag'; flag: string }
  | { kind: 'derived'; from: string };

/** `default`, `file /etc/x.yaml`, `env PORT`, `flag --port`, `derived from app.server.data_dir`. */
export function describeSource(source: ConfigSource): string {
  switch (source.kind) {
    case 'default':
      return 'default';
    case 'file':
      return `file ${source.file}`;
    case 'env':
      return `env ${source.name}`;
    case 'flag':
      return `flag ${source.flag}`;
    case 'derived':
      return `derived from ${source.from}`;
  }
}
