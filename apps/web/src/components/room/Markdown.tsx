'use client';

import { Children, isValidElement, memo, type ReactElement, type ReactNode } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import rehypeSanitize from 'rehype-sanitize';
import remarkGfm from 'remark-gfm';

import { contentRefId, safeMessageUrl } from '@/lib/safe-url';

import { AuthImage } from './AuthImage';
import { CodeBlock } from './CodeBlock';
import { useRoom } from './room-context';

function textOf(node: ReactNode): string {
  if (typeof node === 'string' || typeof node === 'number') return String(node);
  if (Array.isArray(node)) return node.map(textOf).join('');
  if (isValidElement<{ children?: ReactNode }>(node)) return textOf(node.props.children);
  return '';
}

function MarkdownLink({ href, children }: { href?: string | undefined; children?: ReactNode }) {
  const { preview } = useRoom();
  const ref = contentRefId(href);
  if (ref !== undefined) {
    return (
      <button
        type="button"
        className="text-accent-text underline underline-offset-2"
        onClick={() => preview(ref)}
      >
        {children}
      </button>
    );
  }
  if (!href) return <span>{children}</span>;
  return (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow ugc">
      {children}
    </a>
  );
}

function MarkdownImage({ src, alt }: { src?: string | Blob | undefined; alt?: string | undefined }) {
  const { slug, preview } = useRoom();
  const ref = typeof src === 'string' ? contentRefId(src) : undefined;
  if (ref !== undefined)
    return (
      <AuthImage
        room={slug}
        id={ref}
        alt={alt ?? ''}
        className="max-h-80 max-w-full rounded-lg"
        onClick={() => preview(ref)}
      />
    );
  // Third-party images are not loaded (privacy, and the CSP forbids them): show a link instead.
  const href = typeof src === 'string' ? safeMessageUrl(src) : '';
  return href ? (
    <a href={href} target="_blank" rel="noopener noreferrer nofollow ugc">
      {alt || href}
    </a>
  ) : (
    <span>{alt}</span>
  );
}

const components: Components = {
  a: ({ href, children }) => <MarkdownLink href={href}>{children}</MarkdownLink>,
  img: ({ src, alt }) => <MarkdownImage src={src} alt={alt} />,
  pre: ({ children }) => {
    const child = Children.toArray(children)[0] as
      ReactElement<{ className?: string; children?: ReactNode }> | undefined;
    const className = child && isValidElement(child) ? child.props.className : undefined;
    const lang = /language-([\w+#-]+)/.exec(className ?? '')?.[1];
    const code = textOf(child?.props.children ?? children).replace(/\n$/, '');
    return <CodeBlock code={code} lang={lang} />;
  },
};

/** Sanitised Markdown: raw HTML is dropped, links are http(s)/mailto or in-app file references. */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <div className="md">
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        rehypePlugins={[rehypeSanitize]}
        urlTransform={safeMessageUrl}
        skipHtml
        components={components}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
});
