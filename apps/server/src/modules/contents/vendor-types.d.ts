/**
 * The slices of untyped packages the contents module uses. These packages ship no types and
 * adding `@types/*` would touch the lockfile.
 */
declare module 'archiver' {
  import { Transform } from 'node:stream';

  interface EntryData {
    name: string;
    date?: Date;
    store?: boolean;
  }

  export class ZipArchive extends Transform {
    constructor(options?: { zlib?: { level?: number }; forceZip64?: boolean; highWaterMark?: number });
    append(source: NodeJS.ReadableStream | Buffer | string, data: EntryData): this;
    finalize(): Promise<void>;
    abort(): this;
    pointer(): number;
  }
}

declare module 'content-disposition' {
  function contentDisposition(
    filename?: string,
    options?: { type?: 'attachment' | 'inline'; fallback?: string | boolean },
  ): string;
  export default contentDisposition;
}

declare module 'mime-types' {
  export function lookup(filenameOrExt: string): string | false;
  export function extension(type: string): string | false;
}
