import {
  File as FileIcon,
  FileArchive,
  FileAudio,
  FileCode,
  FileImage,
  FileSpreadsheet,
  FileText,
  FileVideo,
  Link2,
  type LucideIcon,
} from 'lucide-react';

import type { ContentView } from '@elizabeth/protocol';
import { languageForFile } from '@/lib/highlight';

export type PreviewKind =
  'image' | 'pdf' | 'video' | 'audio' | 'markdown' | 'code' | 'text' | 'link' | 'none';

const TEXT_EXT = /\.(txt|log|csv|tsv|ini|conf|cfg|env|properties|gitignore|lock)$/i;
const MD_EXT = /\.(md|markdown|mdx)$/i;

export function previewKind(content: ContentView): PreviewKind {
  if (content.content_type === 'url') return 'link';
  const name = content.file_name ?? '';
  const mime = (content.mime_type ?? '').toLowerCase();
  if (
    content.content_type === 'image' ||
    mime.startsWith('image/') ||
    /\.(png|jpe?g|gif|webp|avif|bmp|svg|ico)$/i.test(name)
  )
    return 'image';
  if (mime === 'application/pdf' || /\.pdf$/i.test(name)) return 'pdf';
  if (mime.startsWith('video/') || /\.(mp4|webm|mov|m4v|ogv)$/i.test(name)) return 'video';
  if (mime.startsWith('audio/') || /\.(mp3|wav|ogg|oga|m4a|flac|aac|opus)$/i.test(name)) return 'audio';
  if (MD_EXT.test(name) || mime === 'text/markdown') return 'markdown';
  if (languageForFile(name)) return 'code';
  if (mime.startsWith('text/') || TEXT_EXT.test(name) || mime === 'application/json') return 'text';
  return 'none';
}

export function fileIcon(content: ContentView): LucideIcon {
  const kind = previewKind(content);
  const name = content.file_name ?? '';
  if (kind === 'link') return Link2;
  if (kind === 'image') return FileImage;
  if (kind === 'video') return FileVideo;
  if (kind === 'audio') return FileAudio;
  if (kind === 'code') return FileCode;
  if (kind === 'pdf' || kind === 'markdown' || kind === 'text') return FileText;
  if (/\.(zip|tar|gz|tgz|7z|rar|bz2|xz|zst)$/i.test(name)) return FileArchive;
  if (/\.(xlsx?|ods|numbers)$/i.test(name)) return FileSpreadsheet;
  return FileIcon;
}

export function displayName(content: ContentView): string {
  if (content.content_type === 'url') {
    if (content.file_name) return content.file_name;
    try {
      const url = new URL(content.url ?? '');
      return url.hostname + (url.pathname === '/' ? '' : url.pathname);
    } catch {
      return content.url ?? '';
    }
  }
  return content.file_name ?? `#${content.id}`;
}
